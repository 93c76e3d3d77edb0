"""Serving: the data plane (runtime with adaptive batching, protocols, prediction log, metrics)."""
