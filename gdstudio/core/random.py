"""Reproducible random numbers for many starts at once, without a generator per start.

A run with seed ``s`` gives start ``i`` the stream of seed ``s + i``, so start ``i`` of an ``N``-start run
draws exactly what a single run with seed ``s + i`` draws, whatever ``N`` is. Draw ``j`` of step ``k`` for
stream ``s`` is a pure function of ``(s, k, j)``: a counter-based generator (SplitMix64 finaliser applied to
a combination of the three), vectorised over starts with numpy's unsigned integers.
"""

from __future__ import annotations

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of uint64 that scrambles every bit."""
    z = z.copy()
    z ^= z >> np.uint64(30)
    z *= _M1
    z ^= z >> np.uint64(27)
    z *= _M2
    z ^= z >> np.uint64(31)
    return z


class Streams:
    """Random draws for the rows of one step.

    ``seeds`` holds one stream seed per row; ``step`` is the step index. Each call consumes fresh draws.
    """

    def __init__(self, seeds: np.ndarray, step: int):
        self.seeds = np.asarray(seeds, dtype=np.uint64)
        self.step = int(step)
        self._counter = 0

    def __len__(self) -> int:
        return len(self.seeds)

    def take(self, rows) -> "Streams":
        """The streams of some rows only, at the same position."""
        s = Streams(self.seeds[rows], self.step)
        s._counter = self._counter
        return s

    def _bits(self, tail: tuple[int, ...]) -> np.ndarray:
        n = int(np.prod(tail)) if tail else 1
        j = np.arange(self._counter, self._counter + n, dtype=np.uint64)
        self._counter += n
        with np.errstate(over="ignore"):
            key = _mix(self.seeds * _GOLDEN + np.uint64(self.step + 1))
            z = _mix(key[:, None] ^ _mix((j + np.uint64(1)) * _GOLDEN))
        return z.reshape((len(self.seeds),) + tail)

    def uniform(self, *tail: int) -> np.ndarray:
        """Uniform draws in [0, 1), shape ``(N, *tail)`` (53 random bits each)."""
        return (self._bits(tail) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))

    def normal(self, *tail: int) -> np.ndarray:
        """Standard normal draws, shape ``(N, *tail)`` (Box–Muller)."""
        u1 = 1.0 - self.uniform(*tail)  # in (0, 1]
        u2 = self.uniform(*tail)
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def stream_seeds(seed: int, n: int) -> np.ndarray:
    """Seeds of the ``n`` streams of a run with seed ``seed``: ``seed, seed + 1, ...`` (as uint64)."""
    return (np.arange(n, dtype=np.uint64) + np.uint64(seed % (1 << 64)))
