"""Why did the receiver send this ACK? Each ACK of a trace, with the reason the wire shows.

    from tcpsim import acks, course
    acks.classify_acks(course.capture("buffers-every-second"), receiver="server")
    acks.ack_reasons(trace, receiver="server")         # how many ACKs of each reason

RFC 9293 §3.8.6.3 lets a receiver delay an ACK (less than 0.5 s, and at least every second
full-sized segment: RFC 5681 §4.2, RFC 1122 §4.2.3.2); out-of-order data and data that fills
a hole should be ACKed at once (RFC 5681 §4.2). Linux adds its own rules
(``net/ipv4/tcp_input.c``, docs/linux-facts.md §4 and §13.1), which this module replays from
what crossed the wire, for one direction of one connection, a real capture or a simulation
alike. Each ACK the receiver sent after the peer's first data gets one reason, tried in
this order:

``out-of-order data``
    the ACK carries SACK blocks, or answers a data segment that arrived below the highest
    byte already received or above the next one expected (reordered, lost before, or a
    duplicate; ``tcp_data_queue()`` ACKs those at once).
``window update`` / ``answer to a probe``
    it acknowledges nothing new: with a different window, a window update (a read made room,
    ``tcp_cleanup_rbuf()``); with the same window, the answer to the peer's probe or old
    segment.
``piggybacked on data``
    the receiver's own data (or FIN) carried the new acknowledgment.
``delayed-ACK timer``
    it left at least ``DELAYED_MIN_S`` after the first byte it acknowledges arrived, and no
    read of the receiver's program came just before it (``tcp_delack_timer()``, 40 ms on
    Linux, ``TCP_DELACK_MIN``).
``every second full segment``
    more than one full-sized segment was unacknowledged (``__tcp_ack_snd_check()``: "more
    than one full frame received").
``quick-ACK``
    one segment, ACKed at once while Linux's quick-ACK budget lasts (``tcp_in_quickack_mode()``:
    16 ACKs at the start, ``TCP_MAX_QUICKACKS``, one more each time the advertised window
    grows, a new budget after an idle gap longer than the RTO or after out-of-order data; none
    in *pingpong* mode, which a receiver enters by sending data less than 40 ms after
    receiving some and leaves when its delayed-ACK timer fires).
``on read``
    one segment, ACKed when the receiver's program read it (``tcp_cleanup_rbuf()``: a read
    that empties the queue after a pushed segment); needs the trace's ``read`` events.
``at once, reason not on the wire``
    anything else (a capture without the programs' events, say).

The quick-ACK budget is reconstructed, not seen: the replay follows the kernel's counter
(``icsk_ack.quick``) from the window field of each ACK. tests/test_acks.py holds the replay
to the captures whose kernel state was recorded (``paced-reader``'s ``tcp_info``:
docs/linux-facts.md §13.1). Two limits: a receive buffer that fills (``paced-noread``) also
makes the kernel wait for the window's right edge to move, which the replay does not model;
and the reasons are Linux's, so the ``rfc9293`` profile's ACKs (one per segment, at once)
come out as quick-ACKs and then ACKs on read.
"""
from __future__ import annotations

from .profiles import TCP_DELACK_MIN, TCP_MAX_QUICKACKS, TCP_RTO_MIN

TCP_MSS_DEFAULT = 536        # include/net/tcp.h: the rcv_mss a connection starts with
DELAYED_MIN_S = TCP_DELACK_MIN - 0.004   # a jiffy less than 40 ms: the timer never fires early
READ_BEFORE_S = 0.0002       # a read event this long before the ACK can have caused it
READ_AFTER_S = 0.002         # capture tools record a read after recv() returns, ACK inside it

OUT_OF_ORDER = "out-of-order data"
WINDOW_UPDATE = "window update"
PROBE_ANSWER = "answer to a probe"
PIGGYBACKED = "piggybacked on data or FIN"
DELAYED = "delayed-ACK timer"
EVERY_SECOND = "every second full segment"
QUICK = "quick-ACK"
ON_READ = "on read"
UNKNOWN = "at once, reason not on the wire"
REASONS = (QUICK, EVERY_SECOND, DELAYED, ON_READ, OUT_OF_ORDER, PIGGYBACKED, WINDOW_UPDATE,
           PROBE_ANSWER, UNKNOWN)

