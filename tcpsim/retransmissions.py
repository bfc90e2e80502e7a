"""Retransmissions over a trace: the RTO a sender computed, which segments it re-sent, why,
and whether they were needed; and the cost of random loss (notebook 06).

    from tcpsim import retransmissions as rtx
    rtx.rto_steps([0.120, 0.150, 0.100])          # RFC 6298 by hand: SRTT, RTTVAR, RTO
    rtx.rto_timeline(trace, host="client")        # the same, replayed over a trace
    rtx.retransmissions(trace)                    # one row per retransmitted segment
    rtx.transfer_times([0, 0.02, 0.05], runs=20)  # Monte Carlo, with a progress bar

``rto_timeline`` replays the endpoint's own rule (``endpoint.py``, ``rtt.py``): one timed
segment at a time, sampled when an ACK covers it, never a retransmitted one (Karn's
algorithm, RFC 6298 §3), the SYN's round trip as the first sample when it was not re-sent;
SRTT, RTTVAR and RTO from RFC 6298 §2 with the profile's floor (linux: RTO = SRTT +
max(4·RTTVAR, 200 ms), tcp_set_rto(); rfc9293: max(1 s, SRTT + 4·RTTVAR)). A capture has no
profile: name one (``profile="linux"``) to see what that estimator makes of its times.
Linux itself samples every ACK (with timestamps) and smooths differently
(tcp_rtt_estimator()), so on a real capture the replay is the textbook's view of Linux's
packets, not the kernel's variables.

``retransmissions`` says, for each re-sent segment, what triggered it (an ACK that had just
arrived: fast retransmit or RACK; or silence: a timer, and in a simulation which one, read
from the sender's TCB) and whether it was **needed**: a retransmission is spurious when an
earlier copy of the same bytes reached the receiver (ground truth: the trace's ``dropped``
rows, which ``course.capture`` also marks in the shipped captures), and **D-SACKed** when
the receiver said so with a D-SACK block (RFC 2883), the only evidence a sender (or a
capture) has.
"""
from __future__ import annotations

from .profiles import PROFILES
from .rtt import RttEstimator
from .segment import SEQ_MASK, seq_le, seq_lt

ACK_TRIGGER_S = 0.001     # a re-send this soon after an arriving ACK was sent because of it
                          # (the simulator: the same instant; the kernel: tens of µs)
TIME_TOLERANCE_S = 1e-6   # the simulator's times are exact; a TCB deadline equals a send time

RTO_COLUMNS = ["t", "sample_s", "srtt_s", "rttvar_s", "rto_s", "what"]
RETRANSMISSION_COLUMNS = ["i", "t", "src", "rel_seq", "len", "flags", "copy", "first_sent",
                          "waited_s", "trigger", "timer", "needed", "dsacked"]


def _profile(profile):
    if isinstance(profile, str):
        if profile not in PROFILES:
            raise ValueError(f"profile: {profile!r} is not one of {', '.join(PROFILES)}")
        return PROFILES[profile]
    return profile


def rto_steps(samples_s, profile="rfc9293"):
    """RFC 6298 §2 by hand: after each RTT sample (seconds), SRTT, RTTVAR and RTO, as a
    DataFrame (``sample_s``, ``srtt_s``, ``rttvar_s``, ``rto_s``), with the profile's floor
    and ceiling. ``profile``: "rfc9293" (RFC 6298: RTO at least 1 s) or "linux"."""
    import pandas as pd
    p = _profile(profile)
    estimator = RttEstimator(p)
    rows = []
    for k, sample in enumerate(samples_s):
        if isinstance(sample, bool) or not isinstance(sample, (int, float)) or not sample > 0:
            raise ValueError(f"samples_s[{k}]: an RTT sample must be a positive number of "
                             f"seconds, not {sample!r}")
        estimator.sample(float(sample))
        rows.append({"sample_s": float(sample), "srtt_s": estimator.srtt,
                     "rttvar_s": estimator.rttvar, "rto_s": estimator.rto})
    return pd.DataFrame(rows, columns=["sample_s", "srtt_s", "rttvar_s", "rto_s"])


