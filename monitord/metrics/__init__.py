"""Prometheus exposition: how /metrics is written and served."""
