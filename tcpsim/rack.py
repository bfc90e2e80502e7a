"""RACK loss detection (RFC 8985 §6.2), as far as the shipped captures need it.

RACK marks a segment lost when a segment sent *after* it has been delivered (cumulatively
ACKed or SACKed) and it was sent more than a reordering window earlier than that one:
``xmit_time + reo_wnd <= rack.xmit_time``, which is RFC 8985's ``now >= xmit_time +
rack.rtt + reo_wnd`` with ``rack.rtt = now - rack.xmit_time``. So one duplicate ACK
whose SACK block covers a later-sent segment is enough (``reorder``: the kernel
retransmitted after the first duplicate ACK), and a lost *retransmission* is found as soon
as something sent after it is SACKed, without waiting for the retransmission timer
(``loss-5pct``, ``loss-20pct``). linux: tcp_rack_detect_loss() in net/ipv4/tcp_recovery.c,
net.ipv4.tcp_recovery = 1.

Left out (see docs/fidelity.md, "Omitted"): the RACK reordering timer (§6.3: a segment not
yet old enough when the ACK came is not re-examined later, the retransmission timer
covers it), reo_wnd's growth after D-SACKs (§6.2 step 4, ``reo_wnd_steps``), and the
"sent in the same instant" tie-break by sequence number (segments sent at the same instant
are never marked by each other: the reordering window is at least one microsecond).

The endpoint owns one ``Rack`` per connection when its profile has ``rack``; it stays
sans-IO like the endpoint: times are passed in.
"""
from __future__ import annotations

from collections import deque

from .segment import seq_le, seq_lt

RACK_MIN_REO_WND_S = 1e-6     # segments sent in one instant are never "earlier" than each other
LOST = float("inf")           # the send time of a segment marked lost and not yet re-sent


class Rack:
    __slots__ = ("segments", "xmit_time", "min_rtt")

    def __init__(self):
        self.segments = deque()  # [start, end, xmit_time, delivered] of what is in flight, in order
        self.xmit_time = None # send time of the most recently sent segment that was delivered
        self.min_rtt = None   # smallest RTT RACK has seen (RFC 8985 §6.2 step 1)

    def sent(self, start, end, now, is_rtx):
        """A segment [start, end) went out at ``now`` (a retransmission re-times the segments
        it covers)."""
        if not is_rtx:
            self.segments.append([start, end, now, False])
            return
        for seg in self.segments:
            if seq_le(end, seg[0]):
                break
            if seq_lt(seg[0], end) and seq_lt(start, seg[1]):
                seg[2] = now

    def on_ack(self, snd_una, sacked_ranges, now):
        """An ACK arrived: note what it delivered (RFC 8985 §6.2 steps 1-2) and return the
        starts of the segments it shows lost (step 5), each once."""
        segments = self.segments
        newest = self.xmit_time
        while segments and seq_le(segments[0][1], snd_una):
            seg = segments.popleft()
            if not seg[3] and seg[2] != LOST and (newest is None or seg[2] > newest):
                newest = seg[2]
        if sacked_ranges:
            for seg in segments:
                if seg[3]:
                    continue
                for left, right in sacked_ranges:
                    if seq_le(left, seg[0]) and seq_le(seg[1], right):
                        seg[3] = True
                        if seg[2] != LOST and (newest is None or seg[2] > newest):
                            newest = seg[2]
                        break
        if newest is not None and newest != self.xmit_time:
            rtt = now - newest
            if self.min_rtt is None or rtt < self.min_rtt:
                self.min_rtt = rtt
            self.xmit_time = newest
        if not sacked_ranges or self.xmit_time is None:
            return []
        reo_wnd = max((self.min_rtt or 0.0) / 4, RACK_MIN_REO_WND_S)   # RFC 8985 §6.2 step 4
        lost = []
        for seg in segments:
            if not seg[3] and seg[2] + reo_wnd <= self.xmit_time:
                lost.append(seg[0])
                seg[2] = LOST                # marked: not again until it is re-sent
        return lost
