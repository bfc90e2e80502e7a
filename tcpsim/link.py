"""The link between the two hosts: a fixed one-way delay, an MTU, and the faults.

It never reorders on its own: a segment arrives ``delay_s`` after it was sent, unless
a fault drops, delays or duplicates it.
"""
from __future__ import annotations

IP_TCP_HEADERS = 40            # IPv4 (20) + TCP (20) without options: MSS = MTU - 40
IP_MAX_PACKET = 65535          # IPv4 total length is 16 bits: loopback's MTU 65536 gives MSS 65495


class Link:
    def __init__(self, delay_s: float, mtu: int, faults):
        self.delay_s = delay_s
        self.mtu = mtu
        self.mss = min(mtu, IP_MAX_PACKET) - IP_TCP_HEADERS
        self.faults = faults

    def transmit(self, seg, now):
        """Return the arrival times of ``seg``: [] if dropped, two if duplicated."""
        dropped, extra_s, copies_extra_s = self.faults.fate(seg, now)
        if dropped:
            return []
        arrival = now + self.delay_s + extra_s
        if not copies_extra_s:
            return [arrival]
        return [arrival] + [arrival + c for c in copies_extra_s]
