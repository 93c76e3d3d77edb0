"""Model packaging: flavors, signatures, save and load with integrity checks, MLflow-compatible."""

from shipyard.models.flavors.pyfunc import PythonModel
from shipyard.models.package import LoadedModel, load_model, save_model
from shipyard.models.signature import Signature, infer_signature

__all__ = ["LoadedModel", "PythonModel", "Signature", "infer_signature", "load_model", "save_model"]
