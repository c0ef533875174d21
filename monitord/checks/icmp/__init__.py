"""ICMP echo: the pinger, its packets and sockets, evaluation and the daemon's loop."""
