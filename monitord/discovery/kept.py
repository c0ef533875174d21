"""A run's change set kept in the store (store.discovery) until someone applies it, for the
console and `monitord discover` alike: what a person reviewed is what gets applied, after a
restart of the daemon or from another command, without probing the network again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from monitord.discovery.apply import Applied
from monitord.discovery.plan import ChangeSetError, Proposal
from monitord.discovery.propose import Item
from monitord.store.records import DiscoveryRun

if TYPE_CHECKING:
    from monitord.store import Store

DONE: Final = "done"  # a proposal to review
APPLIED: Final = "applied"


class NotReviewable(Exception):
    """A kept run that cannot be applied: `key` is the CLI catalogue's word for why."""

    def __init__(self, run_id: str, key: str) -> None:
        super().__init__(f"{run_id}: {key}")
        self.run_id, self.key = run_id, key


def new_id() -> str:
    return secrets.token_hex(8)


def keep_done(
    store: Store, site: str, by: str, started: dt.datetime, finished: dt.datetime,
    proposal: Proposal,
) -> str:  # fmt: skip
    """Keep a finished run's change set; its id, to apply it by."""
    run_id = new_id()
    store.discovery.save(DiscoveryRun(run_id, site, by, proposal.where, DONE, started, finished,
                                      proposal=proposal.data(site)))  # fmt: skip
    return run_id


def reviewed(store: Store, site: str, run_id: str) -> tuple[Item, ...]:
    """The change set of the site's kept run `run_id`, if it is still there to apply."""
    kept = store.discovery.get(run_id)
    if kept is None or kept.site != site:
        raise NotReviewable(run_id, "disc_run_unknown")
    if kept.state != DONE or kept.proposal is None:
        raise NotReviewable(run_id, "disc_run_applied" if kept.state == APPLIED else
                            "disc_run_not_done")  # fmt: skip
    try:
        return Proposal.of(kept.proposal, site, kept.where).items
    except ChangeSetError:
        raise NotReviewable(run_id, "disc_run_damaged") from None


def mark_applied(store: Store, run_id: str, done: Applied, reloaded: bool | None) -> None:
    kept = store.discovery.get(run_id)
    if kept is not None:
        store.discovery.save(
            dataclasses.replace(kept, state=APPLIED, applied=applied_data(done), reloaded=reloaded)
        )


def applied_data(done: Applied) -> dict[str, Any]:
    return {"path": str(done.path), "added": done.added, "updated": done.updated,
            "elsewhere": done.elsewhere}  # fmt: skip


def applied_of(data: object) -> Applied | None:
    if not isinstance(data, dict):
        return None
    return Applied(Path(str(data.get("path", ""))), _names(data.get("added")),
                   _names(data.get("updated")), _names(data.get("elsewhere")))  # fmt: skip


def _names(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []
