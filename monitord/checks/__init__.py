"""Checks: each protocol in its own folder asks devices and turns answers into findings."""