# ------------------------------------------------------------------ replay over a trace
def _events(rows, host):
    """What ``host`` did and saw, in time order: ("send", t, row) for its segments at their
    send time, ("recv", t, row) for the peer's segments that reached it, at their arrival.
    An arrival and a send at the same instant: the arrival first (it caused the send)."""
    out = []
    for order, r in enumerate(rows):
        if r["src"] == host:
            out.append((r["t"], 1, order, "send", r))
        elif r["dst"] == host and not r.get("dropped"):
            arrival = r.get("arrival")
            out.append((r["t"] if arrival is None else arrival, 0, order, "recv", r))
    out.sort(key=lambda e: e[:3])
    return [(kind, t, r) for t, _, _, kind, r in out]


def _connection_rows(trace, conn):
    rows = trace.doc.get("segments", []) if hasattr(trace, "doc") else trace["segments"]
    conns = [r.get("conn") for r in rows if r.get("conn") is not None]
    if conn is None and conns:
        conn = conns[0]
    return [r for r in rows if conn is None or r.get("conn") in (conn, None)]


def _trace_profile(trace, profile):
    if profile is not None:
        return _profile(profile)
    doc = trace.doc if hasattr(trace, "doc") else trace
    name = doc.get("profile")
    if name is None:
        raise ValueError("profile: this trace is a capture, which has no profile; say which "
                         "estimator to replay (profile='linux' or 'rfc9293')")
    return _profile(name)


def _space(r):
    return r["len"] + ("S" in r["flags"]) + ("F" in r["flags"])


def rto_timeline(trace, host="client", profile=None, conn=None):
    """SRTT, RTTVAR and RTO of ``host`` after each RTT sample it took, replayed over the
    trace as the simulator's endpoint takes them (module docstring). A DataFrame with
    ``RTO_COLUMNS``: ``t`` when the sample was taken (the ACK's arrival), ``what`` names the
    timed segment ("SYN" or "data up to rel seq N"). The first row is the initial RTO (no
    sample yet, RFC 6298 §2.1)."""
    import pandas as pd
    p = _trace_profile(trace, profile)
    rows = _connection_rows(trace, conn)
    if not any(r["src"] == host for r in rows):
        known = ", ".join(dict.fromkeys(r["src"] for r in rows)) or "none"
        raise ValueError(f"host: {host!r} sends nothing in this trace (hosts: {known})")
    estimator = RttEstimator(p)
    out = [{"t": 0.0, "sample_s": None, "srtt_s": None, "rttvar_s": None,
            "rto_s": estimator.rto, "what": "initial RTO (RFC 6298 §2.1)"}]
    iss = snd_una = snd_max = None
    syn_sent_at, syn_copies, syn_flags = None, 0, ""
    probe = None                      # (end seq, send time) of the timed segment
    for kind, t, r in _events(rows, host):
        if kind == "send":
            if "R" in r["flags"]:
                continue
            if "S" in r["flags"]:
                if iss is None:
                    iss, snd_una, snd_max, syn_sent_at = r["seq"], r["seq"], \
                        (r["seq"] + 1) & SEQ_MASK, t
                    syn_flags = r["flags"]
                syn_copies += 1
                continue
            space = _space(r)
            if not space or iss is None:
                continue
            end = (r["seq"] + space) & SEQ_MASK
            is_rtx = seq_lt(r["seq"], snd_max)
            if not is_rtx and probe is None:
                probe = (end, t)
            elif is_rtx and probe is not None and seq_le(r["seq"], probe[0]):
                probe = None          # Karn: this ACK could be for either copy
            if seq_lt(snd_max, end):
                snd_max = end
            continue
        if iss is None or "A" not in r["flags"] or "R" in r["flags"]:
            continue
        ack = r["ack"]
        if not (seq_lt(snd_una, ack) and seq_le(ack, snd_max)):
            continue
        snd_una = ack
        sample = what = None
        if probe is not None and seq_le(probe[0], ack):
            sample, what = t - probe[1], f"data up to rel seq {(probe[0] - iss) & SEQ_MASK}"
            probe = None
        elif ack == (iss + 1) & SEQ_MASK and syn_copies == 1 and estimator.srtt is None:
            sample, what = t - syn_sent_at, "SYN-ACK" if "A" in syn_flags else "SYN"
        if sample is not None:
            estimator.sample(sample)
            out.append({"t": t, "sample_s": sample, "srtt_s": estimator.srtt,
                        "rttvar_s": estimator.rttvar, "rto_s": estimator.rto, "what": what})
    return pd.DataFrame(out, columns=RTO_COLUMNS)


