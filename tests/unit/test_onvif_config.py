"""`onvif:` settings: defaults, and clear errors for inconsistent ones."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from monitord.config.onvif import OnvifSettings
from monitord.config.secrets import SecretRef


def test_defaults() -> None:
    s = OnvifSettings()
    assert (s.port, s.path, s.interval, s.check_stream, s.events) == (
        80, "/onvif/device_service", 300.0, True, True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "u"}, "both 'username' and 'password'"),
        ({"password": SecretRef(env="X")}, "both 'username' and 'password'"),
        ({"drift_warning_s": 60, "drift_critical_s": 30}, "drift_warning_s must be below"),
        ({"timeout": 10, "interval": 60}, "a check may last 80 s"),
        ({"auth_backoff": 7200, "auth_backoff_max": 3600}, "auth_backoff must not exceed"),
        ({"path": "onvif/device_service"}, "String should match pattern"),
        ({"password": "inline-secret", "username": "u"}, "SecretRef"),
    ],
)
def test_inconsistent_settings_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        OnvifSettings.model_validate(fields)
    assert message in str(caught.value)
    assert "inline-secret" not in str(caught.value) or message == "SecretRef"
