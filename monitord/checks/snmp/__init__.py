"""SNMP in the daemon: polling devices for findings, and hearing their traps."""
