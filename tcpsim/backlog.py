"""A Linux listener's two queues, and what a SYN or a final ACK meets when they are full.

What this is
------------
Pure decisions for the simulator's Listener, from ``tcp_conn_request()`` (net/ipv4/
tcp_input.c), ``tcp_check_req()`` (net/ipv4/tcp_minisocks.c) and the queue tests in
include/net/sock.h and include/net/inet_connection_sock.h.

Linux keeps, per listener:

* the **SYN queue** (request sockets in SYN-RECEIVED, ``inet_csk_reqsk_queue_len()``) and
* the **accept queue** (established children waiting for ``accept()``, ``sk_ack_backlog``).

Both are bounded by the **same** number, ``sk_max_ack_backlog = min(listen(backlog),
net.core.somaxconn)`` (``__sys_listen()``; somaxconn 4096 by default). Each is full only
when it holds *more* than that (``>``), so each holds ``backlog + 1``: listen(3) queues 4
connections (measured). ``net.ipv4.tcp_max_syn_backlog`` is *not* the SYN queue's size: it
only makes a listener without SYN cookies keep its last quarter for peers it has talked to
before (``tcp_peer_is_proven()``).

A SYN (``tcp_conn_request()``), in this order:

1. ``tcp_syncookies == 2``, or the SYN queue is full: answer with a SYN cookie
   (:mod:`tcpsim.syncookies`) if ``tcp_syncookies`` is 1 or 2, else **drop** it
   (``TCPReqQFullDrop``). A SYN that reopens a TIME-WAIT 4-tuple skips this check.
2. The accept queue is full: **drop** the SYN, cookies or not (``ListenOverflows``).
   The client retransmits it (1 s, 3 s, ... later).
3. Otherwise queue a request and send a SYN-ACK (retransmitted until the final ACK).

The final ACK (``tcp_check_req()`` -> ``tcp_v4_syn_recv_sock()``): if the accept queue is
full the child cannot be made; with ``tcp_abort_on_overflow = 0`` (default) the ACK is
**dropped** and the request stays (marked ``acked``), so the SYN-ACK is retransmitted and
the client's next ACK (or data) tries again; with ``1`` the listener answers with an RST.
The client believes it is ESTABLISHED all along.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ScenarioError

SOMAXCONN_DEFAULT = 4096            # include/linux/socket.h SOMAXCONN; net.core.somaxconn
TCP_MAX_SYN_BACKLOG_THIS_HOST = 2048  # net.ipv4.tcp_max_syn_backlog here (sized from memory)


def validate_backlog(value, field: str) -> int:
    """``options.backlog``: a positive integer, as passed to listen()."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ScenarioError(f"{field}: must be a positive integer (the listen() backlog), "
                            f"not {value!r}")
    return value


def max_ack_backlog(backlog: int, somaxconn: int = SOMAXCONN_DEFAULT) -> int:
    """``__sys_listen()``: the backlog, capped by somaxconn (a negative one means "the cap")."""
    if backlog < 0 or backlog > somaxconn:
        return somaxconn
    return backlog


def accept_queue_full(accept_queue_len: int, max_backlog: int) -> bool:
    """``sk_acceptq_is_full()``: ``sk_ack_backlog > sk_max_ack_backlog``."""
    return accept_queue_len > max_backlog


def syn_queue_full(syn_queue_len: int, max_backlog: int) -> bool:
    """``inet_csk_reqsk_queue_is_full()``: ``qlen > sk_max_ack_backlog`` (measured: backlog+1 fit)."""
    return syn_queue_len > max_backlog


@dataclass(frozen=True)
class SynVerdict:
    action: str        # "queue" | "cookie" | "drop"
    reason: str


def on_syn(*, syn_queue_len: int, accept_queue_len: int, max_backlog: int, syncookies: int,
           reopens_time_wait: bool = False, max_syn_backlog: int = TCP_MAX_SYN_BACKLOG_THIS_HOST,
           peer_proven: bool = False) -> SynVerdict:
    """``tcp_conn_request()``: what a listener does with an arriving SYN."""
    want_cookie = False
    if (syncookies == 2 or syn_queue_full(syn_queue_len, max_backlog)) and not reopens_time_wait:
        if not syncookies:
            return SynVerdict("drop", "SYN queue full and tcp_syncookies=0 (TCPReqQFullDrop)")
        want_cookie = True
    if accept_queue_full(accept_queue_len, max_backlog):
        return SynVerdict("drop", "accept queue full (ListenOverflows): the client retransmits")
    if want_cookie:
        why = "tcp_syncookies=2" if syncookies == 2 else "SYN queue full"
        return SynVerdict("cookie", f"{why}: SYN cookie, no state kept")
    if (not syncookies and not reopens_time_wait and not peer_proven
            and max_syn_backlog - syn_queue_len < (max_syn_backlog >> 2)):
        return SynVerdict("drop", "no cookies and the last quarter of tcp_max_syn_backlog is "
                                  "kept for proven peers")
    return SynVerdict("queue", "request queued, SYN-ACK sent")


@dataclass(frozen=True)
class AckVerdict:
    action: str        # "accept" | "drop" | "rst"
    reason: str


def on_final_ack(*, accept_queue_len: int, max_backlog: int,
                 abort_on_overflow: bool = False) -> AckVerdict:
    """``tcp_check_req()``: the handshake's final ACK for a queued request."""
    if not accept_queue_full(accept_queue_len, max_backlog):
        return AckVerdict("accept", "child created and put on the accept queue")
    if abort_on_overflow:
        return AckVerdict("rst", "accept queue full and tcp_abort_on_overflow=1: RST")
    return AckVerdict("drop", "accept queue full: ACK dropped, the request stays and its "
                              "SYN-ACK is retransmitted (tcp_abort_on_overflow=0)")


def feed_syns(n_syns: int, max_backlog: int, syncookies: int, complete: bool = False):
    """What an idle listener does with ``n_syns`` SYNs from different clients, in order.

    ``complete``: each queued request's handshake completes at once (its child then waits
    in the accept queue, never accepted); otherwise requests stay in the SYN queue (a
    flood of spoofed SYNs). Returns the list of ``on_syn()`` actions.
    """
    syn_queue_len = accept_queue_len = 0
    actions = []
    for _ in range(n_syns):
        verdict = on_syn(syn_queue_len=syn_queue_len, accept_queue_len=accept_queue_len,
                         max_backlog=max_backlog, syncookies=syncookies)
        actions.append(verdict.action)
        if verdict.action == "queue":
            if complete:
                accept_queue_len += 1
            else:
                syn_queue_len += 1
    return actions
