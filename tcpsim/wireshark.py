"""Ground truth next to Wireshark's guess, for the same segments (notebook 06).

    from tcpsim import wireshark
    wireshark.compare(trace, vantage="receiver")   # one row per segment, both labels
    wireshark.mislabelled(trace, vantage="receiver")   # only the rows where they disagree

Wireshark's TCP analysis (``tcp.analysis.*``, epan/dissectors/packet-tcp.c) sees only the
packets at one capture point and has to guess what each one is. tcpsim's capture reader
computes the same labels (``tcpsim/pcap.py``: identical to tshark's on every shipped
capture, docs/captures.md "Analysis labels"); the simulator knows what each segment really
is. ``compare`` writes a simulated trace as the pcap a capture at one point would have
recorded, reads it back with those labels, and puts them next to the truth:

* ``vantage="sender"``: tcpdump on the data sender's host (as the shipped captures, taken on
  ``lo``): the sender's segments when they leave, lost ones included, the peer's when they
  arrive;
* ``vantage="receiver"``: tcpdump on the receiver's host: the sender's segments when (and
  if) they arrive, in arrival order, the receiver's own when they leave.

A real capture (``course.capture``) is compared as it is (its vantage is the one it was
taken at, the sender's host for the shipped ones), its truth from the faults the capture
tool applied (``drops_marked``).

Columns (``COLUMNS``): ``frame`` (the packet's number in that pcap, from 1), ``i`` (the
trace's row), ``t`` (capture time), ``src``, ``flags``, ``rel_seq``, ``len``, ``truth``
(``TRUTHS``), ``wireshark`` (``LABELS``), ``agrees`` and ``why`` (where they do not).

``previous segment not captured`` (``tcp.analysis.lost_segment``) is computed here, not in
the reader: a segment starting beyond the highest sequence number its side has sent so far
(its next seq) tells Wireshark that something in between did not pass the capture point.
"""
from __future__ import annotations

import os
import tempfile

from .segment import SEQ_MASK, seq_lt

TRUTHS = ("first transmission", "first transmission, overtaken on the way",
          "first transmission, lost after this point", "retransmission, needed",
          "retransmission, not needed", "retransmission, lost after this point",
          "control or ACK")
LABELS = ("", "retransmission", "out-of-order", "previous segment not captured",
          "duplicate ACK", "window update", "zero window", "keep-alive")
COLUMNS = ["frame", "i", "t", "src", "flags", "rel_seq", "len", "truth", "wireshark",
           "agrees", "why"]
VANTAGES = ("sender", "receiver")

WHY = {
    ("retransmission", "first transmission, overtaken on the way"):
        "a first transmission that arrived late (reordered) looks like a re-send: its bytes "
        "are below what the capture has already seen, and it came more than one handshake "
        "RTT after the highest segment, so Wireshark takes it for a retransmission",
    ("retransmission", "first transmission"):
        "a first transmission taken for a retransmission: it starts below the highest "
        "sequence number already seen from that side",
    ("out-of-order", "retransmission, needed"):
        "a retransmission taken for an out-of-order segment: its bytes were never seen here "
        "(the first copy was lost before this capture point) and it came within one "
        "handshake RTT of the highest segment",
    ("out-of-order", "retransmission, not needed"):
        "a retransmission taken for an out-of-order segment: its bytes had not been seen "
        "here yet and it came within one handshake RTT of the highest segment",
    ("out-of-order", "first transmission"):
        "a first transmission in order taken for an out-of-order one",
}


def _rows_at(trace, vantage, sender):
    """The trace's segment rows as a capture at ``vantage`` records them: [(capture time,
    row)] in capture order."""
    seen = []
    for order, r in enumerate(trace.doc.get("segments", [])):
        outgoing = (r["src"] == sender) == (vantage == "sender")
        if outgoing:
            seen.append((r["t"], order, r))
        elif not r.get("dropped"):
            arrival = r.get("arrival")
            seen.append((r["t"] if arrival is None else arrival, order, r))
            for copy in r.get("copies") or ():      # a duplicate fault's extra copies
                seen.append((copy, order, r))
    seen.sort(key=lambda e: (round(e[0], 9), e[1]))
    return [(t, r) for t, _, r in seen]


def _first_data_sender(trace) -> str:
    for r in trace.doc.get("segments", []):
        if r["len"] > 0:
            return r["src"]
    names = list(trace.hosts)
    return names[0] if names else "client"


def _truths(trace):
    """{row i: truth} for every segment of a trace whose drops and arrivals are known."""
    from .retransmissions import retransmissions
    rows = trace.doc.get("segments", [])
    re_sent = {int(x["i"]): x for _, x in retransmissions(trace).iterrows()}
    out = {}
    for r in rows:
        space = r["len"] + ("S" in r["flags"]) + ("F" in r["flags"])
        if not space or "R" in r["flags"]:
            out[r["i"]] = "control or ACK"
            continue
        if r["i"] in re_sent:
            needed = re_sent[r["i"]]["needed"]
            out[r["i"]] = ("retransmission, lost after this point" if r.get("dropped") else
                           "retransmission, needed" if needed is not False else
                           "retransmission, not needed")
        elif r.get("dropped"):
            out[r["i"]] = "first transmission, lost after this point"
        elif _overtaken(r, rows):
            out[r["i"]] = "first transmission, overtaken on the way"
        else:
            out[r["i"]] = "first transmission"
    return out


