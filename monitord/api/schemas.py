"""Request bodies: pydantic models, so a bad body is a 422 that names the field."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitord.config.contracts import TicketClass

# The CLI's action names (monitord.present.actions.ACTIONS); a test keeps the two in step.
Action = Literal[
    "ack", "onsite", "diagnose", "plan", "stage", "resolve", "verify", "close", "reopen",
    "pause", "resume", "comment",
]  # fmt: skip
# Ids are 64-bit in the database: a larger one is a 422 here, not an OverflowError there.
MAX_ID = 2**63 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


Who = Annotated[str, Field(min_length=1, max_length=200, description="Who does this.")]
Text = Annotated[str, Field(max_length=100_000)]


def _unicode(value: object) -> bool:
    if isinstance(value, str):
        return not any("\ud800" <= c <= "\udfff" or c == "\x00" for c in value)
    if isinstance(value, list | tuple):
        return all(_unicode(v) for v in value)
    if isinstance(value, dict):
        return all(_unicode(k) and _unicode(v) for k, v in value.items())
    return True


class Body(BaseModel):
    """Every request body: unknown fields refused (a misspelt "txt" must not silently post
    an empty report), and no text that cannot be stored: a lone surrogate (an escaped
    U+D800 in JSON is no character, so no UTF-8) or a NUL (PostgreSQL refuses it in text)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _valid_unicode(cls, value: object) -> object:
        if not _unicode(value):
            raise ValueError("contains a NUL or a lone surrogate (not storable text)")
        return value


class EventIn(Body):
    kind: Action = Field(description="The action, as the CLI names it (ack, onsite, …).")
    by: Who
    text: Text = ""
    on_behalf_of: Who | None = Field(
        None,
        description="Managers only: the customer this is done for. A manager's `verify` "
        "needs it; it is recorded and shown beside the manager's token.",
    )


class HotlineIn(Body):
    site: Annotated[str, Field(min_length=1)]
    by: Who
    text: Annotated[str, Field(min_length=1, max_length=100_000)]
    device: str | None = None
    ticket_class: TicketClass | None = Field(default=None, alias="class")