def rto_at(timeline, t):
    """The RTO (seconds, not backed off) in force at time ``t``: the last row of
    ``rto_timeline`` at or before ``t``."""
    rows = timeline[timeline["t"] <= t + TIME_TOLERANCE_S]
    return float(rows["rto_s"].iloc[-1])


# ---------------------------------------------------------------- the retransmissions
def _dsack_blocks(rows, receiver):
    """[(arrival at the sender, left, right)] of the D-SACK blocks ``receiver`` sent: a first
    SACK block below the ACK, or inside the second block (RFC 2883 §4)."""
    out = []
    for r in rows:
        if r["src"] != receiver or r.get("dropped"):
            continue
        blocks = (r.get("options") or {}).get("sack") or []
        if not blocks:
            continue
        left, right = blocks[0]
        below_ack = "A" in r["flags"] and seq_le(right, r["ack"])
        inside_next = len(blocks) > 1 and seq_le(blocks[1][0], left) and \
            seq_le(right, blocks[1][1])
        if below_ack or inside_next:
            t = r.get("arrival")
            out.append((r["t"] if t is None else t, left, right))
    return out


def _covered(start, end, ranges):
    """Are all of [start, end) inside the union of ``ranges`` (absolute, mod 2^32)?"""
    for left, right in sorted(ranges, key=lambda lr: (lr[0] - start) & SEQ_MASK):
        if seq_le(left, start) and seq_lt(start, right):
            start = right
            if seq_le(end, start):
                return True
    return seq_le(end, start)


def _tcb_timers(trace, host):
    """[(t, timers dict)] of ``host``'s TCB snapshots (simulations), in time order."""
    rows = getattr(trace, "_tcb_rows", None) or []
    return [(row[0], row[-1]) for row in rows if row[1] == host]


def _timer_that_fired(snapshots, t):
    """Which timer of the sender's TCB was due at ``t`` ("rto", "tlp", "persist") in the
    last snapshot before it, or None."""
    due = None
    for when, timers in snapshots:
        if when >= t - TIME_TOLERANCE_S:
            break
        due = next((name for name, deadline in (timers or {}).items()
                    if abs(deadline - t) <= TIME_TOLERANCE_S), None)
    return due


TIMER_NAMES = {"rto": "retransmission timeout", "tlp": "tail loss probe",
               "persist": "persist (zero window) probe"}


