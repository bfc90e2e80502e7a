"""Notebook 03's experiments: initial sequence numbers over time, the blind-spoofing attack,
how often a stale segment of an earlier incarnation is accepted, and SYN cookies under a
flood.

    from tcpsim import isn_experiments as isnx
    isnx.generator_table(duration_s=600, every_s=5)     # ISNs of successive connections
    isnx.blind_spoof("clock"), isnx.blind_spoof("rfc6528")  # Morris 1985 / Mitnick 1994
    isnx.stale_acceptance(gaps_s)                        # the Monte Carlo (progress bar)
    isnx.flood_queue(trace), isnx.cookie_table(trace)    # a flooded listener, its cookies

Everything here uses the simulator's own pieces, so that what the notebook shows is what a
scenario does: ``tcpsim.isn``'s generators with the keys a simulation draws from its seed
(:func:`simulation_keys`), ``tcpsim.run`` for the attack and the flood, and for the Monte
Carlo the endpoint's own acceptability rules written out for numpy arrays
(:func:`stale_rule`), which ``tests/test_isn_experiments.py`` holds to full simulator runs.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from . import isn as isn_mod
from .segment import HALF, SEQ_MASK

SEQ_SPACE = 2 ** 32                  # RFC 9293 §3.4: 32-bit sequence numbers
CLOCK_TICK_S = 4e-6                  # RFC 9293 §3.4.1 (RFC 793 §3.3): the ISN clock's tick
LINUX_TICK_S = 64e-9                 # net/core/secure_seq.c: ktime_get_real_ns() >> 6
TICK_S = {"clock": CLOCK_TICK_S, "rfc6528": LINUX_TICK_S}
WRAP_S = {name: SEQ_SPACE * tick for name, tick in TICK_S.items()}   # 17179.87 s, 274.88 s
STRATEGIES = ("zero", "clock", "rfc6528", "random")
STRATEGY_LABELS = {
    "zero": "zero (a teaching variant)",
    "clock": "RFC 793 clock (4 µs)",
    "rfc6528": "RFC 6528: keyed hash + 64 ns clock (Linux)",
    "random": "random",
}
CLIENT_ADDR, SERVER_ADDR = "10.0.0.1", "10.0.0.2"   # a scenario's two hosts (simulator.py)


def simulation_keys(seed: int):
    """(secret, clock_offset_ns) as ``Simulation`` draws them from a scenario's ``seed``: the
    ISN generators' key and the host clocks' offset (both hosts share the clock)."""
    rng = random.Random(f"tcpsim:{int(seed)}")
    secret = rng.getrandbits(128).to_bytes(16, "big")
    return secret, rng.getrandbits(52)


def _check_strategy(strategy: str) -> str:
    if strategy not in isn_mod.STRATEGIES:
        raise ValueError(f"strategy: unknown value {strategy!r} (use one of "
                         f"{', '.join(map(repr, isn_mod.STRATEGIES))})")
    return strategy


def isn_at(strategy: str, t_s: float, client_port: int, seed: int = 0,
           server_port: int = 80) -> int:
    """The ISN a scenario's first host (the client, 10.0.0.1) chooses for a connection to
    ``server_port`` on the second host at simulated time ``t_s``, under ``strategy``."""
    secret, offset_ns = simulation_keys(seed)
    four_tuple = (CLIENT_ADDR, int(client_port), SERVER_ADDR, int(server_port))
    return isn_mod.STRATEGIES[_check_strategy(strategy)](t_s, four_tuple, secret, offset_ns)


def generator_table(duration_s: float = 600.0, every_s: float = 5.0, seed: int = 0,
                    first_port: int = 40000, fixed_port: int = 40000):
    """ISNs of successive connections, one every ``every_s`` seconds for ``duration_s``, as
    a DataFrame (strategy, series, t_s, port, isn). Each strategy's connections come from
    a new ephemeral port each time (ports step by 2, as Linux's), and RFC 6528 also from one
    fixed port (the same 4-tuple every time: series "one 4-tuple")."""
    import pandas as pd
    if not every_s > 0 or not duration_s >= every_s:
        raise ValueError("every_s: must be > 0 and at most duration_s")
    times = [round(k * every_s, 9) for k in range(int(duration_s / every_s) + 1)]
    rows = []
    for strategy in ("clock", "rfc6528", "random"):
        for k, t in enumerate(times):
            port = first_port + 2 * k % 20000
            rows.append((strategy, "new port each time", t, port,
                         isn_at(strategy, t, port, seed)))
    for t in times:
        rows.append(("rfc6528", "one 4-tuple", t, fixed_port,
                     isn_at("rfc6528", t, fixed_port, seed)))
    return pd.DataFrame(rows, columns=["strategy", "series", "t_s", "port", "isn"])


def predict_isn(observed_isn: int, observed_at_s: float, at_s: float,
                tick_s: float = CLOCK_TICK_S) -> int:
    """The ISN a clock-driven generator gives at ``at_s``, from one it gave at
    ``observed_at_s``: the clock's ticks in between, added modulo 2^32."""
    return (int(observed_isn) + round((at_s - observed_at_s) / tick_s)) % SEQ_SPACE


# ------------------------------------------------------------------------- real Linux ISNs
def real_isn_table():
    """Every SYN of ``data/captures/raw/isn-ts-mtu1500.pcap`` (Linux 6.18, 8 connects 50 ms
    apart: 4 from ephemeral ports, then 4 from port 40000, the same 4-tuple), as a DataFrame
    (stream, t_s, sport, isn, per_s): ``per_s`` is the ISN's increase per second since the
    previous SYN of the same 4-tuple."""
    import pandas as pd
    from .course import CAPTURES_DIR
    from .pcap import list_streams, read_pcap
    path = CAPTURES_DIR / "raw" / "isn-ts-mtu1500.pcap"
    rows = []
    for k in range(len(list_streams(path))):
        trace = read_pcap(path, stream=k)
        syn = trace.segments[trace.segments["flags"] == "S"].iloc[0]
        start = trace.doc["capture"]["start"]
        rows.append((k, round(start + float(syn["t"]), 6), int(syn["sport"]), int(syn["seq"])))
    table = pd.DataFrame(rows, columns=["stream", "t_s", "sport", "isn"])
    table["t_s"] = (table["t_s"] - table["t_s"].iloc[0]).round(6)
    per_s = []
    for k, row in table.iterrows():
        before = table[(table.index < k) & (table["sport"] == row["sport"])]
        if before.empty:
            per_s.append(None)
        else:
            last = before.iloc[-1]
            per_s.append(((row["isn"] - last["isn"]) % SEQ_SPACE) / (row["t_s"] - last["t_s"]))
    table["per_s"] = per_s
    return table


# ------------------------------------------------------------------- the blind spoofing attack
ATTACKER_ADDR = "203.0.113.66"    # TEST-NET-3 (RFC 5737): the attacker's own machine
ATTACKER_PORT = 40000
TRUSTED_PORT = 1023               # a privileged port: rsh trusts it (rshd, .rhosts)
SERVER_PORT = 514                 # rsh (the shell service Mitnick's packets went to)
PROBE_AT_S = 1.0                  # the attacker's own SYN: it sees the SYN-ACK's ISN
SPOOF_SYN_AT_S = 2.0              # the SYN with the trusted host's address
SPOOF_ACK_AT_S = 2.1              # the blind ACK, with the command
SPOOFED_ISN = 1000                # the attacker picks its own ISN
COMMAND = "echo + + >> .rhosts"   # what Mitnick's spoofed connection ran (19 bytes)
SILENCED_FROM_S = 1.5             # from then on nothing reaches the trusted host


def spoof_scenario(isn_strategy: str = "clock", spoofed_ack: int | None = None,
                   seed: int = 1985) -> dict:
    """The blind-spoofing attack as a scenario: hosts "trusted" (which the server's rsh
    trusts) and "server" (with ``options.isn_strategy``).

    * at 1.0 s the attacker connects from its own address (a one-SYN ``flood``): the
      SYN-ACK, which goes back to the attacker's machine (outside the scenario, so the trace
      marks it ``dropped``), shows it the server's current ISN;
    * from 1.5 s the trusted host hears nothing: Mitnick silenced it with a SYN flood; here
      a ``drop`` fault eats every segment the server sends (so the trusted host never
      sees the SYN-ACK and never answers it with a RST);
    * at 2.0 s a SYN with the trusted host's address and port (``inject``);
    * at 2.1 s, if ``spoofed_ack`` is given, the blind ACK with the command's 19 bytes:
      seq = 1001, ack = ``spoofed_ack`` (the predicted ISN + 1).
    """
    faults = [
        {"flood": {"to": "server", "count": 1, "between": [PROBE_AT_S, PROBE_AT_S],
                   "from_addrs": f"{ATTACKER_ADDR}/32",
                   "from_ports": [ATTACKER_PORT, ATTACKER_PORT]}},
        {"drop": {"from": "server", "between": [SILENCED_FROM_S, 60.0]}},
        {"inject": {"at": SPOOF_SYN_AT_S, "from": "trusted", "flags": "S",
                    "seq": SPOOFED_ISN}},
    ]
    if spoofed_ack is not None:
        faults.append({"inject": {"at": SPOOF_ACK_AT_S, "from": "trusted", "flags": "PA",
                                  "seq": SPOOFED_ISN + 1, "ack": spoofed_ack,
                                  "bytes": len(COMMAND)}})
    return {"name": f"blind spoofing, server ISNs: {isn_strategy}", "profile": "linux",
            "seed": seed,
            "hosts": {"trusted": {"port": TRUSTED_PORT},
                      "server": {"port": SERVER_PORT,
                                 "options": {"isn_strategy": isn_strategy}}},
            "actions": [{"at": 0.0, "host": "server", "do": "listen"}],
            "faults": faults, "until": 5.0}


def strategy_explorer(spoofed_ack: int | None = None):
    """The blind-spoofing scenario in an explorer, with a switch for the server's ISN
    strategy (clock, rfc6528, random, zero) beside the link delay."""
    import ipywidgets

    from .widgets import explorer

    def set_server_isns(scenario, strategy):
        scenario["hosts"]["server"]["options"]["isn_strategy"] = strategy

    buttons = ipywidgets.ToggleButtons(options=["clock", "rfc6528", "random", "zero"])
    return explorer(spoof_scenario("clock", spoofed_ack), controls=("delay_ms",),
                    extra={"server's ISNs": (buttons, set_server_isns)})


def cookie_handshake_options(names=("syncookies-always", "syncookies-no-ts")):
    """The SYN and SYN-ACK of each named capture (flags, window, options), one row each:
    what a cookie's SYN-ACK keeps of the SYN's options, with and without timestamps."""
    import pandas as pd

    from .course import capture
    rows = []
    for name in names:
        first_two = capture(name).segments.iloc[:2]
        for role, (_, seg) in zip(("SYN", "SYN-ACK"), first_two.iterrows()):
            rows.append((name, role, seg["flags"], seg["win"], seg["options"]))
    return pd.DataFrame(rows, columns=["capture", "segment", "flags", "win", "options"])


def probe_synack(trace):
    """The SYN-ACK that answered the attacker's own SYN: (time sent, its ISN)."""
    segs = trace.segments
    rows = segs[(segs["flags"] == "SA") & (segs["dst"] == ATTACKER_ADDR)]
    if rows.empty:
        raise ValueError("no SYN-ACK to the attacker's address in this trace")
    return float(rows["t"].iloc[0]), int(rows["seq"].iloc[0])


def spoofed_synack(trace):
    """The SYN-ACK the server sent to the trusted host (which never saw it): its ISN."""
    segs = trace.segments
    rows = segs[(segs["flags"] == "SA") & (segs["dst"] == "trusted")]
    return None if rows.empty else int(rows["seq"].iloc[0])


def spoof_accepted(trace) -> bool:
    """Did the server's application read the spoofed command (a read of > 0 bytes)?"""
    events = trace.events
    reads = events[(events["host"] == "server") & (events["call"] == "read")]
    return any(isinstance(r, int) and not isinstance(r, bool) and r > 0
               for r in reads["result"])


@dataclass(frozen=True)
class SpoofResult:
    strategy: str
    probe_isn: int          # what the attacker saw
    predicted_isn: int      # what it computed for the spoofed connection
    actual_isn: int         # what the server chose (the attacker never sees it)
    accepted: bool          # did the server's program read the command?
    trace: object

    def _repr_html_(self) -> str:
        verdict = ("<b>accepted</b>: the server's program read the command as if the "
                   "trusted host had sent it" if self.accepted else
                   "<b>refused</b>: the ACK did not acknowledge the server's SYN-ACK")
        return (f"<table style='font-family: monospace'>"
                f"<tr><td>server ISNs</td><td>{STRATEGY_LABELS[self.strategy]}</td></tr>"
                f"<tr><td>ISN the attacker saw (its own SYN, {PROBE_AT_S} s)</td>"
                f"<td>{self.probe_isn}</td></tr>"
                f"<tr><td>ISN it predicted for the spoofed SYN ({SPOOF_SYN_AT_S} s)</td>"
                f"<td>{self.predicted_isn}</td></tr>"
                f"<tr><td>ISN the server chose (sent to the trusted host)</td>"
                f"<td>{self.actual_isn}</td></tr>"
                f"<tr><td>the attack</td><td>{verdict}</td></tr></table>")

    def __repr__(self) -> str:
        return (f"SpoofResult({self.strategy}: saw {self.probe_isn}, predicted "
                f"{self.predicted_isn}, server chose {self.actual_isn}, "
                f"accepted={self.accepted})")


def blind_spoof(isn_strategy: str = "clock", seed: int = 1985) -> SpoofResult:
    """Run the attack: a probe run to see one ISN, the prediction (a 4 µs clock), then the
    same scenario with the blind ACK. The scenario is deterministic, so the probe's SYN-ACK
    is the same in both runs."""
    from .simulator import run
    _check_strategy(isn_strategy)
    probe = run(spoof_scenario(isn_strategy, None, seed))
    sent_at, seen = probe_synack(probe)
    predicted = predict_isn(seen, sent_at, sent_at + (SPOOF_SYN_AT_S - PROBE_AT_S))
    trace = run(spoof_scenario(isn_strategy, (predicted + 1) % SEQ_SPACE, seed))
    return SpoofResult(isn_strategy, seen, predicted, spoofed_synack(trace),
                       spoof_accepted(trace), trace)


# ----------------------------------------------------- the Monte Carlo: stale segments
RFC9293_WINDOW = 65535     # the rfc9293 profile's receive window (rcvbuf, no scaling)
SEGMENT_BYTES = 1448       # a full segment at MTU 1500 with timestamps


def stale_rule(seq, length, ack, rcv_nxt, rcv_wnd, snd_nxt):
    """Is a data segment (``seq``, ``length`` > 0, ``ack``) accepted by a connection whose
    receiver has RCV.NXT ``rcv_nxt``, window ``rcv_wnd`` and SND.NXT ``snd_nxt``?

    The endpoint's tests, for numbers or numpy int64 arrays alike (tcpsim/endpoint.py):
    the sequence test of RFC 9293 §3.10.7.4 (first check: the segment's first or last
    byte in [RCV.NXT, RCV.NXT + RCV.WND)), and the ACK test (fifth check: an ACK of data
    not yet sent, SEG.ACK > SND.NXT, gets an ACK and the segment is dropped)."""
    start = (seq - rcv_nxt) & SEQ_MASK
    start = start - SEQ_SPACE * (start >= HALF)          # signed, as seq_diff()
    end = start + length - 1
    in_window = ((start >= 0) & (start < rcv_wnd)) | ((end >= 0) & (end < rcv_wnd))
    ack_ok = ((snd_nxt - ack) & SEQ_MASK) < HALF
    return in_window & ack_ok


def _isn_pairs(strategy, gap_ns, rng):
    """(client ISS old, new, server ISS old, new) for one run per element of ``gap_ns``:
    the old connection at t = 0, the new one ``gap_ns`` later, as tcpsim.isn computes them
    (the hash of RFC 6528 is the same for the same 4-tuple, so it cancels out of every
    difference and a random one stands in for it)."""
    import numpy as np
    n = len(gap_ns)
    if strategy == "zero":
        zero = np.zeros(n, dtype=np.int64)
        return zero, zero, zero, zero
    if strategy == "random":
        return tuple(rng.integers(0, SEQ_SPACE, n, dtype=np.int64) for _ in range(4))
    offset = rng.integers(0, 2 ** 52, n, dtype=np.int64)     # Simulation.clock_offset_ns
    if strategy == "clock":
        old, new = offset // 4000, (offset + gap_ns) // 4000
        return old & SEQ_MASK, new & SEQ_MASK, old & SEQ_MASK, new & SEQ_MASK
    hash_c = rng.integers(0, SEQ_SPACE, n, dtype=np.int64)
    hash_s = rng.integers(0, SEQ_SPACE, n, dtype=np.int64)
    old, new = offset >> 6, (offset + gap_ns) >> 6
    return ((hash_c + old) & SEQ_MASK, (hash_c + new) & SEQ_MASK,
            (hash_s + old) & SEQ_MASK, (hash_s + new) & SEQ_MASK)


def stale_runs(strategy: str, gap_s: float, runs: int, rng, old_bytes: int = 1_000_000,
               new_bytes: int = 100_000, window: int = RFC9293_WINDOW,
               segment_bytes: int = SEGMENT_BYTES, jitter: float = 0.1):
    """``runs`` draws of one stale segment for one strategy and gap: a boolean array,
    True where the new incarnation accepts it.

    Each run: an old incarnation of the 4-tuple opens at t = 0 and the client sends
    ``old_bytes`` (the server sends nothing); a new incarnation opens about ``gap_s`` later
    (uniform within ± ``jitter``); a copy of one of the old data segments, picked at random,
    arrives when the new connection has received a random part of its first ``new_bytes``."""
    import numpy as np
    gap_ns = np.round(gap_s * 1e9 * (1 + jitter * rng.uniform(-1, 1, runs))).astype(np.int64)
    c_old, c_new, s_old, s_new = _isn_pairs(strategy, gap_ns, rng)
    k = rng.integers(0, max(old_bytes // segment_bytes, 1), runs, dtype=np.int64)
    seq = (c_old + 1 + k * segment_bytes) & SEQ_MASK
    ack = (s_old + 1) & SEQ_MASK                      # the old server sent no data
    received = rng.integers(0, new_bytes, runs, dtype=np.int64)
    rcv_nxt = (c_new + 1 + received) & SEQ_MASK
    return stale_rule(seq, segment_bytes, ack, rcv_nxt, window, (s_new + 1) & SEQ_MASK)


def stale_acceptance(gaps_s, strategies=STRATEGIES, runs: int = 100_000, seed: int = 0,
                     progress: bool = True, **kwargs):
    """The Monte Carlo: for each strategy and each gap, the fraction of ``runs`` stale
    segments that the new incarnation accepts (:func:`stale_runs`; ``kwargs`` go there).
    A DataFrame (strategy, gap_s, runs, accepted, fraction); with ``progress``, a tqdm
    progress bar and, at the end, a line saying how many segments were drawn and how long
    it took."""
    import time

    import numpy as np
    import pandas as pd
    from tqdm.auto import tqdm
    started = time.perf_counter()
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ValueError(f"runs: must be a positive integer, not {runs!r}")
    gaps = [float(g) for g in gaps_s]
    if not gaps or min(gaps) <= 0:
        raise ValueError("gaps_s: must be a non-empty list of times > 0 (seconds)")
    for strategy in strategies:
        _check_strategy(strategy)
    rng = np.random.default_rng(seed)
    rows = []
    jobs = [(s, g) for s in strategies for g in gaps]
    for strategy, gap in tqdm(jobs, desc="stale segments", unit="point", disable=not progress):
        accepted = int(stale_runs(strategy, gap, runs, rng, **kwargs).sum())
        rows.append((strategy, gap, runs, accepted, accepted / runs))
    if progress:
        print(f"{len(jobs) * runs:,} stale segments ({len(strategies)} strategies x "
              f"{len(gaps)} gaps x {runs:,} runs) in {time.perf_counter() - started:.1f} s")
    return pd.DataFrame(rows, columns=["strategy", "gap_s", "runs", "accepted", "fraction"])


def stale_scenario(isn_strategy: str, gap_s: float, received: int,
                   old_bytes: int = 20 * SEGMENT_BYTES, seed: int = 0) -> dict:
    """One run of the Monte Carlo as a whole scenario (rfc9293 profile, MSS 1448): the old
    incarnation sends ``old_bytes`` and is aborted 1 s before ``gap_s`` (a RST: no
    TIME-WAIT), the new one opens at ``gap_s`` on the same ports and sends ``received``
    bytes. :func:`stale_trace` adds the stale copy of an old segment."""
    if not gap_s > 1.5:
        raise ValueError("gap_s: must be more than 1.5 s (the old connection needs the time)")
    actions = [{"at": 0.0, "host": "server", "do": "listen"},
               {"at": 0.0, "host": "client", "do": "connect", "to": "server"},
               {"at": 0.1, "host": "client", "do": "send", "bytes": old_bytes},
               {"at": gap_s - 1.0, "host": "client", "do": "abort"},
               {"at": gap_s, "host": "client", "do": "connect", "to": "server"}]
    if received:
        actions.append({"at": gap_s + 0.1, "host": "client", "do": "send", "bytes": received})
    return {"name": f"a stale segment, {isn_strategy} ISNs, new incarnation after {gap_s} s",
            "profile": "rfc9293", "seed": seed, "link": {"mtu": SEGMENT_BYTES + 40},
            "hosts": {"client": {"port": 40000, "options": {"isn_strategy": isn_strategy}},
                      "server": {"port": 5001, "options": {"isn_strategy": isn_strategy}}},
            "actions": actions, "until": gap_s + 3.0}


STALE_ARRIVES_AFTER_S = 1.0    # after the new connect: its data (at + 0.1 s) is in


def stale_trace(isn_strategy: str, gap_s: float, stale_k: int, received: int,
                old_bytes: int = 20 * SEGMENT_BYTES, seed: int = 0):
    """Run :func:`stale_scenario` with a copy of the old incarnation's data segment number
    ``stale_k`` (from 0) injected 1 s after the new connect. Returns (trace, the injected
    segment's (seq, ack)): the old client ISN + 1 + k segments, the old server ISN + 1."""
    from .simulator import run
    doc = stale_scenario(isn_strategy, gap_s, received, old_bytes, seed)
    first = run(doc).segments
    old = first[first["conn"] == 0]
    c_old = int(old[old["flags"] == "S"]["seq"].iloc[0])
    s_old = int(old[old["flags"] == "SA"]["seq"].iloc[0])
    seq = (c_old + 1 + stale_k * SEGMENT_BYTES) & SEQ_MASK
    ack = (s_old + 1) & SEQ_MASK
    doc["faults"] = [{"inject": {"at": gap_s + STALE_ARRIVES_AFTER_S, "from": "client",
                                 "flags": "PA", "seq": seq, "ack": ack,
                                 "bytes": SEGMENT_BYTES}}]
    return run(doc), (seq, ack)


# --------------------------------------------------------------- SYN cookies under a flood
def flood_scenario(backlog: int = 8, count: int = 40, syn_cookies: int = 1,
                   seed: int = 4987) -> dict:
    """A listener with a small ``backlog`` flooded with ``count`` spoofed SYNs over 0.4 s
    (RFC 4987), and a real client that connects at 0.5 s and sends 100 bytes."""
    return {"name": f"a SYN flood, backlog {backlog}, tcp_syncookies={syn_cookies}",
            "profile": "linux", "seed": seed, "link": {"mtu": 1500},
            "hosts": {"client": {"port": 40001},
                      "server": {"port": 80, "options": {"backlog": backlog,
                                                         "syn_cookies": syn_cookies}}},
            "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                        {"at": 0.5, "host": "client", "do": "connect", "to": "server"},
                        {"after": "connect", "host": "client", "delay": 0.1, "do": "send",
                         "bytes": 100},
                        {"after": "connect", "host": "client", "delay": 0.3, "do": "close"},
                        {"on": "eof", "host": "server", "do": "close"}],
            "faults": [{"flood": {"to": "server", "count": count, "between": [0.0, 0.4]}}],
            "until": 10.0}


COOKIE_COLUMNS = ["t", "dst", "client_isn", "client_mss", "cookie", "mss_index", "mss"]
COOKIE_REASON = "SYN cookie"     # the listener's ignored row for a cookie SYN-ACK (listener.py)


def flood_queue(trace, host: str = "server"):
    """The listener's SYN queue over time, from a trace: a DataFrame (t, syn_queue,
    cookies) after each change: requests in SYN-RECEIVED, and SYN-ACKs sent with a cookie
    so far (which left no state)."""
    import pandas as pd
    states, ignored = trace.states, trace.ignored
    rows = states[(states["host"] == host) & (states["socket"] == host)]
    changes = [(float(r["t"]), +1 if r["to"] == "SYN-RECEIVED" else
                -1 if r["from"] == "SYN-RECEIVED" else 0, 0) for _, r in rows.iterrows()]
    if not ignored.empty:
        cookies = ignored[(ignored["host"] == host)
                          & ignored["reason"].str.contains(COOKIE_REASON)]
        changes += [(float(t), 0, 1) for t in cookies["t"]]
    out, queue, sent = [(0.0, 0, 0)], 0, 0
    for t, dq, dc in sorted(changes, key=lambda c: c[0]):
        queue += dq
        sent += dc
        out.append((t, queue, sent))
    return pd.DataFrame(out, columns=["t", "syn_queue", "cookies"])


def cookie_table(trace, seed: int, host: str = "server"):
    """Every SYN-ACK of ``host`` whose ISN is a SYN cookie, decoded with the listener's
    secret (``secret_from_seed(seed, "syncookies:<host>")``, as the simulation keys it):
    a DataFrame (t, dst, client_isn, client_mss, cookie, mss_index, mss)."""
    import pandas as pd
    from .keyedhash import secret_from_seed
    from .syncookies import MSSTAB, cookie_mss_index
    secret = secret_from_seed(seed, f"syncookies:{host}")
    segs, ignored = trace.segments, trace.ignored
    if ignored.empty:
        return pd.DataFrame(columns=COOKIE_COLUMNS)
    cookie_rows = ignored[(ignored["host"] == host)
                          & ignored["reason"].str.contains(COOKIE_REASON)]
    addrs = {name: info.get("addr") for name, info in trace.hosts.items()}
    rows = []
    for i in cookie_rows["segment"]:
        syn = segs.loc[int(i)]
        answers = segs[(segs.index > int(i)) & (segs["flags"] == "SA")
                       & (segs["ack"] == (int(syn["seq"]) + 1) & SEQ_MASK)]
        synack = answers.iloc[0]
        src = syn["src"]
        four_tuple = (addrs.get(src, src), addrs.get(host, host), int(syn["sport"]),
                      int(syn["dport"]))
        index, _ = cookie_mss_index(secret, four_tuple, int(syn["seq"]), int(synack["seq"]),
                                    float(synack["t"]))
        options = syn["options"] if isinstance(syn["options"], dict) else {}
        rows.append((float(synack["t"]), synack["dst"], int(syn["seq"]), options.get("mss"),
                     int(synack["seq"]), index,
                     MSSTAB[index] if index is not None and index < len(MSSTAB) else None))
    return pd.DataFrame(rows, columns=COOKIE_COLUMNS)
