"""Sets of sequence-number ranges, mod 2**32: the one place where ranges are merged and cut.

A ``RangeSet`` holds disjoint half-open ranges ``(start, end)`` of 32-bit sequence numbers
(RFC 9293 §3.4: they wrap). ``add`` merges a range in (touching ranges join), keeping the
ranges in order from a ``base`` (the sequence number the caller measures from, e.g.
SND.UNA or RCV.NXT); ``from_sorted`` and ``from_spans`` merge many at once; ``subtract``
cuts one out. The SACK scoreboard (``sack.py``), the
receiver's SACK blocks (``endpoint.py``) and the capture reader's holes (``pcap.py``) use
it. aioquic's ``rangeset.py`` is the model.
"""
from __future__ import annotations

from .segment import SEQ_MASK, seq_diff, seq_lt


class RangeSet:
    __slots__ = ("ranges",)

    def __init__(self, ranges=()):
        self.ranges = list(ranges)      # [(start, end)], disjoint

    def __bool__(self):
        return bool(self.ranges)

    def __len__(self):
        return len(self.ranges)

    def __iter__(self):
        return iter(self.ranges)

    def __repr__(self):
        return f"RangeSet({self.ranges!r})"

    @classmethod
    def from_sorted(cls, pairs):
        """The union of ranges already sorted by their start (from a common base), merged in
        one pass; touching ranges join."""
        ranges = []
        for start, end in pairs:
            if ranges and not seq_lt(ranges[-1][1], start):
                if seq_lt(ranges[-1][1], end):
                    ranges[-1] = (ranges[-1][0], end)
            else:
                ranges.append((start, end))
        return cls(ranges)

    @classmethod
    def from_spans(cls, base, spans):
        """The union of ranges given as ``(distance ahead of base, length)`` pairs, in any
        order, all within 2**31 of ``base``: sorted and merged as plain integers (no
        mod-2**32 comparison per pair), which is what from_sorted gives for the same ranges;
        touching ranges join."""
        merged = []
        for ahead, length in sorted(spans):
            if merged and merged[-1][1] >= ahead:
                merged[-1][1] = max(merged[-1][1], ahead + length)
            else:
                merged.append([ahead, ahead + length])
        return cls(((base + left) & SEQ_MASK, (base + right) & SEQ_MASK) for left, right in merged)

    def add(self, start, end, base):
        """Merge [start, end) in; the ranges stay sorted by their distance from ``base``."""
        merged = (start, end)
        keep = []
        for left, right in self.ranges:
            if seq_lt(right, merged[0]) or seq_lt(merged[1], left):
                keep.append((left, right))          # apart (touching ranges merge)
            else:
                merged = (left if seq_lt(left, merged[0]) else merged[0],
                          right if seq_lt(merged[1], right) else merged[1])
        keep.append(merged)
        keep.sort(key=lambda r: seq_diff(r[0], base))
        self.ranges[:] = keep           # in place: holders of .ranges keep seeing it

    def subtract(self, start, end):
        """Take [start, end) out; True if it lay entirely inside one range. Pieces left of a
        cut range go to the end of the list (the oldest ranges stay first)."""
        inside = False
        for rng in list(self.ranges):
            left, width = rng[0], seq_diff(rng[1], rng[0])
            a = seq_diff(start, left)
            b = a + seq_diff(end, start)
            if a >= width or b <= 0:
                continue                                    # no overlap
            inside = inside or (a >= 0 and b <= width)
            self.ranges.remove(rng)
            if a > 0:
                self.ranges.append((left, (left + a) & SEQ_MASK))
            if b < width:
                self.ranges.append(((left + b) & SEQ_MASK, rng[1]))
        return inside

    def drop_below(self, seq):
        """Forget the ranges that end at or before ``seq`` (acknowledged, say)."""
        self.ranges[:] = [(left, right) for left, right in self.ranges if seq_lt(seq, right)]

    def size(self):
        """Sequence numbers covered."""
        return sum(seq_diff(right, left) for left, right in self.ranges)

    def containing(self, seq):
        """The range that holds ``seq``, or None."""
        for left, right in self.ranges:
            if not seq_lt(seq, left) and seq_lt(seq, right):
                return (left, right)
        return None
