"""Fidelity: every shipped real capture against the ``linux`` profile (docs/fidelity.md).

For each capture ``data/captures/NAME.pcap`` the scenario ``NAME.json`` is run with
``tcpsim.run``; the simulated trace is written as a pcap (``write_pcap``, dropped segments
included: tcpdump on ``lo`` records a packet when it is sent, before the receiver's input
hook drops it) and read back with ``read_pcap``. Both sides therefore pass through the same
reader: relative numbers, retransmission labels and inferred states are computed by the same
code from what is on the wire. Hosts are matched by port. Five comparisons, the columns of
the table in docs/fidelity.md:

flags   (direction, flags) of every segment, in capture order.
seq     each direction on its own, in its sender's order: flags, relative seq and ack,
        payload length, the retransmission label and the SACK blocks (relative). The
        interleaving of the two directions is the ``flags`` column's business.
states  the states ``read_pcap`` infers from each side's segments (docs/captures.md), the
        same rules on both; and the socket states ``ss`` saw during the real run
        (``NAME.events.json``), which must occur, in that order, among the states the
        simulator itself went through (``ss`` polls, so it misses short-lived states).
timers  every timer-driven gap the capture shows, found by the same rules on both sides
        (``wire_timers``) plus TIME-WAIT from ``ss`` (``time_wait_timers``), each within the
        kernel's timer granularity (the tolerances below).
app     each application's results (``NAME.events.json`` against the trace's events), with
        consecutive successful reads added up (how many bytes one recv() returns is
        scheduling).

Windows are compared apart from the columns, within one scaled unit
(``test_windows_within_one_scaled_unit``).

A cell is either MATCH (asserted equal), or a known difference, ``Differs(why, check)``:
``check`` asserts exactly the documented difference and that everything else in that column
still matches, and an ``xfail(strict=True)`` test asserts the full match, so the day the
simulator matches, the suite says so and the table has to change.

``python tests/test_fidelity.py`` prints the table for docs/fidelity.md;
``test_docs_table_is_current`` checks that the page has it.
"""
from __future__ import annotations

import json
import math
import sys
import tempfile
from collections import Counter, namedtuple
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import tcpsim  # noqa: E402
from tcpsim.pcap import read_pcap, write_pcap  # noqa: E402
from tcpsim.profiles import LINUX, TCP_TIMEOUT_MIN  # noqa: E402

CAPTURES = ROOT / "data" / "captures"
NAMES = sorted(p.stem for p in CAPTURES.glob("*.pcap"))     # raw/ is not shipped scenarios
FIDELITY_DOC = ROOT / "docs" / "fidelity.md"
COLUMNS = ("flags", "seq", "states", "timers", "app")
SEQ_SPACE = 2 ** 32

# ------------------------------------------------------------------ tolerances
# The kernel's timers run on jiffies and on the timer wheel; the simulator's fire at exact
# times. A kernel timer of length d is converted to whole jiffies rounding up
# (usecs_to_jiffies), then put in the wheel, which rounds the expiry up to its level's
# granularity so that no timer fires early (kernel/time/timer.c, calc_index()); the timer
# softirq then runs on the next tick that is not late.
JIFFY_S = 0.004                 # CONFIG_HZ=250 on the capture machine (docs/linux-facts.md)
WHEEL_LEVEL_START_JIFFIES = (63, 504, 4032, 32256)   # kernel/time/timer.c LVL_START(1..4)
WHEEL_LEVEL_GRANULARITY = 8     # kernel/time/timer.c LVL_CLK_DIV: level n rounds to 8**n jiffies
SOFTIRQ_SLACK_S = JIFFY_S       # one more tick, which the measurements reach and never exceed:
#                                 the RTO re-armed by a tail loss probe fires 212 ms after it
#                                 (data-rto.pcap; drop-rto in docs/linux-facts.md §7f), 53
#                                 jiffies where the wheel alone allows 52 for a 51-jiffy timer
CAPTURE_OFFSET_S = 0.0001       # gaps are measured between send times; a timer starts when a
#                                 segment is processed (the simulator: 10 µs link delay; the
#                                 kernel: some µs after the capture saw it arrive, or after it
#                                 sent its own probe): the two may be off by this much either way
IMMEDIATE_S = 0.001             # an answer with no timer (the simulator's gap under one
#                                 jiffy): the kernel on loopback answers within tens of µs
#                                 (docs/linux-facts.md §2-§7: 6-90 µs)
DELAYED_ACK_GAP_S = LINUX.delayed_ack_s / 2   # a lone pure ACK sent this long after the segment
#                                 before it waited for the delayed-ACK timer (40 ms):
#                                 nothing else in these captures holds back a lone ACK
SS_SECONDS_TRUNCATION_S = 1.0   # iproute2 print_ms_timer(): from 10 s on, whole seconds only


def kernel_lateness_bound(interval_s):
    """How much later than the simulator's exact ``interval_s`` the kernel's timer may fire:
    the round-up to whole jiffies, the wheel level's granularity, one tick of softirq
    latency. 200 ms -> 12 ms, 1 s -> 40 ms, 4 s -> 260 ms, 60 s -> 2.056 s."""
    ticks = math.ceil(interval_s / JIFFY_S - 1e-9)
    level = sum(ticks >= start for start in WHEEL_LEVEL_START_JIFFIES)
    return JIFFY_S + WHEEL_LEVEL_GRANULARITY ** level * JIFFY_S + SOFTIRQ_SLACK_S


# ------------------------------------------------------------------ what is compared
Seg = namedtuple("Seg", "flags rel_seq rel_ack len rtx sack")


@dataclass(frozen=True)
class Timer:
    kind: str
    host: str
    interval_s: float


def host_names(doc, scenario):
    """Capture role ("client"/"server": who sent the first SYN) -> scenario host, by port."""
    by_port = {h.port: h.name for h in scenario.hosts}
    return {role: by_port.get(info["port"], role) for role, info in doc["hosts"].items()}


def flag_sequence(doc, names):
    return [(f"{names[s['src']]}>{names[s['dst']]}", s["flags"]) for s in doc["segments"]]


def directions(doc, names):
    """Each host's segments in the order it sent them, as ``Seg`` tuples."""
    isn = {role: info["isn"] for role, info in doc["hosts"].items()}
    out = {name: [] for name in names.values()}
    for s in doc["segments"]:
        base = isn[s["dst"]] or 0              # SACK blocks name the peer's sequence numbers
        sack = tuple(((left - base) % SEQ_SPACE, (right - base) % SEQ_SPACE)
                     for left, right in s["options"].get("sack", ()))
        out[names[s["src"]]].append(Seg(s["flags"], s["rel_seq"], s["rel_ack"], s["len"],
                                        s["retransmission"], sack))
    return out


def wire_states(doc, names):
    out = {name: [] for name in names.values()}
    for r in doc["states"]:
        out[names[r["host"]]].append((r["from"], r["to"]))
    return out


def own_states(rows):
    """Each host's sequence of states entered, from trace or ``ss`` rows (listeners left out)."""
    out = {}
    for r in rows:
        if not r["socket"].endswith(":listen"):
            out.setdefault(r["host"], []).append(r["to"])
    return out


def is_subsequence(short, long):
    rest = iter(long)
    return all(any(x == y for y in rest) for x in short)


