"""The Shipyard demo: what `make demo` runs.

At this stage of the project it shows the foundation every lifecycle stage builds on: a server with
auth on, an admin token created locally, role checks, a content-addressed artifact round trip and
the audit trail of everything that happened. Everything lives under the demo home folder
(``.demo/`` unless SHIPYARD_DEMO_HOME says otherwise); `make demo-clean` removes it.

Exits non-zero if any step fails, so it doubles as a smoke test.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from shipyard import AuthenticationError, Client, PermissionDeniedError
from shipyard.testing.servers import server_process

console = Console()
DEMO_HOME = Path(os.environ.get("SHIPYARD_DEMO_HOME", Path(__file__).resolve().parent.parent / ".demo"))
DATA_FILE = Path(__file__).resolve().parent / "data" / "README.md"


class Steps:
    def __init__(self) -> None:
        self.done: list[tuple[str, float, str]] = []

    def run(self, title: str, action: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        with console.status(title):
            result = action()
        elapsed = time.perf_counter() - started
        detail = result if isinstance(result, str) else ""
        self.done.append((title, elapsed, detail))
        console.print(f"[green]✓[/] {title} [dim]({elapsed * 1000:.0f} ms)[/] {detail}")
        return result


MODEL_NAME = "cancer-screening"


def _split() -> tuple[Any, Any, Any, Any]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    frame = load_breast_cancer(as_frame=True).frame
    return train_test_split(
        frame.drop(columns="target"), frame["target"], test_size=0.3, random_state=7, stratify=frame["target"]
    )


def train_candidates(url: str, token: str) -> dict[str, Any]:
    """A logistic regression through the unchanged mlflow client; a forest through Shipyard's SDK."""
    import mlflow
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    os.environ["MLFLOW_TRACKING_TOKEN"] = token
    mlflow.set_tracking_uri(url)
    x_train, x_test, y_train, y_test = _split()
    mlflow.set_experiment("cancer-screening")
    with mlflow.start_run(run_name="logreg") as mlflow_run:
        logreg = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=1000)).fit(
            x_train, y_train
        )
        mlflow.log_params({"model": "logistic_regression", "C": 0.5})
        mlflow.log_metric("test_accuracy", float(logreg.score(x_test, y_test)))
    with (
        Client(url, token=token) as client,
        client.start_run("cancer-screening", run_name="forest", seed=7) as run,
    ):
        forest = RandomForestClassifier(n_estimators=100, max_depth=6, random_state=7).fit(x_train, y_train)
        run.log_params({"model": "random_forest", "n_estimators": 100, "max_depth": 6})
        run.log_metric("test_accuracy", float(forest.score(x_test, y_test)))
    return {"logreg": (logreg, mlflow_run.info.run_id), "forest": (forest, run.run_id)}


def evaluate_and_register(url: str, token: str, trained: dict[str, Any]) -> str:
    import mlflow

    from shipyard import beats, evaluate
    from shipyard.tracking.evaluation_output import report_table

    _, x_test, _, y_test = _split()
    report = evaluate({name: model for name, (model, _) in trained.items()}, x_test, y_test)
    console.print(report_table(report))
    best = report.best("f1")
    gate = beats(report, best.name, metric="f1", by=0.1)
    if not gate.passed:
        raise RuntimeError(gate.message)
    model, run_id = trained[best.name]
    with mlflow.start_run(run_id=run_id):  # Shipyard's run, continued by the mlflow client
        mlflow.sklearn.log_model(
            model, name="model", input_example=x_test.head(2), registered_model_name=MODEL_NAME
        )
    return f"best by F1: {best.name} ({best.metrics['f1']:.3f}); {gate.message.split(': ', 1)[1]}"


def promote(url: str, editor_token: str, admin: Any) -> str:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    editor = MlflowClient(url)
    version = max(int(v.version) for v in editor.search_model_versions(f"name = '{MODEL_NAME}'"))
    try:
        editor.set_registered_model_alias(MODEL_NAME, "champion", str(version))
        raise RuntimeError("an editor moved a protected alias without approval")
    except MlflowException as exc:
        if exc.error_code != "PERMISSION_DENIED":
            raise
    (request,) = admin.list_approvals(name=MODEL_NAME)
    admin.approve(request.id, reason="beats the majority-class baseline by more than 0.1 F1")
    (event,) = admin.alias_history(MODEL_NAME, alias="champion")
    return (
        f"editor's request #{request.id} approved by {event.approved_by}: {MODEL_NAME}@champion = "
        f"v{event.version} (shipyard registry history {MODEL_NAME})"
    )


