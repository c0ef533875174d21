"""Who signed a ticket event: the free-text name beside the authenticated principal.

`by` is what the client typed ("Customer Zhao"); it proves nothing. The principal is who
monitord authenticated: `api:<token name>/<role>` for the API, `cli:<user>` for the command
line (recorded by the faces in the event's data, never by the client). Every face shows the
two together, so a borrowed name can be told from a signature.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from typing import Any

PRINCIPAL, ON_BEHALF_OF = "principal", "on_behalf_of"


def api_principal(name: str, role: str) -> str:
    return f"api:{name}/{role}"


def cli_principal() -> str:
    """The operating-system user running the command line (who could open the database)."""
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:  # no name for this uid (a container): the number is still true
        return f"cli:uid {os.getuid()}"


def signed(by: str, data: Mapping[str, Any]) -> str:
    """'Zhao [api:cust/customer]', 'Li [api:mgr/manager, on behalf of Zhao]', or `by`
    alone for events monitord wrote itself (and events from before principals)."""
    principal = data.get(PRINCIPAL)
    if not principal:
        return by
    behalf = data.get(ON_BEHALF_OF)
    return f"{by} [{principal}, on behalf of {behalf}]" if behalf else f"{by} [{principal}]"
