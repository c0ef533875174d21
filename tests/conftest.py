"""Shared fixtures. Keep each concern's fixtures in its own module and import them here."""

# --- database fixtures (store): SQLite and PostgreSQL, see tests/support/db.py ---
from tests.support.db import database_url, pg_server, pg_url, store

__all__ = ["database_url", "pg_server", "pg_url", "store"]
# --- end of database fixtures ---

# --- SNMP peers (snmpd, snmpsim) on loopback, see tests/peers/snmp.py ---
from tests.peers.snmp import snmpd, snmpsim

__all__ += ["snmpd", "snmpsim"]
# --- end of SNMP peers ---
