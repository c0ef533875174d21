"""The ticket actions both faces offer: `monitord ticket ACTION` and `POST /api/v1/tickets/ID/events`."""

from __future__ import annotations

from monitord.ticketing.lifecycle import EventKind

# command -> the event it appends (T5: the lifecycle of seed 000 2(2) and seed 004 3.1)
ACTIONS: dict[str, tuple[EventKind, str]] = {
    "ack": (EventKind.ACKNOWLEDGED, "Acknowledge: an engineer has taken the ticket."),
    "onsite": (EventKind.ON_SITE, "Record arrival on site."),
    "diagnose": (
        EventKind.DIAGNOSIS,
        "Fault diagnosis report (on-site record, class, emergency handling).",
    ),
    "plan": (EventKind.PLAN, "Maintenance and recovery plan."),
    "stage": (EventKind.STAGE, "A stage report of the repair."),
    "resolve": (EventKind.RESOLVED, "Maintenance work report: the repair is done."),
    "verify": (EventKind.VERIFIED, "The customer's sign-off (who, and what they accepted)."),
    "close": (EventKind.CLOSED, "Close a verified ticket."),
    "reopen": (EventKind.REOPENED, "Reopen a resolved, verified or closed ticket."),
    "pause": (EventKind.PAUSED, "Pause the clocks that may pause (waiting for customer/parts)."),
    "resume": (EventKind.RESUMED, "Resume paused clocks."),
    "comment": (EventKind.COMMENT, "Add a comment."),
}