def serve_champion(admin: Any) -> str:
    """An endpoint following the champion alias, hosted by the server; wait until it is loaded."""
    admin.create_endpoint(MODEL_NAME, f"models:/{MODEL_NAME}@champion", description="cancer screening")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = admin.get_endpoint(MODEL_NAME).status
        if status.state == "ready":
            loaded = f"loaded, verified and warmed in {status.load_seconds:.2f} s"
            return f"endpoint {MODEL_NAME} serves version {status.version} ({loaded})"
        if status.state == "failed":
            raise RuntimeError(f"the endpoint failed to load: {status.error}")
        time.sleep(0.1)
    raise RuntimeError("the endpoint did not load within 2 minutes")


TRAFFIC = 240  # requests: the second half drifted


def drifted(rows: Any) -> Any:
    """Larger, rougher, more irregular cells than in training: size, texture and concavity shift up."""
    shifted = rows.copy()
    for column in rows.columns:
        if any(word in column for word in ("radius", "perimeter", "texture", "area", "concav")):
            shifted[column] = shifted[column] * (1.35**2 if "area" in column else 1.35)
    return shifted


def send_traffic(url: str, token: str) -> dict[str, Any]:
    """One-row requests through all three protocols, loopback only, bounded in count."""
    import numpy as np
    import tritonclient.http as tritonhttp

    _, x_test, _, y_test = _split()
    rows = x_test.sample(n=TRAFFIC, replace=True, random_state=3).reset_index(drop=True)
    labels = y_test.sample(n=TRAFFIC, replace=True, random_state=3).reset_index(drop=True)
    rows.iloc[TRAFFIC // 2 :] = drifted(rows.iloc[TRAFFIC // 2 :]).to_numpy()
    auth = {"Authorization": f"Bearer {token}"}
    triton = tritonhttp.InferenceServerClient(url=url.removeprefix("http://"))
    sent: list[tuple[str, int]] = []
    by_protocol = {"v2": 0, "mlflow": 0, "native": 0}
    with httpx.Client(base_url=url, headers=auth, timeout=30) as http:
        for index in range(TRAFFIC):
            row = rows.iloc[[index]]
            protocol = ("native", "v2", "mlflow")[index % 3]
            if protocol == "native":
                answer = http.post(f"/endpoints/{MODEL_NAME}/predict", json={"rows": row.to_dict("records")})
                answer.raise_for_status()
                sent.append((answer.json()["request_id"], int(labels[index])))
            elif protocol == "v2":
                tensor = tritonhttp.InferInput("input-0", [1, row.shape[1]], "FP64")
                tensor.set_data_from_numpy(row.to_numpy(dtype=np.float64))
                request_id = f"demo-v2-{index}"
                triton.infer(MODEL_NAME, [tensor], request_id=request_id, headers=auth)
                sent.append((request_id, int(labels[index])))
            else:
                body = {"dataframe_split": row.to_dict(orient="split", index=False)}
                http.post(f"/endpoints/{MODEL_NAME}/invocations", json=body).raise_for_status()
            by_protocol[protocol] += 1
    triton.close()
    return {"sent": sent, "by_protocol": by_protocol, "rows": rows}


def feed_labels(admin: Any, traffic: dict[str, Any]) -> str:
    for request_id, label in traffic["sent"]:
        admin.send_feedback(MODEL_NAME, request_id, label)
    counts = ", ".join(f"{k} {v}" for k, v in traffic["by_protocol"].items())
    return f"{TRAFFIC} predictions ({counts}); {len(traffic['sent'])} delayed labels sent back"


class AlertReceiver:
    """A local webhook receiver on loopback: it keeps every delivery it gets."""

    def __init__(self) -> None:
        import http.server
        import threading

        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                received.append({"headers": dict(self.headers), "body": json.loads(body or b"{}")})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # quiet
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def monitor_endpoint(url: str, admin_secret: str, admin: Any, receiver: AlertReceiver) -> dict[str, Any]:
    """A monitor against the training set, alert rules to a local webhook, and the windows scored."""
    x_train, _, y_train, _ = _split()
    reference = DEMO_HOME / "reference.parquet"
    x_train.assign(target=y_train).to_parquet(reference)
    with (
        Client(url, token=admin_secret) as client,
        client.start_run("cancer-screening", run_name="reference") as run,
    ):
        run.log_artifact(reference)
        run_id = run.run_id
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_secret}"}, timeout=30) as http:
        http.post(
            "/api/v1/webhooks", json={"name": "demo-alerts", "url": receiver.url, "events": ["monitor.alert"]}
        ).raise_for_status()
    monitor = admin.create_monitor(
        MODEL_NAME,
        "drift-and-quality",
        f"runs:/{run_id}/reference.parquet",
        window_kind="count",
        window_size=TRAFFIC // 4,
        target_column="target",
    )
    admin.create_alert_rule(monitor.id, "drift_share", ">", 0.3, name="feature drift")
    admin.create_alert_rule(monitor.id, "accuracy", "<", 0.9, name="accuracy drop")
    outcome = admin.run_monitor(monitor.id)
    deadline = time.monotonic() + 60
    while len(receiver.received) < len([e for e in outcome.alert_events if e.to_state == "firing"]):
        if time.monotonic() > deadline:
            raise RuntimeError("the alert webhook was not delivered within a minute")
        time.sleep(0.2)
    return {"monitor": monitor, "outcome": outcome}