COLUMNS = ["i", "t", "rel_ack", "acked_bytes", "acked_segments", "delay_ms", "window",
           "reason"]
MOD = 2 ** 32


def _doc(trace) -> dict:
    doc = getattr(trace, "doc", trace)
    if not isinstance(doc, dict) or not isinstance(doc.get("segments"), list):
        raise TypeError("classify_acks needs a tcpsim Trace (tcpsim.run, tcpsim.read_pcap, "
                        f"course.capture) or a trace document, not {type(trace).__name__}")
    return doc


def _scale(rows, host, peer) -> int:
    """The shift of the windows ``host`` sends (RFC 7323 §2.3: only if both SYNs had wscale)."""
    ws = {}
    for r in rows:
        if "S" in r["flags"] and r["src"] not in ws:
            ws[r["src"]] = (r.get("options") or {}).get("wscale")
    if ws.get(host) is None or ws.get(peer) is None:
        return 0
    return int(ws[host])


class _Receiver:
    """What the replay knows of the receiving side (the kernel's names in comments)."""

    def __init__(self, syn_window: int):
        self.syn_window = syn_window
        self.quick = 0                # icsk_ack.quick
        self.pingpong = False         # inet_csk_in_pingpong_mode()
        self.rcv_mss = TCP_MSS_DEFAULT
        self.seen_data = False
        self.last_data_t = None       # icsk_ack.lrcvtime
        self.rcv_nxt = None           # relative, the next byte expected
        self.rcv_high = None          # relative, one past the highest byte received
        self.last_window = None       # bytes, in the receiver's last segment
        self.max_window = 0           # bytes, the largest window it advertised
        self.pending = []             # (arrival, rel_end, len) of data not yet acknowledged
        self.out_of_order = []        # (start, end) received above rcv_nxt (the ofo queue)
        self.odd = False              # the last data segment arrived out of order

    def budget(self, rcv_window: int):
        """tcp_incr_quickack_mode(): min(rcv_wnd / (2·rcv_mss), TCP_MAX_QUICKACKS)."""
        self.quick = max(self.quick, min(rcv_window // (2 * self.rcv_mss), TCP_MAX_QUICKACKS))

    def data(self, t: float, start: int, length: int, fin: bool):
        """A data segment (or FIN) of the peer arrives at ``t`` (relative sequence ``start``)."""
        end = start + length + (1 if fin else 0)
        if self.rcv_nxt is None:
            self.rcv_nxt = self.rcv_high = start
        idle = self.last_data_t is not None and t - self.last_data_t > TCP_RTO_MIN
        if not self.seen_data or idle:      # tcp_event_data_recv(): the first data, or idle
            self.budget(self.last_window or self.syn_window)
            self.seen_data = True
        self.odd = start != self.rcv_nxt or start < self.rcv_high
        if self.odd:                        # tcp_enter_quickack_mode()
            self.budget(self.last_window or self.syn_window)
        self.rcv_mss = max(self.rcv_mss, length)     # tcp_measure_rcv_mss()
        if start > self.rcv_nxt:
            self.out_of_order.append((start, end))
        elif end > self.rcv_nxt:
            self.rcv_nxt = end
            for left, right in sorted(self.out_of_order):   # the queue it joins up with
                if left <= self.rcv_nxt:
                    self.rcv_nxt = max(self.rcv_nxt, right)
            self.out_of_order = [(a, b) for a, b in self.out_of_order if b > self.rcv_nxt]
        self.rcv_high = max(self.rcv_high, end)
        self.last_data_t = t
        self.pending.append((t, end, length))


def classify_acks(trace, receiver: str = "server"):
    """One row per ACK that ``receiver`` sent after its peer's first data: the segment row
    ``i``, ``t``, ``rel_ack``, ``acked_bytes`` and ``acked_segments`` (new since its
    previous ACK), ``delay_ms`` (since the first of those bytes arrived), ``window`` (bytes,
    scaled) and ``reason`` (one of ``REASONS``; the module's docstring says when)."""
    import pandas as pd
    doc = _doc(trace)
    rows = [r for r in doc["segments"] if not r.get("dropped")]
    hosts = {r["src"] for r in rows} | {r["dst"] for r in rows}
    if receiver not in hosts:
        raise ValueError(f"receiver: no host {receiver!r} in this trace "
                         f"(hosts: {', '.join(sorted(hosts)) or 'none'})")
    conns = [r.get("conn") for r in rows if r.get("conn") is not None]
    if conns:
        rows = [r for r in rows if r.get("conn") in (conns[0], None)]
    peer = next((h for h in sorted(hosts) if h != receiver), None)
    scale = _scale(rows, receiver, peer)
    arrivals = sorted((r["t"] if r.get("arrival") is None else r["arrival"]) for r in rows
                      if r["src"] == peer and (r["len"] > 0 or "F" in r["flags"]))
    reads = sorted(e["t"] for e in doc.get("events") or []
                   if e.get("host") == receiver and e.get("call") == "read"
                   and isinstance(e.get("result"), int) and e["result"] > 0)
    syn = next((r for r in rows if r["src"] == receiver and "S" in r["flags"]), None)
    state = _Receiver(int(syn["win"]) if syn else 65535)
    peer_sent_data_at = None     # when the peer's last data was sent (for pingpong)
    out = []
    # the receiver sees a segment at its arrival, it sends at t: walk both in time order,
    # what arrives at an instant before what it sends then
    timeline = []
    for k, r in enumerate(rows):
        if r["src"] == peer:
            arrival = r.get("arrival")
            timeline.append((r["t"] if arrival is None else arrival, 0, k, r))
        elif r["src"] == receiver:
            timeline.append((r["t"], 1, k, r))
    timeline.sort(key=lambda item: (item[0], item[1], item[2]))
    last_ack = None
    for at, outgoing, _, r in timeline:
        flags = r["flags"]
        if not outgoing:
            if "S" in flags or "R" in flags:
                continue
            if r["len"] > 0 or "F" in flags:
                state.data(at, int(r["rel_seq"]), int(r["len"]), "F" in flags)
                peer_sent_data_at = at
            continue
        if "R" in flags or "A" not in flags:
            continue
        window = int(r["win"]) << (0 if "S" in flags else scale)
        if "S" in flags or not state.seen_data:
            state.last_window = window
            last_ack = r["rel_ack"]
            continue
        sends_data = r["len"] > 0 or "F" in flags
        if sends_data and r["rel_ack"] == last_ack:
            continue                        # its own data, acknowledging nothing new
        if sends_data and peer_sent_data_at is not None and \
                at - state.last_data_t < TCP_DELACK_MIN:
            state.pingpong = True           # inet_csk_enter_pingpong_mode() (tcp_event_data_sent)
        rel_ack = int(r["rel_ack"])
        covered = [p for p in state.pending if (p[1] - rel_ack) % MOD == 0 or
                   0 < (rel_ack - p[1]) % MOD < MOD // 2]
        state.pending = [p for p in state.pending if p not in covered]
        acked = 0 if last_ack is None else (rel_ack - int(last_ack)) % MOD
        if acked >= MOD // 2:
            acked = 0
        delay = (at - covered[0][0]) if covered else None
        sack = bool((r.get("options") or {}).get("sack"))
        grew = state.last_window is not None and window > state.last_window
        if acked and grew:
            state.quick |= 1                # tcp_grow_window(): icsk_ack.quick |= 1
        state.max_window = max(state.max_window, window)
        if window < state.max_window // 2:
            state.quick = 0                 # __tcp_select_window(): free space < full / 2
        if sack or (acked and state.odd):
            reason = OUT_OF_ORDER
        elif not acked:
            reason = WINDOW_UPDATE if window != state.last_window else PROBE_ANSWER
        elif sends_data:
            reason = PIGGYBACKED
        elif delay is not None and delay >= DELAYED_MIN_S and not _read_near(reads, at, arrivals):
            reason = DELAYED
            state.pingpong = False          # the timer firing ends pingpong mode
        elif acked > state.rcv_mss:
            reason = EVERY_SECOND
        elif state.quick > 0 and not state.pingpong:
            reason = QUICK
        elif _read_near(reads, at, arrivals):
            reason = ON_READ
        else:
            reason = UNKNOWN
        if acked and state.quick > 0:
            state.quick -= 1                # tcp_event_ack_sent() -> tcp_dec_quickack_mode()
        if acked:
            state.odd = False
        out.append({"i": int(r["i"]), "t": float(r["t"]), "rel_ack": rel_ack,
                    "acked_bytes": int(acked), "acked_segments": len(covered),
                    "delay_ms": None if delay is None else round(delay * 1000, 3),
                    "window": window, "reason": reason})
        state.last_window = window
        last_ack = rel_ack
    return pd.DataFrame(out, columns=COLUMNS)


def _read_near(reads, t: float, arrivals) -> bool:
    """A read of the receiver's program close enough to ``t`` to have sent the ACK: from
    ``READ_BEFORE_S`` before it to ``READ_AFTER_S`` after, and before the peer's next data
    arrives (a read after that may be of the new data)."""
    import bisect
    after = arrivals[bisect.bisect_right(arrivals, t):]
    until = min(t + READ_AFTER_S, after[0]) if after else t + READ_AFTER_S
    k = bisect.bisect_left(reads, t - READ_BEFORE_S)
    return k < len(reads) and reads[k] <= t + READ_AFTER_S and (reads[k] < until or
                                                                 reads[k] <= t)


def ack_reasons(trace, receiver: str = "server"):
    """How many of ``receiver``'s ACKs had each reason (a pandas Series, REASONS order,
    reasons that did not occur left out)."""
    import pandas as pd
    counts = classify_acks(trace, receiver)["reason"].value_counts()
    return pd.Series({r: int(counts[r]) for r in REASONS if r in counts}, name="ACKs",
                     dtype="int64")


def write_delays(trace, host: str = "client"):
    """How long each write of ``host``'s program waited on the wire: one row per ``send``
    event (``t`` of the call, ``bytes``, ``first_byte`` relative), ``left_at`` (when the
    segment with its first byte left, first transmission) and ``waited_ms``. Nagle's
    algorithm (RFC 9293 §3.7.4) shows as a wait of one delayed ACK (a capture's times are
    the capture tool's: a write can show a few µs *before* its call returned)."""
    import pandas as pd
    doc = _doc(trace)
    rows = [r for r in doc["segments"] if r["src"] == host and r["len"] > 0
            and not r.get("retransmission")]
    conns = [r.get("conn") for r in rows if r.get("conn") is not None]
    if conns:
        rows = [r for r in rows if r.get("conn") in (conns[0], None)]
    sends = [e for e in doc.get("events") or [] if e.get("host") == host
             and e.get("call") == "send" and isinstance(e.get("result"), int)]
    if not sends and not any(e.get("host") == host for e in doc.get("events") or []):
        hosts = sorted({e.get("host") for e in doc.get("events") or []})
        raise ValueError(f"host: no events of {host!r} in this trace (hosts with events: "
                         f"{', '.join(map(str, hosts)) or 'none'})")
    out, offset = [], 1
    for e in sends:
        segment = next((r for r in rows if int(r["rel_seq"]) <= offset < int(r["rel_seq"]) +
                        int(r["len"])), None)
        left = None if segment is None else float(segment["t"])
        out.append({"t": float(e["t"]), "bytes": int(e["result"]), "first_byte": offset,
                    "left_at": left,
                    "waited_ms": None if left is None else round((left - e["t"]) * 1000, 3)})
        offset += int(e["result"])
    return pd.DataFrame(out, columns=["t", "bytes", "first_byte", "left_at", "waited_ms"])


def reasons_table(captures, receiver: str = "server"):
    """For each shipped capture (names, or (name, receiver) pairs): how many of the
    receiver's ACKs had each reason, on the real kernel and in the simulation of the same
    scenario (tcpsim's linux profile), one row per (capture, reason)."""
    import pandas as pd
    from . import course
    rows = []
    for item in captures:
        name, host = (item, receiver) if isinstance(item, str) else item
        real = ack_reasons(course.capture(name), host)
        simulated = ack_reasons(course.simulate(name), host)
        for reason in REASONS:
            if reason in real.index or reason in simulated.index:
                rows.append({"capture": name, "receiver": host, "reason": reason,
                             "real Linux": int(real.get(reason, 0)),
                             "tcpsim linux": int(simulated.get(reason, 0))})
    return pd.DataFrame(rows, columns=["capture", "receiver", "reason", "real Linux",
                                       "tcpsim linux"])
