"""A listening socket (RFC 9293 §3.10.7.2, LISTEN state), sans-IO, in the endpoint's style.

Theory of operation
-------------------
A ``Listener`` is what ``listen()`` creates on a host: a socket in LISTEN (RFC 9293 §3.3.2)
that never carries data. Like ``Endpoint`` it knows no clock and no network: it is handed a
segment with ``now`` and returns the segments to send, and appends typed events
(``events.py``) for the event loop. Its own state changes (CLOSED → LISTEN on ``listen()``,
LISTEN → CLOSED on ``close()``) are rows of the endpoint's ``TRANSITIONS`` table.

A segment that reaches it goes through ``LISTEN_RULES``, the four checks of §3.10.7.2 in
order (first match wins): an RST is ignored, an ACK is answered by an RST, a SYN opens a
connection, anything else is dropped. To open one, the listener asks the event loop's
``make_child(syn)`` for a new ``Endpoint`` (the loop chooses its ISN and its incarnation
number) and hands it the SYN: that child goes LISTEN → SYN-RECEIVED through the table
(``Endpoint.listen_child``), exactly as RFC 9293 pictures one TCB leaving LISTEN.

It owns the two queues of a Linux listener (``inet_connection_sock``, ``request_sock``):

* ``syn_queue``: children in SYN-RECEIVED (Linux's request sockets), oldest first;
* ``accept_queue``: children whose handshake is over and that ``accept()`` has not taken.

The course's applications accept at once, so ``accept()`` is called as soon as a child is
established.

Under load it does what a Linux listener does (docs/linux-connections.md §2, §4):

* **Backlog.** Each queue holds ``backlog + 1`` (``backlog.py``). Every SYN goes through
  ``backlog.on_syn()`` (``tcp_conn_request()``): queued (a child in SYN-RECEIVED), answered
  with a SYN cookie, or dropped (the client retransmits). A SYN-queue child's final ACK
  goes through ``backlog.on_final_ack()`` (``tcp_check_req()``): a full accept queue drops
  it, or answers it with an RST when ``abort_on_overflow`` is set (``final_ack``).
* **SYN cookies** (``syn_cookies`` 1: when the SYN queue is full; 2: always). The SYN-ACK's
  ISN is ``syncookies.make_cookie()`` (time counter, MSS index, keyed hash); the endpoint
  that builds the SYN-ACK (``Endpoint.syn_cookie_answer``) is thrown away, so the listener
  keeps **no state**: no SYN-RECEIVED child, no retransmission. The SYN is noted as a
  segment that changed nothing (its reason says a cookie was sent). An ACK that reaches
  the listener within 2 minutes of a cookie is checked (``syncookies.check_cookie()``);
  a valid one rebuilds the connection at once, LISTEN -> ESTABLISHED through the table
  (``Endpoint.from_syn_cookie``); an invalid one is answered with an RST like any ACK.

* **Fast Open** (``fastopen``, RFC 7413): a SYN with the option goes through
  ``fastopen.server_on_syn()`` (``tcp_try_fastopen()``): a request gets the cookie in the
  SYN-ACK; a valid cookie makes the child at the SYN, through its own table row, with the
  SYN's data readable at once (``Endpoint.listen_child(syn, now, tfo)``).

``counters`` counts what Linux's ``nstat`` shows for these (``TcpExtSyncookiesSent``, ...).
"""
from __future__ import annotations

from collections import Counter

from . import backlog, fastopen, syncookies
from .connoptions import ConnectionOptions
from .endpoint import next_state, reset_for
from .events import SegmentIgnored, StateChanged
from .keyedhash import secret_from_seed
from .segment import SEQ_MASK
from .state import CLOSED, LISTEN, SYN_RECEIVED

TCP_MSS_DEFAULT = 536       # include/net/tcp.h: a SYN without an MSS option (RFC 9293 §3.7.1)
TFO_MAX_QLEN = 16           # setsockopt(TCP_FASTOPEN, 16): the queue length servers use

# RFC 9293 §3.10.7.2, in order: (flag that selects the rule, what to do, why).
LISTEN_RULES = (
    ("R", "ignore", "LISTEN: an RST (RFC 9293 §3.10.7.2 first check)"),
    ("A", "reset", "LISTEN: an ACK before any SYN (RFC 9293 §3.10.7.2 second check): RST sent"),
    ("S", "open", "LISTEN: a SYN opens a connection (RFC 9293 §3.10.7.2 third check)"),
    ("", "ignore", "LISTEN: neither SYN, ACK nor RST (RFC 9293 §3.10.7.2 fourth check)"),
)


