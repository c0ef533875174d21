"""Secrets are referenced (environment variable or file), never written in the configuration."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ConfigDict, SecretStr, model_validator

from monitord.config.frozen import FrozenModel


class SecretUnavailable(Exception):
    """A referenced secret cannot be read; the message names the reference, never a value."""


class SecretRef(FrozenModel):
    """`{env: NAME}` or `{file: /path}`; the value is read only when needed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("a secret needs exactly one of 'env' or 'file'")
        return self

    def describe(self) -> str:
        return f"env:{self.env}" if self.env is not None else f"file:{self.file}"

    def resolve(self) -> SecretStr:
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise SecretUnavailable(f"secret {self.describe()}: variable is not set")
            return SecretStr(value)
        assert self.file is not None
        try:
            return SecretStr(self.file.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise SecretUnavailable(f"secret {self.describe()}: {exc.strerror}") from exc
