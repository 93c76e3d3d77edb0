"""Registry: registered models, versions, aliases, approvals, alias history."""
