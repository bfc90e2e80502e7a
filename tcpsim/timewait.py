"""TIME-WAIT policies of Linux: who may take over a TIME-WAIT 4-tuple, and how.

What this is
------------
Pure decision functions, one per kernel function, for the simulator's endpoint and host to
call. Each takes the TIME-WAIT connection's remembered state (:class:`TimeWait`) and
returns a verdict; none has a clock or sends anything.

* :func:`connect_may_take_over` is ``tcp_twsk_unique()`` (net/ipv4/tcp_ipv4.c): may a new
  ``connect()`` reuse a 4-tuple that a TIME-WAIT connection of this host still holds?
  (``net.ipv4.tcp_tw_reuse``, ``tcp_tw_reuse_delay``; RFC 7323 §5 and appendix B: PAWS
  makes it safe.) :func:`takeover_start` is what the new connection then starts from.
* :func:`segment_in_time_wait` is ``tcp_timewait_state_process()`` (net/ipv4/
  tcp_minisocks.c) for the TIME-WAIT substate: a bare ACK or RST in window, a new SYN
  (RFC 9293 §3.6.1 and RFC 1122 4.2.2.13: a SYN may reopen the connection if its sequence
  number is beyond the old one; RFC 6191: or its timestamp is newer), or anything else.
  ``rfc1337`` (``net.ipv4.tcp_rfc1337``, RFC 1337 "TIME-WAIT assassination") decides whether
  an in-window RST ends TIME-WAIT.
* :func:`bind_conflict` is the part of ``inet_csk_bind_conflict()`` (net/ipv4/
  inet_connection_sock.c) that a server restarting on its port meets: ``bind()`` fails with
  ``EADDRINUSE`` while TIME-WAIT connections hold the port, unless **both** the new socket
  and the socket that left them behind set SO_REUSEADDR (a TIME-WAIT socket keeps its
  socket's ``sk_reuse``; accepted connections inherit the listener's).

Measured on this machine's kernel: tests/test_kernel_connections.py; docs/linux-connections.md.
Not modelled: the orphaned FIN-WAIT-2 substate (Linux keeps it as a TIME-WAIT socket too;
``tcp_twsk_unique()`` refuses to reuse it), SO_REUSEPORT, IPv6 loopback forms.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .errors import ScenarioError

TCP_TIMEWAIT_LEN_S = 60.0          # include/net/tcp.h
TW_REUSE_DEFAULT = 2               # tcp_sk_init(): net.ipv4.tcp_tw_reuse = 2
TW_REUSE_DELAY_MS_DEFAULT = 1000   # tcp_sk_init(): net.ipv4.tcp_tw_reuse_delay (linux 6.14+)
TW_REUSE_DELAY_MS_MAX = 600_000    # sysctl_net_ipv4.c: TCP_PAWS_MSL * MSEC_PER_SEC
TW_ISN_GAP = 65535 + 2             # tcp_twsk_unique(), tcp_timewait_state_process()
TCP_PAWS_MSL_S = 60                # include/net/tcp.h: a ts_recent older than this is stale
U32 = 0xFFFFFFFF


def validate_tw_reuse(value, field: str) -> int:
    """``options.tw_reuse``: 0, 1 or 2 as net.ipv4.tcp_tw_reuse."""
    if isinstance(value, bool) or value not in (0, 1, 2):
        raise ScenarioError(f"{field}: must be 0 (never), 1 (always) or 2 (loopback only), "
                            f"not {value!r}")
    return value


def validate_rfc1337(value, field: str) -> bool:
    """``options.rfc1337``: true or false as net.ipv4.tcp_rfc1337."""
    if not isinstance(value, bool):
        raise ScenarioError(f"{field}: must be true or false, not {value!r}")
    return value


def validate_tw_reuse_delay_ms(value, field: str) -> int:
    """net.ipv4.tcp_tw_reuse_delay: 1 .. 600000 ms (proc_douintvec_minmax bounds)."""
    if isinstance(value, bool) or not isinstance(value, int) \
            or not 1 <= value <= TW_REUSE_DELAY_MS_MAX:
        raise ScenarioError(f"{field}: must be an integer from 1 to {TW_REUSE_DELAY_MS_MAX} "
                            f"(milliseconds), not {value!r}")
    return value


def is_loopback(addr: str) -> bool:
    """127.0.0.0/8 (``ipv4_is_loopback()``). A dotted IPv4 string is read by its first
    byte (``ipaddress`` costs 20 us a call, and this runs for every TIME-WAIT)."""
    first, dot, _ = addr.partition(".")
    if dot and first.isdigit():
        return first == "127"
    return ipaddress.ip_address(addr).is_loopback


@dataclass(frozen=True)
class TimeWait:
    """What a TIME-WAIT connection remembers (``tcp_time_wait()``, struct tcp_timewait_sock)."""
    local_addr: str
    remote_addr: str
    snd_nxt: int                         # tw_snd_nxt: our next sequence number (after our FIN)
    rcv_nxt: int                         # tw_rcv_nxt: the peer's (after its FIN)
    ts_recent: int | None = None         # the peer's last TSval; None: no timestamps
    ts_recent_stamp_ms: int | None = None   # when it arrived (ms); None: no timestamps
    reuseaddr: bool = False              # SO_REUSEADDR of the socket that left it (tw_reuse)


# ---------------------------------------------------------------- connect() over TIME-WAIT
def connect_may_take_over(tw: TimeWait, *, tw_reuse: int, now_ms: int,
                          reuse_delay_ms: int = TW_REUSE_DELAY_MS_DEFAULT,
                          port_was_bound: bool = False) -> bool:
    """``tcp_twsk_unique()``: may a new ``connect()`` take over this TIME-WAIT 4-tuple?

    * Never without timestamps (``tw_ts_recent_stamp == 0``): PAWS is what protects the new
      incarnation from the old one's duplicates (RFC 7323 §5, appendix B).
    * A socket that ``bind()``-ed its port explicitly (``port_was_bound``: the kernel calls
      it with ``twp == NULL``) takes it over at once, whatever ``tcp_tw_reuse`` says.
    * An ephemeral port: only with ``tw_reuse`` 1, or 2 when either address is loopback
      (``tw_bound_dev_if`` lo is not modelled), and only once ``reuse_delay_ms`` (default
      1000) has passed since the peer's last timestamp arrived (``time_after32(
      tcp_clock_ms(), ts_recent_stamp + reuse_delay)``: strictly after).
    """
    if tw.ts_recent_stamp_ms is None:
        return False
    if port_was_bound:
        return True
    if tw_reuse == 2 and not (is_loopback(tw.local_addr) or is_loopback(tw.remote_addr)):
        tw_reuse = 0
    if not tw_reuse:
        return False
    return now_ms > tw.ts_recent_stamp_ms + reuse_delay_ms


def takeover_start(tw: TimeWait) -> dict:
    """What the connection that took over starts from (``tcp_twsk_unique()``).

    ``iss``: ``tw_snd_nxt + 65535 + 2`` (never 0), beyond anything the old incarnation sent
    or could still have in flight in a 64 KiB window; ``ts_recent``: the old peer's, so PAWS
    applies from the first segment. Our own TSvals continue the old incarnation's clock:
    the TS offset is keyed on the 4-tuple (measured; ``tcpsim.isn.ts_offset`` does the same).
    """
    iss = (tw.snd_nxt + TW_ISN_GAP) & U32 or 1
    return {"iss": iss, "ts_recent": tw.ts_recent, "ts_recent_stamp_ms": tw.ts_recent_stamp_ms}


# ---------------------------------------------------------------- a segment arrives
@dataclass(frozen=True)
class TwVerdict:
    """What ``tcp_timewait_state_process()`` decides for one arriving segment."""
    action: str                # "kill" | "ignore" | "ack" | "new_connection"
    restart_timer: bool        # TIME-WAIT starts its 60 s again (inet_twsk_reschedule())
    reason: str
    iss: int | None = None     # for "new_connection": the SYN-ACK's ISN


def _seq_after(a: int, b: int) -> bool:
    return 0 < ((a - b) & U32) < 0x80000000


def _paws_reject(tw: TimeWait, tsval: int | None, rst: bool, now_ms: int) -> bool:
    # tcp_paws_reject() = !tcp_paws_check(rx_opt, 0): a TSval behind ts_recent, unless an
    # RST arrives when ts_recent is older than TCP_PAWS_MSL (include/net/tcp.h)
    if not tsval_is_older(tsval, tw):
        return False
    return not (rst and now_ms - tw.ts_recent_stamp_ms >= TCP_PAWS_MSL_S * 1000)


def tsval_is_older(tsval: int | None, tw: TimeWait) -> bool:
    """``(s32)(ts_recent - tsval) > 0``: the segment's TSval is behind the peer's last."""
    if tsval is None or not tw.ts_recent or tw.ts_recent_stamp_ms is None:
        return False
    behind = (tw.ts_recent - tsval) & U32
    return 0 < behind < 0x80000000


def segment_in_time_wait(tw: TimeWait, *, seq: int, length: int, flags: str,
                         tsval: int | None = None, rfc1337: bool = False,
                         now_ms: int = 0, listener: bool = True) -> TwVerdict:
    """``tcp_timewait_state_process()`` for a connection in TIME-WAIT.

    ``flags`` as in trace rows ("S", "A", "R", "F", "P"); ``length``: payload bytes;
    ``listener``: a listener on our port exists (else a valid new SYN is only ACKed).
    """
    syn, ack, rst, fin = ("S" in flags), ("A" in flags), ("R" in flags), ("F" in flags)
    end_seq = (seq + length + syn + fin) & U32
    paws_reject = _paws_reject(tw, tsval, rst, now_ms)
    if not paws_reject and seq == tw.rcv_nxt and (seq == end_seq or rst):
        if rst and not rfc1337:
            return TwVerdict("kill", False, "in-window RST ends TIME-WAIT (tcp_rfc1337=0)")
        why = ("in-window RST ignored (tcp_rfc1337=1, RFC 1337)" if rst
               else "in-window bare ACK: TIME-WAIT starts over")
        return TwVerdict("ignore", True, why)
    if (syn and not rst and not ack and not paws_reject
            and (_seq_after(seq, tw.rcv_nxt)
                 or (tsval is not None and tw.ts_recent is not None
                     and ((tw.ts_recent - tsval) & U32) >= 0x80000000))):
        iss = (tw.snd_nxt + TW_ISN_GAP) & U32 or 1
        if listener:
            return TwVerdict("new_connection", False,
                             "new SYN beyond the old sequence space or with a newer "
                             "timestamp (RFC 9293 §3.6.1, RFC 6191): the listener answers "
                             "it with ISN = snd_nxt + 65537", iss)
        return TwVerdict("ack", False, "acceptable new SYN but no listener: TIME-WAIT ACKs it")
    if rst:
        return TwVerdict("ignore", False, "RST out of window (or PAWS-rejected): dropped")
    return TwVerdict("ack", paws_reject or ack,
                     "out of window" + (" (PAWS)" if paws_reject else "")
                     + ": answered with the TIME-WAIT ACK (rate-limited)")


# ---------------------------------------------------------------- bind()
def bind_conflict(new_reuseaddr: bool, holders) -> bool:
    """Would ``bind()`` of our address and port fail with ``EADDRINUSE``?

    ``holders``: (state, reuseaddr) of every socket that holds the same local address and
    port (TIME-WAIT connections included, with the SO_REUSEADDR of the socket they came
    from). ``inet_bind_conflict()`` with ``relax``: a holder does not conflict only when
    both sides set SO_REUSEADDR and the holder is not listening. (SO_REUSEPORT, devices
    and the wildcard-address rules of ``inet_rcv_saddr_equal()`` are not modelled: every
    holder is taken to have the same address.)
    """
    for state, reuseaddr in holders:
        if not (new_reuseaddr and reuseaddr and state != "LISTEN"):
            return True
    return False
