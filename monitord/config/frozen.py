"""The base of the configuration's frozen models: one shared set of "fields set" per shape,
and one shared instance per distinct value of a device's settings.

pydantic keeps a fresh `__pydantic_fields_set__` per instance: at 10 000 devices that set
alone (728 B for a device's 7 keys, 216 B for its ONVIF settings and for its secret) held
~11 MB, more than the models' own dicts. The models are frozen, so nothing adds to the set
after validation (pydantic's own model_copy copies it before adding), and instances of the
same shape can share one. For the same reason equal settings are one object: 9 920 cameras
with the same ONVIF login held 9 920 equal OnvifSettings and as many equal SecretRefs
(~5 MB at 10 000 devices).
"""

from __future__ import annotations

from collections.abc import Iterable
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


def share_equal(models: Iterable[BaseModel]) -> None:
    """Replace each model's frozen parts by one instance per distinct value (and shape)."""
    pool: dict[tuple[FrozenModel, frozenset[str]], FrozenModel] = {}
    for model in models:
        _share_parts(model, pool)


def _share_parts(
    model: BaseModel, pool: dict[tuple[FrozenModel, frozenset[str]], FrozenModel]
) -> None:
    # The parts are frozen: rebinding a field to an equal instance changes nothing a
    # reader can see (equality, dumps and fields set are the same).
    fields = model.__dict__
    for name, value in fields.items():
        if isinstance(value, FrozenModel):
            _share_parts(value, pool)
            try:
                fields[name] = pool.setdefault((value, frozenset(value.model_fields_set)), value)
            except TypeError:  # a part holding a list or dict cannot be a key: kept as is
                continue
