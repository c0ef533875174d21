"""SNMP in the daemon: polling devices for findings, and hearing their traps."""

import sys


def _import_pysnmp_without_mib_compiler() -> None:
    """pysnmp imports pysmi's MIB compiler whenever pysmi is installed (with requests,
    urllib3 and jinja2: 0.35 s and ~12 MB a process). monitord names every OID by number and
    compiles no MIB, so pysmi is refused while pysnmp loads; anything may import it later."""
    if "pysmi" in sys.modules:
        return
    sys.modules["pysmi"] = None  # type: ignore[assignment]  # makes `import pysmi` fail
    try:
        import pysnmp.smi.compiler  # noqa: F401
    finally:
        del sys.modules["pysmi"]


_import_pysnmp_without_mib_compiler()
