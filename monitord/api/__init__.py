"""The daemon's JSON HTTP API: tickets, deadlines, devices and faults, with bearer tokens."""

from monitord.api.routes import create_app
from monitord.api.server import ApiServer, serve_api

__all__ = ["ApiServer", "create_app", "serve_api"]
