"""Model packaging: flavors, signatures, save and load with integrity checks, MLflow-compatible.

``fetch_package`` brings a registered package to a verified local folder (see ``shipyard.models.fetch``).
"""

from shipyard.models.fetch import FetchedPackage, fetch_package
from shipyard.models.flavors.pyfunc import PythonModel
from shipyard.models.package import LoadedModel, load_model, save_model
from shipyard.models.sdk import ModelInfo
from shipyard.models.signature import Signature, infer_signature

__all__ = [
    "FetchedPackage",
    "LoadedModel",
    "ModelInfo",
    "PythonModel",
    "Signature",
    "fetch_package",
    "infer_signature",
    "load_model",
    "save_model",
]
