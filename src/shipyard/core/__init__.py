"""Shipyard core: configuration, database, artifacts, auth, audit and errors."""
