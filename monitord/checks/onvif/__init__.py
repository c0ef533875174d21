"""ONVIF in the daemon: the client and its SOAP wire, evaluation, watch, events."""
