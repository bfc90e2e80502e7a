"""From a capture to a scenario, and back to the wire (notebook 09).

    from tcpsim import infer
    inferred = infer.infer_scenario("capture.pcap")     # or a Trace from read_pcap
    inferred.scenario                                   # a scenario dict for tcpsim.run
    inferred.reasons                                    # why each action and fault is there
    replay = infer.replay("capture.pcap")               # infer, run (linux), compare
    replay.differences                                  # one row per segment (pandas)
    replay.summary()                                    # "27 of 27 segments the same ..."

A capture shows segments, not programs. ``infer_scenario`` reads back the programs'
calls **as far as the wire shows them** and the losses as drops (docs/captures.md,
"From a capture to a scenario", has every rule):

* ``listen`` when the server answered a SYN with a SYN-ACK; ``connect`` at each SYN;
* ``send`` for each run of new data ending at a PSH (Linux sets PSH at the end of a
  write, tcp_push(), and where it forces a push, which the simulator does too);
* ``close`` at a FIN, or ``{"on": "eof"}`` when the FIN is the side's first segment after
  the peer's FIN and acknowledges it (a program that closes when read() returns 0);
  ``shutdown`` when the side kept acknowledging the peer's data after its FIN;
* ``abort`` at a RST that answers nothing (RFC 9293 §3.10.7.1's reply to a segment for
  which no connection exists is the simulator's own business, so is keepalive's RST);
* ``read`` off while the receive window's right edge stands still for at least
  ``NOT_READING_MIN_BYTES`` received, on again at the window update;
* host options from the SYNs (timestamps, SACK, window scale, MSS, Fast Open), the ISNs,
  ``nodelay`` when a short segment left while an earlier short one was unacknowledged
  (Linux's Nagle test, Minshall's variant, would have held it), keepalive from probes;
* a ``drop`` for each segment that the receiver behaved as if it never got: a SYN, FIN or
  data segment not acknowledged (cumulatively or by SACK) before its next copy, an ACK
  whose sender's peer re-sent what it acknowledged; a ``delay`` for a data segment that
  was SACKed around, retransmitted and then reported as a duplicate (D-SACK, RFC 2883); a
  ``duplicate`` for a segment sent once and reported twice.

``replay`` runs the scenario through the ``linux`` profile, writes the run as a pcap and
reads it back (so both pass through the same reader, as tests/test_fidelity.py does) and
aligns the two segment lists (difflib, on direction, flags, relative seq and ack, length).
"""
from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass, field

from .errors import CaptureError
from .profiles import LINUX
from .keepalive import TCP_KEEPALIVE_PROBES
from .syncookies import MSSTAB

SEQ_SPACE = 2 ** 32
LOOPBACK_RTT_S = 0.001          # a handshake faster than this was captured on one machine:
#                                 both ends see every segment at its send time
DEFAULT_DELAY_S = 0.00001       # the scenario default (docs/scenario.md)
NO_HANDSHAKE_RTT_S = 0.003      # the reader's out-of-order threshold without a handshake
EOF_CLOSE_WITHIN_S = LINUX.delayed_ack_s   # a FIN this soon after the peer's FIN, without
#                                 any segment between (no delayed ACK), closed on read() = 0
HELD_MIN_S = 0.001              # an answer due at once that came this much later: held
NOT_READING_MIN_BYTES = 16384   # received while the window's right edge stood still
NOT_READING_RATIO = 0.5         # right edge advanced by less than this part of what arrived
WINDOW_UPDATE_MIN_BYTES = 4096  # a window update this big after a stall: the program read
KEEPALIVE_MIN_IDLE_S = 1.0      # TCP_KEEPIDLE is whole seconds, at least 1 (tcp_sock_set_keepidle)
AFTER_CAPTURE_S = 1.0           # the run goes on this long after the capture's last segment
MIN_FULL_SEGMENT = 536         # the smallest MSS a host must accept (RFC 9293 §3.7.1)
MSS_TO_MTU = 40                 # IPv4 + TCP headers without options (RFC 879)
MTU_DEFAULT = 1500              # Ethernet, when no SYN announces an MSS


@dataclass
class Inferred:
    """A scenario read back from one connection of a capture."""
    scenario: dict
    reasons: list = field(default_factory=list)   # {"what": ..., "why": ...} per part
    notes: list = field(default_factory=list)     # what the capture could not tell

    def explain(self) -> str:
        lines = [f"{r['what']}: {r['why']}" for r in self.reasons]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _load(capture, stream):
    """A capture doc from a path, a Trace or a doc."""
    if isinstance(capture, (str, os.PathLike)):
        from .pcap import read_pcap
        return read_pcap(capture, stream=stream).doc
    doc = getattr(capture, "doc", capture)
    if not isinstance(doc, dict) or "segments" not in doc or "hosts" not in doc:
        raise CaptureError("infer: expected a capture path, a Trace from read_pcap or its doc")
    return doc


