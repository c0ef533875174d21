"""requirements.lock agrees with pyproject.toml: every dependency is pinned, within its range.

A failure here means a dependency changed without `bash scripts/lock`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def locked() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not NAME==VERSION"
            key = canonicalize_name(name)
            assert key not in pins, f"requirements.lock: {name} twice"
            pins[key] = Version(version)
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [
        Requirement(r)
        for r in [*project["dependencies"], *project["optional-dependencies"]["test"]]
    ]


def test_every_dependency_is_locked_within_its_range() -> None:
    pins, requirements = locked(), declared()
    assert pins and requirements
    for requirement in requirements:
        version = pins.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in requirements.lock"
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock has {requirement.name}=={version}, outside {requirement}"
        )


def test_every_dependency_has_a_compatible_range() -> None:
    requirements = declared()
    assert requirements
    for requirement in requirements:
        bounds = {spec.operator for spec in requirement.specifier}
        if requirement.name == "tzdata":  # a data snapshot: newer is always better
            assert bounds == {">="}
            continue
        assert ">=" in bounds and "<" in bounds, f"{requirement} needs a lower and an upper bound"


def test_monitord_itself_is_not_locked() -> None:
    assert "monitord" not in locked()
