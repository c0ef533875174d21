"""Configuration: typed models, secrets by reference, and a loader that names every error."""

from monitord.config.load import ConfigError, ConfigIssue, load
from monitord.config.models import (
    Config,
    Criticality,
    Device,
    DeviceKind,
    IcmpSettings,
    Site,
    Zone,
)
from monitord.config.secrets import SecretRef, SecretUnavailable

__all__ = [
    "Config",
    "ConfigError",
    "ConfigIssue",
    "Criticality",
    "Device",
    "DeviceKind",
    "IcmpSettings",
    "SecretRef",
    "SecretUnavailable",
    "Site",
    "Zone",
    "load",
]