def _overtaken(row, rows) -> bool:
    """Did a segment its sender sent after it arrive before it?"""
    arrival = row.get("arrival")
    if arrival is None:
        return False
    return any(r["src"] == row["src"] and r["t"] > row["t"] and not r.get("dropped")
               and r.get("arrival") is not None and r["arrival"] < arrival
               for r in rows)


def _label(row) -> str:
    for key, name in (("retransmission", "retransmission"), ("out_of_order", "out-of-order"),
                      ("lost_segment", "previous segment not captured"),
                      ("dup_ack", "duplicate ACK"), ("window_update", "window update"),
                      ("zero_window", "zero window"), ("keep_alive", "keep-alive")):
        if row.get(key):
            return name
    return ""


def lost_segments(rows) -> list:
    """Wireshark's ``tcp.analysis.lost_segment`` ("previous segment not captured") for each
    row of a capture's segment rows, in order: the segment starts beyond its side's next
    seq (the end of the highest sequence space seen from that side), and is not a RST."""
    next_seq, out = {}, []
    for r in rows:
        space = r["len"] + ("S" in r["flags"]) + ("F" in r["flags"])
        nxt = next_seq.get(r["src"])
        out.append(nxt is not None and "R" not in r["flags"] and seq_lt(nxt, r["seq"]))
        end = (r["seq"] + space) & SEQ_MASK
        if nxt is None or seq_lt(nxt, end):
            next_seq[r["src"]] = end
    return out


def vantage_doc(trace, vantage="receiver", sender=None) -> dict:
    """The trace document as a capture at ``vantage`` records it: the segments it sees, at
    the times it sees them, in that order (module docstring)."""
    if vantage not in VANTAGES:
        raise ValueError(f"vantage: {vantage!r} is not one of {', '.join(VANTAGES)}")
    seen = _rows_at(trace, vantage, sender or _first_data_sender(trace))
    doc = dict(trace.doc)
    doc["segments"] = [dict(r, t=round(t, 6)) for t, r in seen]
    doc["origin"] = [r["i"] for _, r in seen]     # the trace row of each segment
    return doc


def write_pcap(trace, path, vantage="receiver", sender=None) -> None:
    """Write what a capture at ``vantage`` would have recorded, for Wireshark or tshark."""
    from .pcap import write_pcap as write
    write(vantage_doc(trace, vantage, sender), path, include_dropped=vantage == "sender")


def _captured(trace, vantage, sender):
    """(capture rows with Wireshark's labels, the trace row each one is) for a simulation."""
    from .pcap import read_pcap
    doc = vantage_doc(trace, vantage, sender)
    fd, path = tempfile.mkstemp(suffix=".pcap")
    os.close(fd)
    try:
        from .pcap import write_pcap as write
        write(doc, path)
        read = read_pcap(path).doc["segments"]
    finally:
        os.unlink(path)
    for row, seen in zip(read, doc["segments"]):     # back on the trace's clock
        row["t"] = seen["t"]
    return read, doc["origin"]


def compare(trace, vantage="receiver", sender=None):
    """Both labels for every segment at one capture point (module docstring), a DataFrame
    with ``COLUMNS``. ``sender``: the host whose data is followed (default: the first to
    send data); ``vantage`` "sender" or "receiver" (a simulation only)."""
    import pandas as pd
    from .trace import Trace
    if isinstance(trace, dict):
        trace = Trace(trace)
    if vantage not in VANTAGES:
        raise ValueError(f"vantage: {vantage!r} is not one of {', '.join(VANTAGES)}")
    is_capture = trace.doc.get("profile") is None
    if is_capture and not trace.doc.get("drops_marked"):
        raise ValueError("this capture does not say which segments its faults dropped; "
                         "compare a shipped capture (course.capture) or a simulation")
    sender = sender or _first_data_sender(trace)
    truths = _truths(trace)
    if is_capture:
        read = trace.doc["segments"]
        origin = [r["i"] for r in read]
    else:
        read, origin = _captured(trace, vantage, sender)
    lost = lost_segments(read)
    out = []
    for k, (row, i, lost_here) in enumerate(zip(read, origin, lost)):
        label = _label(dict(row, lost_segment=lost_here))
        truth = truths[i]
        agrees, why = _agrees(label, truth)
        out.append({"frame": row.get("frame", k + 1), "i": i, "t": row["t"], "src": row["src"],
                    "flags": row["flags"], "rel_seq": row["rel_seq"], "len": row["len"],
                    "truth": truth, "wireshark": label, "agrees": agrees, "why": why})
    return pd.DataFrame(out, columns=COLUMNS)


def _agrees(label, truth):
    """(does the label say what the segment is?, why not)."""
    if truth == "control or ACK":
        return True, ""
    if truth.startswith("retransmission"):
        if label == "retransmission":
            return True, ""
    elif label in ("", "previous segment not captured") or (
            label == "out-of-order" and truth == "first transmission, overtaken on the way"):
        return True, ""
    key = (label, "first transmission" if truth.endswith("lost after this point") and
           not truth.startswith("retransmission") else truth)
    why = WHY.get(key) or f"Wireshark says {label or 'nothing'!r}, the segment is a {truth}"
    return False, why


def mislabelled(trace, vantage="receiver", sender=None):
    """Only the rows of ``compare`` where Wireshark's label does not say what the segment is."""
    table = compare(trace, vantage, sender)
    return table[~table["agrees"]].reset_index(drop=True)
