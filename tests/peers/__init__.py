"""Real peers the tests talk to: SNMP agents, RTSP, ONVIF, SMTP, HTTP, Prometheus, netns."""
