"""Serving methods of ``shipyard.Client``: endpoints, predictions and feedback (embedded and remote).

Remote, ``predict`` and ``send_feedback`` go through the server's data plane (so predictions are
logged and batched with everyone else's). Embedded there is no data plane: ``predict`` loads the
endpoint's current version in-process (verified like the server does) and predicts directly,
and ``send_feedback`` writes to the local prediction log.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from shipyard.serving import endpoints
from shipyard.serving.feedback import FeedbackBody
from shipyard.serving.schemas import EndpointPublic, EndpointsPublic

if TYPE_CHECKING:
    import httpx

    from shipyard.core.auth import Principal
    from shipyard.core.platform import Platform

__all__ = ["EmbeddedServingMethods", "RemoteServingMethods", "ServingMethods"]


class ServingMethods(abc.ABC):
    @abc.abstractmethod
    def create_endpoint(self, name: str, model_uri: str, **settings: Any) -> EndpointPublic:
        """Serve ``model_uri`` (e.g. ``models:/churn@champion``) as endpoint ``name``.

        ``settings``: description, log_predictions, sample_rate, redact, max_batch_rows, max_delay_ms.
        """

    @abc.abstractmethod
    def list_endpoints(self) -> list[EndpointPublic]: ...

    @abc.abstractmethod
    def get_endpoint(self, name: str) -> EndpointPublic: ...

    @abc.abstractmethod
    def update_endpoint(self, name: str, **settings: Any) -> EndpointPublic:
        """Change an endpoint; a new ``model_uri`` swaps versions without failed requests."""

    @abc.abstractmethod
    def delete_endpoint(self, name: str) -> None: ...

    @abc.abstractmethod
    def predict(self, endpoint: str, data: Any, *, probabilities: bool = True) -> dict[str, Any]:
        """Predict ``data`` (a DataFrame, a dict of columns or a list of row dicts) on an endpoint.

        Returns the native response: predictions, probabilities (when the model has them), the
        model version that answered and the request id to send feedback with.
        """

    @abc.abstractmethod
    def send_feedback(self, endpoint: str, request_id: str, label: Any, *, row: int | None = None) -> int:
        """Record the true label of a past prediction; returns how many labels were stored."""


def native_body(data: Any) -> dict[str, Any]:
    if hasattr(data, "to_dict") and hasattr(data, "columns"):
        return {"columns": {str(c): data[c].tolist() for c in data.columns}}
    if isinstance(data, dict):
        return {"columns": {k: list(v) for k, v in data.items()}}
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return {"rows": data}
    return {"data": data.tolist() if hasattr(data, "tolist") else data}


class EmbeddedServingMethods(ServingMethods):
    platform: Platform
    actor: Principal

    def _public(self, row: Any) -> EndpointPublic:
        from shipyard.serving.endpoint_routes import _public

        return _public(row, None)

    def create_endpoint(self, name: str, model_uri: str, **settings: Any) -> EndpointPublic:
        from shipyard.serving.sources import PlatformSource

        endpoints.check_model_uri(model_uri)
        PlatformSource(self.platform).resolve(model_uri)
        with self.platform.database.session(write=True) as session:
            row = endpoints.create_endpoint(
                session, actor=self.actor, name=name, model_uri=model_uri, **settings
            )
            return self._public(row)

    def list_endpoints(self) -> list[EndpointPublic]:
        with self.platform.database.session() as session:
            return [self._public(row) for row in endpoints.list_endpoints(session)]

    def get_endpoint(self, name: str) -> EndpointPublic:
        with self.platform.database.session() as session:
            return self._public(endpoints.get_endpoint(session, name))

    def update_endpoint(self, name: str, **settings: Any) -> EndpointPublic:
        if "model_uri" in settings:
            from shipyard.serving.sources import PlatformSource

            PlatformSource(self.platform).resolve(endpoints.check_model_uri(settings["model_uri"]))
        with self.platform.database.session(write=True) as session:
            return self._public(endpoints.update_endpoint(session, actor=self.actor, name=name, **settings))

    def delete_endpoint(self, name: str) -> None:
        with self.platform.database.session(write=True) as session:
            endpoints.delete_endpoint(session, actor=self.actor, name=name)

    def predict(self, endpoint: str, data: Any, *, probabilities: bool = True) -> dict[str, Any]:
        from shipyard.serving.codecs.native import decode_native
        from shipyard.serving.http import new_request_id
        from shipyard.serving.rows import to_model_input
        from shipyard.serving.sources import PlatformSource

        with self.platform.database.session() as session:
            uri = endpoints.get_endpoint(session, endpoint).model_uri
        ref = PlatformSource(self.platform).resolve(uri)
        loaded = self.load_model(ref.uri)  # type: ignore[attr-defined]  # ModelMethods, same client
        rows, _ = decode_native(
            orjson.dumps(native_body(data), option=orjson.OPT_SERIALIZE_NUMPY), loaded.signature
        )
        frame = to_model_input(rows, loaded.signature)
        result: dict[str, Any] = {
            "predictions": np.asarray(loaded.flavor.predict(loaded.model, frame)).tolist(),
            "model_name": ref.name,
            "model_version": ref.version,
            "request_id": new_request_id(),
        }
        if probabilities:
            proba = loaded.flavor.predict_proba(loaded.model, frame)
            if proba is not None:
                result["probabilities"] = np.asarray(proba).tolist()
        return result

    def send_feedback(self, endpoint: str, request_id: str, label: Any, *, row: int | None = None) -> int:
        from shipyard.serving.predlog import PredictionLog

        body = FeedbackBody(request_id=request_id, label=label, row=row)
        with self.platform.database.session() as session:
            endpoints.get_endpoint(session, endpoint)
        # Not started: a server may hold the log open; labels written this way are their own durable
        # segment, which the server's scans pick up.
        items = body.items()
        PredictionLog(Path(self.platform.settings.prediction_log_dir)).add_feedback(
            endpoint, [i.request_id for i in items], [i.label for i in items], rows=[i.row for i in items]
        )
        return 1


class RemoteServingMethods(ServingMethods):
    if TYPE_CHECKING:  # provided by RemoteClient

        def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response: ...

    def create_endpoint(self, name: str, model_uri: str, **settings: Any) -> EndpointPublic:
        body = {"name": name, "model_uri": model_uri, **settings}
        return EndpointPublic.model_validate(self._request("POST", "/api/v1/endpoints", json=body).json())

    def list_endpoints(self) -> list[EndpointPublic]:
        return EndpointsPublic.model_validate(self._request("GET", "/api/v1/endpoints").json()).endpoints

    def get_endpoint(self, name: str) -> EndpointPublic:
        return EndpointPublic.model_validate(self._request("GET", f"/api/v1/endpoints/{name}").json())

    def update_endpoint(self, name: str, **settings: Any) -> EndpointPublic:
        response = self._request("PATCH", f"/api/v1/endpoints/{name}", json=settings)
        return EndpointPublic.model_validate(response.json())

    def delete_endpoint(self, name: str) -> None:
        self._request("DELETE", f"/api/v1/endpoints/{name}")

    def predict(self, endpoint: str, data: Any, *, probabilities: bool = True) -> dict[str, Any]:
        content = orjson.dumps(native_body(data), option=orjson.OPT_SERIALIZE_NUMPY)
        response = self._request(
            "POST",
            f"/endpoints/{endpoint}/predict",
            content=content,
            params={"probabilities": str(probabilities).lower()},
            headers={"content-type": "application/json"},
        )
        return response.json()

    def send_feedback(self, endpoint: str, request_id: str, label: Any, *, row: int | None = None) -> int:
        body = {"request_id": request_id, "label": label, **({"row": row} if row is not None else {})}
        return int(self._request("POST", f"/endpoints/{endpoint}/feedback", json=body).json()["accepted"])
