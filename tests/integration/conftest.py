"""Fixtures shared by integration tests; each lives with its helpers in tests/support."""

from tests.support.apilab import api
from tests.support.consolelab import console
from tests.support.snmpwatch import env

__all__ = ["api", "console", "env"]
