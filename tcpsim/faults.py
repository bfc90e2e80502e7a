"""Scripted faults: drop, random loss, delay (reordering), duplicate, inject, flood.

A fault's ``match`` narrows which segments it applies to; ``nth`` counts among the
segments that match every other field, 1-based. ``data_segment`` counts the payload
segments a host sends, first transmissions only. Random loss draws from its own
generator seeded by the scenario seed, so it does not disturb any other random choice.

A ``flood`` is a SYN flood (RFC 4987 §2): :func:`flood_syns` says when each spoofed SYN
leaves and from which (address, port), drawn from a generator of its own (seed and fault
index), every pair different; the simulator sends them. The spoofed addresses are no host
of the scenario, so nothing ever answers a SYN-ACK sent to them.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

NO_FAULT = (False, 0.0, ())   # the fate of every segment of a run without faults


class Faults:
    def __init__(self, faults, seed: int):
        self.faults = [f for f in faults if f.kind not in ("inject", "flood")]
        self.injections = [f for f in faults if f.kind == "inject"]
        self.floods = [f for f in faults if f.kind == "flood"]
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


@dataclass(frozen=True)
class SpoofedSyn:
    t: float        # send time, seconds
    addr: str       # spoofed source address
    port: int       # spoofed source port
    isn: int        # its sequence number


def flood_syns(flood, seed: int, index: int) -> list:
    """The SYNs of one ``Flood`` (scenario.py), in time order: the i-th of n leaves at
    ``t0 + i * (t1 - t0) / n`` (all at t0 if t1 == t0), each from its own (address, port)
    of ``from_addrs`` x ``from_ports``, with a random ISN."""
    rng = random.Random(f"flood:{seed}:{index}")
    first, n_addrs = flood.from_addrs
    lo, hi = flood.from_ports
    n_ports = hi - lo + 1
    t0, t1 = flood.between
    step = (t1 - t0) / flood.count
    syns = []
    for i, pair in enumerate(rng.sample(range(n_addrs * n_ports), flood.count)):
        a, port = divmod(pair, n_ports)
        addr = first + a
        text = ".".join(str((addr >> shift) & 0xFF) for shift in (24, 16, 8, 0))
        syns.append(SpoofedSyn(t0 + i * step, text, lo + port, rng.getrandbits(32)))
    return syns
