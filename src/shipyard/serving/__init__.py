"""The serving data plane: protocols, validation, batching, runtime, prediction log."""