def wire_timers(doc, names):
    """The timer-driven gaps of a capture, by rules that do not know which side it came from:

    * a SYN (or SYN-ACK) after the same side's first one: the interval since its previous
      SYN (SYN-ACK), which is how the retransmission timer is re-armed;
    * any other retransmission (of data or of a FIN: tail loss probe, RTO, fast
      retransmit): the gap since the segment before it, the last event that re-armed the
      timer (or that triggered it);
    * a pure ACK one below what its sender has sent already (seq = SND.UNA - 1: Linux's
      ``tcp_xmit_probe_skb()``) at least ``DELAYED_ACK_GAP_S`` after the segment before it,
      while the peer's window is open (else it is a zero-window probe, left to the rule
      below): a keepalive probe; an RST+ACK that long after the segment before it, from a
      host that has probed: keepalive giving up;
    * a pure ACK at least ``DELAYED_ACK_GAP_S`` after the segment before it: a delayed ACK.
    """
    segs = doc["segments"]
    out, last_syn, sent_end, probed, window = [], {}, {}, set(), {}
    for k, s in enumerate(segs):
        host = names[s["src"]]
        gap = s["t"] - segs[k - 1]["t"] if k else 0.0
        peer_window_open = window.get(names[s["dst"]]) != 0
        window[host] = s["win"]
        end = s["rel_seq"] + s["len"] + ("S" in s["flags"]) + ("F" in s["flags"]) \
            if s["rel_seq"] is not None else None
        below = end is not None and host in sent_end and end < sent_end[host]
        if end is not None:
            sent_end[host] = max(end, sent_end.get(host, end))
        if s["flags"] == "A" and s["len"] == 0 and below and peer_window_open and \
                gap >= DELAYED_ACK_GAP_S:
            out.append(Timer("keepalive probe", host, gap))
            probed.add(host)
        elif s["flags"] == "RA" and host in probed and gap >= DELAYED_ACK_GAP_S:
            out.append(Timer("keepalive gives up", host, gap))
        elif s["flags"] in ("S", "SA"):
            key = (host, s["flags"])
            if key in last_syn:
                kind = "SYN retransmission" if s["flags"] == "S" else "SYN-ACK retransmission"
                out.append(Timer(kind, host, s["t"] - last_syn[key]))
            last_syn[key] = s["t"]
        elif s["retransmission"]:
            kind = "FIN retransmission" if "F" in s["flags"] and not s["len"] else "data retransmission"
            out.append(Timer(kind, host, gap))
        elif s["flags"] == "A" and s["len"] == 0 and k and gap >= DELAYED_ACK_GAP_S:
            out.append(Timer("delayed ACK", host, gap))
    return out


def time_wait_timers(state_rows, simulated):
    """TIME-WAIT as ``ss`` saw it (real) or as the simulator ran it, per host.

    Real: the ``ss -o`` timer when the socket was first seen in TIME-WAIT (``TIME-WAIT left
    at entry``) and, when the capture ran long enough, the time from that poll to the first
    poll without the socket (``TIME-WAIT``). Simulated: the length of TIME-WAIT, for both."""
    out = []
    rows = [r for r in state_rows if not r["socket"].endswith(":listen")]
    for host in dict.fromkeys(r["host"] for r in rows):
        mine = [r for r in rows if r["host"] == host]
        entry = next((r for r in mine if r["to"] == "TIME-WAIT" and r["from"] != "TIME-WAIT"), None)
        if entry is None:
            continue
        exit_ = next((r for r in mine if r["t"] >= entry["t"] and r["from"] == "TIME-WAIT"
                      and r["to"] != "TIME-WAIT"), None)
        length = exit_["t"] - entry["t"] if exit_ else None
        if simulated:
            # the timer set at entry, which ss shows: every (re)start sets the same length,
            # so when the timer ends TIME-WAIT it is the time from the last restart (a
            # retransmitted FIN re-ACKed: a TIME-WAIT -> TIME-WAIT row) to the exit. A
            # TIME-WAIT that ended otherwise (a new connect() or a new incarnation's SYN took
            # it over, an RST killed it) or outlived the run had the profile's timer.
            if exit_ is None:
                out.append(Timer("TIME-WAIT left at entry", host, LINUX.time_wait_s))
                continue
            restarts = [r["t"] for r in mine if entry["t"] < r["t"] <= exit_["t"]
                        and r["from"] == r["to"] == "TIME-WAIT"]
            at_entry = exit_["t"] - max([entry["t"], *restarts]) \
                if "timer expired" in exit_["cause"] else LINUX.time_wait_s
            out += [Timer("TIME-WAIT left at entry", host, at_entry),
                    Timer("TIME-WAIT", host, length)]
            continue
        if "timer_left_s" in entry:
            out.append(Timer("TIME-WAIT left at entry", host, entry["timer_left_s"]))
        if length is not None:
            out.append(Timer("TIME-WAIT", host, length))
    return out


def app_results(events):
    """Each host's (call, result) sequence, consecutive successful reads added up."""
    out = {}
    for e in events:
        calls = out.setdefault(e["host"], [])
        if e["call"] == "read" and isinstance(e["result"], int) and e["result"] > 0 \
                and calls and calls[-1][0] == "read" and isinstance(calls[-1][1], int) \
                and calls[-1][1] > 0:
            calls[-1] = ("read", calls[-1][1] + e["result"])
        else:
            calls.append((e["call"], e["result"]))
    return out


class Comparison:
    """One capture and its simulation, seen through the same reader."""

    def __init__(self, name, workdir):
        self.name = name
        scenario_path = CAPTURES / f"{name}.json"
        self.scenario = tcpsim.parse_scenario(scenario_path.read_text())
        self.events_doc = json.loads((CAPTURES / f"{name}.events.json").read_text())
        self.real = read_pcap(CAPTURES / f"{name}.pcap").doc
        self.trace = tcpsim.run(str(scenario_path))
        sim_pcap = Path(workdir) / f"{name}.sim.pcap"
        write_pcap(self.trace.doc, sim_pcap)
        self.sim = read_pcap(sim_pcap).doc
        self.real_names = host_names(self.real, self.scenario)
        self.sim_names = host_names(self.sim, self.scenario)

    # the two sides of each column
    def flags(self):
        return flag_sequence(self.real, self.real_names), flag_sequence(self.sim, self.sim_names)

    def seq(self):
        return directions(self.real, self.real_names), directions(self.sim, self.sim_names)

    def states(self):
        return wire_states(self.real, self.real_names), wire_states(self.sim, self.sim_names)

    def ss_states_missing(self):
        """Hosts whose ``ss``-seen states do not occur, in order, among the simulated ones."""
        seen = own_states(self.events_doc["states"])
        simulated = own_states(self.trace.doc["states"])
        return {h: (s, simulated.get(h, [])) for h, s in seen.items()
                if not is_subsequence(s, simulated.get(h, []))}

    def timers(self):
        real = wire_timers(self.real, self.real_names) + \
            time_wait_timers(self.events_doc["states"], simulated=False)
        sim = wire_timers(self.sim, self.sim_names) + \
            time_wait_timers(self.trace.doc["states"], simulated=True)
        # what ss could not see (no timer recorded, capture ended before TIME-WAIT did)
        seen = {(t.kind, t.host) for t in real if t.kind.startswith("TIME-WAIT")}
        sim = [t for t in sim if not t.kind.startswith("TIME-WAIT") or (t.kind, t.host) in seen]
        # grouped by (kind, host), each group in time order: which host's timer fires first
        # is not a timer value (synack-loss)
        groups = list(dict.fromkeys((t.kind, t.host) for t in real + sim))

        def grouped(timers):
            return sorted(timers, key=lambda t: groups.index((t.kind, t.host)))
        return grouped(real), grouped(sim)

    def app(self):
        return app_results(self.events_doc["events"]), app_results(self.trace.doc["events"])

    # verdicts
    def timer_problems(self):
        real, sim = self.timers()
        if [(t.kind, t.host) for t in real] != [(t.kind, t.host) for t in sim]:
            return [f"different timers: real {real} simulated {sim}"]
        poll = self.events_doc.get("ss_poll_max_s", 0.0)
        problems = []
        for r, s in zip(real, sim):
            early, late = timer_window(r.kind, s.interval_s, poll)
            if not (s.interval_s - early <= r.interval_s <= s.interval_s + late):
                problems.append(f"{r.kind} ({r.host}): real {r.interval_s:.6f} s, simulated "
                                f"{s.interval_s:.6f} s, allowed -{early:.4f}/+{late:.4f} s")
        return problems

    def column_matches(self, column):
        if column == "timers":
            return not self.timer_problems()
        real, sim = getattr(self, column)()
        if column == "states" and self.ss_states_missing():
            return False
        return real == sim


