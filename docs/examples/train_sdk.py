"""Train a random forest on iris as a tracked run with Shipyard's SDK, and register it as ``iris``.

The client talks to the server named by ``SHIPYARD_TRACKING_URI`` with ``SHIPYARD_TOKEN`` (without
them it writes to the local store). The training set is logged too, as ``data/train.parquet``: it
is the reference that drift monitoring compares live traffic with. Prints the run id.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from iris_data import FEATURES, TARGET, split
from sklearn.ensemble import RandomForestClassifier

from shipyard import Client

train, test = split()
with Client() as client, client.start_run("iris", run_name="forest", seed=7) as run:
    forest = RandomForestClassifier(n_estimators=100, max_depth=4, random_state=7)
    forest.fit(train[FEATURES], train[TARGET])
    run.log_params({"model": "random_forest", "n_estimators": 100, "max_depth": 4})
    run.log_metric("test_accuracy", float(forest.score(test[FEATURES], test[TARGET])))
    with tempfile.TemporaryDirectory() as folder:
        reference = Path(folder) / "train.parquet"
        train.to_parquet(reference)
        run.log_artifact(reference, "data/train.parquet")
    client.log_model(
        forest, run_id=run.run_id, input_example=test[FEATURES].head(3), registered_model_name="iris"
    )
print(run.run_id)
