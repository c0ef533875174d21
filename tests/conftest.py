"""Shared fixtures. Keep each concern's fixtures in its own module and import them here."""

# --- database fixtures (store): SQLite and PostgreSQL, see tests/dbfixtures.py ---
from tests.dbfixtures import database_url, pg_server, pg_url, store

__all__ = ["database_url", "pg_server", "pg_url", "store"]
# --- end of database fixtures ---

# --- SNMP peers (snmpd, snmpsim) on loopback, see tests/snmplab.py ---
from tests.snmplab import snmpd, snmpsim

__all__ += ["snmpd", "snmpsim"]
# --- end of SNMP peers ---
