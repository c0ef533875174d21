"""Text tables and JSON shapes shared by the CLI and the API, and their words."""
