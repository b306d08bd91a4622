"""Named random substreams from one seed.

Every subsystem draws from its own stream, spawned from the scenario seed by a fixed
name, so an extra draw in one subsystem never shifts another and a run's numbers do not
depend on the order subsystems are built in.
"""

from __future__ import annotations

import zlib

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
