"""Site pollers: the centre's side of the poller link (enrolment, routes, applying journals,
silence) and the poller mode (its journal, its link to the centre, its daemon)."""