def timer_window(kind, simulated_s, ss_poll_s):
    """(how much earlier, how much later) than the simulated interval the real one may be."""
    if kind == "TIME-WAIT left at entry":       # ss shows whole seconds, one poll after entry
        return SS_SECONDS_TRUNCATION_S + ss_poll_s, 0.0
    if kind == "TIME-WAIT":                     # entry and exit each seen up to a poll late
        return ss_poll_s, kernel_lateness_bound(simulated_s) + ss_poll_s
    if simulated_s < JIFFY_S:                   # no timer: an answer
        return CAPTURE_OFFSET_S, IMMEDIATE_S
    return CAPTURE_OFFSET_S, kernel_lateness_bound(simulated_s) + CAPTURE_OFFSET_S


# ------------------------------------------------------------------ known differences
@dataclass(frozen=True)
class Differs:
    why: str                                 # the table's text; docs/fidelity.md explains it
    check: Callable[[Comparison], None]      # asserts exactly this difference, nothing else


MATCH = "match"


def data_ordinals_with_psh_difference(real, sim):
    """Positions (1-based, among the host's data segments) where only PSH differs; asserts
    that nothing else differs and that it is always the kernel that set PSH."""
    assert len(real) == len(sim), (real, sim)
    ordinals, k = [], 0
    for r, s in zip(real, sim):
        k += r.len > 0
        if r == s:
            continue
        assert r._replace(flags=r.flags.replace("P", "")) == s._replace(flags=s.flags.replace("P", "")), (r, s)
        assert "P" in r.flags and "P" not in s.flags and r.len > 0, (r, s)
        ordinals.append(k)
    return ordinals


def bursts(host, psh_ordinals, first_burst, answers):
    """flags: the kernel sent ``host``'s write in two bursts, with PSH on ``psh_ordinals``:
    its segments are the simulator's in the simulator's order once the peer's first
    ``answers`` segments (the ACKs of the first burst) are moved to right after the
    ``first_burst``-th data segment, where the kernel had them."""
    def check(c):
        real, sim = c.flags()
        assert real != sim
        real_dirs, sim_dirs = c.seq()
        for name in real_dirs:
            r = [Seg(x.flags, 0, 0, x.len, x.rtx, ()) for x in real_dirs[name]]
            s = [Seg(x.flags, 0, 0, x.len, x.rtx, ()) for x in sim_dirs[name]]
            assert data_ordinals_with_psh_difference(r, s) == (psh_ordinals if name == host else [])
        def rows(flags, doc):           # PSH aside (checked above)
            return [(d, f.replace("P", ""), seg["rel_seq"], seg["rel_ack"], seg["len"])
                    for (d, f), seg in zip(flags, doc["segments"])]
        simulated = rows(sim, c.sim)
        mine = [k for k, row in enumerate(simulated) if row[0].startswith(host + ">")]
        cut = [k for k in mine if simulated[k][4]][first_burst - 1] + 1
        moved = [k for k in range(cut, len(simulated)) if k not in mine][:answers]
        in_kernel_order = simulated[:cut] + [simulated[k] for k in moved] + \
            [row for k, row in enumerate(simulated) if k >= cut and k not in moved]
        assert in_kernel_order == rows(real, c.real)
    return check


def synack_timers_same_jiffy_flags(c):
    """synack-loss, flags: same segments, the first 2 and last 4 in the same order; around
    t = 1 s the kernel's SYN-ACK timer fired before the client's SYN timer."""
    real, sim = c.flags()
    assert real[:2] == sim[:2] and real[-4:] == sim[-4:]
    assert Counter(real) == Counter(sim) and real != sim
    middle = [f for _, f in real[2:-4]]
    assert middle[0] == "SA" and sim[2] == ("client>server", "S")   # who went first


def synack_timers_same_jiffy_seq(c):
    """synack-loss, seq: the client ACKed the third SYN-ACK before sending its data in the
    kernel (rel seq 1) and after it in the simulator (rel seq 101); all else equal."""
    real, sim = c.seq()
    assert real["server"] == sim["server"]
    r, s = list(real["client"]), list(sim["client"])
    assert r[3] == Seg("A", 1, 1, 0, False, ()) and s[4] == Seg("A", 101, 1, 0, False, ())
    del r[3], s[4]
    assert r == s


def bulk_flags(c):
    """bulk-100k, flags: handshake and the first 5 data segments, and the FIN exchange equal;
    the client's segments equal (PSH included); the server ACKed less often (loopback
    batching) and its first ACKs came back between the client's segments."""
    real, sim = c.flags()
    assert real[:8] == sim[:8] and real[-4:] == sim[-4:]
    real_dirs, sim_dirs = c.seq()
    assert real_dirs["client"] == sim_dirs["client"]
    assert (len(real_dirs["server"]), len(sim_dirs["server"])) == (25, 49)


def bulk_seq(c):
    """bulk-100k, seq: the client's 70 data segments equal (PSH after 5, 10, 20, 35, 50 and
    at the end); the server's first 22 ACKs (one per segment: quick-ACK mode while the
    window grows, then 16 more) and its last ACK and FIN equal; in between the kernel sent 1
    ACK (72401), on a segment boundary, where the simulator ACKs every second segment."""
    real, sim = c.seq()
    assert real["client"] == sim["client"]
    r, s = real["server"], sim["server"]
    assert r[:22] == s[:22] and r[-2:] == s[-2:]
    boundaries = {x.rel_seq + x.len for x in real["client"] if x.len}
    middle = [x.rel_ack for x in r[22:-2]]
    assert middle == sorted(set(middle)) and set(middle) <= boundaries
    assert len(middle) == 1 and len(s[22:-2]) == 25    # 1 ACK where the simulator sends 25



# --- checks for the captures of issue 15 (paced transfers, zero window, simultaneous open,
# reordering, random loss, a duplicate). Where the simulator goes its own way after some
# point, the check pins that point: ``first_difference`` must be exactly the recorded one
# (so everything before it still matches, and the day it moves the table must change).
def first_difference(real, sim):
    """(index, real item, simulated item) of the first position where two lists differ
    (an item is None past the end of its list), or None when they are equal."""
    for k in range(max(len(real), len(sim))):
        a = real[k] if k < len(real) else None
        b = sim[k] if k < len(sim) else None
        if a != b:
            return k, a, b
    return None


def flags_diverge_at(index, real_item, sim_item):
    def check(c):
        assert first_difference(*c.flags()) == (index, real_item, sim_item)
    return check