class Listener:
    """One listening socket and its SYN and accept queues. See the module docstring."""

    def __init__(self, host, port, socket_name=None, *, options=None, cookie_secret=None,
                 addr=None, addr_of=None, tfo_secret=None):
        """``options``: the host's ``connoptions.ConnectionOptions`` (backlog, syn_cookies,
        abort_on_overflow); ``cookie_secret``: the key of its SYN cookies (from the seed);
        ``addr``: its address and ``addr_of(name)`` the address of a segment's sender, for
        the 4-tuple the cookie hashes; ``tfo_secret``: the key of its Fast Open cookies."""
        self.host = host
        self.port = port
        self.socket = socket_name or f"{host}:listen"
        self.state = CLOSED
        self.events = []          # typed events (events.py) for the event loop
        self.syn_queue = []       # children in SYN-RECEIVED
        self.accept_queue = []    # established children not yet accepted
        self.options = options if options is not None else ConnectionOptions()
        self.max_backlog = backlog.max_ack_backlog(self.options.backlog)
        self.cookie_secret = cookie_secret or secret_from_seed(0, "syncookies")
        self.addr = addr or host
        self.addr_of = addr_of or (lambda name: name)
        self.last_cookie_sent = None   # linux tcp_synq_overflow(): when a cookie last went out
        self.counters = Counter()      # nstat's names: SyncookiesSent, ListenOverflows, ...
        self.tfo_secret = tfo_secret or secret_from_seed(0, "tfo")
        self.tfo_children = []         # Fast Open children still in SYN-RECEIVED
        self.advmss = None             # the MSS its connections announce, once known

    def _transition(self, event, now, cause=None):
        new_state = next_state(self.state, event)
        self.events.append(StateChanged(now, self.socket, self.state, new_state, cause or event))
        self.state = new_state

    # ------------------------------------------------------------- application
    def listen(self, now):
        """``listen()`` (RFC 9293 §3.10.1, passive OPEN); again while listening: nothing."""
        if self.state == CLOSED:
            self._transition("listen()", now)

    def close(self, now):
        """``close()`` of the listening socket (RFC 9293 §3.10.4). Connections it already
        created carry on."""
        if self.state == LISTEN:
            self._transition("close()", now)

    def crash(self, now):
        """The host crashed: the listening socket is gone, sending nothing (its children
        are the simulator's to crash, as each is an endpoint of its own)."""
        if self.state == LISTEN:
            self._transition("host crash", now, "host crashed: the listening socket is lost")
        self.syn_queue, self.accept_queue, self.tfo_children = [], [], []

    def accept(self):
        """The oldest established child, or None (``accept()``)."""
        return self.accept_queue.pop(0) if self.accept_queue else None

    # -------------------------------------------------------------- children
    def child_established(self, child):
        """A child's handshake is over: it moves from the SYN queue to the accept queue."""
        if child in self.syn_queue:
            self.syn_queue.remove(child)
        self.accept_queue.append(child)

    def child_gone(self, child):
        """A child was reset or timed out before it was accepted: forget it."""
        for queue in (self.syn_queue, self.accept_queue):
            if child in queue:
                queue.remove(child)

    # -------------------------------------------------------------- segments
    def on_segment(self, seg, now, make_child):
        """SEGMENT ARRIVES in LISTEN (RFC 9293 §3.10.7.2). Returns (new child or None,
        segments to send).

        ``make_child(seg)`` returns a new ``Endpoint`` for the connection ``seg`` belongs
        to; ``make_child(seg, iss=n, keep=False)`` one with ISS ``n`` that the caller does
        not keep (a SYN cookie's throw-away SYN-ACK builder), ``keep=True`` one it keeps."""
        flags = seg.flags
        for flag, action, reason in LISTEN_RULES:
            if flag in flags:
                break
        if action == "open":
            return self._on_syn(seg, now, make_child)
        if action == "reset":
            answer = self._cookie_ack(seg, now, make_child)
            if isinstance(answer, str):
                reason = f"{reason} ({answer})"
            elif answer is not None:
                return answer
        self.events.append(SegmentIgnored(now, seg, reason))
        if action == "reset":
            return None, [reset_for(seg, seg.conn)]
        return None, []

    def _four_tuple(self, seg):
        """(client addr, server addr, client port, server port), as syncookies.c hashes it."""
        return (self.addr_of(seg.src), self.addr, seg.sport, seg.dport)

    def _on_syn(self, syn, now, make_child):
        """``tcp_conn_request()``: queue the SYN, answer it with a cookie, or drop it."""
        verdict = backlog.on_syn(syn_queue_len=len(self.syn_queue),
                                 accept_queue_len=len(self.accept_queue),
                                 max_backlog=self.max_backlog,
                                 syncookies=self.options.syn_cookies)
        if verdict.action == "drop":
            self.counters["ListenOverflows" if "accept" in verdict.reason
                          else "TCPReqQFullDrop"] += 1
            self.events.append(SegmentIgnored(now, syn, f"LISTEN: SYN dropped: {verdict.reason} "
                                              "(linux tcp_conn_request())"))
            return None, []
        if verdict.action == "cookie":
            if self.advmss is None:       # the host's MSS: the same for every connection
                self.advmss = make_child(syn, iss=0, keep=False).advmss
            mss = min(syn.options.get("mss", TCP_MSS_DEFAULT), self.advmss)
            cookie, _ = syncookies.make_cookie(self.cookie_secret, self._four_tuple(syn),
                                               syn.seq, mss, now)
            probe = make_child(syn, iss=cookie, keep=False)
            synack = probe.syn_cookie_answer(syn, now)
            self.last_cookie_sent = now
            self.counters["SyncookiesSent"] += 1
            self.events.append(SegmentIgnored(
                now, syn, f"LISTEN: {verdict.reason}: SYN-ACK with a SYN cookie as ISN sent, "
                "no connection created (linux tcp_conn_request(), net/ipv4/syncookies.c)"))
            return None, [synack]
        tfo = self._fastopen(syn)
        child = make_child(syn)
        self.syn_queue.append(child)
        out = child.listen_child(syn, now, tfo)
        if tfo is not None and tfo.child_now:
            self.tfo_children.append(child)
            self.counters["TCPFastOpenPassive"] += 1
        return child, out

    def _fastopen(self, syn):
        """``tcp_try_fastopen()``: None when Fast Open plays no part (the listener has it
        off, or the SYN carries no option), else the ``fastopen.TfoVerdict``."""
        tfo = syn.options.get("tfo")
        if not self.options.fastopen or tfo is None:
            return None
        self.tfo_children = [c for c in self.tfo_children if c.state == SYN_RECEIVED]
        cookie = fastopen.make_cookie(self.tfo_secret, self.addr_of(syn.src), self.addr)
        return fastopen.server_on_syn(tfo=tfo, data_len=len(syn.data), valid_cookie=cookie,
                                      pending=len(self.tfo_children),
                                      max_pending=TFO_MAX_QLEN)

    def _cookie_recent(self, now):
        """``tcp_synq_no_recent_overflow()``: a cookie went out in the last 2 minutes."""
        return self.last_cookie_sent is not None and \
            now - self.last_cookie_sent < syncookies.SYNCOOKIE_VALID_S

    def _cookie_ack(self, ack, now, make_child):
        """``tcp_v4_cookie_check()`` -> ``cookie_v4_check()`` for an ACK no connection owns.
        Returns (child, segments) when the ACK was a cookie's; None, or why the cookie check
        failed, when the ACK is to be answered as usual (an RST)."""
        if not self.options.syn_cookies or "S" in ack.flags or not self._cookie_recent(now):
            return None
        check = syncookies.check_cookie(self.cookie_secret, self._four_tuple(ack), ack.seq,
                                        ack.ack, now)
        if not check.valid:
            self.counters["SyncookiesFailed"] += 1
            return f"SYN cookie check failed: {check.reason}"
        verdict = backlog.on_final_ack(accept_queue_len=len(self.accept_queue),
                                       max_backlog=self.max_backlog)
        if verdict.action != "accept":
            # tcp_get_cookie_sock() makes no child: the ACK is discarded, whatever
            # tcp_abort_on_overflow says (cookie_v4_check() returns NULL).
            self.counters["ListenOverflows"] += 1
            self.events.append(SegmentIgnored(now, ack, "LISTEN: a valid SYN cookie, but the "
                                              "accept queue is full: ACK dropped (linux "
                                              "tcp_get_cookie_sock(), ListenOverflows)"))
            return None, []
        child = make_child(ack, iss=(ack.ack - 1) & SEQ_MASK, keep=True)
        out = child.from_syn_cookie(ack, now, check.mss)
        if out is None:
            self.counters["SyncookiesFailed"] += 1
            return "SYN cookie check failed: its TSecr names an option this host has off"
        self.counters["SyncookiesRecv"] += 1
        return child, out

    def final_ack(self, child, seg, now):
        """``tcp_check_req()`` for a SYN-queue child's final ACK. None: the child takes the
        segment. Otherwise the accept queue is full and this is what to send instead: nothing
        (the ACK is dropped, the child stays in SYN-RECEIVED and retransmits its SYN-ACK;
        ``tcp_abort_on_overflow`` = 0) or an RST, the child then dropped (= 1)."""
        if child not in self.syn_queue or "A" not in seg.flags or "R" in seg.flags or \
                "S" in seg.flags:
            return None
        verdict = backlog.on_final_ack(accept_queue_len=len(self.accept_queue),
                                       max_backlog=self.max_backlog,
                                       abort_on_overflow=self.options.abort_on_overflow)
        if verdict.action == "accept":
            return None
        self.counters["ListenOverflows"] += 1
        self.events.append(SegmentIgnored(now, seg, f"LISTEN: {verdict.reason} (linux "
                                          "tcp_check_req())"))
        if verdict.action == "drop":
            return []
        self.syn_queue.remove(child)
        child.drop_request(now, "accept queue full (tcp_abort_on_overflow=1)")
        return [reset_for(seg, seg.conn)]
