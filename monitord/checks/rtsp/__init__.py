"""RTSP stream liveness: OPTIONS then DESCRIBE, with Basic and Digest authentication."""
