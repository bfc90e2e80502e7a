"""Linux SYN cookies (net/ipv4/syncookies.c): the listener keeps no state until the final ACK.

What this is
------------
Pure functions that build and check a SYN cookie the way Linux does, with a keyed hash
(:mod:`tcpsim.keyedhash`, from the scenario's seed) in place of the kernel's siphash
secrets ``syncookie_secret[2]``.

The cookie is the SYN-ACK's ISN (``secure_tcp_syn_cookie()``)::

    ISN = H0(4-tuple) + client_isn + (count << 24) + ((H1(4-tuple, count) + mss_index) mod 2**24)

* ``count``: a time counter, ``jiffies / (60 * HZ)``: it advances once a minute
  (``tcp_cookie_time()``, include/net/tcp.h). Its low 8 bits sit in the top byte.
* ``mss_index``: the client's MSS rounded *down* to the kernel's four-entry table
  ``msstab = {536, 1300, 1440, 1460}`` (an index 0..3 in the low 24 bits). The connection
  that the cookie rebuilds uses that table value as its MSS, not the client's.
* ``H0``, ``H1``: keyed hashes of (saddr, daddr, sport, dport) (H1 also of ``count``).

The final ACK carries ``ack = ISN + 1`` and ``seq = client_isn + 1``, so the listener can
strip ``H0 + client_isn``, read ``count`` from the top byte, refuse a cookie whose count is
``MAX_SYNCOOKIE_AGE`` (2) or more minutes old (``check_tcp_syn_cookie()``: a cookie is
valid for 60 to 120 s), then strip ``H1`` and read ``mss_index``; an index above 3 means a
forged or mistyped ACK (``__cookie_v4_check()`` returns 0 and the ACK is answered with a
RST, as any ACK to a listener).

With timestamps the SYN-ACK's TSval carries what else the SYN said
(``cookie_init_timestamp()``): its low 6 bits are ``wscale`` (bits 0-3, ``0xf`` = the SYN
had no window-scale option), SACK-permitted (bit 4) and ECN (bit 5); the upper bits are the
millisecond clock with those 6 bits cleared (minus 64 if that would be in the future). The
ACK echoes it in TSecr and ``cookie_timestamp_decode()`` reads the options back.

**Without timestamps nothing but the MSS survives** (``tcp_conn_request()``: ``if
(want_cookie && !tmp_opt.saw_tstamp) tcp_clear_options()``): the cookie SYN-ACK carries only
the MSS option, so the connection has no window scaling (windows at most 65535 bytes), no
SACK and no ECN, and its MSS is rounded down to 536/1300/1440/1460.

Linux accepts a cookie ACK only if the listener sent a cookie in the last
``TCP_SYNCOOKIE_VALID`` = 2 minutes (``tcp_synq_no_recent_overflow()``).
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ScenarioError
from .keyedhash import keyed_hash

MSSTAB = (536, 1300, 1440, 1460)   # msstab[] in net/ipv4/syncookies.c
COOKIEBITS = 24                    # syncookies.c: the upper 8 bits store the count
COOKIEMASK = (1 << COOKIEBITS) - 1
SYNCOOKIE_PERIOD_S = 60            # TCP_SYNCOOKIE_PERIOD = 60 * HZ (include/net/tcp.h)
MAX_SYNCOOKIE_AGE = 2              # include/net/tcp.h: counts, i.e. minutes
SYNCOOKIE_VALID_S = MAX_SYNCOOKIE_AGE * SYNCOOKIE_PERIOD_S   # TCP_SYNCOOKIE_VALID
TSBITS = 6                         # syncookies.c: option bits in the low end of TSval
TS_OPT_WSCALE_MASK = 0xF           # 0xf: the SYN had no window-scale option
TS_OPT_SACK = 1 << 4
TS_OPT_ECN = 1 << 5
U32 = 0xFFFFFFFF


def validate_syn_cookies(value, field: str) -> int:
    """``options.syn_cookies``: 0, 1 or 2 as net.ipv4.tcp_syncookies."""
    if isinstance(value, bool) or value not in (0, 1, 2):
        raise ScenarioError(f"{field}: must be 0 (never), 1 (when the SYN queue is full) "
                            f"or 2 (always), not {value!r}")
    return value


def mss_index(mss: int) -> int:
    """The msstab index a client MSS is rounded down to (``__cookie_v4_init_sequence()``)."""
    if isinstance(mss, bool) or not isinstance(mss, int) or mss < 1:
        raise ValueError(f"mss: must be a positive integer, not {mss!r}")
    for index in range(len(MSSTAB) - 1, 0, -1):
        if mss >= MSSTAB[index]:
            return index
    return 0                           # below 1300 (even below 536): index 0, MSS 536


def cookie_count(now_s: float) -> int:
    """``tcp_cookie_time()``: minutes on the host's clock."""
    return int(now_s // SYNCOOKIE_PERIOD_S)


def _cookie_hash(secret: bytes, four_tuple, count: int, which: int) -> int:
    # cookie_hash(saddr, daddr, sport, dport, count, c): siphash with syncookie_secret[c]
    return keyed_hash(secret, "syncookie", which, *four_tuple, count)


def make_cookie(secret: bytes, four_tuple, client_isn: int, mss: int, now_s: float):
    """The SYN-ACK's ISN and the MSS the rebuilt connection will use.

    ``four_tuple`` is (client addr, server addr, client port, server port) as in the SYN
    (``iph->saddr, iph->daddr, th->source, th->dest``).
    """
    index = mss_index(mss)
    count = cookie_count(now_s)
    isn = (_cookie_hash(secret, four_tuple, 0, 0) + client_isn + (count << COOKIEBITS)
           + ((_cookie_hash(secret, four_tuple, count, 1) + index) & COOKIEMASK)) & U32
    return isn, MSSTAB[index]


@dataclass(frozen=True)
class CookieCheck:
    """What the listener makes of an ACK that matches no connection."""
    valid: bool
    mss: int | None = None            # msstab value for the rebuilt connection
    mss_index: int | None = None
    age_counts: int | None = None     # how many minutes old the cookie's count is
    reason: str = ""


def cookie_mss_index(secret: bytes, four_tuple, client_isn: int, cookie: int, now_s: float):
    """Read (mss_index, age in counts) out of a cookie ISN (``check_tcp_syn_cookie()``).

    Returns ``(None, age)`` when the count is too old; an index above 3 means the cookie is
    not one of ours.
    """
    count = cookie_count(now_s)
    rest = (cookie - _cookie_hash(secret, four_tuple, 0, 0) - client_isn) & U32
    age = (count - (rest >> COOKIEBITS)) & (U32 >> COOKIEBITS)
    if age >= MAX_SYNCOOKIE_AGE:
        return None, age
    index = (rest - _cookie_hash(secret, four_tuple, count - age, 1)) & COOKIEMASK
    return index, age


def check_cookie(secret: bytes, four_tuple, ack_seq: int, ack_ack: int, now_s: float) -> CookieCheck:
    """``__cookie_v4_check()`` on the final ACK: its seq is client_isn+1, its ack cookie+1."""
    client_isn = (ack_seq - 1) & U32
    cookie = (ack_ack - 1) & U32
    index, age = cookie_mss_index(secret, four_tuple, client_isn, cookie, now_s)
    if index is None:
        return CookieCheck(False, age_counts=age,
                           reason=f"cookie too old ({age} counts of {SYNCOOKIE_PERIOD_S} s; "
                                  f"valid below {MAX_SYNCOOKIE_AGE})")
    if index >= len(MSSTAB):
        return CookieCheck(False, age_counts=age, reason="not a cookie of this listener")
    return CookieCheck(True, MSSTAB[index], index, age)


# ---------------------------------------------------------------------- timestamps
def cookie_tsval(ts_now_ms: int, wscale: int | None, sack: bool, ecn: bool) -> int:
    """``cookie_init_timestamp()``: the cookie SYN-ACK's TSval before the per-host offset.

    ``ts_now_ms`` is the listener's millisecond timestamp clock; ``wscale`` the shift the
    *client's* SYN announced (None: no window-scale option).
    """
    if wscale is not None and not 0 <= wscale <= 14:
        raise ValueError(f"wscale: must be 0..14 or None, not {wscale!r}")
    options = TS_OPT_WSCALE_MASK if wscale is None else wscale
    if sack:
        options |= TS_OPT_SACK
    if ecn:
        options |= TS_OPT_ECN
    ts = ((ts_now_ms >> TSBITS) << TSBITS) | options
    if ts > ts_now_ms:
        ts -= 1 << TSBITS
    return ts & U32


@dataclass(frozen=True)
class CookieOptions:
    """The options a cookie connection is rebuilt with (``cookie_timestamp_decode()``)."""
    ok: bool                  # False: the ACK names an option this host has turned off
    timestamps: bool
    wscale: int | None        # the client's shift, None = no window scaling
    sack: bool
    ecn: bool


def decode_cookie_tsecr(tsecr: int | None, *, timestamps: bool = True, sack: bool = True,
                        window_scaling: bool = True, ecn: bool = True) -> CookieOptions:
    """Read the options back out of the final ACK's TSecr (after removing the TS offset).

    ``tsecr`` None: the ACK had no timestamp option, so none of the options survive. The
    keyword flags are the listener's sysctls (tcp_timestamps, tcp_sack, tcp_window_scaling,
    and tcp_ecn for ``cookie_ecn_ok()``).
    """
    if tsecr is None:
        return CookieOptions(True, False, None, False, False)
    if not timestamps:
        return CookieOptions(False, True, None, False, False)
    got_sack = bool(tsecr & TS_OPT_SACK)
    got_ecn = bool(tsecr & TS_OPT_ECN) and ecn
    if got_sack and not sack:
        return CookieOptions(False, True, None, True, got_ecn)
    shift = tsecr & TS_OPT_WSCALE_MASK
    if shift == TS_OPT_WSCALE_MASK:
        return CookieOptions(True, True, None, got_sack, got_ecn)
    return CookieOptions(window_scaling, True, shift, got_sack, got_ecn)


def cookie_synack_options(syn_timestamps: bool, syn_wscale: int | None, syn_sack: bool,
                          syn_ecn: bool):
    """Which of the SYN's options a *cookie* SYN-ACK answers (``tcp_conn_request()``).

    Returns a dict ``timestamps``, ``wscale`` (the client's shift or None), ``sack``,
    ``ecn``; without a timestamp in the SYN everything but the MSS is dropped.
    """
    if not syn_timestamps:
        return {"timestamps": False, "wscale": None, "sack": False, "ecn": False}
    return {"timestamps": True, "wscale": syn_wscale, "sack": syn_sack, "ecn": syn_ecn}
