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
established; backlog limits and SYN cookies (issue "Simulator, second step") go here.
"""
from __future__ import annotations

from .endpoint import next_state, reset_for
from .events import SegmentIgnored, StateChanged
from .state import CLOSED, LISTEN

# RFC 9293 §3.10.7.2, in order: (flag that selects the rule, what to do, why).
LISTEN_RULES = (
    ("R", "ignore", "LISTEN: an RST (RFC 9293 §3.10.7.2 first check)"),
    ("A", "reset", "LISTEN: an ACK before any SYN (RFC 9293 §3.10.7.2 second check): RST sent"),
    ("S", "open", "LISTEN: a SYN opens a connection (RFC 9293 §3.10.7.2 third check)"),
    ("", "ignore", "LISTEN: neither SYN, ACK nor RST (RFC 9293 §3.10.7.2 fourth check)"),
)


class Listener:
    """One listening socket and its SYN and accept queues. See the module docstring."""

    def __init__(self, host, port, socket_name=None):
        self.host = host
        self.port = port
        self.socket = socket_name or f"{host}:listen"
        self.state = CLOSED
        self.events = []          # typed events (events.py) for the event loop
        self.syn_queue = []       # children in SYN-RECEIVED
        self.accept_queue = []    # established children not yet accepted

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
        segments to send)."""
        flags = seg.flags
        for flag, action, reason in LISTEN_RULES:
            if flag in flags:
                break
        if action == "open":
            child = make_child(seg)
            out = child.listen_child(seg, now)
            self.syn_queue.append(child)
            return child, out
        self.events.append(SegmentIgnored(now, seg, reason))
        if action == "reset":
            return None, [reset_for(seg, seg.conn)]
        return None, []
