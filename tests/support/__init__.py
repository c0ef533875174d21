"""Helpers shared by tests: database fixtures, builders, the daemon as a process."""
