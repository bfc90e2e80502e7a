"""Traces: what a run (or a capture) shows, as the contract's JSON and as pandas tables.

``Trace`` keeps the three lists of rows (segments, states, events) as plain dicts and
builds DataFrames only when asked, so a widget that re-simulates on every slider move
pays for pandas only if it draws from it.
"""
from __future__ import annotations

import json
from typing import NamedTuple

SEGMENT_COLUMNS = ["i", "t", "src", "dst", "flags", "seq", "ack", "rel_seq", "rel_ack", "len",
                   "win", "options", "retransmission", "dropped", "arrival", "conn", "sport", "dport"]
STATE_COLUMNS = ["t", "host", "socket", "from", "to", "cause", "conn"]
EVENT_COLUMNS = ["t", "host", "call", "result", "conn"]
IGNORED_COLUMNS = ["t", "host", "segment", "reason"]   # extension: docs/trace.md


class TcbSnapshot(NamedTuple):
    """One row of ``Trace.tcb``: a connection's TCB after an endpoint call
    (``Endpoint.snapshot``). Sequence numbers are absolute."""
    t: float
    host: str
    conn: int | None
    state: str
    iss: int
    irs: int | None
    snd_una: int
    snd_nxt: int
    snd_max: int
    snd_wnd: int                # the peer's window, bytes (scaled)
    rcv_nxt: int
    rcv_wnd: int                # the window we last advertised, bytes
    rcv_buffered: int           # in-order bytes the application has not read
    rcv_out_of_order: int       # bytes in the out-of-order queue
    snd_buffered: int           # unacknowledged and unsent bytes
    cwnd: int
    timers: dict                # timer name -> deadline (s)


TCB_COLUMNS = list(TcbSnapshot._fields)


class Trace:
    def __init__(self, doc: dict, delivered=None, tcb_rows=None):
        self.doc = doc
        self.delivered = delivered or {}   # host -> bytes its application read (simulations)
        # TCB snapshots (simulations only, not in the JSON): tuples in TCB_COLUMNS order,
        # named only when ``tcb`` is read
        self._tcb_rows = tcb_rows or []
        self._frames = {}

    # --- the contract's three tables, as DataFrames -------------------------------
    def _frame(self, key, columns):
        if key not in self._frames:
            import pandas as pd
            rows = self.doc.get(key, [])
            extra = list(dict.fromkeys(c for r in rows for c in r if c not in columns))
            self._frames[key] = pd.DataFrame(rows, columns=columns + extra)
        return self._frames[key]

    @property
    def segments(self):
        return self._frame("segments", SEGMENT_COLUMNS)

    @property
    def states(self):
        return self._frame("states", STATE_COLUMNS)

    @property
    def events(self):
        return self._frame("events", EVENT_COLUMNS)

    @property
    def ignored(self):
        """Arriving segments that changed nothing, each with the reason (simulations only):
        ``segment`` is the row number in ``segments``, ``host`` the receiver."""
        return self._frame("ignored", IGNORED_COLUMNS)

    @property
    def tcb(self):
        """Each connection's TCB after every event (simulations only): for the buffer view.

        Columns: ``TCB_COLUMNS``. Sequence numbers are absolute; ``rcv_wnd`` is the window
        last advertised (bytes), ``snd_wnd`` the peer's (bytes, scaled), ``timers`` a dict
        name -> deadline (``rto``, ``tlp``, ``delack``, ``persist``, ``time_wait``, ``fin_wait_2``).
        """
        if "tcb" not in self._frames:
            import pandas as pd
            self._frames["tcb"] = pd.DataFrame(self._tcb_rows, columns=TCB_COLUMNS)
        return self._frames["tcb"]

    @property
    def name(self):
        return self.doc.get("name")

    @property
    def hosts(self):
        return self.doc.get("hosts", {})

    def to_dict(self) -> dict:
        return self.doc

    def to_json(self, indent=None) -> str:
        return json.dumps(self.doc, indent=indent, sort_keys=False)

    def to_pcap(self, path):
        from .pcap import write_pcap
        write_pcap(self.doc, path)

    def __repr__(self):
        d = self.doc
        return (f"<Trace {d.get('name')!r} {d.get('profile')}: {len(d.get('segments', []))} segments, "
                f"{len(d.get('states', []))} state changes, {len(d.get('events', []))} events>")