# ------------------------------------------------------------------------- helpers
class _Conn:
    """The capture's rows with what the rules need per row."""

    def __init__(self, doc):
        self.doc = doc
        self.rows = doc["segments"]
        self.hosts = doc["hosts"]
        self.base = {}
        for r in self.rows:     # the side's relative-numbering base (its ISN, or first seq - 1)
            self.base.setdefault(r["src"], (r["seq"] - r["rel_seq"]) % SEQ_SPACE)
        self.syn = {h: next((r for r in self.rows if r["src"] == h and "S" in r["flags"]), None)
                    for h in ("client", "server")}

    @staticmethod
    def peer(host):
        return "server" if host == "client" else "client"

    @staticmethod
    def space(r):
        return r["len"] + ("S" in r["flags"]) + ("F" in r["flags"])

    def rel_sack(self, r):
        """SACK blocks of row r in its receiver's (the data sender's) relative numbers."""
        base = self.base.get(r["dst"], 0)
        return [((a - base) % SEQ_SPACE, (b - base) % SEQ_SPACE)
                for a, b in r["options"].get("sack", ())]

    def covers(self, r, start, end):
        """Does peer row r acknowledge [start, end) (cumulative ACK or a SACK block)?"""
        if "A" not in r["flags"] or r["rel_ack"] is None:
            return False
        if r["rel_ack"] >= end:
            return True
        return any(a <= start and end <= b for a, b in self.rel_sack(r))

    def dsack(self, r, start, end):
        """Does row r report [start, end) as received twice (RFC 2883: a first SACK block
        below the cumulative ACK, or inside the second block)?"""
        blocks = self.rel_sack(r)
        if not blocks or r["rel_ack"] is None:
            return False
        a, b = blocks[0]
        below = b <= r["rel_ack"]
        inside = len(blocks) > 1 and blocks[1][0] <= a and b <= blocks[1][1]
        return (below or inside) and a <= start and end <= b


def _handshake(conn):
    """(rtt_s, vantage) from the handshake: the client's first ACK after a SYN-ACK, the last
    SYN-ACK before it and the last SYN before that (copies before were lost). vantage is
    "both" (one machine: loopback), "client" or "server" (the side the capture was taken
    on), or None. A simultaneous open has no such handshake: its RTT is the quickest
    answer to a data segment."""
    rows = conn.rows

    def plain(r):
        return r["flags"].replace("E", "").replace("C", "")
    syns = {r["src"] for r in rows if plain(r) == "S"}
    if len(syns) == 1:
        client = syns.pop()
        answer = [r["t"] - max(x["t"] for x in rows[:k] if x["src"] == client and plain(x) == "S")
                  for k, r in enumerate(rows) if r["src"] != client and "S" in r["flags"]
                  and "A" in r["flags"] and any(x["src"] == client for x in rows[:k])]
        acks = [r["t"] - max(x["t"] for x in rows[:k] if x["src"] != client and "S" in x["flags"])
                for k, r in enumerate(rows) if r["src"] == client and "S" not in r["flags"]
                and "A" in r["flags"] and any(x["src"] != client and "S" in x["flags"] for x in rows[:k])]
        if answer and acks:
            there, back = min(answer), min(acks[:1])
            rtt = there + back
            if rtt < LOOPBACK_RTT_S:
                return rtt, "both"
            return rtt, client if there >= back else conn.peer(client)
    samples = []
    for k, r in enumerate(rows):
        if r["len"] and not r["retransmission"]:
            end = r["rel_seq"] + r["len"] + ("S" in r["flags"])
            j = next((j for j in range(k + 1, len(rows)) if rows[j]["src"] != r["src"]
                      and (rows[j]["rel_ack"] or 0) >= end), None)
            if j is not None:
                samples.append(rows[j]["t"] - r["t"])
    if samples and min(samples) < LOOPBACK_RTT_S:
        return min(samples), "both"
    return None, None


