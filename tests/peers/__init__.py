"""Real peers the tests talk to: SNMP agents, RTSP and ONVIF servers, SMTP, Prometheus, network namespaces."""
