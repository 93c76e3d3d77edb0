"""Train a logistic regression on iris with the plain ``mlflow`` client: no Shipyard import.

``MLFLOW_TRACKING_URI`` points the client at Shipyard (and ``MLFLOW_TRACKING_TOKEN`` carries the
bearer token when auth is on); this is the code you already have. Prints the run id last.
"""

from __future__ import annotations

import mlflow
from iris_data import FEATURES, TARGET, split
from sklearn.linear_model import LogisticRegression

train, test = split()
mlflow.set_experiment("iris")
with mlflow.start_run(run_name="logreg") as run:
    model = LogisticRegression(C=0.5, max_iter=1000).fit(train[FEATURES], train[TARGET])
    mlflow.log_params({"model": "logistic_regression", "C": 0.5})
    mlflow.log_metric("test_accuracy", float(model.score(test[FEATURES], test[TARGET])))
    mlflow.sklearn.log_model(
        model, name="model", input_example=test[FEATURES].head(3), registered_model_name="iris"
    )
print(run.info.run_id)
