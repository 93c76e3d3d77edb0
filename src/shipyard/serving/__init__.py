"""Serving: the data plane (adaptive batching, Open Inference V2, MLflow scoring and native protocols,
hot swap, prediction log, feedback, metrics) and the endpoints the control plane hosts."""