def retransmissions(trace, conn=None):
    """One row per retransmitted segment (data, SYN or FIN re-sent), ``RETRANSMISSION_COLUMNS``:

    * ``copy``: 2 for the first re-send of the segment, 3 for the next... (counting the
      earlier segments that started at the same sequence number, or else overlapped it);
      ``first_sent``: when the first copy of any of its bytes left; ``waited_s``: time since
      the sender last heard from the peer (any segment arriving), or since the previous
      copy, whichever is later;
    * ``trigger``: "ACK" (an ACK had just arrived: dup-ACK fast retransmit or RACK) or
      "timer"; ``timer``: in a simulation, the sender's timer that fired (``TIMER_NAMES``);
      None for a capture (no TCB) or an ACK-triggered one;
    * ``needed``: False when an earlier copy of all its bytes reached the receiver (a
      spurious retransmission), True when every earlier copy was lost; None when the trace
      does not say what was dropped (a capture that ``course.capture`` could not mark);
    * ``dsacked``: the receiver's D-SACK covered these bytes after this copy was sent.
    """
    import pandas as pd
    rows = _connection_rows(trace, conn)
    is_capture = (trace.doc if hasattr(trace, "doc") else trace).get("profile") is None
    marked = not is_capture or (trace.doc if hasattr(trace, "doc") else trace).get(
        "drops_marked", False)
    bases = {}
    for r in rows:
        bases.setdefault(r["src"], (r["seq"] - r["rel_seq"]) & SEQ_MASK)
    out = []
    sent = {}                 # src -> [(start, end, t, arrived)]
    heard = {}                # host -> time it last received something
    timeline = sorted(((r["arrival"] if r.get("arrival") is not None else r["t"], 0, k, r)
                       for k, r in enumerate(rows) if not r.get("dropped")),
                      key=lambda e: e[:3])
    arrivals = [(t, r["dst"]) for t, _, _, r in timeline]
    dsacks = {h: _dsack_blocks(rows, h) for h in bases}
    snapshots = {h: _tcb_timers(trace, h) for h in bases}
    a = 0
    for r in rows:
        src, t = r["src"], r["t"]
        while a < len(arrivals) and arrivals[a][0] <= t + TIME_TOLERANCE_S:
            heard[arrivals[a][1]] = arrivals[a][0]
            a += 1
        space = _space(r)
        if not space or "R" in r["flags"]:
            continue
        start, end = r["seq"], (r["seq"] + space) & SEQ_MASK
        earlier = [c for c in sent.get(src, []) if seq_lt(c[0], end) and seq_lt(start, c[1])]
        sent.setdefault(src, []).append((start, end, t, not r.get("dropped")))
        if not r.get("retransmission"):
            continue
        same_start = [c for c in earlier if c[0] == start] or earlier
        first = min((c[2] for c in earlier), default=t)
        previous = max((c[2] for c in same_start), default=t)
        last_heard = heard.get(src)
        since = max(previous, last_heard) if last_heard is not None else previous
        peer = r["dst"]
        acked_just_before = last_heard is not None and t - last_heard <= (
            ACK_TRIGGER_S if is_capture else TIME_TOLERANCE_S)
        timer = None if is_capture or acked_just_before else \
            _timer_that_fired(snapshots.get(src, []), t)
        trigger = "ACK" if acked_just_before and timer is None else "timer"
        arrived = [(c[0], c[1]) for c in earlier if c[3]]
        needed = (not _covered(start, end, arrived)) if marked else None
        dsacked = any(when >= t and seq_le(left, start) and seq_le(end, right)
                      for when, left, right in dsacks.get(peer, []))
        out.append({"i": r["i"], "t": t, "src": src, "rel_seq": r["rel_seq"],
                    "len": r["len"], "flags": r["flags"], "copy": len(same_start) + 1,
                    "first_sent": first, "waited_s": round(t - since, 9),
                    "trigger": trigger, "timer": TIMER_NAMES.get(timer),
                    "needed": needed, "dsacked": dsacked})
    return pd.DataFrame(out, columns=RETRANSMISSION_COLUMNS)


# ------------------------------------------------------------------ Monte Carlo
MONTE_CARLO_BYTES = 50_000        # one transfer: 35 full segments at MTU 1500
MONTE_CARLO_DELAY_S = 0.010       # one-way delay: a 20 ms round trip
MONTE_CARLO_SEND_AT_S = 0.1       # the write, after the handshake
MONTE_CARLO_UNTIL_S = 300.0


def transfer_scenario(loss, profile="linux", seed=1, nbytes=MONTE_CARLO_BYTES,
                      delay_s=MONTE_CARLO_DELAY_S) -> dict:
    """One write of ``nbytes`` from client to server over a link with ``delay_s`` one way,
    each of the client's segments after the handshake lost with probability ``loss``."""
    if isinstance(loss, bool) or not isinstance(loss, (int, float)) or not 0 <= loss < 1:
        raise ValueError(f"loss: a probability from 0 up to (not including) 1, not {loss!r}")
    faults = [{"loss": {"p": float(loss), "from": "client",
                        "between": [MONTE_CARLO_SEND_AT_S, MONTE_CARLO_UNTIL_S]}}] if loss else []
    return {"name": f"{nbytes} B with {loss:.0%} loss ({profile})", "profile": profile,
            "seed": int(seed), "link": {"mtu": 1500, "delay": delay_s},
            "hosts": {"client": {"port": 40000}, "server": {"port": 5000}},
            "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                        {"at": 0.0, "host": "client", "do": "connect", "to": "server"},
                        {"at": MONTE_CARLO_SEND_AT_S, "host": "client", "do": "send",
                         "bytes": int(nbytes)}],
            "faults": faults, "until": MONTE_CARLO_UNTIL_S}


