"""The TCP endpoint: one connection's state machine (its TCB), sans-IO.

Theory of operation
-------------------
An ``Endpoint`` is the Transmission Control Block of RFC 9293 §3.3.1 plus the code that
RFC 9293 §3.10 calls "event processing". It knows nothing about clocks, links, faults or
plots. Everything reaches it as a method call that carries ``now`` (seconds):

* application calls: ``connect``, ``send``, ``read``, ``shutdown``, ``close``, ``abort``;
* ``on_segment(seg, now)``: a segment arrived for this connection;
* ``on_timer(now)``: the earliest deadline in ``timers`` has passed.

Each call returns the list of segments to put on the wire, and appends what the
application can observe (state changes, connect results, readable data, EOF, errors,
ignored segments with their reason) to ``events``, as the typed events of ``events.py``.
``snapshot(now)`` gives the TCB's variables for the trace's TCB table. The event
loop (``simulator.py``) owns the clock: it asks ``next_deadline()`` after every call and
wakes the endpoint then.

The endpoint does not know whether it is a "client" or a "server": both sides obey the
same rules, exactly as in RFC 9293. A passive open is an endpoint created by a
``Listener`` from a SYN; an active open is one whose application called ``connect``.

Every state change goes through ``_transition(event)``, which looks the change up in
``TRANSITIONS``, the table below. The table is the state diagram of RFC 9293 §3.3.2
(Figure 5) with the arcs that figure leaves out, each with the section it comes from;
``plots`` draws the state graph from this same table. What a profile changes (ACK
policy, timers, options, ISNs) lives in ``profiles.py``; numbers come from there.

Sequence numbers are compared with the mod-2**32 helpers of ``segment.py``. Three small
parts live in their own files: the RTT/RTO estimator (``rtt.py``, RFC 6298), the SACK
scoreboard (``sack.py``) and the range set they share with the capture reader
(``rangeset.py``). Rows of the table that no run can take are in ``UNREACHABLE``.
"""
from __future__ import annotations

from operator import itemgetter

from .events import (ConnectResult, DataReadable, EndOfFile, ErrorRaised, Established,
                     NewIncarnation, SegmentIgnored, SendDone, StateChanged)
from .profiles import TCP_RMEM_MAX, TCP_TIMEOUT_MIN
from .rack import Rack
from .rangeset import RangeSet
from .rtt import RttEstimator, backed_off
from .sack import Scoreboard
from .segment import HALF, SEQ_MASK, Segment, seq_add, seq_diff, seq_le, seq_lt
from .fastopen import client_syn, tfo_option
from .keepalive import keepalive_timer
from .syncookies import cookie_tsval, decode_cookie_tsecr
from .state import (CLOSE_WAIT, CLOSED, CLOSING, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, LAST_ACK,
                    LISTEN, SYN_RECEIVED, SYN_SENT, TIME_WAIT, IllegalTransition)
from .trace import TcbSnapshot

_new_tuple = tuple.__new__        # TcbSnapshot's fields, in order: no per-row checks
_deadline = itemgetter(1)         # of a (timer name, deadline) pair

# (state, event) -> (next state, where the rule comes from)
TRANSITIONS = {
    (CLOSED, "connect()"): (SYN_SENT, "RFC 9293 §3.10.1 (active OPEN)"),
    (CLOSED, "listen()"): (LISTEN, "RFC 9293 §3.10.1 (passive OPEN)"),
    (LISTEN, "close()"): (CLOSED, "RFC 9293 §3.10.4"),
    (LISTEN, "rcv SYN"): (SYN_RECEIVED, "RFC 9293 §3.10.7.2 (third check)"),
    (LISTEN, "rcv SYN (two-way handshake)"): (ESTABLISHED, "teaching variant: no third segment"),
    (SYN_SENT, "rcv SYN+ACK"): (ESTABLISHED, "RFC 9293 §3.10.7.3 (fourth check)"),
    (SYN_SENT, "rcv SYN"): (SYN_RECEIVED, "RFC 9293 §3.10.7.3 (simultaneous open)"),
    (SYN_SENT, "rcv RST"): (CLOSED, "RFC 9293 §3.10.7.3 (second check): connection refused"),
    (SYN_SENT, "close()"): (CLOSED, "RFC 9293 §3.10.4"),
    (SYN_SENT, "abort()"): (CLOSED, "RFC 9293 §3.10.5"),
    (SYN_SENT, "SYN timeout"): (CLOSED, "RFC 9293 §3.8.3 (R2 for SYN); linux tcp_syn_retries"),
    (SYN_RECEIVED, "rcv ACK of SYN"): (ESTABLISHED, "RFC 9293 §3.10.7.4 (fifth check)"),
    (SYN_RECEIVED, "rcv RST (passive open)"): (LISTEN, "RFC 9293 §3.10.7.4 (second check)"),
    (SYN_RECEIVED, "rcv RST"): (CLOSED, "RFC 9293 §3.10.7.4 (second check)"),
    (SYN_RECEIVED, "close()"): (FIN_WAIT_1, "RFC 9293 §3.10.4"),
    (SYN_RECEIVED, "abort()"): (CLOSED, "RFC 9293 §3.10.5"),
    (SYN_RECEIVED, "SYN-ACK timeout"): (CLOSED, "linux tcp_synack_retries: request dropped"),
    (SYN_RECEIVED, "rcv FIN"): (CLOSE_WAIT, "RFC 9293 §3.10.7.4 (eighth check)"),
    (ESTABLISHED, "close()"): (FIN_WAIT_1, "RFC 9293 §3.10.4"),
    (ESTABLISHED, "rcv FIN"): (CLOSE_WAIT, "RFC 9293 §3.10.7.4 (eighth check)"),
    (FIN_WAIT_1, "rcv ACK of FIN"): (FIN_WAIT_2, "RFC 9293 §3.10.7.4 (fifth check)"),
    (FIN_WAIT_1, "rcv FIN"): (CLOSING, "RFC 9293 §3.10.7.4 (eighth check): simultaneous close"),
    (FIN_WAIT_1, "rcv FIN+ACK of FIN"): (TIME_WAIT, "RFC 9293 §3.10.7.4 (eighth check)"),
    (FIN_WAIT_2, "rcv FIN"): (TIME_WAIT, "RFC 9293 §3.10.7.4 (eighth check)"),
    (FIN_WAIT_2, "FIN-WAIT-2 timeout"): (CLOSED, "linux tcp_fin_timeout (orphaned socket)"),
    (CLOSE_WAIT, "close()"): (LAST_ACK, "RFC 9293 §3.10.4"),
    (CLOSING, "rcv ACK of FIN"): (TIME_WAIT, "RFC 9293 §3.10.7.4 (fifth check)"),
    (LAST_ACK, "rcv ACK of FIN"): (CLOSED, "RFC 9293 §3.10.7.4 (fifth check)"),
    (TIME_WAIT, "rcv FIN"): (TIME_WAIT, "RFC 9293 §3.10.7.4 (eighth check): restart the 2 MSL timer"),
    (TIME_WAIT, "TIME-WAIT timeout"): (CLOSED, "RFC 9293 §3.10.8"),
    (TIME_WAIT, "rcv RST"): (CLOSED, "RFC 9293 §3.10.7.4; linux tcp_rfc1337 = 0 (see RFC 1337)"),
    (TIME_WAIT, "rcv SYN (new incarnation)"): (CLOSED, "RFC 6191 / RFC 9293 §3.10.7.4 note; linux"),
    (TIME_WAIT, "connect() reuses the port"): (
        CLOSED, "linux net.ipv4.tcp_tw_reuse: a new connect() takes over a TIME-WAIT 4-tuple"),
    (SYN_RECEIVED, "accept queue full"): (
        CLOSED, "linux tcp_check_req() with tcp_abort_on_overflow=1: RST, request dropped"),
    (LISTEN, "rcv SYN with Fast Open cookie"): (
        SYN_RECEIVED, ("RFC 7413 §4.2.2; linux tcp_try_fastopen() -> tcp_fastopen_create_child(): "
                       "a valid cookie makes the connection at the SYN, its data readable")),
    (LISTEN, "rcv ACK of SYN cookie"): (
        ESTABLISHED, ("linux cookie_v4_check() -> tcp_get_cookie_sock() (net/ipv4/syncookies.c): "
                      "the final ACK carries a valid SYN cookie; RFC 4987 §3.6")),
    (TIME_WAIT, "rcv RST (tcp_rfc1337=1)"): (
        TIME_WAIT, ("RFC 1337 (TIME-WAIT assassination); linux tcp_timewait_state_process() "
                    "with tcp_rfc1337=1: the RST is ignored and the TIME-WAIT timer starts again")),
    (TIME_WAIT, "rcv SYN with a newer timestamp (new incarnation)"): (
        CLOSED, ("RFC 6191 §2: a SYN whose TSval is newer than TS.Recent may reopen; linux "
                 "tcp_timewait_state_process() (TCP_TW_SYN)")),
}
# Events allowed from every synchronized state (RFC 9293 §3.10.5, §3.10.7.4, §3.8.3 R2).
for _state in (ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK):
    TRANSITIONS[(_state, "rcv RST")] = (CLOSED, "RFC 9293 §3.10.7.4 (second check)")
    TRANSITIONS[(_state, "abort()")] = (CLOSED, "RFC 9293 §3.10.5")
    TRANSITIONS[(_state, "retransmission timeout")] = (CLOSED, "RFC 9293 §3.8.3 (R2); linux tcp_retries2")
for _state in (ESTABLISHED, CLOSE_WAIT, SYN_RECEIVED):
    TRANSITIONS[(_state, "close() with unread data")] = (CLOSED, "RFC 1122 §4.2.2.13: send RST")
    TRANSITIONS[(_state, "close() with SO_LINGER 0")] = (CLOSED, "RFC 9293 §3.10.5 (ABORT)")
for _state in (ESTABLISHED, CLOSE_WAIT):
    TRANSITIONS[(_state, "keepalive timeout")] = (
        CLOSED, ("RFC 9293 §3.8.4 (RFC 1122 4.2.3.6); linux tcp_keepalive_timer(): probes "
                 "unanswered, RST and ETIMEDOUT"))
TRANSITIONS[(FIN_WAIT_1, "data after close()")] = (CLOSED, "RFC 1122 §4.2.2.13: send RST")
# A crash (scenario action "crash") loses every TCB at once, sending nothing: the peer's
# side of the connection is left half-open (RFC 9293 §3.5.1, Figures 9 and 10).
for _state in (LISTEN, SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT,
               CLOSING, LAST_ACK, TIME_WAIT):
    TRANSITIONS[(_state, "host crash")] = (
        CLOSED, "RFC 9293 §3.5.1: the host crashed and lost the TCB (half-open connection)")
TRANSITIONS[(FIN_WAIT_2, "data after close()")] = (CLOSED, "RFC 1122 §4.2.2.13: send RST")

# Rows of the table that no run can take, each with the reason. They stay in the table
# because RFC 9293 draws them (Figure 5 and §3.10.7.4); the state graph marks them, and
# tests/test_table_rows.py checks that every other row is taken and these never are.
UNREACHABLE = {
    (SYN_RECEIVED, "rcv FIN"):
        "a FIN in SYN-RECEIVED carries an ACK, and the fifth check (ACK of SYN: ESTABLISHED) "
        "runs before the eighth (FIN), so the FIN is taken in ESTABLISHED; without an ACK "
        "it is dropped (RFC 9293 §3.10.7.4 fifth check)",
    (FIN_WAIT_1, "rcv FIN+ACK of FIN"):
        "the ACK of our FIN is processed first (fifth check before eighth), so a trace goes "
        "FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT at one instant, as Linux's does "
        "(tcp_rcv_state_process(): tcp_ack() before tcp_fin())",
    (FIN_WAIT_2, "retransmission timeout"):
        "in FIN-WAIT-2 our FIN is acknowledged, so nothing is in flight and no "
        "retransmission timer runs (data cannot follow a FIN)",
    (SYN_RECEIVED, "close() with unread data"):
        "no data is accepted before the handshake is over: segment text is processed only "
        "after the ACK of SYN has moved the connection to ESTABLISHED",
}

SYNCHRONIZED = frozenset((ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING,
                          LAST_ACK, TIME_WAIT))
CAN_RECEIVE_DATA = frozenset((ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2))
CAN_SEND_DATA = frozenset((ESTABLISHED, CLOSE_WAIT, FIN_WAIT_1, CLOSING, LAST_ACK))

TCP_OPTION_TS_LEN = 12        # nop, nop, kind 8 len 10: what timestamps take from each segment
SACK_BLOCKS_WITH_TS = 3       # RFC 2018 §3: 3 blocks fit beside timestamps (4 without)
TCP_INVALID_RATELIMIT_S = 0.5 # net.ipv4.tcp_invalid_ratelimit = 500 ms
TCP_PAWS_WINDOW = 1           # include/net/tcp.h: a timestamp this far behind still passes
TCP_MSS_DEFAULT = 536         # include/net/tcp.h, RFC 9293 §3.7.1
TCP_RMEM_TO_WIN_SCALE = 8     # include/net/tcp.h: scaling_ratio is a fraction of 256
TCP_DEFAULT_SCALING_RATIO = 1 << (TCP_RMEM_TO_WIN_SCALE - 1)  # include/net/tcp.h: until a
                              # full segment has been measured, half the buffer is window
