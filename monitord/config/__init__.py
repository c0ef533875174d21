"""Configuration: typed models, secrets by reference, and a loader that names every error.

Its names are imported on first use (PEP 562), as the store's are: `config.snapfile` (the
snapshot's freshness and plain JSON) is imported without pydantic or the models, for the
commands that only read the store. The loader is `monitord.config.load.load`: a name of the
package equal to its submodule's would be shadowed by that module once it is imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitord.config.load import ConfigError, ConfigIssue
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

_HOME = {
    "ConfigError": "load",
    "ConfigIssue": "load",
    "Config": "models",
    "Criticality": "models",
    "Device": "models",
    "DeviceKind": "models",
    "IcmpSettings": "models",
    "Site": "models",
    "Zone": "models",
    "SecretRef": "secrets",
    "SecretUnavailable": "secrets",
}

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
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value
