"""The MLflow 3.x REST API (tracking, registry, artifacts), so the real mlflow client works unchanged."""
