"""The uplink graph: a device is cut off only when *all* its parents are down."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class Topology:
    def __init__(self, parents: Mapping[str, Iterable[str]]) -> None:
        self.parents: dict[str, tuple[str, ...]] = {d: tuple(ps) for d, ps in parents.items()}
        self.children: dict[str, list[str]] = {d: [] for d in self.parents}
        for device, ps in self.parents.items():
            for parent in ps:
                self.children.setdefault(parent, []).append(device)

    def descendants(self, device: str) -> list[str]:
        """Every device below `device`, breadth first, each once."""
        seen: set[str] = {device}
        order: list[str] = []
        frontier = list(self.children.get(device, ()))
        while frontier:
            nxt: list[str] = []
            for child in frontier:
                if child not in seen:
                    seen.add(child)
                    order.append(child)
                    nxt.extend(self.children.get(child, ()))
            frontier = nxt
        return order
