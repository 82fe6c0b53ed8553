"""Random streams: one root seed, ``numpy.random.SeedSequence`` keyed by
(replication, random block, decision).

Defendants are numbered within a replication and cut into *random blocks* of
:data:`RANDOM_BLOCK_DEFENDANTS`; every random draw about defendant ``i`` comes from the stream of
(replication, ``i // RANDOM_BLOCK_DEFENDANTS``, decision). A processing block of any size, on any
worker, regenerates exactly those streams, so results do not depend on block size or worker count.
Every decision has its own stream and every district reads the same stream for the same decision:
common random numbers, so that only policy differs between districts.

Decision codes are part of the results' identity: append new decisions, never renumber.
The offer decisions have one stream per offer position ``k`` (spawn key (replication, random
block, decision, k)), drawn only for the positions some district uses: adding an offer anywhere
changes no other draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DECISIONS", "RANDOM_BLOCK_DEFENDANTS", "SEED_SCHEME", "RandomBlock"]

#: Defendants per random block (the unit of stream keying, not of processing).
RANDOM_BLOCK_DEFENDANTS = 50_000

#: Stable decision codes. Population decisions draw per defendant or per prior; policy and judge
#: decisions draw one uniform per defendant (per offer for offers), shared by every district.
DECISIONS: dict[str, int] = {
    "population.record": 0,
    "population.prior_count": 1,
    "population.prior_kind": 2,
    "population.prior_sentence": 3,
    "population.prior_timing": 4,
    "population.prior_flags": 5,
    "population.removals": 6,
    "population.status": 7,
    "policy.prosecute": 100,
    "policy.offer_extended": 101,
    "policy.offer_accepted": 102,
    "policy.plea": 103,
    "policy.declined": 104,  # what becomes of a declined defendant (issue 12)
    "judge.position": 200,
    "judge.departure": 201,
    "judge.departure_size": 202,
    "arrest.district": 300,
    "profile.policy": 400,
}

#: Human-readable statement of the scheme, for manifests and reports.
SEED_SCHEME = (
    "numpy.random.SeedSequence(entropy=seed, spawn_key=(replication, random_block, decision)) "
    "-> PCG64, with the offer position k appended to the spawn key of offer decisions; random "
    f"blocks of {RANDOM_BLOCK_DEFENDANTS} defendants; decision codes in sim/streams.py"
)


@dataclass(frozen=True)
class RandomBlock:
    """The streams of one random block of one replication."""

    seed: int
    replication: int
    block: int

    @property
    def defendants(self) -> int:
        """Defendants whose draws the block's streams key."""
        return RANDOM_BLOCK_DEFENDANTS

    def generator(self, decision: str, position: int | None = None) -> np.random.Generator:
        """A fresh generator for ``decision`` (always the same for the same key); ``position``
        selects an offer decision's stream for offer ``position``."""
        key = (self.replication, self.block, DECISIONS[decision])
        if position is not None:
            key += (position,)
        sequence = np.random.SeedSequence(entropy=self.seed, spawn_key=key)
        return np.random.Generator(np.random.PCG64(sequence))

    def uniforms(self, decision: str, n: int, offers: int | None = None) -> np.ndarray:
        """``n`` uniforms on [0, 1) from ``decision``'s stream; with ``offers``, shape
        (n, offers), column ``k`` from offer ``k``'s own stream."""
        if offers is None:
            return self.generator(decision).random(n)
        columns = [self.generator(decision, k).random(n) for k in range(offers)]
        return np.stack(columns, axis=1) if columns else np.empty((n, 0))