TCP_GROW_MIN_LEN = 128        # net/ipv4/tcp_input.c tcp_event_data_recv(): smaller segments
                              # do not grow rcv_ssthresh
MAX_TCP_OPTION_SPACE = 40     # include/net/tcp.h


def next_state(state, event):
    """The state TRANSITIONS gives for ``(state, event)``; IllegalTransition if none.
    Endpoints and listeners both move through this one lookup."""
    try:
        return TRANSITIONS[(state, event)][0]
    except KeyError:
        raise IllegalTransition(f"no transition from {state} on {event!r} in "
                                "TRANSITIONS") from None


def reset_for(seg: Segment, conn=None) -> Segment | None:
    """The RST a host sends for a segment no connection owns (RFC 9293 §3.10.7.1).

    If the segment had ACK, the RST takes its sequence number from that ACK; otherwise the
    RST has sequence 0 and acknowledges everything the segment occupied. No options,
    window 0, exactly as Linux's tcp_v4_send_reset() (measured). An RST is never answered.
    """
    if "R" in seg.flags:
        return None
    if "A" in seg.flags:
        return Segment(seg.dst, seg.src, seg.dport, seg.sport, seg.ack, 0, "R", 0, conn=conn)
    return Segment(seg.dst, seg.src, seg.dport, seg.sport, 0, seq_add(seg.seq, seg.seg_len),
                   "RA", 0, conn=conn)


