"""A TCP segment as it crosses the simulated wire, and sequence-number arithmetic.

Sequence numbers are 32-bit and wrap (RFC 9293 §3.4): every comparison goes through
``seq_lt``/``seq_le``/``seq_diff`` so that a connection whose ISN is near 2**32 works.
"""
from __future__ import annotations

SEQ_MASK = 0xFFFFFFFF
HALF = 0x80000000

FLAG_ORDER = "FSRPAUEC"   # the trace contract's order: F S R P A U E C


def seq_add(a: int, n: int) -> int:
    return (a + n) & SEQ_MASK


def seq_diff(a: int, b: int) -> int:
    """a - b as a signed distance in sequence space."""
    d = (a - b) & SEQ_MASK
    return d - 0x100000000 if d >= HALF else d


def seq_lt(a: int, b: int) -> bool:
    return a != b and ((a - b) & SEQ_MASK) >= HALF


def seq_le(a: int, b: int) -> bool:
    return a == b or ((a - b) & SEQ_MASK) >= HALF


def canonical_flags(flags) -> str:
    """Any iterable of flag letters in the contract's order: {'A','S'} -> 'SA'."""
    return "".join(f for f in FLAG_ORDER if f in flags)


class Segment:
    """One segment. ``src``/``dst`` are host names; ``options`` is the contract's dict.

    ``conn`` is the incarnation of the connection that sent it; ``retransmission`` is true
    when it re-sends sequence space already sent. The link fills in nothing here: the
    trace records send time, fate and arrival.
    """
    __slots__ = ("src", "dst", "sport", "dport", "seq", "ack", "flags", "win", "data",
                 "options", "retransmission", "conn", "injected", "bases", "row")

    def __init__(self, src, dst, sport, dport, seq, ack, flags, win, data=b"", options=None,
                 retransmission=False, conn=None, injected=False):
        self.src = src
        self.dst = dst
        self.sport = sport
        self.dport = dport
        self.seq = seq
        self.ack = ack
        self.flags = flags
        self.win = win
        self.data = data
        self.options = options if options is not None else {}
        self.retransmission = retransmission
        self.conn = conn
        self.injected = injected
        self.bases = None        # (sender's ISS, sender's IRS) for relative numbers, if any
        self.row = None          # its row number in the trace, once sent

    @property
    def len(self) -> int:
        return len(self.data)

    @property
    def seg_len(self) -> int:
        """Sequence space the segment occupies: data plus one each for SYN and FIN."""
        return len(self.data) + ("S" in self.flags) + ("F" in self.flags)

    def __repr__(self):
        return (f"<{self.src}->{self.dst} {self.flags or '-'} seq={self.seq} ack={self.ack} "
                f"len={len(self.data)} win={self.win}>")