def transfer_time(trace, nbytes, host="server", since=MONTE_CARLO_SEND_AT_S):
    """Seconds from ``since`` until ``host``'s application has read ``nbytes`` (None if it
    never did within the trace)."""
    total = 0
    for event in trace.doc.get("events", []):
        if event["host"] == host and event["call"] == "read" and \
                isinstance(event["result"], int) and not isinstance(event["result"], bool):
            total += event["result"]
            if total >= nbytes:
                return round(event["t"] - since, 9)
    return None


def transfer_times(losses, profiles=("linux", "rfc9293"), runs=20, nbytes=MONTE_CARLO_BYTES,
                   delay_s=MONTE_CARLO_DELAY_S, progress=True):
    """Monte Carlo: ``runs`` transfers (seeds 1..runs) for each loss rate and profile, with a
    tqdm progress bar. A DataFrame: ``profile``, ``loss``, ``seed``, ``seconds`` (the
    transfer time, ``transfer_time``), ``retransmissions``, ``timeouts`` (the retransmissions
    no ACK triggered)."""
    import pandas as pd
    from tqdm.auto import tqdm
    from .simulator import run
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ValueError(f"runs: a positive whole number of runs, not {runs!r}")
    jobs = [(p, loss, seed) for p in profiles for loss in losses for seed in range(1, runs + 1)]
    rows = []
    for profile, loss, seed in tqdm(jobs, desc="transfers", disable=not progress):
        trace = run(transfer_scenario(loss, profile, seed, nbytes, delay_s))
        re_sent = retransmissions(trace)
        rows.append({"profile": profile, "loss": loss, "seed": seed,
                     "seconds": transfer_time(trace, nbytes),
                     "retransmissions": len(re_sent),
                     "timeouts": int((re_sent["trigger"] == "timer").sum())})
    return pd.DataFrame(rows, columns=["profile", "loss", "seed", "seconds",
                                       "retransmissions", "timeouts"])


# ------------------------------------------------------- what one write's losses cost
def completion_time(trace, host="client", conn=None):
    """Seconds from ``host``'s first data segment to the ACK (arriving at ``host``) that
    covers its last data byte: how long its data took to be delivered and acknowledged.
    None if it sent no data or the last byte was never acknowledged."""
    rows = _connection_rows(trace, conn)
    data = [r for r in rows if r["src"] == host and r["len"] > 0]
    if not data:
        return None
    end = max(((r["seq"] + r["len"]) & SEQ_MASK for r in data),
              key=lambda e: (e - data[0]["seq"]) & SEQ_MASK)
    for r in rows:
        if r["dst"] == host and not r.get("dropped") and "A" in r["flags"] and \
                seq_le(end, r["ack"]) and r["t"] >= data[0]["t"]:
            arrival = r["t"] if r.get("arrival") is None else r["arrival"]
            return round(arrival - data[0]["t"], 9)
    return None


def completion_table(names, profiles=("linux", "rfc9293")):
    """For shipped captures: ``completion_time`` of the client's write on the real kernel
    and in the simulation with each profile, in milliseconds, and the retransmissions'
    triggers in the real capture."""
    import pandas as pd
    from . import course
    rows = []
    for name in names:
        real = course.capture(name)
        row = {"capture": name, "real Linux (ms)": _ms(completion_time(real))}
        for profile in profiles:
            row[f"{profile} (ms)"] = _ms(completion_time(course.simulate(name, profile)))
        triggers = retransmissions(real)["trigger"]
        row["re-sent after (real)"] = ", ".join(triggers) or "nothing"
        rows.append(row)
    return pd.DataFrame(rows)


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000, 3)
