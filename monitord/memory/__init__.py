"""The daemon process's own memory: what it hands back to the system while it runs."""
