"""Developer / test tooling (not shipped with the connector package)."""