# ------------------------------------------------------------------------- losses
def _losses(conn, rtt, delay):
    """Rows the receiver behaved as if it never got: {row index: why}; and rows that
    arrived late or twice: {row index: ("delay" | "duplicate", extra_s, why)}."""
    rows = conn.rows
    lost, late = {}, {}
    eps = rtt if rtt is not None else NO_HANDSHAKE_RTT_S
    end_t = rows[-1]["t"] if rows else 0.0
    for k, r in enumerate(rows):
        space = conn.space(r)
        if not space or "R" in r["flags"]:
            continue
        if r.get("keep_alive"):
            continue
        h, p = r["src"], conn.peer(r["src"])
        start = r["rel_seq"] + ("S" in r["flags"])
        end = r["rel_seq"] + space
        data_start, data_end = (start, start + r["len"]) if r["len"] else (r["rel_seq"], end)
        nxt = next((j for j in range(k + 1, len(rows)) if rows[j]["src"] == h
                    and conn.space(rows[j]) and "R" not in rows[j]["flags"]
                    and ("S" not in r["flags"] or rows[j]["flags"] == r["flags"])
                    and rows[j]["rel_seq"] < end and rows[j]["rel_seq"] + conn.space(rows[j]) > r["rel_seq"]),
                   None)
        stop = nxt if nxt is not None else len(rows)
        acked = next((j for j in range(k + 1, stop) if rows[j]["src"] == p
                      and (conn.covers(rows[j], data_start, data_end)
                           or ("R" in rows[j]["flags"] and "A" in rows[j]["flags"]
                               and rows[j]["rel_ack"] is not None and rows[j]["rel_ack"] >= end))),
                     None)
        if acked is not None:
            crossed = [j for j in range(k + 1, acked) if rows[j]["src"] == p
                       and "R" not in rows[j]["flags"] and rows[j]["t"] > r["t"] + delay]
            gap = rows[acked]["t"] - r["t"]
            at_once = "S" in r["flags"] or any(rows[j]["src"] == p and "F" in rows[j]["flags"]
                                               for j in range(k))   # in FIN-WAIT: ACKed at once
            slow = at_once and gap > 2 * delay + HELD_MIN_S
            if (crossed or slow) and ("S" in r["flags"] or "F" in r["flags"]) and not r["retransmission"]:
                what = "SYN" if "S" in r["flags"] else "FIN"
                # it arrived before its answer, and before the sender's next segment did if
                # the receiver answered that one later (crossing SYN-ACKs)
                after = next((j for j in range(k + 1, acked) if rows[j]["src"] == h), None)
                arrival = min(rows[acked]["t"], rows[after]["t"] + delay if after else rows[acked]["t"])
                late[k] = ("delay", arrival - delay / 2 - r["t"] - delay,
                           (f"{p} sent {len(crossed)} segment(s) after {h}'s {what} could have "
                            "arrived that do not acknowledge it" if crossed else
                            f"{p} answers a {what} at once here")
                           + f", and acknowledged it only {gap * 1000:.3f} ms later: it was "
                           "held on the way")
            continue
        if nxt is None and end_t - r["t"] <= eps:
            continue                    # the capture ended before an answer could come
        twice = next((j for j in range(stop, len(rows)) if rows[j]["src"] == p
                      and r["len"] and conn.dsack(rows[j], data_start, data_end)), None)
        if twice is not None:
            holes = any(rows[j]["src"] == p and rows[j]["rel_ack"] is not None
                        and rows[j]["rel_ack"] <= data_start
                        and any(a >= data_end for a, _ in conn.rel_sack(rows[j]))
                        for j in range(k + 1, stop))
            if holes:
                late[k] = ("delay", rows[twice]["t"] - r["t"],
                           (f"SACKed around, retransmitted, then reported twice (D-SACK) at "
                           f"{rows[twice]['t']:.6f} s: it arrived late"))
            continue                    # received; its ACK was only pending
        what = "SYN" if "S" in r["flags"] else "FIN" if not r["len"] else f"{r['len']} bytes"
        lost[k] = (f"{h}'s {what} at rel seq {r['rel_seq']} was not acknowledged "
                   + ("before its next copy" if nxt is not None else "afterwards"))
    # duplicates: a data segment sent once and reported twice
    for k, r in enumerate(rows):
        if not r["len"] or r["retransmission"] or k in lost or k in late:
            continue
        start = r["rel_seq"] + ("S" in r["flags"])
        end = start + r["len"]
        copies = [j for j, x in enumerate(rows) if x["src"] == r["src"] and x["len"]
                  and x["rel_seq"] < end and x["rel_seq"] + x["len"] > start]
        if len(copies) != 1:
            continue
        twice = next((j for j in range(k + 1, len(rows)) if rows[j]["src"] == conn.peer(r["src"])
                      and conn.dsack(rows[j], start, end)), None)
        if twice is not None:
            late[k] = ("duplicate", rows[twice]["t"] - r["t"],
                       (f"sent once, reported twice (D-SACK) at {rows[twice]['t']:.6f} s: "
                       "the network duplicated it"))
    # a FIN that came again unseen: an ACK of the peer's FIN, long after it, that nothing
    # captured prompted (the capture point missed a duplicate: it came by another path)
    for k, r in enumerate(rows):
        if r["flags"] != "A" or r["len"] or r.get("keep_alive") or not k:
            continue
        h, p = r["src"], conn.peer(r["src"])
        fins = [j for j in range(k) if rows[j]["src"] == p and "F" in rows[j]["flags"]]
        if not fins:
            continue
        fin = rows[fins[-1]]
        fin_end = fin["rel_seq"] + conn.space(fin)
        before = rows[k - 1]
        acked_before = any(rows[j]["src"] == h and (rows[j]["rel_ack"] or 0) >= fin_end
                           for j in range(fins[-1] + 1, k))
        if r["rel_ack"] == fin_end and acked_before and before["src"] == h \
                and r["t"] - before["t"] > max(eps, EOF_CLOSE_WITHIN_S):
            late.setdefault(fins[0], ("duplicate", r["t"] - fin["t"] - delay,
                                      (f"{h} acknowledged {p}'s FIN again at {r['t']:.6f} s with "
                                      "nothing captured before it: a copy of the FIN arrived "
                                      "that the capture did not see")))
    # ACKs that never arrived: the peer re-sent what they acknowledged, or probed again
    for k, r in enumerate(rows):
        if "A" not in r["flags"] or conn.space(r) or "R" in r["flags"] or r["len"]:
            continue
        h, p = r["src"], conn.peer(r["src"])
        later = next((j for j in range(k + 1, len(rows)) if rows[j]["src"] == p), None)
        if later is None or rows[later]["t"] - r["t"] <= eps:
            continue
        x = rows[later]
        resent = conn.space(x) and x["retransmission"] and \
            x["rel_seq"] + conn.space(x) <= (r["rel_ack"] or 0)
        probe_again = x.get("keep_alive") and any(
            rows[j].get("keep_alive") and rows[j]["src"] == p for j in range(k))
        gave_up = "R" in x["flags"] and any(rows[j].get("keep_alive") and rows[j]["src"] == p
                                            for j in range(k))
        if resent or probe_again or gave_up:
            lost[k] = (f"{h}'s ACK {r['rel_ack']} at {r['t']:.6f} s: {p} "
                       + ("re-sent what it acknowledged" if resent else
                          "probed again" if probe_again else "gave up on the connection")
                       + ", so it never arrived")
    return lost, late


