"""Adapters to other tools' wire formats, thin layers over the same services."""
