"""Example calls, one per mutating MLflow-compatible route, for the common audit check."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx

__all__ = ["MUTATION_EXAMPLES"]

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def _now() -> int:
    return int(time.time() * 1000)


def experiment(client: httpx.Client) -> str:
    response = client.post(f"{API}/experiments/create", json={"name": f"example-{uuid.uuid4().hex[:8]}"})
    response.raise_for_status()
    return str(response.json()["experiment_id"])


def run(client: httpx.Client, experiment_id: str | None = None) -> tuple[str, str]:
    experiment_id = experiment_id or experiment(client)
    response = client.post(f"{API}/runs/create", json={"experiment_id": experiment_id, "start_time": _now()})
    response.raise_for_status()
    return experiment_id, response.json()["run"]["info"]["run_id"]


def logged_model(client: httpx.Client) -> tuple[str, str]:
    experiment_id, run_id = run(client)
    response = client.post(
        f"{API}/logged-models", json={"experiment_id": experiment_id, "name": "m", "source_run_id": run_id}
    )
    response.raise_for_status()
    return experiment_id, response.json()["model"]["info"]["model_id"]


def _with_run(
    call: Callable[[httpx.Client, str, str], httpx.Response],
) -> Callable[[httpx.Client], httpx.Response]:
    def example(client: httpx.Client) -> httpx.Response:
        experiment_id, run_id = run(client)
        return call(client, experiment_id, run_id)

    return example


def _with_model(
    call: Callable[[httpx.Client, str, str], httpx.Response],
) -> Callable[[httpx.Client], httpx.Response]:
    def example(client: httpx.Client) -> httpx.Response:
        experiment_id, model_id = logged_model(client)
        return call(client, experiment_id, model_id)

    return example


def _tagged(client: httpx.Client, experiment_id: str, run_id: str) -> httpx.Response:
    client.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "k", "value": "v"}).raise_for_status()
    return client.post(f"{API}/runs/delete-tag", json={"run_id": run_id, "key": "k"})


def _outputs(client: httpx.Client, experiment_id: str, run_id: str) -> httpx.Response:
    model = client.post(
        f"{API}/logged-models", json={"experiment_id": experiment_id, "source_run_id": run_id}
    )
    return client.post(
        f"{API}/runs/outputs",
        json={
            "run_id": run_id,
            "models": [{"model_id": model.json()["model"]["info"]["model_id"], "step": 0}],
        },
    )


def _experiment_tag_deleted(client: httpx.Client) -> httpx.Response:
    experiment_id = experiment(client)
    client.post(
        f"{API}/experiments/set-experiment-tag",
        json={"experiment_id": experiment_id, "key": "k", "value": "v"},
    ).raise_for_status()
    return client.post(
        f"{API}/experiments/delete-experiment-tag", json={"experiment_id": experiment_id, "key": "k"}
    )


def _experiment_restored(client: httpx.Client) -> httpx.Response:
    experiment_id = experiment(client)
    client.post(f"{API}/experiments/delete", json={"experiment_id": experiment_id}).raise_for_status()
    return client.post(f"{API}/experiments/restore", json={"experiment_id": experiment_id})


def _run_restored(client: httpx.Client, experiment_id: str, run_id: str) -> httpx.Response:
    client.post(f"{API}/runs/delete", json={"run_id": run_id}).raise_for_status()
    return client.post(f"{API}/runs/restore", json={"run_id": run_id})


def _artifact_deleted(client: httpx.Client) -> httpx.Response:
    experiment_id, run_id = run(client)
    path = f"{ARTIFACTS}/{experiment_id}/{run_id}/artifacts/a.txt"
    client.put(path, content=b"x").raise_for_status()
    return client.delete(path)


def _model_tag_deleted(client: httpx.Client, experiment_id: str, model_id: str) -> httpx.Response:
    client.patch(
        f"{API}/logged-models/{model_id}/tags", json={"tags": [{"key": "k", "value": "v"}]}
    ).raise_for_status()
    return client.delete(f"{API}/logged-models/{model_id}/tags/k")


MUTATION_EXAMPLES: dict[str, Callable[[httpx.Client], httpx.Response]] = {
    f"POST {API}/experiments/create": lambda c: c.post(
        f"{API}/experiments/create", json={"name": uuid.uuid4().hex}
    ),
    f"POST {API}/experiments/update": lambda c: c.post(
        f"{API}/experiments/update", json={"experiment_id": experiment(c), "new_name": uuid.uuid4().hex}
    ),
    f"POST {API}/experiments/delete": lambda c: c.post(
        f"{API}/experiments/delete", json={"experiment_id": experiment(c)}
    ),
    f"POST {API}/experiments/restore": _experiment_restored,
    f"POST {API}/experiments/set-experiment-tag": lambda c: c.post(
        f"{API}/experiments/set-experiment-tag",
        json={"experiment_id": experiment(c), "key": "k", "value": "v"},
    ),
    f"POST {API}/experiments/delete-experiment-tag": _experiment_tag_deleted,
    f"POST {API}/runs/create": lambda c: c.post(f"{API}/runs/create", json={"experiment_id": "0"}),
    f"POST {API}/runs/update": _with_run(
        lambda c, e, r: c.post(
            f"{API}/runs/update", json={"run_id": r, "status": "FINISHED", "end_time": _now()}
        )
    ),
    f"POST {API}/runs/delete": _with_run(lambda c, e, r: c.post(f"{API}/runs/delete", json={"run_id": r})),
    f"POST {API}/runs/restore": _with_run(_run_restored),
    f"POST {API}/runs/log-parameter": _with_run(
        lambda c, e, r: c.post(f"{API}/runs/log-parameter", json={"run_id": r, "key": "lr", "value": "0.1"})
    ),
    f"POST {API}/runs/log-metric": _with_run(
        lambda c, e, r: c.post(
            f"{API}/runs/log-metric",
            json={"run_id": r, "key": "loss", "value": 0.5, "timestamp": _now(), "step": 1},
        )
    ),
    f"POST {API}/runs/log-batch": _with_run(
        lambda c, e, r: c.post(
            f"{API}/runs/log-batch",
            json={
                "run_id": r,
                "metrics": [{"key": "m", "value": 1, "timestamp": _now()}],
                "params": [{"key": "p", "value": "1"}],
                "tags": [{"key": "t", "value": "1"}],
            },
        )
    ),
    f"POST {API}/runs/set-tag": _with_run(
        lambda c, e, r: c.post(f"{API}/runs/set-tag", json={"run_id": r, "key": "k", "value": "v"})
    ),
    f"POST {API}/runs/delete-tag": _with_run(_tagged),
    f"POST {API}/runs/log-inputs": _with_run(
        lambda c, e, r: c.post(
            f"{API}/runs/log-inputs",
            json={
                "run_id": r,
                "datasets": [
                    {"dataset": {"name": "d", "digest": "abc", "source_type": "local", "source": "x"}}
                ],
            },
        )
    ),
    f"POST {API}/runs/outputs": _with_run(_outputs),
    f"POST {API}/logged-models": lambda c: c.post(f"{API}/logged-models", json={"experiment_id": "0"}),
    f"PATCH {API}/logged-models/{{model_id}}": _with_model(
        lambda c, e, m: c.patch(
            f"{API}/logged-models/{m}", json={"model_id": m, "status": "LOGGED_MODEL_READY"}
        )
    ),
    f"DELETE {API}/logged-models/{{model_id}}": _with_model(
        lambda c, e, m: c.delete(f"{API}/logged-models/{m}")
    ),
    f"PATCH {API}/logged-models/{{model_id}}/tags": _with_model(
        lambda c, e, m: c.patch(f"{API}/logged-models/{m}/tags", json={"tags": [{"key": "k", "value": "v"}]})
    ),
    f"DELETE {API}/logged-models/{{model_id}}/tags/{{key}}": _with_model(_model_tag_deleted),
    f"POST {API}/logged-models/{{model_id}}/params": _with_model(
        lambda c, e, m: c.post(
            f"{API}/logged-models/{m}/params", json={"params": [{"key": "k", "value": "v"}]}
        )
    ),
    f"PUT {ARTIFACTS}/{{artifact_path:path}}": _with_run(
        lambda c, e, r: c.put(f"{ARTIFACTS}/{e}/{r}/artifacts/dir/file.txt", content=b"hello")
    ),
    f"DELETE {ARTIFACTS}/{{artifact_path:path}}": _artifact_deleted,
}


def registered_model(client: httpx.Client) -> str:
    name = f"model-{uuid.uuid4().hex[:8]}"
    client.post(f"{API}/registered-models/create", json={"name": name}).raise_for_status()
    return name


def model_version(client: httpx.Client) -> tuple[str, str]:
    name = registered_model(client)
    _, run_id = run(client)
    response = client.post(
        f"{API}/model-versions/create",
        json={"name": name, "source": f"runs:/{run_id}/model", "run_id": run_id},
    )
    response.raise_for_status()
    return name, response.json()["model_version"]["version"]


def _with_version(
    call: Callable[[httpx.Client, str, str], httpx.Response],
) -> Callable[[httpx.Client], httpx.Response]:
    def example(client: httpx.Client) -> httpx.Response:
        return call(client, *model_version(client))

    return example


def _model_tag_removed(client: httpx.Client) -> httpx.Response:
    name = registered_model(client)
    client.post(
        f"{API}/registered-models/set-tag", json={"name": name, "key": "k", "value": "v"}
    ).raise_for_status()
    return client.request("DELETE", f"{API}/registered-models/delete-tag", json={"name": name, "key": "k"})


def _alias_removed(client: httpx.Client, name: str, version: str) -> httpx.Response:
    client.post(f"{API}/registered-models/alias", json={"name": name, "alias": "a", "version": version})
    return client.request("DELETE", f"{API}/registered-models/alias", json={"name": name, "alias": "a"})


def _version_tag_removed(client: httpx.Client, name: str, version: str) -> httpx.Response:
    client.post(
        f"{API}/model-versions/set-tag", json={"name": name, "version": version, "key": "k", "value": "v"}
    )
    return client.request(
        "DELETE", f"{API}/model-versions/delete-tag", json={"name": name, "version": version, "key": "k"}
    )


MUTATION_EXAMPLES.update(
    {
        f"POST {API}/registered-models/create": lambda c: c.post(
            f"{API}/registered-models/create", json={"name": uuid.uuid4().hex}
        ),
        f"POST {API}/registered-models/rename": lambda c: c.post(
            f"{API}/registered-models/rename",
            json={"name": registered_model(c), "new_name": uuid.uuid4().hex},
        ),
        f"PATCH {API}/registered-models/update": lambda c: c.patch(
            f"{API}/registered-models/update", json={"name": registered_model(c), "description": "d"}
        ),
        f"DELETE {API}/registered-models/delete": lambda c: c.request(
            "DELETE", f"{API}/registered-models/delete", json={"name": registered_model(c)}
        ),
        f"POST {API}/registered-models/set-tag": lambda c: c.post(
            f"{API}/registered-models/set-tag", json={"name": registered_model(c), "key": "k", "value": "v"}
        ),
        f"DELETE {API}/registered-models/delete-tag": _model_tag_removed,
        f"POST {API}/registered-models/alias": _with_version(
            lambda c, n, v: c.post(
                f"{API}/registered-models/alias", json={"name": n, "alias": "champion", "version": v}
            )
        ),
        f"DELETE {API}/registered-models/alias": _with_version(_alias_removed),
        f"POST {API}/model-versions/create": lambda c: c.post(
            f"{API}/model-versions/create",
            json={"name": registered_model(c), "source": f"runs:/{run(c)[1]}/model"},
        ),
        f"PATCH {API}/model-versions/update": _with_version(
            lambda c, n, v: c.patch(
                f"{API}/model-versions/update", json={"name": n, "version": v, "description": "d"}
            )
        ),
        f"DELETE {API}/model-versions/delete": _with_version(
            lambda c, n, v: c.request(
                "DELETE", f"{API}/model-versions/delete", json={"name": n, "version": v}
            )
        ),
        f"POST {API}/model-versions/transition-stage": _with_version(
            lambda c, n, v: c.post(
                f"{API}/model-versions/transition-stage",
                json={"name": n, "version": v, "stage": "Staging", "archive_existing_versions": False},
            )
        ),
        f"POST {API}/model-versions/set-tag": _with_version(
            lambda c, n, v: c.post(
                f"{API}/model-versions/set-tag", json={"name": n, "version": v, "key": "k", "value": "v"}
            )
        ),
        f"DELETE {API}/model-versions/delete-tag": _with_version(_version_tag_removed),
    }
)
