"""Tracking: experiments, runs, params, metrics, artifacts, logged models, search."""
