"""The eleven connection states of RFC 9293 §3.3.2, as an enum whose values are the RFC names.

``State`` members are ``str``: ``State.SYN_SENT == "SYN-SENT"``, they hash, print and
format as the RFC name, and ``json`` writes them as that name, so traces and any code that
compares with ``"ESTABLISHED"`` keep working. The transitions between them are the table
``TRANSITIONS`` of ``endpoint.py``.
"""
from __future__ import annotations

from enum import Enum


class State(str, Enum):
    CLOSED = "CLOSED"
    LISTEN = "LISTEN"
    SYN_SENT = "SYN-SENT"
    SYN_RECEIVED = "SYN-RECEIVED"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN-WAIT-1"
    FIN_WAIT_2 = "FIN-WAIT-2"
    CLOSE_WAIT = "CLOSE-WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST-ACK"
    TIME_WAIT = "TIME-WAIT"

    # print and format as the RFC name, as a str would (an Enum prints "State.CLOSED")
    __str__ = str.__str__
    __format__ = str.__format__


# The members as module names, for the endpoint's hot paths: a module global is found faster
# than an Enum class attribute (about 0.15 µs each on Python 3.11).
(CLOSED, LISTEN, SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT,
 CLOSING, LAST_ACK, TIME_WAIT) = State


class IllegalTransition(RuntimeError):
    """A state change that ``TRANSITIONS`` does not have: a bug in the endpoint, never in the
    scenario. The message names the state and the event."""
