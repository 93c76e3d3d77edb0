"""Wire formats of the serving data plane: Open Inference V2, MLflow ``/invocations`` and the native API.

Each codec turns a request body into validated ``Rows`` (see ``shipyard.serving.rows``) and a model's
output into a response body. Codecs do no I/O and know nothing of HTTP routing; every problem with the
input is an ``InvalidParameterError`` (``ScoringError`` for ``/invocations``) that names the input.
"""

__all__: list[str] = []