# ------------------------------------------------------------------------- the calls
def _writes(conn, host, merge=False):
    """[(t, bytes, first row index, last row index)]: the side's new data, one write per run
    ending at a PSH or a FIN; with ``merge``, a run that started before the peer had
    acknowledged the one before is part of the same write (one big write, pushed in parts)."""
    if merge:
        merged = []
        for w in _writes(conn, host):
            if merged:
                prev = merged[-1]
                last = conn.rows[prev[3]]
                end = last["rel_seq"] + last["len"] + ("S" in last["flags"])
                acked = any(r["src"] != host and (r["rel_ack"] or 0) >= end
                            for r in conn.rows[prev[3] + 1:w[2]])
                if not acked:
                    merged[-1] = (prev[0], prev[1] + w[1], prev[2], w[3])
                    continue
            merged.append(w)
        return merged
    writes, sent_end, current = [], None, None
    for k, r in enumerate(conn.rows):
        if r["src"] != host or not r["len"] or "R" in r["flags"]:
            continue
        start = r["rel_seq"] + ("S" in r["flags"])
        end = start + r["len"]
        new = end - max(start, sent_end if sent_end is not None else start)
        if new > 0:
            sent_end = end
            if current is None:
                current = [r["t"], 0, k, k]
            current[1] += new
            current[3] = k
        if current is not None and ("P" in r["flags"] or "F" in r["flags"]):
            writes.append(tuple(current))
            current = None
    if current is not None:
        writes.append(tuple(current))
    return writes


def _reading(conn, host, wscale):
    """[(t, "off" | "auto", why)]: when the side's program stopped and resumed reading, from
    its receive window's right edge (ack + scaled window)."""
    mine = [r for r in conn.rows if r["src"] == host and "S" not in r["flags"]
            and "R" not in r["flags"] and "A" in r["flags"] and r["rel_ack"] is not None]
    if len(mine) < 2:
        return []
    scale = 1 << wscale
    first = mine[0]
    stall_edge = first["rel_ack"] + first["win"] * scale
    for k in range(1, len(mine)):
        r, prev = mine[k], mine[k - 1]
        edge = r["rel_ack"] + r["win"] * scale
        got = r["rel_ack"] - first["rel_ack"]
        if r["rel_ack"] == prev["rel_ack"] and (r["win"] - prev["win"]) * scale >= WINDOW_UPDATE_MIN_BYTES:
            moved = prev["rel_ack"] + prev["win"] * scale - stall_edge
            if got >= NOT_READING_MIN_BYTES and moved < NOT_READING_RATIO * got:
                return [(0.0, "off", (f"{host} received {got} bytes while its window's right "
                         f"edge moved {moved} bytes: its program was not reading")),
                        (r["t"], "auto", (f"window update to {r['win'] * scale} bytes at "
                         f"{r['t']:.6f} s: the program read"))]
        stall_edge = min(stall_edge, edge) if got < NOT_READING_MIN_BYTES else stall_edge
    last = mine[-1]
    got = last["rel_ack"] - first["rel_ack"]
    moved = last["rel_ack"] + last["win"] * scale - stall_edge
    if got >= NOT_READING_MIN_BYTES and moved < NOT_READING_RATIO * got:
        return [(0.0, "off", (f"{host} received {got} bytes while its window's right edge "
                 f"moved {moved} bytes: its program was not reading"))]
    return []


def _keepalive(conn, host):
    """(options, [row indices of the probes], why) or None."""
    rows = conn.rows
    probes = []
    for k, r in enumerate(rows):
        if r["src"] != host or not r.get("keep_alive") or not k:
            continue
        peer_win = next((rows[j]["win"] for j in range(k - 1, -1, -1)
                         if rows[j]["src"] != host), None)
        gap = r["t"] - rows[k - 1]["t"]
        if peer_win != 0 and gap >= KEEPALIVE_MIN_IDLE_S * 0.9:
            probes.append(k)
    if not probes:
        return None
    idle = rows[probes[0]]["t"] - rows[probes[0] - 1]["t"]
    intvl = rows[probes[1]]["t"] - rows[probes[0]]["t"] if len(probes) > 1 else idle
    after = probes[-1] + 1
    gave_up = next((k for k in range(after, len(rows)) if rows[k]["src"] == host
                    and "R" in rows[k]["flags"]), None)
    count = len(probes) if gave_up is not None else max(TCP_KEEPALIVE_PROBES, len(probes) + 1)
    options = {"time": max(1, round(idle)), "intvl": max(1, round(intvl)), "probes": count}
    why = (f"{len(probes)} keepalive probe(s) (seq one below what the peer expects) after "
           f"{idle:.3f} s idle, {intvl:.3f} s apart"
           + (", then a RST: it gave up" if gave_up is not None else ""))
    return options, probes, why


