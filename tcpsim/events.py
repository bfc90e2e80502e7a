"""What an endpoint tells the event loop: typed events, one frozen dataclass per kind.

An ``Endpoint`` appends these to its ``events`` list during any call (application call,
segment, timer); ``simulator.py`` drains the list after each call and turns the events into
trace rows and application results. ``t`` is always the ``now`` of the call, in seconds.
The endpoint never reads them back (aioquic's ``events.py`` is the model).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StateChanged:
    """A transition of ``TRANSITIONS``; ``cause`` in words for the trace."""
    t: float
    socket: str
    old: str
    new: str
    cause: str


@dataclass(frozen=True, slots=True)
class ConnectResult:
    """``connect()`` returns: ``"ok"``, ``"ECONNREFUSED"`` or ``"ETIMEDOUT"``."""
    t: float
    result: str


@dataclass(frozen=True, slots=True)
class Established:
    """The handshake is over (for a passive open: ``accept()`` returns)."""
    t: float


@dataclass(frozen=True, slots=True)
class SendDone:
    """A ``send()`` that blocked on a full send buffer returns: bytes queued, or an errno."""
    t: float
    result: int | str


@dataclass(frozen=True, slots=True)
class DataReadable:
    """``nbytes`` more in-order bytes wait in the receive buffer."""
    t: float
    nbytes: int


@dataclass(frozen=True, slots=True)
class EndOfFile:
    """The peer's FIN arrived in order: after the buffered bytes, ``read()`` returns 0."""
    t: float


@dataclass(frozen=True, slots=True)
class ErrorRaised:
    """The connection failed (``"ECONNRESET"``, ``"ETIMEDOUT"``): the next call returns it."""
    t: float
    errno: str


@dataclass(frozen=True, slots=True)
class SegmentIgnored:
    """An arriving segment changed nothing (besides any ACK sent in answer): ``reason``
    says why, in words, citing the rule."""
    t: float
    segment: object
    reason: str


@dataclass(frozen=True, slots=True)
class NewIncarnation:
    """A SYN ended TIME-WAIT (RFC 6191): the event loop hands ``syn`` to the listener."""
    t: float
    syn: object


EVENT_TYPES = (StateChanged, ConnectResult, Established, SendDone, DataReadable, EndOfFile,
               ErrorRaised, SegmentIgnored, NewIncarnation)
