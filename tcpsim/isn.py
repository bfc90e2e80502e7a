"""Initial sequence numbers and timestamp offsets (RFC 9293 §3.4.1, RFC 6528, RFC 7323 §5.4).

Each strategy is one small function of the simulated time ``now`` and the connection's
4-tuple. ``secret`` is drawn from the scenario's seed, so runs are reproducible.
"""
from __future__ import annotations

import hashlib
import random

from .segment import SEQ_MASK


def _keyed_hash32(secret: bytes, *parts) -> int:
    """A keyed hash of the 4-tuple: linux uses siphash (net/core/secure_seq.c)."""
    h = hashlib.blake2b(repr(parts).encode(), key=secret, digest_size=4)
    return int.from_bytes(h.digest(), "big")


def isn_rfc6528(now, four_tuple, secret, clock_offset_ns):
    """RFC 6528 §3: ISN = M + F(4-tuple, secret), M a 64 ns timer as linux's secure_tcp_seq()."""
    ticks = (clock_offset_ns + int(now * 1e9)) >> 6
    return (_keyed_hash32(secret, "isn", *four_tuple) + ticks) & SEQ_MASK


def isn_clock(now, four_tuple, secret, clock_offset_ns):
    """RFC 9293 §3.4.1 (and RFC 793): a 32-bit clock whose low bit ticks every 4 µs."""
    return ((clock_offset_ns + int(now * 1e9)) // 4000) & SEQ_MASK


def isn_zero(now, four_tuple, secret, clock_offset_ns):
    """Teaching variant: every connection starts at 0 (what goes wrong: old duplicates)."""
    return 0


def isn_random(now, four_tuple, secret, clock_offset_ns):
    """Teaching variant: independent random numbers (no monotonic clock per 4-tuple)."""
    rng = random.Random(_keyed_hash32(secret, "random", now, *four_tuple))
    return rng.getrandbits(32)


STRATEGIES = {"rfc6528": isn_rfc6528, "clock": isn_clock, "zero": isn_zero, "random": isn_random}


def ts_offset(profile_name, four_tuple, secret):
    """Linux adds a keyed per-4-tuple offset to TSval (secure_tcp_ts_off, RFC 7323 §5.4)."""
    if profile_name != "linux":
        return 0
    return _keyed_hash32(secret, "ts", *four_tuple)
