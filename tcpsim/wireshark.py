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

The sequence labels (retransmission, fast retransmission, spurious retransmission,
out-of-order, previous segment not captured) are Wireshark 4.0's own rules, computed here
(``sequence_labels``) on the reader's rows; tests/test_retransmissions.py checks them
against tshark. The reader's other labels (duplicate ACK, window update, ...) are kept.
"""
from __future__ import annotations

import os
import tempfile

from .segment import SEQ_MASK, seq_lt

TRUTHS = ("first transmission", "first transmission, overtaken on the way",
          "first transmission, lost after this point", "retransmission, needed",
          "retransmission, not needed", "retransmission, lost after this point",
          "control or ACK")
LABELS = ("", "retransmission", "fast retransmission", "spurious retransmission",
          "out-of-order", "previous segment not captured", "duplicate ACK", "window update",
          "zero window", "keep-alive")
RETRANSMISSION_LABELS = ("retransmission", "fast retransmission", "spurious retransmission")
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
    ("spurious retransmission", "first transmission, overtaken on the way"):
        "a first transmission that arrived after its own retransmission: the receiver had "
        "already acknowledged its bytes, so Wireshark takes the original for a spurious "
        "retransmission",
    ("fast retransmission", "first transmission, overtaken on the way"):
        "a first transmission that arrived late, after the receiver had sent two duplicate "
        "ACKs asking for exactly its bytes: Wireshark's fast-retransmission rule takes it "
        "for the repair",
    ("", "retransmission, needed"):
        "a retransmission that looks like new data: the first copy never reached this "
        "capture point and nothing sent after it had arrived yet",
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
    """Did a segment its sender sent after it (a later row) arrive before it?"""
    arrival = row.get("arrival")
    if arrival is None:
        return False
    return any(r["src"] == row["src"] and r["i"] > row["i"] and not r.get("dropped")
               and r.get("arrival") is not None and r["arrival"] < arrival
               for r in rows)


def _other_label(row) -> str:
    """The reader's labels that are not about sequence numbers (docs/captures.md)."""
    for key, name in (("dup_ack", "duplicate ACK"), ("window_update", "window update"),
                      ("zero_window", "zero window"), ("keep_alive", "keep-alive")):
        if row.get(key):
            return name
    return ""


def _handshake_rtt(rows):
    """Wireshark's ts_first_rtt: the first SYN to the first ACK of the SYN-ACK, or None."""
    syn_t = synack = None
    for r in rows:
        if syn_t is None and r["flags"] == "S":
            syn_t, client = r["t"], r["src"]
        elif syn_t is not None and "S" in r["flags"] and "A" in r["flags"] and r["src"] != client:
            synack = r["seq"]
        elif synack is not None and r["src"] == client and "A" in r["flags"] and \
                "S" not in r["flags"] and r["ack"] == (synack + 1) & SEQ_MASK:
            return round(r["t"] - syn_t, 9)
    return None


FAST_RETRANSMISSION_S = 0.020     # packet-tcp.c: within 20 ms of the peer's last ACK
OOO_THRESHOLD_DEFAULT_S = 0.003   # packet-tcp.c: ooo_thres without a handshake RTT


def sequence_labels(rows, handshake_rtt_s=None) -> list:
    """Wireshark 4.0's sequence analysis (packet-tcp.c, tcp_analyze_sequence_number()) for
    a capture's segment rows, in order: for each row "retransmission", "fast retransmission",
    "spurious retransmission", "out-of-order", "previous segment not captured" or "".

    A segment with data, SYN or FIN starting below its side's next seq (the end of the
    highest sequence space seen from that side) is, in this order: *spurious* if the peer's
    last ACK already covers it; a *fast retransmission* if the peer sent at least two
    duplicate ACKs in a row for exactly this seq, the last less than 20 ms ago; *out-of-order*
    if it comes less than ``handshake_rtt_s`` (the SYN to the ACK of the SYN-ACK; 3 ms if
    unknown) after the highest segment and does not end at the next seq; else a
    *retransmission*. A segment starting beyond the next seq: *previous segment not
    captured*. Keep-alives (one below the next seq, at most one byte) are none of these.
    ``rows`` need ``src``, ``flags``, ``seq``, ``ack``, ``len``, ``t`` and the reader's
    ``dup_ack`` label."""
    def ns(seconds):     # Wireshark compares whole nanoseconds
        return round(seconds * 1e9)
    threshold = ns(handshake_rtt_s or OOO_THRESHOLD_DEFAULT_S)
    fast = ns(FAST_RETRANSMISSION_S)
    side = {}          # src -> {"next", "next_t", "last_ack", "last_ack_t", "dups"}
    out = []
    for r in rows:
        me = side.setdefault(r["src"], {"next": None, "next_t": 0, "last_ack": None,
                                        "last_ack_t": 0, "dups": 0})
        peer = next((v for k, v in side.items() if k != r["src"]), None)
        flags, seq, length, t = r["flags"], r["seq"], r["len"], ns(r["t"])
        control = ("S" in flags) + ("F" in flags)
        end = (seq + length + control) & SEQ_MASK
        label = ""
        nxt = me["next"]
        if nxt is not None and "R" not in flags and seq_lt(nxt, seq):
            label = "previous segment not captured"
        if (length or control) and not r.get("keep_alive") and nxt is not None:
            behind = seq_lt(seq, nxt) and not (length > 1 and (nxt - 1) & SEQ_MASK == seq)
            if length and peer and peer["last_ack"] is not None and \
                    not seq_lt(peer["last_ack"], (seq + length) & SEQ_MASK):
                label = "spurious retransmission"
            elif behind and peer and peer["dups"] >= 2 and peer["last_ack"] == seq and \
                    t - peer["last_ack_t"] < fast:
                label = "fast retransmission"
            elif behind and t - me["next_t"] < threshold and nxt != end:
                label = "out-of-order"
            elif behind:
                label = "retransmission"
        if (length or control) and (nxt is None or seq_lt(nxt, end)):
            me["next"], me["next_t"] = end, t
        if "A" in flags:
            me["last_ack"], me["last_ack_t"] = r["ack"], t
        me["dups"] = me["dups"] + 1 if r.get("dup_ack") else 0
        out.append(label)
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
    write(vantage_doc(trace, vantage, sender), path)


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
    sequence = sequence_labels(read, _handshake_rtt(read))
    out = []
    for k, (row, i, seq_label) in enumerate(zip(read, origin, sequence)):
        label = seq_label or _other_label(row)
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
        if label in RETRANSMISSION_LABELS:
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
