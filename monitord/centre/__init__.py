"""The centre's own high availability: which of several daemons leads the singleton work."""
