"""Request bodies: pydantic models, so a bad body is a 422 that names the field."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from monitord.config.contracts import TicketClass

# The CLI's action names (monitord.present.actions.ACTIONS); a test keeps the two in step.
Action = Literal[
    "ack", "onsite", "diagnose", "plan", "stage", "resolve", "verify", "close", "reopen",
    "pause", "resume", "comment",
]  # fmt: skip
Who = Annotated[str, Field(min_length=1, max_length=200, description="Who does this.")]
Text = Annotated[str, Field(max_length=100_000)]


class _Body(BaseModel):
    # Unknown fields are refused: a misspelt "txt" must not silently post an empty report.
    model_config = ConfigDict(extra="forbid")


class EventIn(_Body):
    kind: Action = Field(description="The action, as the CLI names it (ack, onsite, …).")
    by: Who
    text: Text = ""


class HotlineIn(_Body):
    site: Annotated[str, Field(min_length=1)]
    by: Who
    text: Annotated[str, Field(min_length=1, max_length=100_000)]
    device: str | None = None
    ticket_class: TicketClass | None = Field(default=None, alias="class")
