"""monitord: watches security systems, confirms outages, keeps contracts' clocks."""

__version__ = "0.1.0"
