"""The daemon's SNMP code loads pysnmp without pysmi's MIB compiler (it compiles no MIB),
and leaves pysmi importable for whatever needs it afterwards (snmpsim in the tests)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest


@pytest.mark.skipif(importlib.util.find_spec("pysmi") is None, reason="pysmi not installed")
def test_snmp_polling_and_traps_load_no_mib_compiler() -> None:
    probe = (
        "import sys; import monitord.checks.snmp.client, monitord.checks.snmp.traps;"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'pysmi', 'requests', 'jinja2'});"
        "import pysmi.compiler; print(','.join(loaded))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
