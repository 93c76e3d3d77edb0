"""SDK implementations; the public entry point is ``shipyard.Client``."""
