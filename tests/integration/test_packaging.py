"""The wheel and the sdist build, install into fresh virtualenvs and run.

Slow (a build and two installs; pip's cache helps): `pytest -m "not slow"` leaves it out.
Dependencies are fetched once, within requirements.lock (as scripts/test installs them), and
both installs take them from there.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from monitord import __version__

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path = Path("/")) -> subprocess.CompletedProcess[str]:
    # Not from the checkout: `python -c` there would import its monitord, not the installed one.
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, check=False, cwd=cwd
    )
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, ROOT)
    return out


@pytest.fixture(scope="module")
def wheelhouse(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every dependency (and the build backend) fetched once for both installs."""
    out = tmp_path_factory.mktemp("wheelhouse")
    lock = ROOT / "requirements.lock"
    wheel = next(dist.glob("*.whl"))
    run(sys.executable, "-m", "pip", "download", "-q", "-d", out, "-c", lock, wheel)
    run(sys.executable, "-m", "pip", "download", "-q", "-d", out, "hatchling>=1.25,<2")
    return out


def fresh_install(venv: Path, artifact: Path, wheelhouse: Path) -> Path:
    run(sys.executable, "-m", "venv", venv)
    pip = venv / "bin" / "pip"
    run(pip, "install", "-q", "--no-index", "--find-links", wheelhouse, artifact, cwd=venv)
    return venv / "bin" / "monitord"


def test_build_makes_one_wheel_and_one_sdist(dist: Path) -> None:
    assert [p.name for p in dist.glob("*.whl")] == [f"monitord-{__version__}-py3-none-any.whl"]
    assert [p.name for p in dist.glob("*.tar.gz")] == [f"monitord-{__version__}.tar.gz"]


def test_wheel_installs_and_runs(dist: Path, wheelhouse: Path, tmp_path: Path) -> None:
    monitord = fresh_install(tmp_path / "venv", next(dist.glob("*.whl")), wheelhouse)
    assert run(monitord, "--version").stdout.strip() == f"monitord, version {__version__}"
    # Migrations and the seed contracts are package data: a database can be made from them.
    config = tmp_path / "monitord.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "state_dir": str(tmp_path / "state"),
                "sites": [{"id": "hq", "name": "HQ", "timezone": "Asia/Shanghai"}],
                "devices": [
                    {
                        "id": "sw",
                        "name": "sw",
                        "kind": "switch",
                        "address": "127.0.0.2",
                        "site": "hq",
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    assert run(monitord, "-c", config, "check").stdout.startswith(f"{config}: ")
    run(monitord, "-c", config, "db", "upgrade")
    assert (tmp_path / "state" / "monitord.db").stat().st_size > 0
    seeds = run(
        tmp_path / "venv" / "bin" / "python",
        "-c",
        "import importlib.resources as r; print(sorted(p.name for p in "
        "r.files('monitord').joinpath('seed_contracts').iterdir()))",
    )
    assert "seed-000.yaml" in seeds.stdout


def test_sdist_installs_and_runs(dist: Path, wheelhouse: Path, tmp_path: Path) -> None:
    monitord = fresh_install(tmp_path / "venv", next(dist.glob("*.tar.gz")), wheelhouse)
    assert run(monitord, "--version").stdout.strip() == f"monitord, version {__version__}"
