"""The sender's SACK scoreboard (RFC 2018, RFC 6675 §3): what the peer holds above SND.UNA.

``Scoreboard`` keeps the SACKed ranges in a ``RangeSet`` ordered from SND.UNA. The endpoint
feeds it the SACK blocks of each ACK (``update``), trims it when SND.UNA moves (``ack``),
and asks it what not to send again: ``skip`` (the first sequence number at or after a
given one that the peer does not hold), ``bytes_below`` (SACKed bytes that are no longer in
flight) and ``highest`` (RFC 6675's HighACK-side bound for holes). aioquic's ``recovery.py``
and smoltcp's scoreboard are the models; loss recovery itself stays in the endpoint.
"""
from __future__ import annotations

from .rangeset import RangeSet
from .segment import seq_diff, seq_le, seq_lt


class Scoreboard:
    __slots__ = ("sacked", "ranges")

    def __init__(self):
        self.sacked = RangeSet()
        self.ranges = self.sacked.ranges     # [(left, right)] in order from SND.UNA

    def __bool__(self):
        return bool(self.sacked.ranges)

    def __iter__(self):
        return iter(self.sacked.ranges)

    def update(self, blocks, snd_una, snd_max):
        """Merge an ACK's SACK blocks in. A block at or below SND.UNA (a D-SACK, RFC 2883) or
        beyond SND.MAX (bogus) is not kept."""
        for left, right in blocks:
            if seq_le(right, snd_una) or seq_lt(snd_max, right):
                continue
            self.sacked.add(left, right, snd_una)

    def ack(self, snd_una):
        """SND.UNA moved: forget what it covers."""
        if self.sacked.ranges:
            self.sacked.drop_below(snd_una)

    def total(self):
        """SACKed bytes (RFC 6675's test for loss: more than 2·MSS)."""
        return self.sacked.size()

    def bytes_below(self, seq):
        """SACKed bytes of ranges starting below ``seq``: sent, held, no longer in flight."""
        return sum(seq_diff(r, left) for left, r in self.sacked.ranges if seq_lt(left, seq))

    def skip(self, seq):
        """``seq``, or the end of the SACKed range it lies in (in order, so chained)."""
        for left, right in self.sacked.ranges:
            if seq_le(left, seq) and seq_lt(seq, right):
                seq = right
        return seq

    def highest(self):
        """The end of the highest SACKed range, or None."""
        return self.sacked.ranges[-1][1] if self.sacked.ranges else None
