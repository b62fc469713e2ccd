"""The dashboards' answers, kept per replica and keyed on the read models' generation.

A national dashboard reads about one row per facility; desks re-ask the same one
far more often than visits arrive. `AnswerCache.get(session, key, compute)` reads
`read_models_generation` (one row, bumped in the transaction of every change to
the visits, their gaps or the org units: `checklist.read_models`) *before*
computing, and keys the answer on (that generation, the caller's scope, every
parameter): an answer stored under G holds at least every change of G, and the
first request after a visit commits sees a larger generation, so it computes
anew. Freshness comes from the key alone, never from a time limit; the bound
(`SIZE` entries, least recently used out) only caps memory. Errors are not kept.
"""
from __future__ import annotations

from collections import OrderedDict

from checklist import read_models

SIZE = 32


def scope_key(scope) -> tuple:
    """The caller's scope as part of a key (order does not matter)."""
    return tuple(sorted(scope or ()))


class AnswerCache:
    def __init__(self, size: int = SIZE):
        self.size = size
        self.entries: OrderedDict = OrderedDict()
        self.hits = self.misses = 0

    def get(self, session, key: tuple, compute):
        """`compute()`'s answer for `key` at the current generation."""
        generation = read_models.generation(session)
        if generation is None:  # its row is gone until the next change: keep nothing
            self.misses += 1
            return compute()
        full = (generation, *key)
        if full in self.entries:
            self.entries.move_to_end(full)
            self.hits += 1
            return self.entries[full]
        self.misses += 1
        answer = compute()
        self.entries[full] = answer
        self.entries.move_to_end(full)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return answer
