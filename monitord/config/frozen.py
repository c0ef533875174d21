"""The base of the configuration's frozen models: one shared set of "fields set" per shape.

pydantic keeps a fresh `__pydantic_fields_set__` per instance: at 10 000 devices that set
alone (728 B for a device's 7 keys, 216 B for its ONVIF settings and for its secret) held
~11 MB, more than the models' own dicts. The models are frozen, so nothing adds to the set
after validation (pydantic's own model_copy copies it before adding), and instances of the
same shape can share one.
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict, model_validator

_SHARED: dict[frozenset[str], set[str]] = {}
_MAX_SHAPES: Final = 4096  # distinct key sets are few; a bound keeps odd input from growing it


class FrozenModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="after")
    def _share_fields_set(self) -> FrozenModel:
        mine = self.__pydantic_fields_set__
        shared = _SHARED.get(key := frozenset(mine))
        if shared is None and len(_SHARED) < _MAX_SHAPES:
            shared = _SHARED[key] = mine
        if shared is not None and shared is not mine:
            object.__setattr__(self, "__pydantic_fields_set__", shared)
        return self