def seq_diverges_at(**hosts):
    """seq: for each named host, its first difference (index, real Seg, simulated Seg);
    every host not named is equal."""
    def check(c):
        real, sim = c.seq()
        for name in real:
            assert first_difference(real[name], sim[name]) == hosts.get(name), name
    return check


def timer_kinds(real_kinds, sim_kinds):
    """timers: the capture shows these timer-driven gaps, the simulation those."""
    def check(c):
        real, sim = c.timers()
        assert [(t.kind, t.host) for t in real] == real_kinds
        assert [(t.kind, t.host) for t in sim] == sim_kinds
    return check


def random_loss_timers(fast_in_kernel, slow_in_kernel=()):
    """loss-*, timers: the same retransmissions in the same order; at the ones listed in
    ``fast_in_kernel`` (their index among the capture's timers) the kernel retransmitted at
    once where the simulator waited for its retransmission timer (~200 ms), at those in
    ``slow_in_kernel`` the other way round; all others within the tolerances."""
    def check(c):
        real, sim = c.timers()
        assert [(t.kind, t.host) for t in real] == [(t.kind, t.host) for t in sim]
        def waits(a, b):
            return [k for k, (r, s) in enumerate(zip(a, b)) if r.kind == "data retransmission"
                    and r.interval_s < IMMEDIATE_S and s.interval_s > 0.19]
        assert waits(real, sim) == list(fast_in_kernel)
        assert waits(sim, real) == list(slow_in_kernel)
        assert len(c.timer_problems()) == len(fast_in_kernel) + len(slow_in_kernel)
    return check


def bulk_200k_seq(c):
    """bulk-200k, seq: the client's 143 data segments equal but for PSH, which the kernel
    also set after 5, 10, 20, 35, 50 (as in bulk-100k), 54, 66 and 104 segments; the server
    (SYN-ACK aside) ACKed each of the first 21 segments, then sent 4 ACKs for the other 122
    (loopback batching) where the simulator sends 60, then its FIN."""
    real, sim = c.seq()
    assert data_ordinals_with_psh_difference(real["client"], sim["client"]) == [54, 66, 104]
    r, s = real["server"], sim["server"]
    assert first_difference(r, s)[0] == 22 and (len(r), len(s)) == (27, 84)
    assert r[-1] == s[-1]                                         # the FIN


def zero_window_episode(doc, names):
    """paced-noread: the closed window as both senders handle it, from the server's last
    ACK with an open window before the zero window on: (who, flags, length, raw window,
    seq relative to SND.UNA) of each segment, the reopened burst as its length and its
    PSH positions. Same shapes are asserted, not the same times or sequence numbers."""
    segs = doc["segments"]
    names = {role: names[role] for role in names}
    zero = next(k for k, s in enumerate(segs) if names[s["src"]] == "server" and s["win"] == 0)
    start = max(k for k in range(zero) if names[segs[k]["src"]] == "server")
    una = segs[start]["rel_ack"]
    out, k = [], start
    while k < len(segs):
        s = segs[k]
        who = names[s["src"]]
        if who == "server" and s["win"] > 0 and k > zero:        # the reopening ACK
            out.append((who, s["flags"], s["len"], s["win"], None))
            burst = []
            for t in segs[k + 1:]:
                if names[t["src"]] != "client" or not t["len"]:
                    break
                burst.append(t)
            out.append(("burst", len(burst), [j for j, t in enumerate(burst, 1) if "P" in t["flags"]]))
            return out
        rel = s["rel_seq"] - una if who == "client" else None
        if who == "client" and s["len"]:
            una = s["rel_seq"] + s["len"]
        out.append((who, s["flags"], s["len"], s["win"] if who == "server" else None, rel))
        k += 1
    return out


def ecn_bits_only(column):
    """ecn (tcp_ecn=1 in the capture namespace, kernel_sysctls): the kernel's SYN carries ECE
    and CWR and its SYN-ACK ECE (RFC 3168 §6.1.1, ECN negotiated); the simulator does not
    implement ECN. With the E and C letters taken out, everything is equal."""
    def plain(flags):
        return flags.replace("E", "").replace("C", "")

    def check(c):
        real, sim = getattr(c, column)()
        assert real != sim
        if column == "flags":
            assert [f for _, f in real[:2]] == ["SEC", "SAE"]
            assert [(d, plain(f)) for d, f in real] == sim
        else:
            for name in real:
                assert [x._replace(flags=plain(x.flags)) for x in real[name]] == sim[name]
    return check



def paced_noread_zero_window(c):
    """paced-noread, flags and seq: the same segments, windows included, up to the kernel's
    first tail loss probe (a 2-jiffy timer: whether it fires before the next paced write
    depends on the phase of jiffies, docs/fidelity.md); and the same zero-window episode:
    a 1024-byte segment with PSH for the last unit of window (after the persist timer), an
    ACK with window 0, the probe at SND.UNA - 1 without data, its answer, the window update
    to 77 units when the application reads, and the queued writes in one burst with PSH
    on the last only."""
    real, sim = c.flags()
    assert first_difference(real, sim)[0] == 50
    r, s = c.seq()
    assert first_difference(r["client"], s["client"])[0] == 27
    assert first_difference(r["server"], s["server"])[0] == 22
    episode = [("server", "A", 0, 1, None), ("client", "PA", 1024, None, 0),
               ("server", "A", 0, 0, None), ("client", "A", 0, None, -1),
               ("server", "A", 0, 0, None), ("server", "A", 0, 77, None)]
    real_episode = zero_window_episode(c.real, c.real_names)
    sim_episode = zero_window_episode(c.sim, c.sim_names)
    assert real_episode[:-1] == sim_episode[:-1] == episode
    # the queued writes: 21 in the kernel, 16 simulated (its window closed later)
    assert (real_episode[-1], sim_episode[-1]) == (("burst", 21, [21]), ("burst", 16, [16]))

BURST_WHY = ("loopback timing: the kernel sent the write in 2 bursts of 5 (PSH on the 5th, "
             "as simulated), the ACKs of the first between them")