def monitoring_table(monitored: dict[str, Any]) -> str:
    outcome = monitored["outcome"]
    table = Table(title="Monitor windows (count windows over the prediction log)", title_justify="left")
    for column in ("window", "rows", "drift share", "dataset drift", "drift type", "accuracy", "labels"):
        table.add_column(column)
    for index, result in enumerate(outcome.results, start=1):
        accuracy = result.performance.get("accuracy")
        table.add_row(
            str(index),
            str(result.rows),
            f"{result.drift_share:.2f}" if result.drift_share is not None else "-",
            "yes" if result.dataset_drift else "no",
            result.drift_type or "-",
            f"{accuracy:.3f}" if accuracy is not None else "-",
            f"{result.label_coverage:.0%}" if result.label_coverage is not None else "-",
        )
    console.print(table)
    drifted = [r for r in outcome.results if r.dataset_drift]
    if not drifted or outcome.results[0].dataset_drift:
        raise RuntimeError("monitoring should flag the drifted half of the traffic, and only that half")
    firing = [e for e in outcome.alert_events if e.to_state == "firing"]
    if not firing:
        raise RuntimeError("no alert fired for the drifted traffic")
    first, last = outcome.results[0].performance, drifted[-1].performance
    start = outcome.results.index(drifted[0]) + 1
    before, after = first.get("accuracy", float("nan")), last.get("accuracy", float("nan"))
    alerts = ", ".join(e.message for e in firing)[:120]
    return (
        f"drift from window {start} (type: {drifted[-1].drift_type}); accuracy {before:.3f} → {after:.3f}; "
        f"{len(firing)} alert(s) delivered to the local webhook ({alerts})"
    )