def _host_options(conn, host, reasons):
    """Options read from the side's SYN (or SYN-ACK)."""
    syn = conn.syn[host]
    options = {}
    if syn is None:
        return options
    o = syn["options"]
    label = f"hosts.{host}.options"
    if "ts" not in o:
        options["timestamps"] = False
    if not o.get("sack_perm"):
        options["sack"] = False
    if "wscale" not in o:
        options["wscale"] = False
    elif o["wscale"] != LINUX.wscale:
        options["wscale"] = o["wscale"]
    if "tfo" in o:
        options["fastopen"] = True
    if options:
        reasons.append({"what": f"{label}: {options}",
                        "why": f"the options of {host}'s SYN: {sorted(o)}"})
    return options


def _nodelay(conn, host, mss):
    """A short first transmission while an earlier short one was unacknowledged; short:
    below the MSS, or below the largest segment the side sent if that is smaller and at
    least 536 bytes (full segments cut to a SYN cookie's MSS)."""
    rows = conn.rows
    biggest = max((r["len"] for r in rows if r["src"] == host), default=mss)
    if biggest >= MIN_FULL_SEGMENT:     # full segments smaller than the MSS (a SYN cookie's)
        mss = min(mss, biggest)
    pending = None      # end of the last short segment not yet acknowledged
    for r in rows:
        if r["src"] != host:
            if pending is not None and r["rel_ack"] is not None and r["rel_ack"] >= pending:
                pending = None
            continue
        if not r["len"] or r["retransmission"] or "S" in r["flags"]:
            continue
        if r["len"] < mss:
            if pending is not None:
                return r
            pending = r["rel_seq"] + r["len"]
    return None


def _cookie_mss(conn, mss):
    """The msstab value the server's segments are cut to when it answered with a SYN cookie
    that could not carry the options (no timestamps), else None."""
    syn, synack = conn.syn["client"], conn.syn["server"]
    if not syn or not synack or "A" not in synack["flags"] or "ts" in syn["options"]:
        return None
    offered = {"sack_perm", "wscale"} & set(syn["options"])
    if not offered or offered & set(synack["options"]):
        return None
    sizes = [r["len"] for r in conn.rows if r["src"] == "server" and r["len"]]
    biggest = max(sizes, default=0)
    if mss["client"] and biggest in MSSTAB and biggest < mss["client"]:
        return biggest
    return None


WRITES = ("psh", "merged")


