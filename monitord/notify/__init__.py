"""Notifications: messages made from ticket events, a durable outbox, channels, a dispatcher."""
