"""The seed contracts (config/contracts) as files and as parsed models."""

from __future__ import annotations

from pathlib import Path

import yaml

from monitord.config.contracts import Contract

CONTRACTS = Path(__file__).resolve().parents[2] / "config" / "contracts"


def contract(name: str) -> Contract:
    data = yaml.safe_load((CONTRACTS / f"{name}.yaml").read_text(encoding="utf-8"))
    return Contract.model_validate(data["contracts"][0])


SEED_000, SEED_004 = contract("seed-000"), contract("seed-004")
