"""The web console: server-rendered pages for engineers, dispatchers, managers and customers,
mounted on the API's FastAPI app when `console.enabled` (issue 16)."""
