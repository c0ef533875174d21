"""RTSP client authentication: Basic (RFC 7617) and Digest (RFC 2617 / 7616) answers to a 401.

Digest supports MD5 and SHA-256 (and their -sess variants) with qop "auth" or no qop (RFC 2069
servers, common in older cameras). The strongest usable challenge wins.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN68: Final = re.compile(r"[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*(?=,|$)")
_HASHES: Final[dict[str, Callable[[bytes], str]]] = {
    "MD5": lambda b: hashlib.md5(b, usedforsecurity=False).hexdigest(),
    "SHA-256": lambda b: hashlib.sha256(b).hexdigest(),
}
_RANK: Final = {"SHA-256": 2, "MD5": 1}


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # lower case
    params: dict[str, str]  # lower-case names


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The quoted-string opening at text[start]; returns its value and the index after it."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif ch == '"':
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out), i


def parse_challenges(values: Iterable[str]) -> list[Challenge]:
    """Every challenge in WWW-Authenticate header values, several per value allowed."""
    found: list[Challenge] = []
    for text in values:
        i = 0
        while i < len(text):
            if text[i] in " \t,":
                i += 1
                continue
            token = _TOKEN.match(text, i)
            if token is None:
                i += 1
                continue
            i = token.end()
            j = i
            while j < len(text) and text[j] in " \t":
                j += 1
            is_param = j < len(text) and text[j] == "=" and found and text[j + 1 : j + 2] != "="
            if not is_param:
                found.append(Challenge(token[0].lower(), {}))
                token68 = _TOKEN68.match(text, i)
                if token68 is not None:
                    found[-1].params["token68"] = token68[1]
                    i = token68.end()
                continue
            j += 1
            while j < len(text) and text[j] in " \t":
                j += 1
            if j < len(text) and text[j] == '"':
                value, i = _quoted(text, j)
            else:
                end = _TOKEN.match(text, j)
                value, i = (end[0], end.end()) if end else ("", j)
            found[-1].params.setdefault(token[0].lower(), value)
    return found


def _algorithm(challenge: Challenge) -> str | None:
    name = challenge.params.get("algorithm", "MD5").upper()
    base = name.removesuffix("-SESS")
    return name if base in _HASHES else None


def _usable(challenge: Challenge) -> bool:
    if challenge.scheme == "basic":
        return True
    if challenge.scheme != "digest" or "nonce" not in challenge.params:
        return False
    qop = challenge.params.get("qop")
    return _algorithm(challenge) is not None and (
        qop is None or "auth" in (q.strip().lower() for q in qop.split(","))
    )


def _rank(challenge: Challenge) -> int:
    if challenge.scheme == "basic":
        return 0
    return _RANK[(_algorithm(challenge) or "MD5").removesuffix("-SESS")]


def digest_response(
    *,
    algorithm: str,
    username: str,
    password: str,
    realm: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None,
    nc: str,
    cnonce: str,
) -> str:
    hash_ = _HASHES[algorithm.upper().removesuffix("-SESS")]
    ha1 = hash_(f"{username}:{realm}:{password}".encode())
    if algorithm.upper().endswith("-SESS"):
        ha1 = hash_(f"{ha1}:{nonce}:{cnonce}".encode())
    ha2 = hash_(f"{method}:{uri}".encode())
    if qop is None:
        return hash_(f"{ha1}:{nonce}:{ha2}".encode())
    return hash_(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}".encode())


def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(slots=True)
class Authorizer:
    """Builds the Authorization header for each request once a challenge was answered."""

    challenge: Challenge
    username: str
    password: str
    count: int = 0
    cnonce: str = field(default_factory=lambda: secrets.token_hex(8))

    def header(self, method: str, uri: str) -> str:
        if self.challenge.scheme == "basic":
            raw = f"{self.username}:{self.password}".encode()
            return "Basic " + base64.b64encode(raw).decode("ascii")
        params = self.challenge.params
        algorithm = _algorithm(self.challenge) or "MD5"
        qop = "auth" if "qop" in params else None
        self.count += 1
        nc = f"{self.count:08x}"
        response = digest_response(
            algorithm=algorithm,
            username=self.username,
            password=self.password,
            realm=params.get("realm", ""),
            nonce=params["nonce"],
            method=method,
            uri=uri,
            qop=qop,
            nc=nc,
            cnonce=self.cnonce,
        )
        parts = [
            f"username={_q(self.username)}",
            f"realm={_q(params.get('realm', ''))}",
            f"nonce={_q(params['nonce'])}",
            f"uri={_q(uri)}",
            f"response={_q(response)}",
        ]
        if "algorithm" in params:
            parts.append(f"algorithm={algorithm}")
        if "opaque" in params:
            parts.append(f"opaque={_q(params['opaque'])}")
        if qop:
            parts += [f"qop={qop}", f"nc={nc}", f"cnonce={_q(self.cnonce)}"]
        return "Digest " + ", ".join(parts)


def choose(
    challenges: list[Challenge], username: str, password: str, allow_basic: bool = False
) -> Authorizer | None:
    """An authorizer for the strongest challenge we can answer, or None. Basic only with
    `allow_basic`: over plain RTSP it hands the password to anyone on the path."""
    usable = [c for c in challenges if _usable(c) and (allow_basic or c.scheme != "basic")]
    if not usable:
        return None
    return Authorizer(max(usable, key=_rank), username, password)


def describe_schemes(challenges: list[Challenge]) -> str:
    """The offered schemes for an error message, e.g. "Negotiate, Digest (SHA-512-256)"."""
    names = []
    for c in challenges:
        name = c.scheme.capitalize()
        if "algorithm" in c.params:
            name += f" ({c.params['algorithm'][:20]})"
        names.append(name)
    return ", ".join(names) or "none"