EXPECTED = {
    "handshake": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "syncookies-always": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "syncookies-no-ts": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "keepalive-dead-peer": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "fastopen": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "server-closes-first": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "half-close": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "refused": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "close-unread": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "linger0": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "syn-loss": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "fin-loss": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "close-four-segments": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "simultaneous-close": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "close-wait-leak": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "time-wait-fin-timeout5": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "timewait-last-ack-lost": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "timewait-ports-exhausted": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "timewait-tw-reuse": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "timewait-eaddrinuse": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "timewait-reuseaddr": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "timewait-rst-rfc1337-off": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "timewait-rst-rfc1337-on": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "abort-then-write": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "interview-syn-established": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "interview-syn-time-wait": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "interview-ack-loss": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "interview-last-ack-loss": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "syncookies-ack-loss": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "ack-loss-late-data": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "data-rto": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "synack-loss": dict(
        flags=Differs("order around t = 1 s: two 1-s timers in the same jiffy, the "
                      "kernel ran the server's first", synack_timers_same_jiffy_flags),
        seq=Differs("from that order: the client ACKs the 3rd SYN-ACK before its data "
                    "in the kernel, after it in the simulator", synack_timers_same_jiffy_seq),
        states=MATCH, timers=MATCH, app=MATCH),
    "data-loss-middle": dict(
        flags=Differs(BURST_WHY, bursts("client", [], first_burst=5, answers=4)),
        seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "data-loss-tail": dict(
        flags=Differs(BURST_WHY, bursts("client", [], first_burst=5, answers=5)),
        seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "bulk-100k": dict(
        flags=Differs("loopback timing: the server's first ACKs come back between the "
                      "client's segments; ACK batching: 25 segments from the server, 49 "
                      "simulated", bulk_flags),
        seq=Differs("server: its first 22 ACKs and its last equal, in between 1 ACK "
                    "(kernel) for 25 (simulated: loopback ACK batching)", bulk_seq),
        states=MATCH, timers=MATCH, app=MATCH),
    "paced-reader": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "buffers-every-second": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "buffers-nagle-stall": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "buffers-nodelay": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "paced-noread": dict(
        flags=Differs("equal (windows too) up to the kernel's first tail loss probe, a timer "
                      "whose firing before the next write depends on the jiffy phase; the "
                      "zero-window episode equal (1024 B with PSH, window 0, probe at "
                      "SND.UNA-1, reopened to 77, the queued writes with one PSH)", paced_noread_zero_window),
        seq=Differs("client: a loss probe re-sends the last segment sent (rel 34753); server: "
                    "its D-SACK, then the ACKs the probes bring",
                    seq_diverges_at(
                        client=(27, Seg("PA", 34753, 1, 1448, True, ()), Seg("PA", 36201, 1, 1448, False, ())),
                        server=(22, Seg("A", 1, 36201, 0, False, ((34753, 36201),)),
                                Seg("A", 1, 41993, 0, False, ())))),
        states=MATCH,
        timers=Differs("kernel: 3 loss probes, the zero-window probe and the reopening ACK; "
                       "simulated: no loss probe, 2 delayed ACKs, the zero-window probe and the "
                       "reopening ACK", timer_kinds(
                           [("data retransmission", "client")] * 3 +
                           [("delayed ACK", "client"), ("delayed ACK", "server"),
                            ("TIME-WAIT left at entry", "client")],
                           [("delayed ACK", "client")] + [("delayed ACK", "server")] * 3 +
                           [("TIME-WAIT left at entry", "client")])),
        app=MATCH),
    "simultaneous-open": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "reorder": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "duplicate": dict(flags=MATCH, seq=MATCH, states=MATCH, timers=MATCH, app=MATCH),
    "ecn": dict(
        flags=Differs("ECN negotiated (tcp_ecn=1): the kernel's SYN is SYN+ECE+CWR, its "
                      "SYN-ACK SYN+ACK+ECE; the simulator has no ECN", ecn_bits_only("flags")),
        seq=Differs("the same ECE/CWR bits on the SYN and SYN-ACK; all else equal",
                    ecn_bits_only("seq")),
        states=MATCH, timers=MATCH, app=MATCH),
    "bulk-200k": dict(
        flags=Differs("loopback timing: the server's first ACKs come back between the client's "
                      "segments; ACK batching: 27 segments from the server, 84 simulated",
                      flags_diverge_at(8, ("server>client", "A"), ("client>server", "A"))),
        seq=Differs("client: PSH also after 54, 66, 104 segments (kernel); server: the first "
                    "22 ACKs equal, then 4 (kernel) for 61 (simulated)", bulk_200k_seq),
        states=MATCH, timers=MATCH, app=MATCH),
    "loss-5pct": dict(
        flags=Differs("first at the 14th data segment (kernel push: PSH when its send "
                      "buffer waits); then ACK batching and RACK", flags_diverge_at(
                          25, ("client>server", "PA"), ("client>server", "A"))),
        seq=Differs("client: PSH on the 14th segment first; server: from its 20th ACK",
                    seq_diverges_at(
                        client=(15, Seg("PA", 18825, 1, 1448, False, ()), Seg("A", 18825, 1, 1448, False, ())),
                        server=(19, Seg("A", 1, 18825, 0, False, ((20273, 28961),)),
                                Seg("A", 1, 7241, 0, False, ((20273, 30409), (8689, 18825)))))),
        states=MATCH, timers=MATCH, app=MATCH),
    "loss-20pct": dict(
        flags=Differs("first at the 12th data segment (kernel push: PSH when its send "
                      "buffer waits); then ACK batching and RACK", flags_diverge_at(
                          20, ("client>server", "PA"), ("client>server", "A"))),
        seq=Differs("client: PSH on the 12th segment first; server: from its 23rd ACK (the "
                    "client's retransmissions differ: RACK)",
                    seq_diverges_at(
                        client=(13, Seg("PA", 15929, 1, 1448, False, ()), Seg("A", 15929, 1, 1448, False, ())),
                        server=(22, Seg("A", 1, 33305, 0, False, ()), Seg("A", 1, 31857, 0, False, ())))),
        states=MATCH,
        timers=Differs("the same 36 retransmissions and FIN; the 13th at once in the kernel, "
                       "after ~200 ms simulated; the 35th after ~200 ms in the kernel, at once "
                       "simulated (RACK's reordering timer and reo_wnd growth are not modelled)",
                       random_loss_timers([12], [34])),
        app=MATCH),
}


# ------------------------------------------------------------------ the tests
@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("fidelity")
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = Comparison(name, workdir)
        return cache[name]
    return get


def test_every_shipped_capture_is_compared():
    assert NAMES and set(EXPECTED) == set(NAMES)
    for name in NAMES:
        for ext in (".json", ".events.json"):
            assert (CAPTURES / f"{name}{ext}").exists(), name
    assert all(set(cells) == set(COLUMNS) for cells in EXPECTED.values())


CELLS = [(name, column) for name in sorted(EXPECTED) for column in COLUMNS]


@pytest.mark.parametrize("name,column", CELLS)
def test_capture_against_linux_profile(compared, name, column):
    """A MATCH cell matches; a Differs cell differs exactly as documented."""
    c = compared(name)
    cell = EXPECTED[name][column]
    if cell == MATCH:
        if column == "timers":
            assert not c.timer_problems()
        elif column == "states":
            assert c.states()[0] == c.states()[1]
            assert not c.ss_states_missing()
        else:
            real, sim = getattr(c, column)()
            assert real == sim
    else:
        cell.check(c)


KNOWN = [pytest.param(name, column, id=f"{name}-{column}",
                      marks=pytest.mark.xfail(strict=True, reason=EXPECTED[name][column].why))
         for name, column in CELLS if EXPECTED[name][column] != MATCH]


@pytest.mark.parametrize("name,column", KNOWN)
def test_known_difference_is_still_there(compared, name, column):
    """Fails (xfail) while the documented difference exists; passes, and so breaks the
    suite, the day the simulator matches: then make the cell MATCH and update the docs."""
    assert compared(name).column_matches(column)


def test_timers_that_the_captures_show(compared):
    """The timers each capture checks (so the table cannot silently lose one)."""
    kinds = {name: [(t.kind, t.host) for t in compared(name).timers()[0]] for name in NAMES}
    assert kinds["syn-loss"] == [("SYN retransmission", "client")] * 2
    assert sorted(kinds["synack-loss"]) == sorted([("SYN-ACK retransmission", "server")] * 2 +
                                                  [("SYN retransmission", "client")])
    assert kinds["half-close"] == [("delayed ACK", "server")]
    assert kinds["fin-loss"] == [("FIN retransmission", "client")] * 2 + \
        [("TIME-WAIT left at entry", "client")]
    assert kinds["data-rto"] == [("data retransmission", "client")] * 2 + \
        [("TIME-WAIT left at entry", "client")]
    assert kinds["data-loss-middle"] == [("data retransmission", "client"),
                                         ("TIME-WAIT left at entry", "client")]
    assert kinds["data-loss-tail"] == [("data retransmission", "client"),
                                       ("TIME-WAIT left at entry", "client"),
                                       ("TIME-WAIT", "client")]
    assert kinds["reorder"] == [("data retransmission", "client"), ("TIME-WAIT left at entry", "client")]
    assert kinds["simultaneous-open"] == [("TIME-WAIT left at entry", "a")]
    assert kinds["duplicate"] == [("TIME-WAIT left at entry", "client")]
    assert kinds["paced-reader"] == [("TIME-WAIT left at entry", "client")]      # no delayed ACK
    assert kinds["buffers-every-second"] == [("delayed ACK", "server"),         # the 21st segment
                                             ("TIME-WAIT left at entry", "client")]
    assert kinds["buffers-nagle-stall"] == [("delayed ACK", "server"),          # the stall
                                            ("delayed ACK", "client"),
                                            ("TIME-WAIT left at entry", "client")]
    assert kinds["buffers-nodelay"] == [("delayed ACK", "client"), ("TIME-WAIT left at entry", "client")]
    assert kinds["keepalive-dead-peer"] == [("keepalive probe", "client")] * 2 + \
        [("keepalive gives up", "client")]
    assert kinds["syncookies-always"] == kinds["syncookies-no-ts"] == [
        ("TIME-WAIT left at entry", "client")]
    assert kinds["close-four-segments"] == [("delayed ACK", "server"),
                                            ("TIME-WAIT left at entry", "client")]
    assert kinds["simultaneous-close"] == [("TIME-WAIT left at entry", "client"),
                                           ("TIME-WAIT left at entry", "server")]
    assert kinds["close-wait-leak"] == [("delayed ACK", "server")]
    assert kinds["time-wait-fin-timeout5"] == [("delayed ACK", "server"),
                                               ("TIME-WAIT left at entry", "client"),
                                               ("TIME-WAIT", "client")]
    assert kinds["interview-syn-established"] == kinds["interview-ack-loss"] == [
        ("TIME-WAIT left at entry", "client")]
    assert kinds["interview-syn-time-wait"] == [("TIME-WAIT left at entry", "server"),
                                                ("TIME-WAIT", "server"),
                                                ("TIME-WAIT left at entry", "client")]
    assert kinds["interview-last-ack-loss"] == [("FIN retransmission", "server"),
                                                ("TIME-WAIT left at entry", "client")]
    # the last ACK lost: one FIN retransmission, and TIME-WAIT 60 s from the re-ACK
    assert kinds["timewait-last-ack-lost"] == [("FIN retransmission", "server"),
                                               ("TIME-WAIT left at entry", "client"),
                                               ("TIME-WAIT", "client")]
    # notebook 08's TIME-WAIT policies: ss's timer at entry wherever TIME-WAIT began, and
    # its whole length where it ended inside the run (tw_reuse took the ports over after
    # 1 s, a new SYN reopened the server's, an RST killed the client's)
    assert kinds["timewait-ports-exhausted"] == [("TIME-WAIT left at entry", "client")]
    assert kinds["timewait-eaddrinuse"] == [("TIME-WAIT left at entry", "server")]
    assert kinds["timewait-tw-reuse"] == [("TIME-WAIT left at entry", "client"),
                                          ("TIME-WAIT", "client")]
    assert kinds["timewait-reuseaddr"] == [("TIME-WAIT left at entry", "server"),
                                           ("TIME-WAIT", "server")]
    # the "delayed ACK" of the RST captures is TIME-WAIT's answer to the server's FIN copy
    # that the queue stage sent 1 s late: the copy is not in the pcap (TTL 63, filtered), so
    # the wire shows a lone ACK 1 s after the last segment
    assert kinds["timewait-rst-rfc1337-off"] == [("delayed ACK", "client"),
                                                 ("TIME-WAIT left at entry", "client"),
                                                 ("TIME-WAIT", "client")]
    assert kinds["timewait-rst-rfc1337-on"] == [("delayed ACK", "client"),
                                                ("TIME-WAIT left at entry", "client")]
    assert kinds["loss-5pct"].count(("data retransmission", "client")) == 8
    assert kinds["loss-20pct"].count(("data retransmission", "client")) == 35


# Receivers whose application was still inside recv() while a burst arrived (loopback ACK
# batching, docs/fidelity.md): their windows follow the kernel's read timing, which the
# simulator's instant reads do not model; their peers' windows are compared.
WINDOWS_FOLLOW_READ_TIMING = {name: "server" for name in (
    "bulk-100k", "bulk-200k", "data-loss-middle", "data-loss-tail", "loss-5pct", "loss-20pct")}
WINDOW_UNITS_TOLERANCE = 1      # issue 15: windows within one scaled unit


def matched_windows(c, host):
    """(real, simulated) raw window fields of ``host``'s segments after its SYN, up to its
    first difference in the seq column (beyond it the segments are not the same ones)."""
    real, sim = c.seq()
    k = first_difference(real[host], sim[host])
    n = k[0] if k else len(real[host])

    def fields(doc, names):
        return [s["win"] for s in doc["segments"] if names[s["src"]] == host][:n]
    r, s = fields(c.real, c.real_names), fields(c.sim, c.sim_names)
    syns = sum("S" in x.flags for x in real[host][:n])
    return r[syns:], s[syns:]


@pytest.mark.parametrize("name", NAMES)
def test_windows_within_one_scaled_unit(compared, name):
    """The advertised window of every segment both runs send (after the SYNs, up to the
    first difference of each direction) is within one scaled unit of the kernel's: the
    window growth from 65 160 to 81 501 B (tcp_grow_window), its shrinking as unread data
    fills the buffer, zero and reopening (paced-noread), docs/linux-facts.md §13.2-13.3."""
    c = compared(name)
    for host in c.real_names.values():
        if WINDOWS_FOLLOW_READ_TIMING.get(name) == host:
            continue
        real, sim = matched_windows(c, host)
        assert len(real) == len(sim)
        far = [(k, r, s) for k, (r, s) in enumerate(zip(real, sim)) if abs(r - s) > WINDOW_UNITS_TOLERANCE]
        assert not far, (host, far[:5])


def test_windows_that_the_paced_captures_show(compared):
    """The windows themselves: paced-reader grows 67, 70, 73, 75, 78, 80 and stays at 80
    (81 501 B rounded up to 1024); paced-noread stops at 77 and falls by about one unit per
    segment (the right edge may not move left) in both runs."""
    real, sim = matched_windows(compared("paced-reader"), "server")
    assert real == sim and real[:7] == [67, 70, 73, 75, 78, 80, 80] and set(real[5:-1]) == {80}
    real, sim = matched_windows(compared("paced-noread"), "server")
    assert real == sim and real[:6] == [67, 70, 73, 75, 77, 76] and real[-1] == 62


@pytest.mark.parametrize("name,window", [("syncookies-no-ts", 64900), ("syncookies-always", 63)])
def test_a_cookie_rebuilt_server_offers_the_kernels_window(compared, name, window):
    """linux cookie_v4_check() -> tcp_select_initial_window() rounds the full space (65 536)
    down to the cookie's MSS, not to advmss less the timestamps as for a SYN-ACK: 65 000 for
    MSS 1300 without timestamps (64 900 once 100 B are in, 64 899 after the FIN), 64 240 for
    1460 with them (63 units at wscale 10, where a normal server says 64). Every server
    window after the handshake equals the kernel's."""
    real, sim = matched_windows(compared(name), "server")
    assert real == sim and real[0] == window and len(real) >= 3


@pytest.mark.parametrize("name,same_first", [("loss-5pct", 3), ("loss-20pct", 8)])
def test_random_loss_hits_the_simulators_segments(compared, name, same_first):
    """The queue stage draws random loss from the simulator's own generator, one draw per
    matching packet: both runs send the same number of client segments, so they lose the same
    number, and the same segments until the two senders first differ (a retransmission sent
    at another moment). The drops are the stage's log (``queue.log``) and the trace's
    ``dropped`` rows."""
    c = compared(name)
    isn = c.real["hosts"]["client"]["isn"]
    real = [((e["seq"] - isn) % SEQ_SPACE, e["len"]) for e in c.events_doc["queue"]["log"]
            if e["verdict"] == "drop"]
    sim = [(s["rel_seq"], s["len"]) for s in c.trace.doc["segments"] if s["dropped"]]
    assert len(real) == len(sim)
    k = first_difference(real, sim)[0]
    assert k == same_first and real[:k] == sim[:k]


def test_fastopen_second_connection_carries_data_in_the_syn(compared, tmp_path):
    """fastopen.pcap's second connection (stream 1; the table compares stream 0, the cookie
    request): the SYN carries the cookie the first SYN-ACK gave and the first send's 6
    bytes, the SYN-ACK acknowledges them and carries no cookie; the simulator the same."""
    c = compared("fastopen")
    sim_pcap = tmp_path / "fastopen-sim.pcap"
    write_pcap(c.trace.doc, sim_pcap)

    def rows(path):
        first, second = (read_pcap(path, stream=k).doc["segments"] for k in (0, 1))
        cookie = first[1]["options"]["tfo"]
        assert first[0]["options"]["tfo"] == "" and len(cookie) == 16    # request, 8 bytes
        assert second[0]["options"]["tfo"] == cookie and "tfo" not in second[1]["options"]
        return [(r["src"], r["flags"], r["rel_seq"], r["rel_ack"], r["len"], "tfo" in r["options"])
                for r in second]

    real, sim = rows(CAPTURES / "fastopen.pcap"), rows(sim_pcap)
    assert real == sim
    assert real[:2] == [("client", "S", 0, None, 6, True), ("server", "SA", 0, 7, 0, False)]


def test_an_unacceptable_ack_in_syn_sent_brings_the_syn_again_soon(compared, tmp_path):
    """interview-syn-established, stream 1 (the client connects again from the port of a
    connection it aborted, its RST lost): the server, still ESTABLISHED, answers the SYN
    with a challenge ACK (RFC 5961 §4); it acknowledges nothing the new SYN sent, so the
    client answers with an RST at that ACK's ack (RFC 9293 §3.10.7.3), which the server
    accepts (its RCV.NXT), and sends its SYN again after TCP_TIMEOUT_MIN, not after the
    1 s initial RTO (linux tcp_rcv_synsent_state_process(); the profile's
    ``syn_sent_bad_ack_rearm_s``); ``ss`` saw the SYN-SENT timer at 4 ms."""
    c = compared("interview-syn-established")
    sim_pcap = tmp_path / "syn-established-sim.pcap"
    write_pcap(c.trace.doc, sim_pcap)

    def second(path):
        rows = read_pcap(path, stream=1).doc["segments"]
        return rows, [(r["src"], r["flags"]) for r in rows]
    (real, real_flags), (sim, sim_flags) = second(CAPTURES / "interview-syn-established.pcap"), \
        second(sim_pcap)
    assert real_flags == sim_flags
    assert real_flags[:5] == [("client", "S"), ("server", "A"), ("client", "R"),
                              ("client", "S"), ("server", "SA")]
    for rows in (real, sim):
        assert rows[2]["seq"] == rows[1]["ack"]                  # the RST at the ACK's ack
    assert sim[3]["t"] - sim[2]["t"] == pytest.approx(TCP_TIMEOUT_MIN, abs=1e-4)
    gap_s = real[3]["t"] - real[2]["t"]
    assert TCP_TIMEOUT_MIN - CAPTURE_OFFSET_S <= gap_s <= \
        TCP_TIMEOUT_MIN + kernel_lateness_bound(TCP_TIMEOUT_MIN)
    syn_sent = [r for r in c.events_doc["states"] if r["to"] == "SYN-SENT"]
    assert syn_sent and syn_sent[0]["timer_left_s"] <= TCP_TIMEOUT_MIN


def test_close_wait_leak_orphan_gives_up_after_fin_timeout(compared):
    """close-wait-leak: the server never closes. ``ss`` saw the orphaned client leave
    FIN-WAIT-2 (silently: no segment) tcp_fin_timeout = 5 s after it entered it, with the
    orphan timer shown at entry; the server stayed in CLOSE-WAIT to the end of the run. The
    simulator's fin_timeout does the same (notebook 07, section 6)."""
    c = compared("close-wait-leak")
    fin_timeout_s = c.scenario.hosts[0].options.fin_timeout

    def finwait2_and_closewait(rows):
        client = [r for r in rows if r["host"] == "client"]
        entry = next(r for r in client if r["to"] == "FIN-WAIT-2")
        gone = next(r for r in client if r["from"] == "FIN-WAIT-2")
        server = [r for r in rows if r["host"] == "server" and not r["socket"].endswith(":listen")]
        return entry, gone, server[-1]["to"]
    entry, gone, server_last = finwait2_and_closewait(c.events_doc["states"])
    assert 0 <= fin_timeout_s - entry["timer_left_s"] <= c.events_doc["ss_poll_max_s"]
    assert gone["to"] == "CLOSED" and server_last == "CLOSE-WAIT"
    poll_s = c.events_doc["ss_poll_max_s"]    # both ends are seen up to one poll late
    assert -poll_s <= gone["t"] - entry["t"] - fin_timeout_s <= \
        kernel_lateness_bound(fin_timeout_s) + poll_s
    entry, gone, server_last = finwait2_and_closewait(c.trace.doc["states"])
    assert gone["t"] - entry["t"] == pytest.approx(fin_timeout_s)
    assert gone["to"] == "CLOSED" and server_last == "CLOSE-WAIT"
    assert not [s for s in c.real["segments"] if s["t"] > 1.0]      # nothing on the wire


def test_fin_timeout_does_not_shorten_time_wait(compared):
    """time-wait-fin-timeout5: with net.ipv4.tcp_fin_timeout = 5 in the namespace, ``ss``
    showed the FIN-WAIT-2 timer at 5 s, then the TIME-WAIT timer at 59 s, and the socket
    left TIME-WAIT 60 s after it entered it (the timer wheel's lateness allowed): TIME-WAIT
    is TCP_TIMEWAIT_LEN whatever tcp_fin_timeout says (notebook 07, the myth)."""
    c = compared("time-wait-fin-timeout5")
    assert c.events_doc["sysctls"] == {"net.ipv4.tcp_fin_timeout": 5}
    client = [r for r in c.events_doc["states"] if r["host"] == "client"]
    finwait2 = next(r for r in client if r["to"] == "FIN-WAIT-2")
    time_wait = next(r for r in client if r["to"] == "TIME-WAIT")
    left = next(r for r in client if r["from"] == "TIME-WAIT")
    assert 0 <= 5 - finwait2["timer_left_s"] <= c.events_doc["ss_poll_max_s"]   # polled a bit late
    assert time_wait["timer_left_s"] >= LINUX.time_wait_s - SS_SECONDS_TRUNCATION_S
    poll_s = c.events_doc["ss_poll_max_s"]    # both ends are seen up to one poll late
    assert -poll_s <= left["t"] - time_wait["t"] - LINUX.time_wait_s <= \
        kernel_lateness_bound(LINUX.time_wait_s) + poll_s
    sim = c.trace.states[c.trace.states["host"] == "client"]
    entered = sim[sim["to"] == "TIME-WAIT"]["t"].iloc[0]
    assert sim[sim["from"] == "TIME-WAIT"]["t"].iloc[0] - entered == pytest.approx(LINUX.time_wait_s)


def test_timer_tolerances():
    """The kernel bound for the timers of these captures (see the constants)."""
    assert kernel_lateness_bound(0.040) == pytest.approx(0.012)      # delayed ACK: level 0
    assert kernel_lateness_bound(0.2) == pytest.approx(0.012)        # RTO, TLP: level 0
    assert kernel_lateness_bound(1.0) == pytest.approx(0.040)        # SYN, SYN-ACK: level 1
    assert kernel_lateness_bound(4.0) == pytest.approx(0.264)        # level 2
    assert kernel_lateness_bound(60.0) == pytest.approx(2.056)       # TIME-WAIT: level 3


# ------------------------------------------------------------------ simulator fixes
# Found by these comparisons; each test states the kernel behaviour and its evidence.
def test_linux_nagle_is_minshall_the_short_tail_of_a_write_leaves_at_once():
    """data-loss-tail.pcap: the 1312-byte tail of a 10000-byte write left right behind the
    six full segments, none of them ACKed yet. Linux's Nagle test is Minshall's variant
    (tcp_nagle_check() -> tcp_minshall_check()): a short segment waits only while an
    earlier *short* one is unacknowledged. The rfc9293 profile keeps RFC 9293 §3.7.4."""
    def first_data(profile):
        trace = tcpsim.run({"profile": profile, "link": {"mtu": 1500, "delay": 0.01},
                            "hosts": {"client": {"port": 40000}, "server": {"port": 5001}},
                            "actions": [{"at": 0, "host": "server", "do": "listen"},
                                        {"at": 0, "host": "client", "do": "connect", "to": "server"},
                                        {"at": 0.5, "host": "client", "do": "send", "bytes": 10000}]})
        return [(s["len"], s["t"]) for s in trace.doc["segments"] if s["src"] == "client" and s["len"]]
    linux = first_data("linux")
    assert [n for n, _ in linux] == [1448] * 6 + [1312]
    assert all(t == pytest.approx(0.5) for _, t in linux)
    rfc = first_data("rfc9293")
    assert rfc[-1][1] > 0.5 + 0.019                  # waits for the ACKs (RTT 20 ms)


def test_linux_nagle_still_holds_a_second_short_write():
    """docs/linux-facts.md §4 (nagle-stall): a second short write waits while the first
    short one is unacknowledged (Minshall's rule still holds it back)."""
    trace = tcpsim.run({"profile": "linux", "link": {"mtu": 1500, "delay": 0.01},
                        "hosts": {"client": {"port": 40000}, "server": {"port": 5001}},
                        "actions": [{"at": 0, "host": "server", "do": "listen"},
                                    {"at": 0, "host": "client", "do": "connect", "to": "server"},
                                    {"at": 0.5, "host": "client", "do": "send", "bytes": 10},
                                    {"at": 0.5, "host": "client", "do": "send", "bytes": 10}]})
    data = [s for s in trace.doc["segments"] if s["src"] == "client" and s["len"]]
    assert [s["len"] for s in data] == [10, 10]
    assert data[1]["t"] >= data[0]["t"] + 0.02       # after the first one's ACK came back


def test_linux_acks_when_a_read_empties_the_queue_after_a_short_segment():
    """bulk-100k.pcap: the 88-byte last segment was ACKed 47 µs after it arrived, not after
    the 40 ms delayed-ACK timer: tcp_cleanup_rbuf() sends the pending ACK when a read empties
    the receive queue after a short (pushed) segment, outside pingpong mode
    (docs/linux-facts.md §3.2)."""
    trace = tcpsim.run(str(CAPTURES / "bulk-100k.json"))
    server_acks = [s for s in trace.doc["segments"] if s["src"] == "server" and s["flags"] == "A"]
    last = next(s for s in trace.doc["segments"] if s["src"] == "client" and s["len"] == 88)
    final_ack = next(a for a in server_acks if a["rel_ack"] == 100001)
    assert final_ack["t"] - last["arrival"] < 0.001


def test_pingpong_short_segment_still_gets_a_delayed_ack():
    """docs/linux-facts.md §4 phase C: in pingpong mode one short request read by the
    application is ACKed by the delayed-ACK timer (40 ms), not by the read."""
    trace = tcpsim.run({"profile": "linux", "link": {"mtu": 1500},
                        "hosts": {"client": {"port": 40000}, "server": {"port": 5001}},
                        "actions": [{"at": 0, "host": "server", "do": "listen"},
                                    {"at": 0, "host": "client", "do": "connect", "to": "server"},
                                    {"at": 0.1, "host": "client", "do": "send", "bytes": 10},
                                    {"at": 0.1001, "host": "server", "do": "send", "bytes": 10},
                                    {"at": 0.2, "host": "client", "do": "send", "bytes": 10},
                                    {"at": 1.2, "host": "server", "do": "send", "bytes": 10}]})
    request = [s for s in trace.doc["segments"] if s["src"] == "client" and s["len"]][1]
    ack = next(s for s in trace.doc["segments"] if s["src"] == "server" and s["t"] > request["t"])
    assert ack["flags"] == "A" and ack["len"] == 0
    assert ack["t"] - request["arrival"] == pytest.approx(LINUX.delayed_ack_s, abs=1e-6)


# ------------------------------------------------------------------ the table for the docs
TIMER_SHORT = {"SYN retransmission": "SYN rtx", "SYN-ACK retransmission": "SYN-ACK rtx",
               "data retransmission": "data rtx", "FIN retransmission": "FIN rtx",
               "delayed ACK": "delayed ACK", "keepalive probe": "keepalive probe",
               "keepalive gives up": "keepalive RST",
               "TIME-WAIT left at entry": "TIME-WAIT (ss at entry)", "TIME-WAIT": "TIME-WAIT"}


def _duration(seconds):
    if seconds < JIFFY_S:
        return "at once"
    if seconds < 10:
        return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.3f} s"
    return f"{seconds:.2f} s"


def fidelity_table(get):
    """The markdown table of docs/fidelity.md, from EXPECTED and the comparisons."""
    lines = ["| capture | flags | seq/ack, len | states | timers (kernel vs simulated) | app |",
             "|---|---|---|---|---|---|"]
    for name in sorted(EXPECTED):
        c = get(name)
        real, sim = c.timers()
        timers = "; ".join(f"{TIMER_SHORT[r.kind]} {_duration(r.interval_s)} "
                           f"({_duration(s.interval_s)})" for r, s in zip(real, sim)) or "none"
        cells = []
        for column in COLUMNS:
            cell = EXPECTED[name][column]
            text = "match" if cell == MATCH else f"**differs**: {cell.why}"
            if column == "timers":
                text = (f"≈ {timers}" if timers != "none" else "– (none)") if cell == MATCH \
                    else f"{text}; {timers}"
            cells.append(text)
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def test_docs_table_is_current(compared):
    """docs/fidelity.md shows exactly what these tests check (regenerate with
    ``python tests/test_fidelity.py``)."""
    assert fidelity_table(compared) in FIDELITY_DOC.read_text()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        cache = {}
        print(fidelity_table(lambda n: cache.setdefault(n, Comparison(n, tmp))), end="")
