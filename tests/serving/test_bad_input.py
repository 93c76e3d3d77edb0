"""Bad input gets a 4xx naming the problem, never a 500, and never fails its neighbours in a batch."""

from __future__ import annotations

import concurrent.futures
import json

import httpx

from shipyard.testing.serving import breast_cancer, pipeline
from tests import live_http

from .conftest import wait_serving


def _row() -> dict:
    x, _ = breast_cancer()
    return x.head(1).to_dict(orient="records")[0]


def _v2(data: list, shape: list[int], datatype: str = "FP64", name: str = "input-0") -> dict:
    return {"inputs": [{"name": name, "shape": shape, "datatype": datatype, "data": data}]}


def _cases() -> list[tuple[str, str, dict | bytes, dict, int, str]]:
    row = _row()
    values = list(row.values())
    missing = dict(list(row.items())[1:])
    extra = {**row, "zodiac": 3.0}
    text = {**row, "mean radius": "large"}
    json_h = {"content-type": "application/json"}
    return [
        ("native malformed JSON", "/endpoints/lr/predict", b"{rows: [", json_h, 400, "JSON"),
        ("native missing column", "/endpoints/lr/predict", {"rows": [missing]}, {}, 400, "mean radius"),
        ("native extra column", "/endpoints/lr/predict", {"rows": [extra]}, {}, 400, "zodiac"),
        ("native text in a number column", "/endpoints/lr/predict", {"rows": [text]}, {}, 400, "mean radius"),
        ("native empty rows", "/endpoints/lr/predict", {"rows": []}, {}, 400, "rows"),
        (
            "native wrong content type",
            "/endpoints/lr/predict",
            b"a,b",
            {"content-type": "text/csv"},
            415,
            "content type",
        ),
        ("native unknown endpoint", "/endpoints/nope/predict", {"rows": [row]}, {}, 404, "nope"),
        ("v2 malformed JSON", "/v2/models/lr/infer", b"{", json_h, 400, ""),
        ("v2 wrong shape", "/v2/models/lr/infer", _v2(values[:3], [1, 3]), {}, 400, ""),
        ("v2 data does not fill shape", "/v2/models/lr/infer", _v2(values, [2, 30]), {}, 400, ""),
        ("v2 wrong datatype", "/v2/models/lr/infer", _v2(["x"] * 30, [1, 30], "BYTES"), {}, 400, ""),
        ("v2 unknown version", "/v2/models/lr/versions/9/infer", _v2(values, [1, 30]), {}, 404, "9"),
        ("v2 unknown model", "/v2/models/nope/infer", _v2(values, [1, 30]), {}, 404, "nope"),
        ("v2 wrong content type", "/v2/models/lr/infer", b"x", {"content-type": "text/plain"}, 415, ""),
        (
            "v2 unknown output",
            "/v2/models/lr/infer",
            {**_v2(values, [1, 30]), "outputs": [{"name": "why"}]},
            {},
            400,
            "why",
        ),
        ("mlflow malformed JSON", "/endpoints/lr/invocations", b"{", json_h, 400, ""),
        (
            "mlflow bad CSV column",
            "/endpoints/lr/invocations",
            b"a,b\n1,2\n",
            {"content-type": "text/csv"},
            400,
            "",
        ),
    ]


def test_bad_input_gets_a_clear_4xx(endpoints_ready: str) -> None:
    """Every case against one server (loading models per case would dominate the suite's time)."""
    failures = []
    with live_http.Client(base_url=endpoints_ready, timeout=60) as client:
        for label, path, body, headers, status, mentions in _cases():
            kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
            response = client.post(path, headers=headers, **kwargs)
            if response.status_code != status or mentions.lower() not in response.text.lower():
                failures.append(f"{label}: {response.status_code} {response.text[:200]}")
            if "Traceback" in response.text:
                failures.append(f"{label}: traceback in the response")
    assert not failures, "\n".join(failures)


def test_oversized_body_is_413(serving_platform: object, registered: dict) -> None:
    from shipyard.server import create_app
    from shipyard.testing.servers import live_server

    serving_platform.settings = serving_platform.settings.model_copy(update={"serving_max_body_bytes": 2048})
    app = create_app(platform=serving_platform)
    with live_server(app) as url, live_http.Client(base_url=url, timeout=30) as client:
        body = {"name": "lr", "model_uri": "models:/cancer-lr@live"}
        assert client.post("/api/v1/endpoints", json=body).status_code == 201
        wait_serving(client, "lr")
        response = client.post("/endpoints/lr/predict", json={"rows": [_row()] * 100})
        assert response.status_code == 413 and "2048" in response.text
        v2 = client.post("/v2/models/lr/infer", content=b"{" + b" " * 5000 + b"}")
        assert v2.status_code == 413


def test_one_bad_request_does_not_fail_its_batch(endpoints_ready: str) -> None:
    """NaN in a double column is valid input, but the logistic regression refuses it: only that
    request fails (400), the others batched with it still get their predictions."""
    row = _row()
    good, bad = {"rows": [row]}, {"rows": [{**row, "mean radius": float("nan")}]}
    url = f"{endpoints_ready}/endpoints/lr/predict"
    bodies = [bad if i % 4 == 0 else good for i in range(64)]

    def post(body: dict) -> httpx.Response:
        # json.dumps writes NaN as pandas-based clients do; the codec must read it.
        return client.post(
            url, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )

    with live_http.Client(timeout=30) as client, concurrent.futures.ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(post, bodies))
    expected = pipeline().predict(breast_cancer()[0].head(1)).tolist()
    for body, response in zip(bodies, responses, strict=True):
        if body is good:
            assert response.status_code == 200 and response.json()["predictions"] == expected
        else:
            assert response.status_code == 400, response.text
            assert "NaN" in response.text
