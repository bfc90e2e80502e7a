"""Scripted faults: drop, random loss, delay (reordering), duplicate, inject.

A fault's ``match`` narrows which segments it applies to; ``nth`` counts among the
segments that match every other field, 1-based. ``data_segment`` counts the payload
segments a host sends, first transmissions only. Random loss draws from its own
generator seeded by the scenario seed, so it does not disturb any other random choice.
"""
from __future__ import annotations

import random

NO_FAULT = (False, 0.0, ())   # the fate of every segment of a run without faults


class Faults:
    def __init__(self, faults, seed: int):
        self.faults = [f for f in faults if f.kind != "inject"]
        self.injections = [f for f in faults if f.kind == "inject"]
        self.counts = [0] * len(self.faults)
        self.data_segments_sent = {}
        self.seed = seed
        self._rng = None          # made at the first draw: seeding it costs 10 µs per run

    @property
    def rng(self):
        """The random-loss generator, seeded by the scenario seed alone."""
        if self._rng is None:
            self._rng = random.Random(f"loss:{self.seed}")
        return self._rng

    def _matches(self, match, seg, now, data_index):
        if match.from_host is not None and seg.src != match.from_host:
            return False
        if match.flags is not None and frozenset(seg.flags) != match.flags:
            return False
        if match.data_segment is not None and data_index != match.data_segment:
            return False
        return match.between is None or match.between[0] <= now <= match.between[1]

    def fate(self, seg, now):
        """(dropped, extra delay, [extra delay of each duplicate copy]) for one segment."""
        if not self.faults:
            return NO_FAULT
        data_index = None
        if seg.data and not seg.retransmission:
            data_index = self.data_segments_sent.get(seg.src, 0) + 1
            self.data_segments_sent[seg.src] = data_index
        dropped, extra, copies = False, 0.0, []
        for i, fault in enumerate(self.faults):
            match = fault.match
            if not self._matches(match, seg, now, data_index):
                continue
            if fault.kind == "loss":
                if (self._rng or self.rng).random() < fault.p:
                    dropped = True
                continue
            self.counts[i] += 1
            if match.nth is not None and self.counts[i] not in match.nth:
                continue
            if fault.kind == "drop":
                dropped = True
            elif fault.kind == "delay":
                extra += fault.extra
            elif fault.kind == "duplicate":
                copies.append(fault.extra)
        return dropped, extra, copies