def infer_scenario(capture, stream=None, writes="best") -> Inferred:
    """Infer a scenario from one connection of a capture (a path, a Trace or a doc); see the
    module's docstring and docs/captures.md for the rules.

    ``writes``: "psh" (a write ends at each PSH), "merged" (runs that started while the one
    before was unacknowledged are one write), or "best": both are run through the linux
    profile and the one that reproduces the capture better is kept (the first on a tie)."""
    if writes == "best":
        from .simulator import run
        doc = _load(capture, stream)
        tried = []
        for mode in WRITES:
            inferred = infer_scenario(doc, writes=mode)
            tried.append((similarity(compare(doc, run(inferred.scenario))), mode, inferred))
        _score, mode, best = max(tried, key=lambda x: (x[0], -WRITES.index(x[1])))
        best.reasons.append({"what": f"writes: {mode}", "why": "reproduces the capture best: "
                             + ", ".join(f"{m} {s:.3f}" for s, m, _ in tried)})
        return best
    if writes not in WRITES:
        raise ValueError(f"writes: must be one of 'best', 'psh', 'merged', not {writes!r}")
    doc = _load(capture, stream)
    conn = _Conn(doc)
    rows = conn.rows
    reasons, notes = [], []
    if not rows:
        raise CaptureError("infer: the capture has no segments")
    rtt, vantage = _handshake(conn)
    delay = DEFAULT_DELAY_S if rtt is None else max(rtt / 2, 1e-6)
    if rtt is None:
        notes.append("no complete handshake in the capture: the link delay is the default, "
                     f"{DEFAULT_DELAY_S} s")
    far = None if vantage in (None, "both") else conn.peer(vantage)

    def when(r):
        """The time a program acted, for row r: the capture's, one link delay earlier for
        segments seen arriving from the far side."""
        return round(max(r["t"] - (delay if r["src"] == far else 0.0), 0.0), 6)

    hosts = {}
    for h in ("client", "server"):
        info = {"port": doc["hosts"][h]["port"]}
        if doc["hosts"][h].get("isn") is not None:
            info["isn"] = doc["hosts"][h]["isn"]
        opts = _host_options(conn, h, reasons)
        if opts:
            info["options"] = opts
        hosts[h] = info
    mss = {h: (conn.syn[h] or {}).get("options", {}).get("mss") for h in hosts}
    known = [m for m in mss.values() if m]
    mtu = max(known) + MSS_TO_MTU if known else MTU_DEFAULT
    for h, m in mss.items():
        if m and m + MSS_TO_MTU < mtu:
            hosts[h].setdefault("options", {})["mss"] = m
    cookie_mss = _cookie_mss(conn, mss)
    if cookie_mss:
        hosts["server"].setdefault("options", {})["syn_cookies"] = 2
        reasons.append({"what": "hosts.server.options.syn_cookies: 2",
                        "why": f"the server's full segments are {cookie_mss} bytes, the client's MSS "
                        f"{mss['client']} rounded down to the SYN-cookie table {MSSTAB} "
                        "(net/ipv4/syncookies.c msstab), and its SYN-ACK dropped the options a "
                        "cookie without timestamps cannot carry: it answered with a SYN cookie"})
    link = {"mtu": min(mtu, 65536), "delay": round(delay, 7)}
    reasons.append({"what": f"link: {link}",
                    "why": ("MSS " + ", ".join(f"{h} {m}" for h, m in mss.items() if m) + " + 40"
                            if known else "no SYN with an MSS: Ethernet's 1500")
                    + (f"; the delay is half the handshake's {rtt * 1e6:.0f} µs" if rtt else "")})

    actions, faults = [], []

    def act(action, why):
        actions.append(action)
        reasons.append({"what": f"actions[{len(actions) - 1}]: {action}", "why": why})

    syns = {h: [k for k, r in enumerate(rows) if r["src"] == h and "S" in r["flags"]
                and "A" not in r["flags"]] for h in hosts}
    synacks = {h: [k for k, r in enumerate(rows) if r["src"] == h and "S" in r["flags"]
                   and "A" in r["flags"]] for h in hosts}
    simultaneous = bool(syns["client"] and syns["server"])
    if not syns["client"] and not syns["server"]:
        notes.append("the capture starts after the handshake: the run opens the connection "
                     "itself, so its first segments are not in the capture")
    lost, late = _losses(conn, rtt, delay)
    from .pcap import _no_socket_replies    # the reader's own rule (docs/captures.md, rule 4)
    control = [k for k, r in enumerate(rows) if {"S", "F", "R"} & set(r["flags"])]
    replies = _no_socket_replies(rows, control)
    reply_rsts = set()
    for x, who in replies.items():
        reply_rsts.add(next(k for k in range(x + 1, len(rows)) if rows[k]["src"] == who
                            and "R" in rows[k]["flags"]))
    refused = any("S" in rows[x]["flags"] and "A" not in rows[x]["flags"] for x in replies)
    if synacks["server"] and not simultaneous:
        act({"at": 0.0, "host": "server", "do": "listen"},
            f"the server answered the SYN with a SYN-ACK at {rows[synacks['server'][0]]['t']:.6f} s")
    elif not simultaneous and syns["client"] and not refused and not synacks["server"]:
        act({"at": 0.0, "host": "server", "do": "listen"},
            "nothing answered the client's SYN: a listener whose SYNs were lost "
            "(a port without one answers with a RST)")
    elif refused:
        reasons.append({"what": "no listen", "why": "the server answered the SYN with a RST "
                        "(RFC 9293 §3.10.7.1): no program listened"})
    if not syns["client"] and not syns["server"]:
        act({"at": 0.0, "host": "server", "do": "listen"}, "the connection was open before the capture")
        act({"at": 0.0, "host": "client", "do": "connect", "to": "server"},
            "the connection was open before the capture")
    for h in ("client", "server"):
        if syns[h]:
            r = rows[syns[h][0]]
            act({"at": when(r), "host": h, "do": "connect", "to": conn.peer(h)},
                f"{h}'s SYN at {r['t']:.6f} s" + (" (simultaneous open: both sent a SYN)"
                                                  if simultaneous else ""))

    timed = []      # (t, order, action, why) for sends, reads, closes, aborts
    wscale = {h: (conn.syn[h] or {}).get("options", {}).get("wscale") for h in hosts}
    both_scale = all(w is not None for w in wscale.values())
    keep = {}
    for h in ("client", "server"):
        for t, n, k0, k1 in _writes(conn, h, merge=writes == "merged"):
            first = rows[k0]
            timed.append((when(first), 1, {"host": h, "do": "send", "bytes": n},
                          (f"{h} sent {n} new bytes from {first['t']:.6f} s (rows {k0}..{k1}, "
                          f"{'PSH' if 'P' in rows[k1]['flags'] else 'FIN' if 'F' in rows[k1]['flags'] else 'the last data'} "
                          "ends the write)")))
        for t, mode, why in _reading(conn, h, wscale[h] if both_scale else 0):
            timed.append((t, 0 if mode == "off" else 1, {"host": h, "do": "read", "mode": mode}, why))
        ka = _keepalive(conn, h)
        if ka:
            keep[h] = ka
            hosts[h].setdefault("options", {})["keepalive"] = ka[0]
            reasons.append({"what": f"hosts.{h}.options.keepalive: {ka[0]}", "why": ka[2]})
        short = _nodelay(conn, h, (mss[conn.peer(h)] or 536) -
                         (12 if "ts" in ((conn.syn[h] or {}).get("options") or {}) else 0))
        if short is not None:
            hosts[h].setdefault("options", {})["nodelay"] = True
            reasons.append({"what": f"hosts.{h}.options.nodelay: true",
                            "why": f"a {short['len']}-byte segment left at {short['t']:.6f} s "
                            "while an earlier short one was unacknowledged: Nagle was off"})
    # FINs and RSTs
    for h in ("client", "server"):
        p = conn.peer(h)
        fin = next((k for k, r in enumerate(rows) if r["src"] == h and "F" in r["flags"]), None)
        if fin is not None:
            r = rows[fin]
            fin_end = r["rel_seq"] + conn.space(r)
            peer_fin = next((k for k in range(fin) if rows[k]["src"] == p and "F" in rows[k]["flags"]), None)
            on_eof = False
            if peer_fin is not None:
                pf = rows[peer_fin]
                pf_end = pf["rel_seq"] + conn.space(pf)
                last_copy = max(k for k in range(fin) if rows[k]["src"] == p and "F" in rows[k]["flags"])
                between = [k for k in range(last_copy + 1, fin) if rows[k]["src"] == h]
                on_eof = (r["rel_ack"] is not None and r["rel_ack"] >= pf_end and not between
                          and r["t"] - rows[last_copy]["t"] < EOF_CLOSE_WITHIN_S)
            later_data = [k for k in range(fin + 1, len(rows)) if rows[k]["src"] == p and rows[k]["len"]
                          and not rows[k]["retransmission"]]
            acked_on = later_data and any(rows[j]["src"] == h and "R" not in rows[j]["flags"]
                                          and (rows[j]["rel_ack"] or 0) >= rows[later_data[-1]]["rel_seq"] + rows[later_data[-1]]["len"]
                                          for j in range(later_data[-1] + 1, len(rows)))
            do = "shutdown" if acked_on else "close"
            if on_eof and do == "close":
                act({"on": "eof", "host": h, "do": "close"},
                    f"{h}'s FIN at {r['t']:.6f} s acknowledges {p}'s FIN and is {h}'s first segment "
                    "after it: its program closed when read() returned 0")
            else:
                timed.append((when(r), 2, {"host": h, "do": do},
                              f"{h}'s FIN at {r['t']:.6f} s (rel seq {fin_end - 1})"
                              + (f"; {h} went on acknowledging {p}'s data after it: a half-close"
                                 if do == "shutdown" else "")))
        rst = next((k for k, r in enumerate(rows) if r["src"] == h and "R" in r["flags"]
                    and k not in reply_rsts), None)
        if rst is not None and h not in keep:
            r = rows[rst]
            timed.append((when(r), 3, {"host": h, "do": "abort"},
                          (f"{h}'s RST at {r['t']:.6f} s answers no segment: its program aborted "
                          "(SO_LINGER 0, or close() with unread data: RFC 9293 §3.10.4)")))
    for t, order, action, why in sorted(timed, key=lambda x: (x[0], x[1])):
        act({"at": t, **action}, why)
    # faults
    drops = {}
    data_index = {h: 0 for h in hosts}
    first_tx = {}
    for k, r in enumerate(rows):
        if r["len"] and not r["retransmission"] and "R" not in r["flags"]:
            data_index[r["src"]] += 1
            first_tx[k] = data_index[r["src"]]
    flag_index = {}
    nth_of = {}
    for k, r in enumerate(rows):
        key = (r["src"], r["flags"])
        flag_index[key] = flag_index.get(key, 0) + 1
        nth_of[k] = flag_index[key]
    for k in sorted(lost):
        r = rows[k]
        if k in first_tx:
            fault = {"drop": {"from": r["src"], "data_segment": first_tx[k]}}
            faults.append(fault)
            reasons.append({"what": f"faults[{len(faults) - 1}]: {fault}", "why": lost[k]})
        else:
            drops.setdefault((r["src"], r["flags"]), []).append((nth_of[k], lost[k]))
    for (src, flags), items in drops.items():
        fault = {"drop": {"from": src, "flags": flags, "nth": [n for n, _ in items]}}
        faults.append(fault)
        reasons.append({"what": f"faults[{len(faults) - 1}]: {fault}",
                        "why": "; ".join(why for _, why in items)})
    for k in sorted(late):
        kind, extra, why = late[k]
        r = rows[k]
        extra = round(max(extra, 1e-6), 6)
        if k in first_tx:
            fault = {kind: {"from": r["src"], "data_segment": first_tx[k], "extra": extra}}
        elif "S" in r["flags"] or "F" in r["flags"]:
            fault = {kind: {"from": r["src"], "flags": r["flags"], "nth": [nth_of[k]], "extra": extra}}
        else:
            notes.append(f"row {k}: {why}, but it is a retransmission: not inferred")
            continue
        faults.append(fault)
        reasons.append({"what": f"faults[{len(faults) - 1}]: {fault}", "why": why})
    if doc.get("offload"):
        notes.append("the capture shows offloaded super-segments (TSO/GSO/GRO): the run sends "
                     "MSS-sized segments, so segment counts differ")
    name = doc.get("name") or "capture"
    scenario = {"tcpsim": 1, "name": f"inferred from {name}", "profile": "linux", "seed": 1,
                "link": link, "hosts": hosts, "actions": actions, "faults": faults,
                "until": round(rows[-1]["t"] + AFTER_CAPTURE_S, 6)}
    return Inferred(scenario, reasons, notes)