def drift_report(traffic: dict[str, Any]) -> str:
    """The drifted half against the training set, as the self-contained HTML report of `shipyard drift`."""
    x_train, *_ = _split()
    reference, current = DEMO_HOME / "reference.parquet", DEMO_HOME / "drifted-traffic.parquet"
    traffic["rows"].iloc[TRAFFIC // 2 :].to_parquet(current)
    report = DEMO_HOME / "drift-report.html"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "shipyard",
            "drift",
            str(reference),
            str(current),
            "--columns",
            ",".join(x_train.columns),
            "--html",
            str(report),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return str(report)


def main() -> int:
    if DEMO_HOME.exists():
        shutil.rmtree(DEMO_HOME)
    DEMO_HOME.mkdir(parents=True)
    env = {"SHIPYARD_HOME": str(DEMO_HOME), "SHIPYARD_AUTH_ENABLED": "true"}
    steps = Steps()
    console.print(Panel.fit("Shipyard demo: the foundation (server, tokens, roles, artifacts, audit)"))

    token_file = DEMO_HOME / "admin-token"

    def create_admin() -> str:
        with Client(home=DEMO_HOME) as local:
            secret = local.create_token("demo-admin", "admin").secret
        token_file.write_text(secret + "\n")
        token_file.chmod(0o600)
        return f"{secret[:10]}… (saved to {token_file}, mode 600)"

    steps.run("create an admin token against the local store", create_admin)
    admin_secret = token_file.read_text().strip()

    with contextlib.ExitStack() as stack:
        url, _process = steps.run(
            "start `shipyard server --auth` on loopback",
            lambda: stack.enter_context(server_process(env, args=("--auth",))),
        )
        console.print(f"  server at {url}")
        admin = stack.enter_context(Client(url, token=admin_secret))

        def probes() -> str:
            ready = admin.ready()
            version = admin.version()
            return f"health ok, {ready.status} (schema {ready.schema_revision}), shipyard {version.version}"

        steps.run("health, readiness and version", probes)

        def refuse_anonymous() -> str:
            try:
                Client(url).list_audit()
            except AuthenticationError as exc:
                return f"401: {exc.message.split(' (HTTP')[0]}"
            raise RuntimeError("an anonymous request was accepted with auth on")

        steps.run("a request without a token is refused", refuse_anonymous)

        editor_secret = admin.create_token("demo-editor", "editor").secret
        viewer_secret = admin.create_token("demo-viewer", "viewer").secret
        steps.run("create editor and viewer tokens over REST", lambda: "demo-editor, demo-viewer")

        def round_trip() -> str:
            with Client(url, token=editor_secret) as editor:
                blob = editor.upload_blob(DATA_FILE)
                again = editor.upload_blob(DATA_FILE)
                back = editor.read_blob(blob.digest)
            if hashlib.sha256(back).hexdigest() != blob.digest or again.created:
                raise RuntimeError("artifact round trip failed")
            return f"{blob.size} bytes as sha256:{blob.digest[:12]}…, stored once"

        steps.run("upload and download an artifact (content-addressed, verified)", round_trip)

        def viewer_cannot_write() -> str:
            with Client(url, token=viewer_secret) as viewer:
                try:
                    viewer.upload_blob(b"not allowed")
                except PermissionDeniedError:
                    return "403 for the viewer"
            raise RuntimeError("a viewer was allowed to write")

        steps.run("the viewer role cannot write", viewer_cannot_write)

        def use_case_portfolio() -> str:
            from shipyard.usecases.workshop import example_portfolio

            # The example holds an approver's sign-off, so importing it needs that role (admin here).
            imported = admin.import_portfolio(example_portfolio())
            with Client(url, token=viewer_secret) as viewer:
                points = viewer.matrix(imported.portfolio.id).points
                selection = viewer.selection(imported.portfolio.id)
                blocked = [p.title for p in points if not viewer.promotion_check(p.use_case_id).allowed]
            top = ", ".join(f"{p.rank}. {p.title}" for p in points[:3])
            return (
                f"{imported.use_cases} use cases; top: {top}; proposal: {len(selection.clusters)} clusters, "
                f"{len(selection.use_case_ids)} use cases; {len(blocked)} blocked by open red flags"
            )

        steps.run("import, score and prioritise the example use-case portfolio", use_case_portfolio)
        trained = steps.run(
            "train with the plain mlflow client and with Shipyard's SDK",
            lambda: train_candidates(url, editor_secret),
        )
        steps.run(
            "evaluate candidates against a baseline; register the best",
            lambda: evaluate_and_register(url, editor_secret, trained),
        )
        steps.run(
            "promote to champion through the approval workflow", lambda: promote(url, editor_secret, admin)
        )
        steps.run("serve the champion (an endpoint following the alias)", lambda: serve_champion(admin))
        traffic = steps.run(
            f"send {TRAFFIC} requests over Open Inference V2, MLflow /invocations and the native API "
            "(drift injected half way)",
            lambda: send_traffic(url, viewer_secret),
        )
        steps.run("feed the delayed labels back", lambda: feed_labels(admin, traffic))
        receiver = AlertReceiver()
        stack.callback(receiver.close)
        monitored = steps.run(
            "monitor the endpoint: drift, its type, accuracy from the delayed labels, alerts",
            lambda: monitor_endpoint(url, admin_secret, admin, receiver),
        )
        steps.run(
            "drift detected, performance drop measured, alert delivered", lambda: monitoring_table(monitored)
        )
        report_file = steps.run("write the drift report (HTML, offline)", lambda: drift_report(traffic))
        events = list(admin.iter_audit())

    table = Table(title="Audit trail (newest first)", title_justify="left")
    for column in ("#", "actor", "action", "object", "request id"):
        table.add_column(column)
    for event in events:
        table.add_row(
            str(event.id),
            f"{event.actor} ({event.actor_role})",
            event.action,
            f"{event.object_type}:{event.object_id[:16]}",
            event.request_id or "-",
        )
    console.print(table)
    total = sum(elapsed for _, elapsed, _ in steps.done)
    console.print(
        Panel.fit(
            f"{len(steps.done)} steps passed in {total:.1f} s\n"
            f"demo home: {DEMO_HOME} (remove with `make demo-clean`)\n"
            f"drift report: {report_file}\n"
            f"pages (while a server runs on {url}): {url}/ui/ (portfolio, runs, registry, audit), "
            f"{url}/api/v1/endpoints/{MODEL_NAME}, {url}/metrics\n"
            f"audit events: {len(events)}; see them again with:\n"
            f"  SHIPYARD_HOME={DEMO_HOME} .venv/bin/shipyard audit",
            title="Summary",
        )
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:
        console.print(f"[red]demo failed: {type(exc).__name__}: {exc}[/]")
        sys.exit(1)
