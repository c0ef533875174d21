"""The contracts' preventive terms: bad plans are refused with the reason, checklists replace."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from monitord.config import Config
from monitord.prevention.checklists import DEFAULTS, checklist
from tests.support.prevention import config_data


def _with_terms(terms: dict[str, Any]) -> dict[str, Any]:
    data = config_data()
    data["contracts"][1]["prevention"] = terms
    return data


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"inspections": [{"name": "m", "every": "month", "kinds": ["camera"]},
                          {"name": "q", "every": "quarter", "kinds": ["camera"], "sites": ["b"]}]},
         "two inspection plans cover kind 'camera' at a site"),
        ({"inspections": [{"name": "m", "every": "week", "kinds": ["nvr"]}]},
         "Input should be 'month' or 'quarter'"),
        ({"inspections": [{"name": "m", "every": "month", "kinds": ["fridge"]}]},
         "Input should be 'camera', 'nvr', 'access_controller', 'switch' or 'other'"),
        ({"checklists": {"nvr": [{"id": "a", "en": "A", "zh": "甲"},
                                 {"id": "a", "en": "B", "zh": "乙"}]}},
         "checklist 'nvr': needs items with unique ids"),
        ({"followups": {"first_year": 0}}, "greater than or equal to 1"),
    ],
)  # fmt: skip
def test_bad_terms_are_refused_with_the_reason(terms: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Config.model_validate(_with_terms(terms))


def test_a_contract_replaces_a_kinds_checklist_and_keeps_the_others() -> None:
    own = [{"id": "disk", "en": "Disks", "zh": "硬盘"}]
    config = Config.model_validate(_with_terms({"checklists": {"nvr": own}}))
    seed_004 = config.contracts[1]
    assert [i.id for i in checklist(seed_004, "nvr")] == ["disk"]
    assert checklist(seed_004, "camera") == DEFAULTS["camera"]
    assert all(i.zh and i.en for items in DEFAULTS.values() for i in items)