class Endpoint:
    """One connection's TCB and state machine. See the module docstring."""

    def __init__(self, name, host, peer, local_port, remote_port, profile, mss, iss, ts_offset,
                 conn, now, socket_name=None):
        self.name = name                  # the host this endpoint lives on
        self.socket = socket_name or name
        self.host, self.peer = host, peer
        self.local_port, self.remote_port = local_port, remote_port
        self.p = profile
        self.conn = conn
        self.state = CLOSED
        self.events = []                  # typed events (events.py) for the event loop
        self.timers = {}                  # name -> deadline (seconds)
        self.passive = False
        self.app_closed = False           # close() called: the socket is orphaned
        self.app_shut_wr = False          # shutdown() or close(): FIN queued
        self.error = None                 # pending errno for the application
        # --- send side (RFC 9293 §3.3.1) ---
        self.iss = iss
        self.snd_una = iss
        self.snd_nxt = iss
        self.snd_max = iss                # highest sequence number sent so far, plus one
        self.snd_wnd = 0
        self.max_snd_wnd = 0              # largest window the peer ever offered (§3.8.6.2.1)
        self.snd_wl1 = 0
        self.snd_wl2 = 0
        self.send_buf = bytearray()       # data from snd_una's first data byte on
        self.send_pending = bytearray()   # the rest of a blocked send(): no room in sndbuf yet
        self.send_pending_size = 0        # the size of that send() call
        self.buf_seq = seq_add(iss, 1)  # sequence number of send_buf[0]
        self.push_marks = []              # sequence numbers where an application write ends
        self.write_start = seq_add(iss, 1)  # where the write being sent began (its first byte)
        self.psh_sent = []                # ends of unacknowledged segments sent with PSH (linux:
                                          # a retransmission keeps its skb's PSH)
        self.snd_sml = iss                # end of the last small (< MSS) segment sent (linux)
        self.fin_seq = None               # our FIN's sequence number, once queued
        self.advmss = mss                 # MSS we announce (MTU - 40, or options.mss)
        self.snd_mss = mss                # payload bytes per full segment we send
        self.snd_wscale = 0               # the peer's shift: applied to windows it sends
        self.rcv_wscale = 0               # our shift: applied to windows we send
        self.ts_on = False
        self.sack_on = False
        self.ts_offset = ts_offset
        self.ts_recent = 0
        # --- congestion control and loss recovery (RFC 5681, RFC 6675, RFC 6298) ---
        self.cwnd = profile.initial_cwnd_segments * mss
        self.ssthresh = 1 << 30
        self.dupacks = 0
        self.in_recovery = False
        self.recover = iss
        self.rtx_next = iss               # next hole to repair during recovery
        self.sacked = Scoreboard()        # what the peer SACKed above snd_una (sack.py)
        self.rack = Rack() if profile.rack else None  # RACK loss detection (rack.py)
        self.rtt = RttEstimator(profile)  # SRTT, RTTVAR, RTO (RFC 6298; rtt.py)
        self.backoff = 0                  # retransmissions of the current segment
        self.rtt_probe = None             # (end sequence, send time) of one timed segment
        self.tlp_armed = False
        self.syn_sent_at = None
        # --- receive side ---
        self.irs = None
        self.rcv_nxt = 0
        self.rcv_buf = bytearray()        # in-order bytes the application has not read yet
        self.ooo = {}                     # out-of-order queue: seq -> (data, fin)
        self.ooo_bytes = 0                # bytes held in it
        self.fin_received = False
        self.rcv_adv_right = 0            # right edge of the window we last advertised
        self.rcv_wup = 0                  # RCV.NXT when we last sent a window (linux rcv_wup)
        self.rcv_ssthresh = 0
        self.rcv_mss = TCP_MSS_DEFAULT    # the peer's segment size, as linux estimates it
        # linux receive-memory accounting (profile.rcv_skb_overhead; docs/linux-facts.md §13.2)
        self.rcv_skbs = []                # the receive queue: [unread bytes, truesize, segments]
        self.rcv_mem = 0                  # sk_rmem_alloc of the in-order queue, bytes
        self.ooo_mem = 0                  # ... of the out-of-order queue
        self.scaling_ratio = TCP_DEFAULT_SCALING_RATIO  # payload / truesize, in 256ths
        self.window_clamp = 0             # the largest window we will offer (tp->window_clamp)
        self.last_sack_first = None       # most recent out-of-order arrival (RFC 2018 §4)
        self.dsack = None                 # a duplicate range to report once (RFC 2883)
        # --- delayed ACK (RFC 9293 §3.8.6.3; linux quick-ACK and pingpong modes) ---
        self.ack_pending = False
        self.ack_pushed = False           # linux ICSK_ACK_PUSHED: a segment < rcv_mss arrived unACKed
        self.ack_pushed2 = False          # linux ICSK_ACK_PUSHED2: two of them
        self.last_ack_sent = None
        self.quickacks_left = 0           # linux icsk_ack.quick: ACKs still sent at once
        self.data_received = False        # linux icsk_ack.ato != 0: the first data has come
        self.pingpong = False
        self.last_data_rcv_time = None
        self.last_oow_ack_time = None     # rate limit for out-of-window ACKs
        self.rcv_wscale_offered = None    # the shift our SYN(-ACK) announces, if any
        # --- keepalive (RFC 9293 §3.8.4; linux SO_KEEPALIVE, keepalive.py) ---
        self.keepalive = None             # a keepalive.KeepaliveConfig, or None: off
        self.keepalive_probes_out = 0     # linux icsk_probes_out
        self.last_received = now          # when a segment last arrived (keepalive idleness)
        self.eof_after_error = False      # a read after ETIMEDOUT returns 0 (linux, measured)
        # --- TCP Fast Open (RFC 7413; fastopen.py) ---
        self.fastopen = False             # the host's fastopen option
        self.tfo_cache = None             # the host's cookies: peer -> bytes (client side)
        self.tfo_deferred = False         # connect() returned; the SYN leaves with the first send
        self.tfo_syn_data = 0             # bytes of data our SYN carried
        self.tfo_child = False            # a passive open made at a SYN with a valid cookie
        self.rfc1337 = False              # net.ipv4.tcp_rfc1337 (the host sets it)

    # ------------------------------------------------------------------ helpers
    def _transition(self, event, now, cause=None):
        """Move to the state TRANSITIONS gives for (state, event), and note it."""
        row = TRANSITIONS.get((self.state, event))
        new_state = row[0] if row is not None else next_state(self.state, event)  # raises
        self.events.append(StateChanged(now, self.socket, self.state, new_state, cause or event))
        self.state = new_state
        if new_state == CLOSED and self.send_pending:
            self._end_blocked_send(now)
        elif new_state == ESTABLISHED and self.keepalive is not None:
            # linux tcp_finish_connect() / tcp_create_openreq_child(): SOCK_KEEPOPEN arms it
            self.last_received = now
            self.timers["keepalive"] = now + self.keepalive.time_s
        return new_state

    def next_deadline(self):
        return min(self.timers.values()) if self.timers else None

    def _tsval(self, now):
        return (int(now * 1000) + self.ts_offset) & SEQ_MASK     # seq_add, written out: hot

    def _window_bytes(self):
        """The window to advertise, in bytes.

        Receiver SWS avoidance (RFC 9293 §3.8.6.2.2): the right edge moves only when it can
        move by at least min(buffer / 2, MSS); and it never moves left (§3.8.6), so a window
        already promised is kept.
        """
        buffered = len(self.rcv_buf)
        buffered += self.ooo_bytes
        free = max(0, self.p.rcvbuf - buffered)
        promised = max(0, seq_diff(self.rcv_adv_right, self.rcv_nxt))
        window = min(self.rcv_ssthresh, free)
        # linux measures the MSS from the segments it receives (icsk_ack.rcv_mss)
        mss = self.rcv_mss if self.p.rcv_mss_estimate else self.advmss
        if window - promised < min(self.p.rcvbuf // 2, mss):
            return promised
        return window

    # --- linux receive memory and window (net/ipv4/tcp_input.c, tcp_output.c) ---
    def _win_from_space(self, space):
        """linux tcp_win_from_space(): the part of ``space`` buffer bytes that is payload."""
        return (space * self.scaling_ratio) >> TCP_RMEM_TO_WIN_SCALE

    def _tcp_space(self):
        """linux tcp_space(): window that the free buffer allows (may be negative)."""
        return self._win_from_space(self.p.rcvbuf - self.rcv_mem - self.ooo_mem)

    def _rcv_payload_mss(self):
        """linux tp->advmss: the MSS we announced less the timestamp option."""
        return self.advmss - (TCP_OPTION_TS_LEN if self.ts_on else 0)

    def _init_window_clamp(self, window):
        """linux tcp_init_buffer_space(): window_clamp is the full space less one segment
        ("force reservation of one segment", tcp_app_win = 31), and rcv_ssthresh starts at
        most there: 64 088 for rcvbuf 131 072 (tcp_info before the first data, §13.2)."""
        full = self._win_from_space(self.p.rcvbuf)
        mss = self._rcv_payload_mss()
        clamp = full
        if clamp > 2 * mss and clamp + mss > full:
            clamp = max(2 * mss, full - mss)
        self.window_clamp = clamp
        self.rcv_ssthresh = min(window, clamp)

    def _rcv_window_now(self):
        """linux tcp_receive_window(): what is left of the window last advertised."""
        return max(0, seq_diff(self.rcv_adv_right, self.rcv_nxt))

    def _select_window_linux(self):
        """linux __tcp_select_window(): the window the free memory allows now, in bytes.

        Below half the full space the window is free space rounded down to the scale unit
        (and quick-ACK mode ends); below 1/16 of it or one rcv_mss it is 0. Otherwise
        min(free space, rcv_ssthresh), rounded up to the scale unit (ALIGN). docs/linux-facts.md
        §13.2-13.3."""
        mss = self.rcv_mss
        rcvbuf = self.p.rcvbuf
        ratio = self.scaling_ratio
        free = ((rcvbuf - self.rcv_mem - self.ooo_mem) * ratio) >> TCP_RMEM_TO_WIN_SCALE
        full = min((rcvbuf * ratio) >> TCP_RMEM_TO_WIN_SCALE, self.window_clamp)
        if mss > full:
            mss = full
            if mss <= 0:
                return 0
        unit = 1 << self.rcv_wscale
        if free < full >> 1:
            self.quickacks_left = 0
            free = max(free, 0) & ~(unit - 1)
            if free < full >> 4 or free < mss:
                return 0
        free = min(free, self.rcv_ssthresh)
        if self.rcv_wscale:
            return (free + unit - 1) & ~(unit - 1)
        window = seq_diff(self.rcv_adv_right, self.rcv_wup)
        if window <= free - mss or window > free:
            window = free - free % mss
        elif mss == full and free > window + (full >> 1):
            window = free
        return window

    def _charge_rcv(self, size):
        """Charge an in-order segment to the receive queue (linux tcp_queue_rcv()): it joins
        the tail skb while that one is unread and has room (tcp_try_coalesce(): only its
        payload is charged), else it is a new skb with its overhead. Returns the truesize
        of the skb as it arrived."""
        truesize = size + self.p.rcv_skb_overhead
        tail = self.rcv_skbs[-1] if self.rcv_skbs else None
        if tail is not None and tail[2] < self.p.rcv_coalesce_segments:
            tail[0] += size
            tail[1] += size
            tail[2] += 1
            self.rcv_mem += size
        else:
            self.rcv_skbs.append([size, truesize, 1])
            self.rcv_mem += truesize
        return truesize

    def _uncharge_read(self, n):
        """The application read ``n`` bytes: skbs read to the end are freed. A partly read
        skb gives back the read share of its truesize (an approximation: the kernel frees
        an skb only when it is read to the end, and how it splits coalesced skbs was not
        measured; a read of half the queue then reopens about half the window)."""
        skbs = self.rcv_skbs
        while n and skbs:
            head = skbs[0]
            if head[0] <= n:
                n -= head[0]
                self.rcv_mem -= head[1]
                del skbs[0]
            else:
                share = head[1] * n // head[0]
                head[0] -= n
                head[1] -= share
                self.rcv_mem -= share
                n = 0

    def _set_scaling_ratio(self, size):
        """linux tcp_measure_rcv_mss(): a full segment of a new size re-measures the ratio of
        payload to truesize and with it window_clamp (tcp_set_window_clamp())."""
        ratio = (size << TCP_RMEM_TO_WIN_SCALE) // (size + self.p.rcv_skb_overhead) or 1
        if ratio == self.scaling_ratio:
            return
        self.scaling_ratio = ratio
        clamp = self._win_from_space(self.p.rcvbuf)
        if clamp < self.window_clamp:
            self.rcv_ssthresh = min(self.rcv_ssthresh, clamp)
        else:
            last_window = seq_diff(self.rcv_adv_right, self.rcv_wup)
            self.rcv_ssthresh = max(min(last_window, clamp), self.rcv_ssthresh)
        self.window_clamp = clamp

    def _grow_window(self, size, truesize):
        """linux tcp_grow_window(): raise rcv_ssthresh by 2 MSS (at least 2·len) per segment
        while below min(window_clamp, tcp_space()), and stay in quick-ACK mode while it grows
        (``icsk_ack.quick |= 1``). Measured: 65 160 + 2 896 per segment to 81 501 B (§13.2)."""
        room = min(self.window_clamp, self._tcp_space()) - self.rcv_ssthresh
        if room <= 0:
            return
        if self._win_from_space(truesize) <= size:
            incr = 2 * self._rcv_payload_mss()
        else:  # __tcp_grow_window(): only while the buffer could still hold such skbs
            incr = 0
            half_truesize = self._win_from_space(truesize) >> 1
            window = self._win_from_space(TCP_RMEM_MAX) >> 1
            while self.rcv_ssthresh <= window:
                if half_truesize <= size:
                    incr = 2 * self.rcv_mss
                    break
                half_truesize >>= 1
                window >>= 1
        if incr:
            self.rcv_ssthresh += min(room, max(incr, 2 * size))
            self.quickacks_left |= 1

    def _incr_quickack(self):
        """linux tcp_incr_quickack_mode(): ACK the next rcv_wnd / (2·rcv_mss) segments at once,
        at most TCP_MAX_QUICKACKS (16)."""
        quick = seq_diff(self.rcv_adv_right, self.rcv_wup) // (2 * self.rcv_mss) or 2
        self.quickacks_left = max(self.quickacks_left, min(quick, self.p.quickacks))

    def _enter_quickack(self):
        """linux tcp_enter_quickack_mode(): after an old or out-of-window segment, ACK the
        next segments at once and leave pingpong mode."""
        if self.p.quickacks:
            self._incr_quickack()
            self.pingpong = False

    def _raw_window(self):
        """The 16-bit window field, and remember the right edge it promises.

        Linux rounds a scaled window up to a whole unit (``ALIGN`` in __tcp_select_window()),
        which is why its third ACK says 63 for 64240 bytes, and why a closing window
        creeps by less than one unit per ACK (measured: 76, 75, 74 ...). With memory
        accounting (the linux profile) the window is tcp_select_window()'s: never less than
        what is left of the last one, rounded up to the unit.
        """
        shift = self.rcv_wscale
        if self.p.rcv_skb_overhead is not None:
            window = self._select_window_linux()
            left = self._rcv_window_now()
            if window < left:
                window = (left + (1 << shift) - 1) >> shift << shift
            raw = min(window >> shift, 0xFFFF)
            self.rcv_wup = self.rcv_nxt
            self.rcv_adv_right = seq_add(self.rcv_nxt, raw << shift)
            return raw
        window = self._window_bytes()
        if self.p.window_round_up and window > 0:
            raw = (window + (1 << shift) - 1) >> shift
        else:
            raw = window >> shift
        raw = min(raw, 0xFFFF)
        right = seq_add(self.rcv_nxt, (raw << shift))
        self.rcv_wup = self.rcv_nxt
        if seq_lt(self.rcv_adv_right, right):
            self.rcv_adv_right = right
        return raw

    def _segment(self, flags, seq, now, data=b"", rtx=False):
        """Build a segment with ACK, window and options as this TCB sends them."""
        options = {}
        if self.ts_on:
            options["ts"] = [self._tsval(now), self.ts_recent]
        ack = 0
        if "A" in flags:
            ack = self.rcv_nxt
            if self.ack_pending and self.quickacks_left:
                self.quickacks_left -= 1  # linux tcp_event_ack_sent() -> tcp_dec_quickack_mode()
            self.ack_pending = self.ack_pushed = self.ack_pushed2 = False
            self.timers.pop("delack", None)
            self.last_ack_sent = ack
            if self.sack_on and (self.dsack or self.ooo):     # else there are no blocks
                options["sack"] = self._sack_blocks()
        win = self._raw_window()
        seg = Segment(self.host, self.peer, self.local_port, self.remote_port, seq, ack, flags,
                      win, data, options, rtx, self.conn)
        seg.bases = (self.iss, self.irs)
        return seg

    def _acceptable_seq(self):
        """The sequence number of a pure ACK or an RST+ACK from this TCB.

        RFC 9293 §3.10.7.4 answers with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, where SND.NXT is
        the next *new* sequence number: retransmitting old data does not move it back. Our
        ``snd_nxt`` is the go-back-N pointer that a timeout rewinds, so an ACK takes
        ``snd_max``, as Linux's does (tcp_acceptable_seq(), net/ipv4/tcp_output.c: SND.NXT,
        or the right edge of the peer's window if SND.NXT lies beyond it, as after our
        zero-window probe byte). An ACK that carried the rewound pointer would be below the
        peer's RCV.NXT and be discarded, ACK field and all: both sides then retransmit until
        ETIMEDOUT (issue 10, bug 2). Linux also keeps SND.NXT when the window is short of it
        by less than one scaling unit; our windows never shrink, so that case cannot arise.
        """
        window_end = seq_add(self.snd_una, self.snd_wnd)
        return self.snd_max if seq_le(self.snd_max, window_end) else window_end

    def _ack(self, now):
        """A pure ACK (RFC 9293 §3.10.7.4 <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>), at
        ``_acceptable_seq()`` (written out here: this runs for every ACK)."""
        window_end = (self.snd_una + self.snd_wnd) & SEQ_MASK
        seq = self.snd_max if seq_le(self.snd_max, window_end) else window_end
        return self._segment("A", seq, now)

    def _syn_segment(self, now, with_ack, data=b""):
        """SYN or SYN-ACK with options in Linux's order: MSS, SACK-permitted, TS, WS (then a
        client's Fast Open option; ``data``: a Fast Open SYN's data)."""
        rtx = self.snd_max != self.iss
        options = {"mss": self.advmss}
        if with_ack:  # RFC 7323 §2.2 / RFC 2018 §2: only if the peer's SYN offered them
            if self.sack_on:
                options["sack_perm"] = True
            if self.ts_on:
                options["ts"] = [self._tsval(now), self.ts_recent]
            if self.rcv_wscale_offered is not None:
                options["wscale"] = self.rcv_wscale_offered
        else:
            if self.p.sack:
                options["sack_perm"] = True
            if self.p.timestamps:
                options["ts"] = [self._tsval(now), 0]
            if self.p.wscale is not None:
                options["wscale"] = self.p.wscale
            if self.fastopen and self.tfo_cache is not None:   # RFC 7413 §4.1.2
                options["tfo"] = tfo_option(self.tfo_cache.get(self.peer))
        # RFC 7323 §2.2: the window in a SYN is never scaled. Linux: rounddown(65535, mss).
        # A passive open's SYN-ACK counts the timestamps it will carry (tcp_openreq_init_rwin());
        # an active opener's SYN-ACK (simultaneous open) keeps the window tcp_connect_init()
        # chose for its SYN, from the plain MSS: 64240, not 65160 (simultaneous-open.pcap).
        window = self._initial_window(self.advmss - (TCP_OPTION_TS_LEN if with_ack and self.ts_on
                                                     and self.passive else 0))
        self.rcv_ssthresh = window
        if with_ack:  # before the peer's SYN there is no RCV.NXT to promise from
            self.rcv_adv_right = seq_add(self.rcv_nxt, window)
            self.rcv_wup = self.rcv_nxt
        seg = Segment(self.host, self.peer, self.local_port, self.remote_port, self.iss,
                      self.rcv_nxt if with_ack else 0, "SA" if with_ack else "S", window, data,
                      options, rtx, self.conn)
        seg.bases = (self.iss, self.irs)
        if with_ack:
            self.ack_pending = False
            self.last_ack_sent = self.rcv_nxt
        if self.p.rcv_skb_overhead is not None:
            self._init_window_clamp(window)
        self.snd_nxt = seq_add(self.iss, 1 + len(data))
        if seq_lt(self.snd_max, self.snd_nxt):   # a SYN again, without the first one's data
            self.snd_max = self.snd_nxt
        return seg

    def _initial_window(self, mss):
        """The window of a SYN, and the first one after it: the buffer, at most 65535, rounded
        down to whole segments when it holds more than one (linux tcp_select_initial_window():
        ``if (space > mss) space = rounddown(space, mss)``). A buffer smaller than one segment
        is offered whole: rounding it down to 0 would close the window for good (issue 10,
        bug 3)."""
        window = min(65535, self.p.rcvbuf)
        return window - window % mss if window > mss else window

    def _cookie_initial_window(self, cookie_mss):
        """The window of a connection rebuilt from a SYN cookie (linux cookie_v4_check(),
        net/ipv4/syncookies.c: "Try to redo what tcp_v4_send_synack did"):
        ``tcp_select_initial_window(sk, tcp_full_space(sk), req->mss, ...)`` with the
        listener's full space (tcp_win_from_space(rcvbuf) at the default scaling ratio: no
        data has been measured yet) rounded down to ``req->mss``, the MSS the cookie
        encodes (``syncookies.MSSTAB``), not to advmss less the timestamps as a SYN-ACK's
        window is (tcp_openreq_init_rwin()); at most 65535 (U16_MAX). The child then starts
        with rcv_wnd = rcv_ssthresh = this (tcp_create_openreq_child()). Captured: 65 000
        for cookie MSS 1300 (first window 64 900 after 100 B, syncookies-no-ts), 64 240 for
        1460 with timestamps (raw 63 at wscale 10, syncookies-always)."""
        space = self._win_from_space(self.p.rcvbuf)
        if space > cookie_mss:
            space -= space % cookie_mss
        return min(space, 0xFFFF)

    def _apply_peer_syn_options(self, seg):
        """RFC 7323 §2.2, RFC 2018 §2, RFC 9293 §3.7.1: options take effect only if both sent them."""
        opts = seg.options
        peer_mss = opts.get("mss", 536)  # RFC 9293 §3.7.1: default send MSS 536
        self.ts_on = self.p.timestamps and "ts" in opts
        self.sack_on = self.p.sack and bool(opts.get("sack_perm"))
        if self.p.wscale is not None and "wscale" in opts:
            self.snd_wscale = min(opts["wscale"], 14)
            self.rcv_wscale = self.p.wscale
            self.rcv_wscale_offered = self.p.wscale
        else:
            self.snd_wscale = self.rcv_wscale = 0
            self.rcv_wscale_offered = None
        if "ts" in opts:
            self.ts_recent = opts["ts"][0]
        self.snd_mss = min(self.advmss, peer_mss) - (TCP_OPTION_TS_LEN if self.ts_on else 0)
        self.cwnd = self.p.initial_cwnd_segments * self.snd_mss

    # ------------------------------------------------------------- application
    def listen_child(self, syn, now, tfo=None):
        """Create this endpoint from a SYN that reached a listener (RFC 9293 §3.10.7.2).

        The new endpoint starts as a copy of its ``Listener``, in LISTEN, and leaves it
        through the table (``rcv SYN``), as RFC 9293's one TCB leaves LISTEN.

        ``tfo``: the listener's ``fastopen.TfoVerdict`` for the SYN. A valid cookie
        (``child_now``) takes the Fast Open row instead: the SYN's data is queued for the
        application, which may accept and read it now, in SYN-RECEIVED, and the SYN-ACK
        acknowledges it (RFC 7413 §4.2.2). ``synack_cookie``: the SYN-ACK carries it."""
        self.passive = True
        self.state = LISTEN
        self.irs = syn.seq
        self.rcv_nxt = seq_add(syn.seq, 1)
        self._apply_peer_syn_options(syn)
        self.snd_wnd = self.max_snd_wnd = syn.win  # RFC 7323 §2.2: a SYN's window is not scaled
        self.snd_wl1, self.snd_wl2 = syn.seq, self.iss
        self.syn_sent_at = now
        if tfo is not None and tfo.child_now:
            self.tfo_child = True
            self._transition("rcv SYN with Fast Open cookie", now,
                             "SYN with a valid Fast Open cookie")
            data = syn.data[:tfo.data_accepted]
            if data:
                self.rcv_buf += data
                self.rcv_nxt = seq_add(self.rcv_nxt, len(data))
                self.events.append(DataReadable(now, len(data)))
            self.events.append(Established(now))     # accept() returns it now
        elif self.p.handshake == "two-way":
            self._transition("rcv SYN (two-way handshake)", now, "SYN received")
            self.events.append(Established(now))
        else:
            self._transition("rcv SYN", now, "SYN received")
        self._arm_rto(now)
        synack = self._syn_segment(now, with_ack=True)
        if tfo is not None and tfo.synack_cookie is not None:
            synack.options["tfo"] = tfo_option(tfo.synack_cookie)
        return [synack]

    def syn_cookie_answer(self, syn, now):
        """The SYN-ACK of a listener that answers ``syn`` with a SYN cookie (this endpoint's
        ISS is the cookie, from ``syncookies.make_cookie``). Nothing is kept: the caller
        throws this endpoint away, so no state changes, no timer, no retransmission
        (linux tcp_conn_request() with want_cookie: the request is freed once the SYN-ACK
        is sent).

        Without a timestamp in the SYN only the MSS survives (tcp_conn_request():
        ``tcp_clear_options()``), so the SYN-ACK carries the MSS option alone; with one, the
        SYN-ACK answers every option as usual and its TSval's low 6 bits carry the client's
        window scale and SACK-permitted (``cookie_init_timestamp()``)."""
        self.passive = True
        self.irs = syn.seq
        self.rcv_nxt = seq_add(syn.seq, 1)
        self._apply_peer_syn_options(syn)
        wscale = syn.options.get("wscale") if self.rcv_wscale_offered is not None else None
        if not self.ts_on:
            self.sack_on = False
            self.rcv_wscale_offered = None
            self.snd_wscale = self.rcv_wscale = 0
        seg = self._syn_segment(now, with_ack=True)
        if self.ts_on:
            clock_ms = int(now * 1000) & SEQ_MASK
            seg.options["ts"][0] = seq_add(cookie_tsval(clock_ms, wscale, self.sack_on, False),
                                           self.ts_offset)
        return seg

    def from_syn_cookie(self, ack, now, mss):
        """Rebuild the connection from a final ACK whose cookie checked out (linux
        cookie_v4_check() -> tcp_get_cookie_sock()): LISTEN -> ESTABLISHED through the
        table, at once, with the MSS the cookie encodes (``mss``: a value of
        ``syncookies.MSSTAB``) and the options read back from the ACK's TSecr
        (``cookie_timestamp_decode()``); without timestamps: no window scaling, no SACK.
        Data or a FIN in the ACK is then processed as in ESTABLISHED (tcp_child_process()).
        Returns the segments to send, or None if TSecr names an option this host has turned
        off (the caller then answers as for any stray ACK)."""
        self.passive = True
        self.state = LISTEN
        ts = ack.options.get("ts")
        tsecr = None if ts is None or not self.p.timestamps else (ts[1] - self.ts_offset) & SEQ_MASK
        opts = decode_cookie_tsecr(tsecr, timestamps=self.p.timestamps, sack=self.p.sack,
                                   window_scaling=self.p.wscale is not None, ecn=False)
        if not opts.ok:
            return None
        self.irs = seq_add(ack.seq, -1)
        self.rcv_nxt = ack.seq
        self.snd_una = self.snd_nxt = self.snd_max = seq_add(self.iss, 1)
        self.ts_on = opts.timestamps
        self.sack_on = opts.sack
        if opts.wscale is not None:
            self.snd_wscale = min(opts.wscale, 14)
            self.rcv_wscale = self.rcv_wscale_offered = self.p.wscale
        if ts is not None and self.ts_on:
            self.ts_recent = ts[0]
        self.snd_mss = min(self.advmss, mss) - (TCP_OPTION_TS_LEN if self.ts_on else 0)
        self.cwnd = self.p.initial_cwnd_segments * self.snd_mss
        if self.p.rcv_skb_overhead is not None:
            window = self._cookie_initial_window(mss)
            self._init_window_clamp(window)     # tcp_init_transfer() -> tcp_init_buffer_space()
        else:
            window = self._initial_window(self.advmss - (TCP_OPTION_TS_LEN if self.ts_on else 0))
            self.rcv_ssthresh = window
        self.rcv_adv_right = seq_add(self.rcv_nxt, window)
        self.rcv_wup = self.rcv_nxt
        self.snd_wnd = self.max_snd_wnd = ack.win << self.snd_wscale
        self.snd_wl1, self.snd_wl2 = ack.seq, ack.ack
        self.syn_sent_at = now
        self._transition("rcv ACK of SYN cookie", now, "ACK with a valid SYN cookie")
        self.events.append(Established(now))
        return self._on_segment_synchronized(ack, now)

    def connect(self, now):
        self.rcv_wscale_offered = None
        self._transition("connect()", now)
        self.syn_sent_at = now
        if self.fastopen and self.tfo_cache and self.tfo_cache.get(self.peer):
            # TCP_FASTOPEN_CONNECT with a cookie (linux tcp_fastopen_defer_connect()):
            # connect() returns at once; the SYN leaves with the first send's data.
            self.tfo_deferred = True
            self.events.append(ConnectResult(now, "ok"))
            return []
        self._arm_rto(now)
        return [self._syn_segment(now, with_ack=False)]

    def _send_syn_data(self, now):
        """The deferred Fast Open SYN, with as much of the send buffer as fits
        (fastopen.client_syn(); linux tcp_send_syn_data(): the MSS less the 40 bytes of
        option space)."""
        self.tfo_deferred = False
        syn = client_syn(self.tfo_cache.get(self.peer), len(self.send_buf),
                         max(self.advmss - MAX_TCP_OPTION_SPACE, 0))
        self.tfo_syn_data = syn["data_len"]
        self._arm_rto(now)
        return [self._syn_segment(now, with_ack=False,
                                  data=bytes(self.send_buf[:self.tfo_syn_data]))]

    def send(self, data, now):
        """Queue application bytes. Returns (result for the application, segments)."""
        if self.error:
            return self._take_error(), []
        if self.app_shut_wr or self.state not in (SYN_SENT, SYN_RECEIVED, ESTABLISHED,
                                                  CLOSE_WAIT):
            return "EPIPE", []
        if self.pingpong is False and self.last_data_rcv_time is not None and \
                now - self.last_data_rcv_time < self.p.delayed_ack_s and self.p.pingpong:
            self.pingpong = True   # linux inet_csk_enter_pingpong_mode: an interactive reply
        self.send_pending += data
        self.send_pending_size = len(data)
        self._fill_send_buffer()
        out = self._send_syn_data(now) if self.tfo_deferred else self._push(now)
        if self.send_pending:
            return None, out   # blocked: the result comes as a ("send", t, n) note
        return len(data), out

    @property
    def send_blocked(self):
        """True while a send() waits for room in the send buffer (a blocking write)."""
        return bool(self.send_pending)

    def _fill_send_buffer(self):
        """Move the waiting bytes of a send() into the send buffer, as far as ``sndbuf``
        allows: unsent and unacknowledged data together are at most sndbuf bytes (SO_SNDBUF;
        Linux also counts its buffer overhead, which is not modelled). Returns True when the
        send() has been queued whole. The write ends (PSH) only where the call's data ends."""
        room = self.p.sndbuf - len(self.send_buf)
        if room <= 0:
            return False
        if room >= len(self.send_pending):
            self.send_buf += self.send_pending
            self.send_pending = bytearray()
            if self.p.merge_unsent_writes and self.push_marks and \
                    seq_lt(self.snd_max, self.push_marks[-1]):
                # linux tcp_sendmsg_locked(): the write joins the unsent tail skb, whose PSH
                # then ends at this write's end (measured: paced-noread's 21 queued writes
                # leave with PSH on the last only)
                self.push_marks.pop()
            self.push_marks.append(seq_add(self.buf_seq, len(self.send_buf)))
            return True
        self.send_buf += self.send_pending[:room]
        del self.send_pending[:room]
        return False

    def _end_blocked_send(self, now):
        """The connection died under a blocked send(): it returns what it queued, else the
        error (as a blocking write(2) does)."""
        queued = self.send_pending_size - len(self.send_pending)
        self.send_pending = bytearray()
        self.events.append(SendDone(now, queued if queued else (self.error or "EPIPE")))
        if queued == 0:
            self.error = None

    def read(self, max_bytes, now):
        """The application reads. Returns (bytes or errno string, segments)."""
        if self.error and not self.rcv_buf:
            return self._take_error(), []
        n = len(self.rcv_buf) if max_bytes is None else min(max_bytes, len(self.rcv_buf))
        data = bytes(self.rcv_buf[:n])
        del self.rcv_buf[:n]
        out = []
        if self.p.rcv_skb_overhead is not None:
            self._uncharge_read(n)
        if n and self._ack_after_read():
            return data, [self._ack(now)]
        if n and self.p.rcv_skb_overhead is not None:
            if self._window_update_after_read():
                out.append(self._ack(now))
        elif n and self.state in CAN_RECEIVE_DATA:
            # Receiver SWS avoidance (RFC 9293 §3.8.6.2.2): announce a window that opened
            # by at least min(buffer / 2, MSS).
            promised = seq_diff(self.rcv_adv_right, self.rcv_nxt)
            if self._window_bytes() - promised >= min(self.p.rcvbuf // 2, self.advmss) \
                    and promised < self.advmss:
                out.append(self._ack(now))
        return data, out

    def _ack_after_read(self):
        """Linux sends a pending (delayed) ACK when the application reads (tcp_cleanup_rbuf(),
        net/ipv4/tcp.c) if more than one full segment is unacknowledged, or if the read
        emptied the receive queue after a pushed short segment (two of them, in pingpong
        mode). Measured: the 88-byte tail of bulk-100k is ACKed at once, not after 40 ms
        (docs/linux-facts.md §3.2, data/captures/bulk-100k.pcap)."""
        if not self.p.ack_on_read or not self.ack_pending or self.state not in CAN_RECEIVE_DATA:
            return False
        unacked = seq_diff(self.rcv_nxt, self.last_ack_sent) if self.last_ack_sent is not None else 0
        drained = not self.rcv_buf and (self.ack_pushed2 or (self.ack_pushed and not self.pingpong))
        return unacked > self.rcv_mss or drained

    def _window_update_after_read(self):
        """linux __tcp_cleanup_rbuf(): after a read, an ACK if the window now on offer is at
        least twice what is left of the last one, which was at most half of window_clamp
        ("lots" of space freed); not after the peer's FIN. Measured: paced-noread's zero
        window reopened by the read (docs/linux-facts.md §13.3)."""
        if self.fin_received or self.state not in CAN_RECEIVE_DATA:
            return False
        left = self._rcv_window_now()
        if 2 * left > self.window_clamp:
            return False
        window = self._select_window_linux()
        return window > 0 and window >= 2 * left

    def at_eof(self):
        return (self.fin_received or self.eof_after_error) and not self.rcv_buf

    def snapshot(self, now):
        """The TCB's variables now, as a ``TcbSnapshot`` (a row of ``Trace.tcb``)."""
        return _new_tuple(TcbSnapshot, self.snapshot_row(now))

    def snapshot_row(self, now):
        """``snapshot(now)`` as a plain tuple, in the field order of ``TcbSnapshot``: what
        the event loop keeps after every endpoint call (``Trace.tcb`` names the columns
        when it is read). Built positionally (keywords cost 7 times as much);
        tests/test_endpoint_machine.py checks each field against the attribute it names."""
        return (
            now,                                    # t
            self.name,                              # host
            self.conn,                              # conn
            self.state,                             # state
            self.iss,                               # iss
            self.irs,                               # irs
            self.snd_una,                           # snd_una
            self.snd_nxt,                           # snd_nxt
            self.snd_max,                           # snd_max
            self.snd_wnd,                           # snd_wnd
            self.rcv_nxt,                           # rcv_nxt
            (self.rcv_adv_right - self.rcv_nxt) & SEQ_MASK if self.irs is not None else 0,  # rcv_wnd
            len(self.rcv_buf),                      # rcv_buffered
            self.ooo_bytes,                         # rcv_out_of_order
            len(self.send_buf),                     # snd_buffered
            self.cwnd,                              # cwnd
            self.timers.copy(),                     # timers
        )

    def shutdown(self, now):
        if self.app_shut_wr or self.state not in (SYN_RECEIVED, ESTABLISHED, CLOSE_WAIT):
            return []
        self.app_shut_wr = True
        self.fin_seq = seq_add(self.buf_seq, len(self.send_buf))
        self._transition("close()", now, "shutdown()")
        return self._push(now)

    def close(self, now):
        self.app_closed = True
        state = self.state
        if state in (CLOSED, LISTEN):
            return []
        if state == SYN_SENT:
            self._transition("close()", now)
            self.timers.clear()
            return []
        if state in (SYN_RECEIVED, ESTABLISHED, CLOSE_WAIT):
            if self.rcv_buf:
                return self._active_reset(now, "close() with unread data")
            if self.p.linger0:
                return self._active_reset(now, "close() with SO_LINGER 0")
            if not self.app_shut_wr:
                self.app_shut_wr = True
                self.fin_seq = seq_add(self.buf_seq, len(self.send_buf))
                self._transition("close()", now)
                return self._push(now)
        if self.state == FIN_WAIT_2:
            self._arm_fin_wait_2(now)
        return []

    def abort(self, now):
        if self.state in (CLOSED, LISTEN, TIME_WAIT):
            return []
        if self.state == SYN_SENT:
            self._transition("abort()", now)
            self.timers.clear()
            return []
        return self._active_reset(now, "abort()")

    def crash(self, now):
        """The host crashed (power lost, kernel panic): the TCB is gone at once. Nothing
        is sent, no timer is left, and there is no application left to tell: the peer
        still believes in the connection (RFC 9293 §3.5.1, a half-open connection)."""
        if self.state is CLOSED:
            return []
        self.app_closed = True
        self.send_pending = bytearray()       # the application went down with the host
        self._transition("host crash", now, "host crashed: the TCB is lost")
        self.timers.clear()
        return []

    def drop_request(self, now, cause):
        """The listener drops this SYN-RECEIVED child (linux inet_csk_reqsk_queue_drop());
        the listener sends the RST (tcp_check_req(): embryonic_reset)."""
        self._transition("accept queue full", now, cause)
        self.timers.clear()

    def give_up_time_wait(self, now):
        """A new connect() on the same ports takes this TIME-WAIT 4-tuple over (linux)."""
        self._transition("connect() reuses the port", now)
        self.timers.clear()

    def _active_reset(self, now, event):
        """RST+ACK from a live socket: seq = SND.NXT, ack = RCV.NXT (linux tcp_send_active_reset)."""
        seg = self._segment("RA", self._acceptable_seq(), now)
        self.app_closed = True
        self._transition(event, now)
        self.timers.clear()
        return [seg]

    def _take_error(self):
        err, self.error = self.error, None
        return err

    # ------------------------------------------------------------------ timers
    def _arm_rto(self, now):
        self.timers["rto"] = now + backed_off(self.rtt.rto, self.backoff, self.p.max_rto_s) \
            if self.state != SYN_SENT else now + self._syn_rto()
        self.timers.pop("tlp", None)

    def _syn_rto(self):
        """SYN retransmission interval: linear for tcp_syn_linear_timeouts, then doubling."""
        linear = self.p.syn_linear_timeouts
        if self.backoff < linear:
            return self.p.initial_rto_s
        return backed_off(self.p.initial_rto_s, self.backoff - linear, self.p.max_rto_s)

    def _synack_rto(self):
        """SYN-ACK retransmission interval: doubling from the initial RTO (RFC 6298 §5.5)."""
        return backed_off(self.p.initial_rto_s, self.backoff, self.p.max_rto_s)

    def _arm_fin_wait_2(self, now):
        if self.app_closed and self.p.fin_timeout_s is not None:
            self.timers["fin_wait_2"] = now + self.p.fin_timeout_s

    def _arm_tlp(self, now):
        """Tail loss probe, RFC 8985 §7.2 as linux tcp_schedule_loss_probe() does it.

        The probe timer replaces the RTO timer and fires at the earlier of the PTO
        (2·SRTT, plus 200 ms with one segment in flight, else 2 jiffies) and the RTO. That is
        why Linux's first retransmission of a lone segment or FIN comes after about 205 ms
        and the RTOs then follow at 0.2, 0.4, 0.8 s ... (measured, docs/linux-facts.md §7h).
        """
        if not self.p.tail_loss_probe or not self.sack_on or self.tlp_armed or \
                self.in_recovery or self.rtt.srtt is None:
            return
        packets_out = -(-seq_diff(self.snd_max, self.snd_una) // max(self.snd_mss, 1))
        pto = 2 * self.rtt.srtt + (self.p.min_rto_s if packets_out <= 1 else TCP_TIMEOUT_MIN)
        rto_deadline = self.timers.pop("rto", now + self.rtt.rto)
        self.timers["tlp"] = min(now + pto, rto_deadline)

    def on_timer(self, now):
        out = []
        for name, deadline in sorted(self.timers.items(), key=_deadline):
            if deadline <= now and self.timers.get(name) == deadline:
                del self.timers[name]
                out += TIMER_EXPIRY[name](self, now)
        return out

    def _expire_delack(self, now):
        self.pingpong = False  # linux: the delayed-ACK timer firing ends pingpong mode
        if self.ack_pending and self.state != CLOSED:
            return [self._ack(now)]
        return []

    def _expire_keepalive(self, now):
        """One expiry of the keepalive timer (keepalive.keepalive_timer(), linux
        tcp_keepalive_timer()): probe, give up, or look again later. The probe is
        tcp_xmit_probe_skb()'s: an ACK with seq = SND.UNA - 1 and no data, a byte the peer
        already has, so it must answer (RFC 9293 §3.8.4: "a segment with SEG.SEQ = SND.NXT-1")."""
        if self.state not in (ESTABLISHED, CLOSE_WAIT):
            return []        # FIN-WAIT-1, CLOSING, LAST-ACK: our FIN is in flight; not modelled after
        outstanding = bool(self.send_buf) or self.snd_una != self.snd_max
        verdict = keepalive_timer(self.keepalive, now=now, last_received=self.last_received,
                                  probes_out=self.keepalive_probes_out, outstanding=outstanding)
        if verdict.action == "give_up":
            seg = self._segment("RA", self._acceptable_seq(), now)   # tcp_send_active_reset()
            self.error = "ETIMEDOUT"                                  # tcp_write_err()
            self.eof_after_error = True
            self.events.append(ErrorRaised(now, "ETIMEDOUT"))
            self._transition("keepalive timeout", now,
                             f"{self.keepalive_probes_out} keepalive probes unanswered")
            self.timers.clear()
            return [seg]
        self.timers["keepalive"] = now + verdict.rearm_in_s
        if verdict.action == "probe":
            self.keepalive_probes_out += 1
            return [self._segment("A", seq_add(self.snd_una, -1), now)]
        return []

    def _keepalive_heard(self, seg, now):
        """A segment arrived: the connection is not idle; an ACK answers the probes (linux
        keepalive_time_elapsed() reads lrcvtime / rcv_tstamp; tcp_ack() zeroes
        icsk_probes_out)."""
        self.last_received = now
        if "A" in seg.flags:
            self.keepalive_probes_out = 0

    def _expire_time_wait(self, now):
        self._transition("TIME-WAIT timeout", now,
                         f"TIME-WAIT timer expired ({self.p.time_wait_s:g} s)")
        self.timers.clear()
        return []

    def _expire_fin_wait_2(self, now):
        self._transition("FIN-WAIT-2 timeout", now, "tcp_fin_timeout expired")
        self.timers.clear()
        return []

    def _expire_tlp(self, now):
        """Send one probe: new data if any may go, else the last segment again."""
        self.tlp_armed = True
        out = self._push(now, limit=1, ignore_cwnd=True)
        if not out and seq_lt(self.snd_una, self.snd_max):
            out = self._retransmit_range(self._last_segment_start(), now)
        self._arm_rto(now)
        return out

    def _last_segment_start(self):
        end = self.snd_max
        if self.fin_seq is not None and seq_lt(self.fin_seq, end):
            end = self.fin_seq
        start = (end - self.snd_mss) & SEQ_MASK
        if seq_lt(start, self.snd_una):
            start = self.snd_una
        return start

    def _expire_rto(self, now):
        if self.state == SYN_SENT:
            return self._syn_timeout(now)
        if self.state == SYN_RECEIVED:
            if self.backoff >= self.p.synack_retries:
                self._transition("SYN-ACK timeout", now, "SYN-ACK retries exhausted")
                self.timers.clear()
                return []
            self.backoff += 1
            self.timers["rto"] = now + self._synack_rto()
            return [self._syn_segment(now, with_ack=True)]
        if not seq_lt(self.snd_una, self.snd_max):
            return []
        if self.backoff >= self.p.retries2:
            self.error = "ETIMEDOUT"
            self.events.append(ErrorRaised(now, "ETIMEDOUT"))
            self._transition("retransmission timeout", now)
            self.timers.clear()
            return []
        if self.snd_una == self.iss and self.passive:
            # The two-way teaching variant only: ESTABLISHED at the SYN, so what is still
            # unacknowledged is the SYN itself. Send the SYN-ACK again (RFC 9293 §3.8.1: a
            # SYN is retransmitted like data), not a byte at the SYN's sequence number.
            self.backoff += 1
            self.timers["rto"] = now + self._synack_rto()
            return [self._syn_segment(now, with_ack=True)]
        # RFC 6298 §5.5-5.7 and RFC 5681 §3.1: back off, collapse cwnd, go back to SND.UNA.
        flight = seq_diff(self.snd_max, self.snd_una)
        self.ssthresh = max(flight // 2, 2 * self.snd_mss)
        self.cwnd = self.snd_mss
        self.in_recovery = False
        self.dupacks = 0
        self.backoff += 1
        self.rtt_probe = None
        self.snd_nxt = self.snd_una
        out = self._push(now, limit=1)
        self.timers["rto"] = now + backed_off(self.rtt.rto, self.backoff, self.p.max_rto_s)
        return out

    def _syn_timeout(self, now):
        """SYN retransmission (RFC 9293 §3.8.3; RFC 6298 §5; linux tcp_write_timeout())."""
        elapsed = now - self.syn_sent_at
        n = self.p.syn_retries
        if self.p.syn_give_up_by_time:
            # linux retransmits_timed_out(): give up at the first expiry at or after the time
            # n retransmissions with plain doubling from the initial RTO would take.
            give_up = elapsed >= ((2 ** (n + 1)) - 1) * self.p.initial_rto_s - 1e-9
        else:
            give_up = self.backoff >= n
        if give_up:
            self.events.append(ConnectResult(now, "ETIMEDOUT"))
            self._transition("SYN timeout", now, "SYN retries exhausted")
            self.timers.clear()
            return []
        self.backoff += 1
        self.timers["rto"] = now + self._syn_rto()
        return [self._syn_segment(now, with_ack=False)]

    # --------------------------------------------------------------- sending
    def _fin_ready(self):
        return self.fin_seq is not None and self.snd_nxt == self.fin_seq

    def _push(self, now, limit=None, ignore_cwnd=False, psh=False):
        """Send what the windows, Nagle and cwnd allow (RFC 9293 §3.8.6.2.1, RFC 5681).
        ``psh``: the segments carry PSH whether or not they end a write."""
        if self.state not in CAN_SEND_DATA:
            return []
        if not self.sacked.ranges and limit != 0 and \
                len(self.send_buf) <= seq_diff(self.snd_nxt, self.buf_seq):
            # Every byte queued is sent (most calls, after every ACK): only the FIN may go.
            # The loop below does the same in its first turn; this is that turn, cheaper.
            return [self._send_fin(now)] if self._fin_ready() else []
        out = []
        data_end = seq_add(self.buf_seq, len(self.send_buf))
        while limit is None or len(out) < limit:
            if self.sacked.ranges:
                self.snd_nxt = self.sacked.skip(self.snd_nxt)
            seq = self.snd_nxt
            offset = seq_diff(seq, self.buf_seq)
            available = len(self.send_buf) - offset
            if available <= 0:
                if self._fin_ready():
                    out.append(self._send_fin(now))
                break
            window_room = seq_diff(seq_add(self.snd_una, self.snd_wnd), seq)
            if not ignore_cwnd:
                in_flight = seq_diff(seq, self.snd_una) - self.sacked.bytes_below(self.snd_nxt)
                window_room = min(window_room, self.cwnd - in_flight)
            size = min(self._segment_cap(), available, window_room)
            if self.sacked.ranges:  # don't re-send what the peer already holds
                for left, right in self.sacked.ranges:
                    gap = seq_diff(left, seq)
                    if 0 < gap < size:
                        size = gap
            if size <= 0:
                self._arm_persist(now)
                break
            is_rtx = seq_lt(seq, self.snd_max)
            full = self._segment_cap()
            if size < full and size < available and size < self.max_snd_wnd // 2 \
                    and not ignore_cwnd:
                self._arm_persist(now)
                break  # sender SWS avoidance (RFC 9293 §3.8.6.2.1): no silly window-sized segment
            if size < full and not is_rtx and not self.p.nodelay and not self.app_shut_wr \
                    and self._nagle_holds():
                break  # Nagle (RFC 9293 §3.7.4): a small segment waits
            data = bytes(self.send_buf[offset:offset + size])
            end = seq_add(seq, size)
            flags = "PA" if psh or (end == data_end and not self.send_pending) else "A"  # PSH: ends a write
            while self.push_marks and seq_le(self.push_marks[0], end):
                self.write_start = self.push_marks.pop(0)
                flags = "PA"
            if self.p.push_every_segments:
                flags = self._linux_push_flags(flags, seq, end, size, is_rtx)
            if end == data_end and self.fin_seq is not None and self.fin_seq == data_end:
                flags = "F" + flags  # the FIN rides on the last data segment
                end = seq_add(end, 1)
            out.append(self._segment(flags, seq, now, data, is_rtx))
            if size < full and not is_rtx:
                self.snd_sml = end  # linux tcp_minshall_update()
            self._sent(seq, end, now, is_rtx)
        return out

    def _linux_push_flags(self, flags, seq, end, size, is_rtx):
        """PSH as the linux send path sets it (profile ``push_every_segments``): also on the
        5th, 10th, 20th ... full segment of a write (tcp_sendmsg_locked()'s tcp_mark_push()
        from forced_push(), or the end of each GSO skb; the positions are measured, not
        derived: docs/linux-facts.md §13.7), and on a retransmission of a segment first sent
        with PSH (the skb keeps its flags)."""
        if is_rtx:
            return "PA" if end in self.psh_sent else flags
        if flags == "A" and size == self._segment_cap() and self.push_marks:
            segments, rest = divmod(seq_diff(end, self.write_start), size)
            if not rest and segments in self.p.push_every_segments:
                flags = "PA"
        if flags == "PA":
            self.psh_sent.append(end)
        return flags

    def _nagle_holds(self):
        """Nagle's test for a small segment (RFC 9293 §3.7.4): hold it while data is unacked.

        Linux uses Minshall's variant (tcp_nagle_check() -> tcp_minshall_check()): it holds a
        small segment only while an earlier *small* segment is unacknowledged, so the short
        tail of a large write leaves with the full segments before it (measured:
        data/captures/data-loss-tail.pcap), while a second small write still waits for the
        ACK of the first (docs/linux-facts.md §4, the Nagle stall).
        """
        if self.p.nagle_minshall:
            return seq_lt(self.snd_una, self.snd_sml) and seq_le(self.snd_sml, self.snd_nxt)
        return seq_lt(self.snd_una, self.snd_nxt)

    def _segment_cap(self):
        """Payload bytes per full segment. Linux also caps a segment at half the largest
        window the peer offered (tcp_bound_to_half_wnd()): on loopback, where the MSS is
        65483, that makes 32741-byte segments (measured, docs/linux-facts.md §10)."""
        if self.p.bound_to_half_window and self.max_snd_wnd > TCP_MSS_DEFAULT:
            return max(min(self.snd_mss, self.max_snd_wnd >> 1), 1)
        return self.snd_mss

    def _send_fin(self, now):
        seq = self.snd_nxt
        is_rtx = seq_lt(seq, self.snd_max)
        seg = self._segment("FA", seq, now, b"", is_rtx)
        self._sent(seq, seq_add(seq, 1), now, is_rtx)
        return seg

    def _sent(self, seq, end, now, is_rtx):
        if self.rack is not None:
            self.rack.sent(seq, end, now, is_rtx)
        self.snd_nxt = end
        if seq_lt(self.snd_max, end):
            self.snd_max = end
        if not is_rtx and self.rtt_probe is None:
            self.rtt_probe = (end, now)
        elif is_rtx and self.rtt_probe is not None and seq_le(seq, self.rtt_probe[0]):
            self.rtt_probe = None  # Karn's algorithm (RFC 6298 §3)
        if "rto" not in self.timers and "tlp" not in self.timers:
            self._arm_rto(now)
        if not is_rtx:
            self._arm_tlp(now)

    def _retransmit_range(self, seq, now):
        """Re-send one segment starting at seq (fast retransmit, TLP)."""
        saved = self.snd_nxt
        self.snd_nxt = seq
        out = self._push(now, limit=1, ignore_cwnd=True)
        if seq_lt(self.snd_nxt, saved):
            self.snd_nxt = saved
        return out


    # -------------------------------------------------------------- receiving
    def on_segment(self, seg, now):
        """SEGMENT ARRIVES (RFC 9293 §3.10.7) for a connection in any state but LISTEN."""
        if self.keepalive is not None:
            self._keepalive_heard(seg, now)
        if self.state == SYN_SENT:
            return self._on_segment_syn_sent(seg, now)
        if self.state == CLOSED:
            rst = reset_for(seg, self.conn)
            return self._ignore(seg, now, "the connection is CLOSED (RFC 9293 §3.10.7.1): "
                                + ("RST sent" if rst else "an RST is never answered"), rst)
        if self.state == TIME_WAIT:
            return self._on_segment_time_wait(seg, now)
        return self._on_segment_synchronized(seg, now)

    def _on_segment_syn_sent(self, seg, now):
        flags = seg.flags
        has_ack = "A" in flags
        # first check: an unacceptable ACK gets a RST (unless it is one)
        if has_ack and not (seq_lt(self.iss, seg.ack) and seq_le(seg.ack, self.snd_max)):
            rst = reset_for(seg, self.conn)
            if self.p.syn_sent_bad_ack_rearm_s is not None and self.backoff == 0 \
                    and "rto" in self.timers:
                # linux tcp_rcv_synsent_state_process(): "Previous FIN/ACK or RST/ACK might
                # be ignored", so while no SYN was retransmitted the SYN goes again after
                # TCP_TIMEOUT_MIN (the RST may have cleared the peer's old connection)
                self.timers["rto"] = now + self.p.syn_sent_bad_ack_rearm_s
            return self._ignore(seg, now, "SYN-SENT: the ACK acknowledges nothing we sent "
                                "(RFC 9293 §3.10.7.3 first check)" + (": RST sent" if rst else ""),
                                rst)
        # second check: RST
        if "R" in flags:
            if has_ack:
                self.events.append(ConnectResult(now, "ECONNREFUSED"))
                self._transition("rcv RST", now, "RST received")
                self.timers.clear()
                return []
            return self._ignore(seg, now, "SYN-SENT: an RST without ACK "
                                "(RFC 9293 §3.10.7.3 second check)")
        if "S" not in flags:
            return self._ignore(seg, now, "SYN-SENT: neither SYN nor RST "
                                "(RFC 9293 §3.10.7.3 fifth check)")
        # fourth check: SYN
        self.irs = seg.seq
        self.rcv_nxt = seq_add(seg.seq, 1)
        self._apply_peer_syn_options(seg)
        self.snd_wnd = seg.win
        self.snd_wl1, self.snd_wl2 = seg.seq, seg.ack
        if has_ack:
            self._ack_advance(seg.ack, now)
            self.snd_wnd = self.max_snd_wnd = seg.win  # RFC 7323 §2.2: a SYN's window is not scaled
            self._transition("rcv SYN+ACK", now, "SYN+ACK received")
            if self.fastopen and self.tfo_cache is not None and seg.options.get("tfo"):
                self.tfo_cache[self.peer] = bytes.fromhex(seg.options["tfo"])  # RFC 7413 §4.1.3
            if not self.tfo_syn_data:          # a Fast Open connect() returned already
                self.events.append(ConnectResult(now, "ok"))
            # the client learns TS only now: its window uses the plain MSS
            self.rcv_ssthresh = self._initial_window(self.advmss)
            self.rcv_adv_right = seq_add(self.rcv_nxt, self.rcv_ssthresh)
            self.rcv_wup = self.rcv_nxt
            if self.p.rcv_skb_overhead is not None:
                self._init_window_clamp(self.rcv_ssthresh)
            if self.p.handshake == "two-way":
                return self._push(now)
            if self.tfo_syn_data and seq_lt(seg.ack, self.snd_max):
                # The SYN's data was not acknowledged (no Fast Open, a bad cookie): send it
                # again at once, the ACK riding on it (linux tcp_rcv_fastopen_synack()).
                self.snd_nxt = self.snd_una
                return self._push(now)
            out = [self._ack(now)]
            return out + self._push(now)
        # simultaneous open (RFC 9293 §3.5, Figure 8)
        self._transition("rcv SYN", now, "SYN received (simultaneous open)")
        self.backoff = 0
        self._arm_rto(now)
        self.snd_nxt = self.snd_max = self.iss
        return [self._syn_segment(now, with_ack=True)]

    def _acceptable(self, seg):
        """The sequence-number test of RFC 9293 §3.10.7.4 (first check)."""
        seg_len = seg.seg_len
        window = seq_diff(self.rcv_adv_right, self.rcv_nxt)
        start = seq_diff(seg.seq, self.rcv_nxt)
        if seg_len == 0:
            return start == 0 if window <= 0 else 0 <= start < window
        if window <= 0:
            return False
        end = start + seg_len - 1
        return 0 <= start < window or 0 <= end < window

    def _on_segment_time_wait(self, seg, now):
        flags = seg.flags
        if "R" in flags:
            if self.p.name == "linux" and seg.seq != self.rcv_nxt:
                # linux tcp_timewait_state_process(): only an RST at exactly RCV.NXT counts
                # (measured: docs/linux-connections.md §3); any other is dropped
                return self._ignore(seg, now, "TIME-WAIT: an RST not at RCV.NXT (linux "
                                    "tcp_timewait_state_process())")
            if self._acceptable(seg):
                if self.rfc1337:
                    self._transition("rcv RST (tcp_rfc1337=1)", now,
                                     "RST ignored in TIME-WAIT (tcp_rfc1337=1, RFC 1337)")
                    self.timers["time_wait"] = now + self.p.time_wait_s
                    return []
                self._transition("rcv RST", now, "RST received (TIME-WAIT assassination, RFC 1337)")
                self.timers.clear()
                return []
            return self._ignore(seg, now, "an RST outside the receive window "
                                "(RFC 9293 §3.10.7.4 first check)")
        if "S" in flags and "A" not in flags:
            event = None
            if seq_lt(self.rcv_nxt, seg.seq):
                event, cause = "rcv SYN (new incarnation)", "SYN for a new incarnation"
            elif self.ts_on and "ts" in seg.options and \
                    seq_lt(self.ts_recent, seg.options["ts"][0]):
                event = "rcv SYN with a newer timestamp (new incarnation)"
                cause = "SYN with a newer timestamp: a new incarnation (RFC 6191)"
            if event is not None:
                # A new incarnation may start: the caller hands the SYN to the listener.
                self._transition(event, now, cause)
                self.timers.clear()
                self.events.append(NewIncarnation(now, seg))
                return []
        if "F" in flags and seq_diff(seq_add(seg.seq, seg.seg_len), self.rcv_nxt) == 0:
            # A retransmitted FIN: our last ACK was lost. ACK it and restart the timer.
            self._transition("rcv FIN", now, "FIN retransmission received: ACK, restart timer")
            self.timers["time_wait"] = now + self.p.time_wait_s
            return [self._ack(now)]
        if seg.seg_len == 0 and self._acceptable(seg):
            # An in-window bare ACK: nothing to do (RFC 9293 §3.10.7.4 fifth check,
            # TIME-WAIT; linux tcp_timewait_state_process() returns TCP_TW_SUCCESS). Answering
            # it would make two TIME-WAIT sockets ACK each other for ever (issue 10, bug 1).
            return self._ignore(seg, now, "TIME-WAIT: a bare ACK, nothing to do "
                                "(RFC 9293 §3.10.7.4 fifth check)")
        # Anything else is out of window: an ACK, rate-limited when it carries no data
        # (linux tcp_timewait_check_oow_rate_limit(); RFC 5961 §7).
        return self._out_of_window_ack(seg, now)

    def _on_segment_synchronized(self, seg, now):
        flags = seg.flags
        state = self.state
        if self.ts_on and seg.len and "R" not in flags and "ts" in seg.options \
                and self.ts_recent \
                and seq_diff(self.ts_recent, seg.options["ts"][0]) > TCP_PAWS_WINDOW:
            # PAWS (RFC 7323 §5.3 R1): data with a timestamp older than the connection's
            # is an old duplicate, of this incarnation or an earlier one: dropped and
            # answered with a duplicate ACK, a D-SACK if it lies below RCV.NXT (linux
            # tcp_validate_incoming(): tcp_paws_discard(), tcp_send_dupack()). Segments
            # without data are not checked here (tcp_disordered_ack() is not modelled).
            if seq_lt(seg.seq, self.rcv_nxt):
                self.dsack = (seg.seq, seq_add(seg.seq, seg.len))  # RFC 2883
                self._enter_quickack()
            return self._out_of_window_ack(seg, now, "PAWS: its timestamp is older than "
                                           "the connection's (RFC 7323 §5.3 R1)")
        if self.ts_on and "ts" in seg.options and seq_le(seg.seq, self.rcv_nxt):
            self.ts_recent = seg.options["ts"][0]  # RFC 7323 §4.3
        # The peer's SYN-ACK in a simultaneous open repeats its SYN (seq = IRS): it is let
        # through to the ACK check (RFC 9293 Figure 8 line 6; linux tcp_validate_incoming).
        simultaneous_synack = (state == SYN_RECEIVED and not self.passive and flags == "SA"
                               and seg.seq == self.irs and seg.ack == self.snd_max)
        # first check: sequence number
        if not simultaneous_synack and not self._acceptable(seg):
            if "R" in flags:
                return self._ignore(seg, now, "an RST outside the receive window "
                                    "(RFC 9293 §3.10.7.4 first check)")
            if seq_lt((seg.seq + max(seg.seg_len, 1) - 1) & SEQ_MASK, self.rcv_nxt) and seg.len:
                self.dsack = (seg.seq, seq_add(seg.seq, seg.len))  # RFC 2883
                self._enter_quickack()
            if state == SYN_RECEIVED and flags == "S" and seg.seq == self.irs:
                # The peer's SYN again: our SYN-ACK was lost. Linux answers at once and
                # re-arms the request timer to initial RTO << (timeouts so far) (measured).
                # Only a SYN without ACK counts (linux tcp_check_req(): flg == TCP_FLAG_SYN):
                # a SYN-ACK with seq = IRS gets the rate-limited ACK below, or two half-open
                # connections would answer each other's SYN-ACK for ever (issue 10, bug 4).
                self.timers["rto"] = now + self._synack_rto()
                return [self._syn_segment(now, with_ack=True)]
            if self.p.seq_check_from_rcv_wup and state != SYN_RECEIVED and "S" not in flags \
                    and seq_lt(seg.seq, self.rcv_nxt) \
                    and seq_le(self.rcv_wup, seq_add(seg.seq, seg.seg_len)):
                return self._old_segment_after_rcv_wup(seg, now)
            return self._out_of_window_ack(seg, now, "outside the receive window "
                                           "(RFC 9293 §3.10.7.4 first check)")
        # second check: RST (RFC 9293 §3.10.7.4, RFC 5961 §3.2)
        if "R" in flags:
            if seg.seq != self.rcv_nxt:
                return self._out_of_window_ack(seg, now, "an RST in the window but not at "
                                               "RCV.NXT: challenge ACK (RFC 5961 §3.2)")
            self.timers.clear()
            if state == SYN_RECEIVED and self.passive:
                self._transition("rcv RST (passive open)", now, "RST received")
                return []
            if state == SYN_RECEIVED:
                self.events.append(ConnectResult(now, "ECONNREFUSED"))
            else:
                self.error = "ECONNRESET"
                self.events.append(ErrorRaised(now, "ECONNRESET"))
            self._transition("rcv RST", now, "RST received")
            return []
        # fourth check: a SYN in a synchronized state gets a challenge ACK (RFC 5961 §4)
        if "S" in flags and not simultaneous_synack:
            return self._out_of_window_ack(seg, now, f"a SYN in {state}: challenge ACK "
                                           "(RFC 5961 §4)")
        if "A" not in flags:
            return self._ignore(seg, now, "no ACK flag (RFC 9293 §3.10.7.4 fifth check)")
        out = []
        # fifth check: ACK
        if state == SYN_RECEIVED:
            if not (seq_lt(self.snd_una, seg.ack) and seq_le(seg.ack, self.snd_max)):
                rst = reset_for(seg, self.conn)
                return self._ignore(seg, now, "SYN-RECEIVED: the ACK does not acknowledge our "
                                    "SYN (RFC 9293 §3.10.7.4 fifth check): RST sent", rst)
            self._transition("rcv ACK of SYN", now, "ACK of SYN received")
            if not self.tfo_child:             # a Fast Open child was accepted at its SYN
                self.events.append(Established(now))
            if not self.passive:
                self.events.append(ConnectResult(now, "ok"))
            self.snd_wnd = seg.win << self.snd_wscale
            self.max_snd_wnd = max(self.max_snd_wnd, self.snd_wnd)
            self.snd_wl1, self.snd_wl2 = seg.seq, seg.ack
        if seq_lt(self.snd_max, seg.ack):
            return self._out_of_window_ack(seg, now, "it acknowledges data not yet sent "
                                           "(RFC 9293 §3.10.7.4 fifth check)")
        out += self._process_ack(seg, now)
        if self.state == CLOSED:
            return out
        if simultaneous_synack and self.p.simultaneous_synack_ack:
            # linux tcp_data_queue(): the SYN-ACK's SYN lies below RCV.NXT, an old segment:
            # D-SACK of it, quick-ACK mode, an ACK at once (measured: simultaneous-open,
            # docs/linux-facts.md §13.4)
            if self.sack_on:
                self.dsack = (seg.seq, seq_add(seg.seq, 1))
            self._enter_quickack()
            out.append(self._ack(now))
        # seventh check: segment text
        if seg.data or "F" in flags:
            out += self._process_text(seg, now)
        if self.state in CAN_SEND_DATA:
            out += self._push(now)
        return out

    def _old_segment_after_rcv_wup(self, seg, now):
        """An old segment that Linux's sequence check still accepts: it ends at or after
        RCV.WUP, the RCV.NXT of the last window we sent (tcp_sequence(), net/ipv4/tcp_input.c:
        "controls are accepted using RCV.WUP instead of RCV.NXT. Peer still did not advance
        his SND.UNA when we delayed ACK"). Its ACK field is processed; its data or FIN is a
        duplicate, answered at once (with a D-SACK for data; tcp_data_queue(): "A retransmit
        ... force an immediate ack"), not rate-limited. RFC 9293 §3.10.7.4 instead drops an unacceptable segment, ACK field included,
        after sending an ACK: that is the rfc9293 profile."""
        out = []
        if "A" in seg.flags and seq_le(seg.ack, self.snd_max):
            out += self._process_ack(seg, now)
            if self.state == CLOSED:
                return out
        if self.state in CAN_SEND_DATA:
            out += self._push(now)
        if seg.seg_len and not out:   # old data or a FIN again: an immediate ACK
            out.append(self._ack(now))
        return out

    def _out_of_window_ack(self, seg, now, reason="outside the receive window "
                           "(RFC 9293 §3.10.7.4 first check)"):
        """The ACK RFC 9293 §3.10.7.4 asks for in answer to an unacceptable segment.

        Answers to segments without data are rate-limited to one per 500 ms (RFC 5961 §7;
        linux tcp_oow_rate_limited(), net.ipv4.tcp_invalid_ratelimit), which is what stops
        two confused endpoints from ACKing each other forever (an "ACK war"). The segment
        is ignored for ``reason``.
        """
        if not seg.data:
            if self.last_oow_ack_time is not None and \
                    now - self.last_oow_ack_time < TCP_INVALID_RATELIMIT_S:
                return self._ignore(seg, now, reason + ": no ACK, one was sent less than "
                                    "500 ms ago (RFC 5961 §7)")
            self.last_oow_ack_time = now
        return self._ignore(seg, now, reason + ": ACK sent", self._ack(now))

    def _ignore(self, seg, now, reason, answer=None):
        """Note that ``seg`` changed nothing, and why (events.SegmentIgnored); return the
        answer to send, if any."""
        self.events.append(SegmentIgnored(now, seg, reason))
        return [answer] if answer is not None else []

    def _process_ack(self, seg, now):
        """RFC 9293 §3.10.7.4 fifth check, with RFC 5681 / RFC 6675 loss recovery."""
        out = []
        ack = seg.ack
        if self.sack_on and "sack" in seg.options:
            self.sacked.update(seg.options["sack"], self.snd_una, self.snd_max)
        advanced = seq_lt(self.snd_una, ack)
        rack_lost = self.rack.on_ack(ack if advanced else self.snd_una, self.sacked.ranges, now) \
            if self.rack is not None and self.sack_on else ()
        old_wnd = self.snd_wnd
        # window update (RFC 9293 §3.10.7.4: SND.WL1 / SND.WL2 rule)
        if seq_lt(self.snd_wl1, seg.seq) or (self.snd_wl1 == seg.seq and seq_le(self.snd_wl2, ack)):
            self.snd_wnd = seg.win << self.snd_wscale
            self.max_snd_wnd = max(self.max_snd_wnd, self.snd_wnd)
            self.snd_wl1, self.snd_wl2 = seg.seq, ack
            if self.snd_wnd:
                self.timers.pop("persist", None)
        if advanced:
            self._ack_advance(ack, now)
            if self.in_recovery:
                if seq_le(self.recover, ack):
                    self.in_recovery = False
                    self.cwnd = self.ssthresh
                elif not rack_lost:  # partial ACK (RFC 6582 §3.2 step 3, RFC 6675 §5)
                    out += self._retransmit_next_hole(now)
            if rack_lost:
                out += self._rack_retransmit(rack_lost, now)
        elif rack_lost:
            self.dupacks += 1
            out += self._rack_retransmit(rack_lost, now)
        elif seg.len == 0 and "F" not in seg.flags and seq_lt(self.snd_una, self.snd_max) \
                and old_wnd == self.snd_wnd and ack == self.snd_una:
            self.dupacks += 1  # RFC 5681 §2: a duplicate ACK
            if self.in_recovery:
                out += self._retransmit_next_hole(now) or self._push(now, limit=1, ignore_cwnd=True)
            elif self.dupacks >= 3 or (self.sack_on and self.sacked.total() > 2 * self.snd_mss):
                out += self._enter_recovery(now)
        self._fin_acked_transitions(now)
        return out

    def _ack_advance(self, ack, now):
        acked = seq_diff(ack, self.snd_una)
        data_acked = acked
        if self.snd_una == self.iss:
            data_acked -= 1  # our SYN
        if self.fin_seq is not None and seq_lt(self.fin_seq, ack):
            data_acked -= 1  # our FIN
        if data_acked > 0:
            del self.send_buf[:data_acked]
            self.buf_seq = seq_add(self.buf_seq, data_acked)
            if self.send_pending and self._fill_send_buffer():
                self.events.append(SendDone(now, self.send_pending_size))  # send() returns
        self.snd_una = ack
        if seq_lt(self.snd_nxt, ack):
            self.snd_nxt = ack
        while self.psh_sent and seq_le(self.psh_sent[0], ack):
            del self.psh_sent[0]
        self.sacked.ack(ack)
        self.dupacks = 0
        # RTT sample (RFC 6298 §2, Karn's algorithm §3)
        if self.rtt_probe is not None and seq_le(self.rtt_probe[0], ack):
            self.rtt.sample(now - self.rtt_probe[1])
            self.rtt_probe = None
        elif (self.snd_una == seq_add(self.iss, 1) or self.tfo_syn_data) and self.backoff == 0 \
                and self.rtt.srtt is None:
            self.rtt.sample(now - self.syn_sent_at)
        self.backoff = 0
        self.tlp_armed = False
        # congestion window (RFC 5681 §3.1)
        if not self.in_recovery and data_acked > 0:
            if self.cwnd < self.ssthresh:
                self.cwnd += min(data_acked, self.snd_mss)
            else:
                self.cwnd += max(1, self.snd_mss * self.snd_mss // self.cwnd)
        if seq_lt(ack, self.snd_max):
            self._arm_rto(now)
            self._arm_tlp(now)
        else:
            self.timers.pop("rto", None)
            self.timers.pop("tlp", None)

    def _fin_acked_transitions(self, now):
        if self.fin_seq is None or not seq_lt(self.fin_seq, self.snd_una):
            return
        if self.state == FIN_WAIT_1:
            self._transition("rcv ACK of FIN", now, "ACK of FIN received")
            self._arm_fin_wait_2(now)
        elif self.state == CLOSING:
            self._transition("rcv ACK of FIN", now, "ACK of FIN received")
            self.timers.clear()
            self.timers["time_wait"] = now + self.p.time_wait_s
        elif self.state == LAST_ACK:
            self._transition("rcv ACK of FIN", now, "ACK of FIN received")
            self.timers.clear()

    def _rack_retransmit(self, starts, now):
        """RACK (RFC 8985 §6.2, rack.py) found these segments lost: enter recovery if not in
        it (RFC 6675 §5 / RFC 5681 §3.2 for cwnd) and retransmit them at once."""
        if not self.in_recovery:
            self._start_recovery()
        out = []
        for start in starts:
            if seq_lt(start, self.snd_una):
                continue
            sent = self._retransmit_range(start, now)
            out += sent
            if sent:
                end = seq_add(sent[-1].seq, sent[-1].seg_len)
                if seq_lt(self.rtx_next, end):
                    self.rtx_next = end
        return out

    def _start_recovery(self):
        """Loss recovery begins (RFC 5681 §3.2, RFC 6675 §5): ssthresh = cwnd = half the
        flight (at least two segments), repairs from SND.UNA up to the RECOVER point."""
        flight = seq_diff(self.snd_max, self.snd_una)
        self.ssthresh = max(flight // 2, 2 * self.snd_mss)
        self.cwnd = self.ssthresh
        self.in_recovery = True
        self.recover = self.snd_max
        self.rtx_next = self.snd_una

    def _enter_recovery(self, now):
        """Fast retransmit (RFC 5681 §3.2, RFC 6675 §5 with SACK)."""
        self._start_recovery()
        return self._retransmit_next_hole(now)

    def _retransmit_next_hole(self, now):
        """Retransmit the first not-yet-repaired range below the highest SACKed byte."""
        seq = self.rtx_next if seq_lt(self.snd_una, self.rtx_next) else self.snd_una
        for left, right in self.sacked:
            if seq_le(left, seq) and seq_lt(seq, right):
                seq = right
        highest = self.sacked.highest()
        if highest is not None and not seq_lt(seq, highest):
            return []
        if highest is None and seq != self.snd_una:
            return []
        out = self._retransmit_range(seq, now)
        if out:
            self.rtx_next = seq_add(out[-1].seq, out[-1].seg_len)
        return out

    def _process_text(self, seg, now):
        """RFC 9293 §3.10.7.4 seventh (text) and eighth (FIN) checks."""
        state = self.state
        if state not in CAN_RECEIVE_DATA:
            if not seg.data:
                return self._ignore(seg, now, f"a FIN again in {state}: nothing changes "
                                    "(RFC 9293 §3.10.7.4 eighth check)")
            return self._ignore(seg, now, f"data in {state}, after the peer's FIN (RFC 9293 "
                                "§3.10.7.4 seventh check): ACK sent", self._ack(now))
        if self.app_closed and seg.data and seq_lt(self.rcv_nxt, seq_add(seg.seq, seg.len)):
            # RFC 1122 §4.2.2.13: data for an application that is gone -> RST (linux: from
            # the segment, as for an unknown connection).
            rst = reset_for(seg, self.conn)
            self._transition("data after close()", now, "data received after close()")
            self.timers.clear()
            return [rst] if rst else []
        seq, data, fin = seg.seq, seg.data, "F" in seg.flags
        ahead = seq_diff(seq, self.rcv_nxt)
        if ahead < 0:  # trim what we already have
            data = data[-ahead:]
            seq = self.rcv_nxt
            ahead = 0
        if ahead > 0:
            old = self.ooo.get(seq)
            self.ooo[seq] = (bytes(data), fin)
            self.ooo_bytes += len(data) - (len(old[0]) if old else 0)
            if self.p.rcv_skb_overhead is not None:
                # linux tcp_data_queue_ofo(): the skb is charged whole; rcv_ssthresh may grow
                self.ooo_mem += len(data) - (len(old[0]) if old else -self.p.rcv_skb_overhead)
                if len(data) >= TCP_GROW_MIN_LEN:
                    self._grow_window(len(data), len(data) + self.p.rcv_skb_overhead)
            self.last_sack_first = seq
            self.ack_pending = True
            return [self._ack(now)]  # RFC 5681 §4.2: immediate dup ACK
        filled_hole = bool(self.ooo)
        self._accept_in_order(data, fin, now, "P" in seg.flags)
        while self.ooo:
            progressed = False
            for oseq in list(self.ooo):
                odata, ofin = self.ooo[oseq]
                behind = seq_diff(self.rcv_nxt, oseq)
                if behind >= 0:
                    del self.ooo[oseq]
                    self.ooo_bytes -= len(odata)
                    if self.p.rcv_skb_overhead is not None:
                        self.ooo_mem -= len(odata) + self.p.rcv_skb_overhead
                    if behind < len(odata) or (ofin and behind == len(odata)):
                        self._accept_in_order(odata[behind:], ofin, now)
                        progressed = True
            if not progressed:
                break
        return self._ack_policy(seg, now, filled_hole)

    def _accept_in_order(self, data, fin, now, psh=False):
        if data:
            size = len(data)
            truesize = self._charge_rcv(size) if self.p.rcv_skb_overhead is not None else 0
            self.rcv_nxt = seq_add(self.rcv_nxt, size)
            self._measure_rcv_mss(size, psh)
            self.rcv_buf += data
            self.events.append(DataReadable(now, size))
            # linux tcp_event_data_recv(): quick-ACK mode on the first data, and again
            # after an idle RTO
            if not self.data_received:
                self.data_received = True
                self._incr_quickack()
            elif self.p.quickack_after_idle and now - self.last_data_rcv_time > self.rtt.rto:
                self._incr_quickack()
            if not self.p.rcv_window_growth:
                self.rcv_ssthresh = self.p.rcvbuf
            elif self.p.rcv_skb_overhead is not None:
                if size >= TCP_GROW_MIN_LEN:
                    self._grow_window(size, truesize)
            elif size >= self.rcv_mss and self.rcv_ssthresh < self.p.rcvbuf:
                # linux tcp_grow_window() without memory accounting: open by 2 MSS, and ACK
                # quickly while it grows
                self.rcv_ssthresh = min(self.rcv_ssthresh + 2 * self.advmss, self.p.rcvbuf)
                self.quickacks_left |= 1
            self.last_data_rcv_time = now
            self.ack_pending = True
        if fin and not self.fin_received:
            self.fin_received = True
            self.rcv_nxt = seq_add(self.rcv_nxt, 1)
            self.ack_pending = True
            self._on_fin(now)

    def _measure_rcv_mss(self, size, psh=False):
        """linux tcp_measure_rcv_mss(): learn the peer's full segment size from what arrives;
        a shorter segment ends a write (it was pushed), which a read that empties the
        receive queue acknowledges at once (``_ack_after_read``). So does a full segment
        with PSH (ICSK_ACK_PUSHED since kernel commit 4720852ed9af; measured: paced-reader,
        docs/linux-facts.md §13.1). A full segment of a new size re-measures the scaling
        ratio (memory accounting)."""
        if size >= self.rcv_mss:
            if self.p.rcv_skb_overhead is not None and size != self.rcv_mss:
                self._set_scaling_ratio(size)
            self.rcv_mss = min(size, self.advmss)
            if psh and self.p.ack_on_read:
                self.ack_pushed = True
            return
        if self.ack_pushed:
            self.ack_pushed2 = True
        self.ack_pushed = True

    def _on_fin(self, now):
        """RFC 9293 §3.10.7.4 eighth check: the FIN's state changes."""
        state = self.state
        self.events.append(EndOfFile(now))
        # (SYN-RECEIVED never gets here, nor FIN-WAIT-1 with its FIN acknowledged: see
        # UNREACHABLE.)
        if state == ESTABLISHED:
            self._transition("rcv FIN", now, "FIN received")
            if self.p.pingpong:
                self.pingpong = True  # linux tcp_fin(): the ACK of a FIN waits for the reply
        elif state == FIN_WAIT_1:
            self._transition("rcv FIN", now, "FIN received (simultaneous close)")
        elif state == FIN_WAIT_2:
            self._transition("rcv FIN", now, "FIN received")
            self.timers.clear()
            self.timers["time_wait"] = now + self.p.time_wait_s

    def _ack_policy(self, seg, now, filled_hole):
        """When to ACK received data (RFC 9293 §3.8.6.3, RFC 5681 §4.2; linux tcp_ack_snd_check)."""
        if not self.ack_pending:
            return []
        if not self.p.delayed_ack or filled_hole or self.ooo:
            return [self._ack(now)]
        if "F" in seg.flags:
            if self.state == CLOSE_WAIT and self.p.pingpong:
                self._arm_delack(now)  # linux: pingpong, the ACK waits for the reply or 40 ms
                return []
            return [self._ack(now)]
        if self.p.rcv_skb_overhead is None and self.quickacks_left > 0 and not self.pingpong:
            return [self._ack(now)]  # quick-ACK mode (linux tcp_in_quickack_mode())
        if self.p.rcv_skb_overhead is not None:
            # linux __tcp_ack_snd_check(): more than one full segment unacknowledged, and the
            # window's right edge can advance (else only the timer or a read ACKs:
            # docs/linux-facts.md §13.3)
            if seq_diff(self.rcv_nxt, self.rcv_wup) > self.rcv_mss and \
                    self._select_window_linux() >= seq_diff(self.rcv_adv_right, self.rcv_wup):
                return [self._ack(now)]
            if self.quickacks_left > 0 and not self.pingpong:
                return [self._ack(now)]  # quick-ACK mode (tcp_in_quickack_mode())
            self._arm_delack(now)
            return []
        unacked = seq_diff(self.rcv_nxt, self.last_ack_sent) if self.last_ack_sent is not None else 0
        if unacked >= 2 * self.snd_mss or (unacked > self.snd_mss and not self.pingpong):
            return [self._ack(now)]  # every second full segment
        self._arm_delack(now)
        return []

    def _arm_delack(self, now):
        if "delack" not in self.timers:
            self.timers["delack"] = now + self.p.delayed_ack_s

    def _arm_persist(self, now):
        """Data waits for the window and nothing is in flight to bring an ACK: the persist
        timer (RFC 9293 §3.8.6.1, and the SWS override timer of §3.8.6.2.1)."""
        if self.snd_nxt == self.snd_una and "persist" not in self.timers and \
                "rto" not in self.timers and "tlp" not in self.timers:
            self.timers["persist"] = now + backed_off(max(self.rtt.rto, self.p.min_rto_s),
                                                      self.backoff, self.p.max_rto_s)

    def _expire_persist(self, now):
        """Zero-window probe (RFC 9293 §3.8.6.1): one byte beyond the closed window; with a
        small open window, send what it allows (the SWS override).

        Linux (``zero_window_probe_old_seq``, tcp_write_wakeup()): what the small window
        allows goes with PSH; a closed window is probed by tcp_xmit_probe_skb(): an empty
        segment at SND.UNA - 1 ("use a previous sequence; this should cause the other end to
        send an ack"), which the peer answers with its window (measured: paced-noread,
        docs/linux-facts.md §13.3)."""
        if not seq_lt(self.snd_nxt, seq_add(self.buf_seq, len(self.send_buf))):
            return []
        if self.snd_wnd:
            return self._push(now, limit=1, ignore_cwnd=True,
                              psh=self.p.zero_window_probe_old_seq)
        self.timers["persist"] = now + backed_off(self.rtt.rto, min(self.backoff + 1, 10),
                                                  self.p.max_rto_s)
        self.backoff += 1
        if self.p.zero_window_probe_old_seq:
            return [self._segment("A", (self.snd_una - 1) & SEQ_MASK, now)]
        # The probe byte is the first unacknowledged one; it is not counted as in flight
        # (SND.NXT stays), so an ACK that accepts it moves SND.UNA past SND.NXT.
        seq = self.snd_una
        offset = seq_diff(seq, self.buf_seq)
        is_rtx = seq_lt(seq, self.snd_max)
        seg = self._segment("A", seq, now, bytes(self.send_buf[offset:offset + 1]), is_rtx)
        if not is_rtx:
            self.snd_max = seq_add(seq, 1)
        return [seg]

    def _sack_blocks(self):
        """SACK blocks for our next ACK (RFC 2018 §4, D-SACK RFC 2883 §4 first)."""
        blocks = []
        if self.dsack:
            blocks.append(list(self.dsack))
            self.dsack = None
        if self.ooo and self.p.sack_blocks_by_recency:
            blocks += self._sack_blocks_by_recency()
        elif self.ooo:
            blocks += [list(r) for r in self._ooo_sack_ranges()]
        limit = SACK_BLOCKS_WITH_TS if self.ts_on else SACK_BLOCKS_WITH_TS + 1
        return blocks[:limit]

    def _sack_blocks_by_recency(self):
        """The out-of-order blocks, the most recently changed first (RFC 2018 §4: the first
        block holds the newest segment, the rest are the most recently reported ones; linux
        tcp_sack_new_ofo_skb() moves the block a segment extends to the front). A block's
        age is that of the newest segment in it: the queue (a dict) keeps arrival order.
        Measured: loss-20pct, docs/linux-facts.md §13.6."""
        ooo, rcv_nxt = self.ooo, self.rcv_nxt
        arrival = {seq: k for k, seq in enumerate(ooo)}
        ranges = []                       # [left, right, newest arrival in it]
        for seq in sorted(ooo, key=lambda s: seq_diff(s, rcv_nxt)):
            end = seq_add(seq, len(ooo[seq][0]))
            if ranges and seq_le(seq, ranges[-1][1]):
                last = ranges[-1]
                if seq_lt(last[1], end):
                    last[1] = end
                last[2] = max(last[2], arrival[seq])
            else:
                ranges.append([seq, end, arrival[seq]])
        ranges.sort(key=lambda r: -r[2])
        return [[left, right] for left, right, _ in ranges]


    def _ooo_sack_ranges(self):
        """The out-of-order queue as merged ranges, the one holding the latest arrival
        first (RFC 2018 §4). Every queued segment lies ahead of RCV.NXT within the window,
        so the queue is handed over as distances from RCV.NXT (``seq_diff``, written out:
        every ACK in a lossy transfer reads the whole queue)."""
        rcv_nxt = self.rcv_nxt
        ranges = RangeSet.from_spans(rcv_nxt, [
            ((((seq - rcv_nxt) & SEQ_MASK) ^ HALF) - HALF, len(data))
            for seq, (data, _) in self.ooo.items()]).ranges
        first = self.last_sack_first
        ranges.sort(key=lambda r: 0 if first is not None and seq_le(r[0], first)
                    and seq_lt(first, r[1]) else 1)
        return ranges


# What each timer's expiry does: the explicit dispatch of ``Endpoint.on_timer``. The timers
# are the RFC 9293 §3.8 retransmission timer (rto; RFC 6298), the tail loss probe (tlp; RFC
# 8985 §7), the delayed-ACK timer (delack; §3.8.6.3), the persist timer (persist; §3.8.6.1),
# the 2 MSL timer (time_wait; §3.10.8), the orphaned FIN-WAIT-2 timer (fin_wait_2; linux) and
# the keepalive timer (keepalive; §3.8.4, linux tcp_keepalive_timer()).
TIMER_EXPIRY = {
    "rto": Endpoint._expire_rto,
    "tlp": Endpoint._expire_tlp,
    "delack": Endpoint._expire_delack,
    "persist": Endpoint._expire_persist,
    "time_wait": Endpoint._expire_time_wait,
    "fin_wait_2": Endpoint._expire_fin_wait_2,
    "keepalive": Endpoint._expire_keepalive,
}