# ------------------------------------------------------------------------- comparing
KEY_FIELDS = ("flags", "rel_seq", "rel_ack", "len")


def _keys(doc, roles):
    """(direction, flags, rel_seq, rel_ack, len) per segment, directions in ``roles``' names."""
    return [(f"{roles[s['src']]}>{roles[s['dst']]}",) + tuple(s[f] for f in KEY_FIELDS)
            for s in doc["segments"]]


def _roles(doc, ports):
    """This doc's role -> the capture's role, by port (the role itself if no port matches)."""
    return {role: ports.get(info.get("port"), role) for role, info in doc["hosts"].items()}


def read_back(trace):
    """A simulated trace written as a pcap and read back with read_pcap (dropped segments
    included, as tcpdump on the sending host records them), so that it passes through the
    same reader as a capture."""
    from .pcap import read_pcap, write_pcap
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "run.pcap")
        write_pcap(trace.doc, path)
        return read_pcap(path)


def _text(s):
    return f"{s['flags']} seq {s['rel_seq']} ack {s['rel_ack']} len {s['len']}"


def compare(capture, simulated):
    """The capture and a run of it side by side, segment by segment (a DataFrame): columns
    ``dir``, ``t_capture``, ``capture``, ``t_sim``, ``simulation``, ``verdict`` ("same",
    "differs", "only in the capture", "only in the simulation"). ``simulated`` is read back
    through the pcap reader first (``read_back``) unless it already came from a pcap."""
    import pandas as pd
    real = getattr(capture, "doc", capture)
    sim = simulated if "capture" in getattr(simulated, "doc", simulated) else read_back(simulated)
    sim = getattr(sim, "doc", sim)
    ports = {info["port"]: role for role, info in real["hosts"].items()}
    real_keys = _keys(real, _roles(real, ports))
    sim_roles = _roles(sim, ports)
    sim_keys = _keys(sim, sim_roles)
    rows = []

    def row(i, j, verdict):
        a = real["segments"][i] if i is not None else None
        b = sim["segments"][j] if j is not None else None
        rows.append({"dir": (real_keys[i] if a else sim_keys[j])[0],
                     "t_capture": a["t"] if a else None, "capture": _text(a) if a else "",
                     "t_sim": b["t"] if b else None, "simulation": _text(b) if b else "",
                     "verdict": verdict})
    matcher = difflib.SequenceMatcher(None, real_keys, sim_keys, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2)):
                row(i, j, "same")
            continue
        pairs = min(i2 - i1, j2 - j1) if op == "replace" else 0
        for n in range(pairs):
            i, j = i1 + n, j1 + n
            same_dir = real_keys[i][0] == sim_keys[j][0]
            what = [f for f, a, b in zip(KEY_FIELDS, real_keys[i][1:], sim_keys[j][1:]) if a != b]
            row(i, j, "differs: " + ", ".join(what) if same_dir else "differs: direction")
        for i in range(i1 + pairs, i2):
            row(i, None, "only in the capture")
        for j in range(j1 + pairs, j2):
            row(None, j, "only in the simulation")
    return pd.DataFrame(rows, columns=["dir", "t_capture", "capture", "t_sim", "simulation", "verdict"])


