"""Helpers for Shipyard's own tests and for plugins: live servers and the common route checks."""
