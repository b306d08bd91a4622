"""Named random substreams from one seed.

Every subsystem draws from its own stream, spawned from the scenario seed by a fixed
name, so an extra draw in one subsystem never shifts another and a run's numbers do not
depend on the order subsystems are built in.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

STREAMS = ("demand", "fleet", "dispatch", "payment", "policy", "lottery", "adoption", "social")


def stream(seed: int, name: str) -> np.random.Generator:
    """Return the generator for subsystem ``name`` under ``seed``.

    The name is hashed with CRC32 (stable across processes, unlike ``hash``) into the
    SeedSequence's spawn key, so streams are independent and addressable by name.
    """
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key,))))


class Streams:
    """Lazily created substreams of one seed, one per subsystem name."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._cache: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._cache.get(name)
        if gen is None:
            gen = self._cache[name] = stream(self.seed, name)
        return gen


class Pool:
    """Draws of one kind from one generator, made a block at a time and served one by one
    (a scalar draw through numpy costs more than the draw itself). ``draw(n)`` makes n;
    the values come in the order single draws would have given them."""

    def __init__(self, draw: Callable[[int], np.ndarray], block: int = 8192) -> None:
        self.draw = draw
        self.block = block
        self.buf: list[float] = []

    def __call__(self) -> float:
        buf = self.buf
        if not buf:
            buf.extend(self.draw(self.block)[::-1].tolist())
        return buf.pop()