def similarity(differences) -> float:
    """2 × same / (capture segments + simulated segments): 1.0 when every segment matches."""
    same = int((differences["verdict"] == "same").sum())
    real = int(differences["capture"].ne("").sum())
    sim = int(differences["simulation"].ne("").sum())
    return 2 * same / (real + sim) if real + sim else 1.0


@dataclass
class Replay:
    """A capture, the scenario inferred from it, its run through the linux profile, and
    their differences."""
    capture: object          # Trace (read_pcap)
    inferred: Inferred
    simulation: object       # Trace (tcpsim.run), as simulated
    differences: object      # DataFrame (compare)

    @property
    def similarity(self) -> float:
        return similarity(self.differences)

    def summary(self) -> str:
        d = self.differences
        same = int((d["verdict"] == "same").sum())
        n_real = int(d["capture"].ne("").sum())
        n_sim = int(d["simulation"].ne("").sum())
        first = d.index[d["verdict"] != "same"]
        where = (f"; the first difference is row {first[0]}: {d.loc[first[0], 'verdict']}"
                 if len(first) else "")
        return (f"{same} of {n_real} captured segments are the same in the simulation "
                f"({n_sim} simulated segments){where}")


def replay(capture, stream=None) -> Replay:
    """Infer a scenario from a capture, run it through the linux profile and compare."""
    from .pcap import read_pcap
    from .simulator import run
    from .trace import Trace
    trace = read_pcap(capture, stream=stream) if isinstance(capture, (str, os.PathLike)) \
        else capture if isinstance(capture, Trace) else Trace(_load(capture, stream))
    inferred = infer_scenario(trace)
    simulation = run(inferred.scenario)
    return Replay(trace, inferred, simulation, compare(trace, simulation))


def replay_table(names=None, progress=True):
    """Every shipped capture (or those named), inferred, re-run and compared, beside its
    hand-written scenario compared the same way (a DataFrame, one row per capture):
    ``capture``, ``segments`` (captured), ``same`` (segments the inferred run reproduces),
    ``inferred`` and ``hand_written`` (``similarity`` of each run), ``first_difference``
    (the verdict of the inferred run's first row that is not the same, or "")."""
    import pandas as pd
    from tqdm.auto import tqdm

    from . import course
    from .simulator import run
    names = course.names() if names is None else list(names)
    rows = []
    for name in tqdm(names, desc="captures", disable=not progress):
        rep = replay(course.capture_path(name))
        hand = similarity(compare(rep.capture, run(course.scenario(name))))
        d = rep.differences
        bad = d[d["verdict"] != "same"]
        rows.append({"capture": name, "segments": len(rep.capture.doc["segments"]),
                     "same": int((d["verdict"] == "same").sum()),
                     "inferred": round(rep.similarity, 3), "hand_written": round(hand, 3),
                     "first_difference": bad["verdict"].iloc[0] if len(bad) else ""})
    return pd.DataFrame(rows)
