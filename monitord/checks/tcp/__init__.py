"""TCP port checks: connect to each watched port, confirm what is refused."""
