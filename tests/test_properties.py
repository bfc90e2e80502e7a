"""Properties that hold for every run: reliable delivery or a reported error, sockets that end
CLOSED, windows respected, determinism.

RFC 9293 §3.1/§3.4/§3.8 (reliability through sequence numbers, retransmission and the
window), §3.8.3 (R2: give up and tell the user), §3.10.7.4 (in-order delivery); the contract
(../shared/tcpsim-json.md): same scenario and seed -> byte-identical trace.

Application model used here: the client connects, sends N1 bytes and half-closes (shutdown),
then closes on EOF; the server, on EOF, sends N2 bytes and closes. Random loss with
probability p <= 0.5 applies to every segment in both directions.
"""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import (MOD, act, error_events, events, fmt, payload_pattern, rel, run,
                      scenario, segs, window_violations)

SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
UNTIL = 3000.0     # long enough for every timer: linux gives up data after ~925 s (tcp_retries2)


def app_scenario(n1, n2, p, profile, seed, mtu=1500, client_isn=None, server_isn=None):
    actions = []
    if n1:
        actions.append(act(0.1, "client", "send", bytes=n1))
    actions.append(act(0.1, "client", "shutdown"))
    if n2:
        actions.append(act("eof", "server", "send", bytes=n2))
    actions += [act("eof", "server", "close"), act("eof", "client", "close")]
    faults = [{"loss": {"p": p}}] if p > 0 else []
    return scenario(actions, profile=profile, seed=seed, mtu=mtu, faults=faults, until=UNTIL,
                    client_isn=client_isn, server_isn=server_isn)


def abnormal_endings(trace):
    """Transitions that end a connection other than by the normal close: timeouts, resets,
    orphan timers, a passive request going back to LISTEN."""
    arrivals = {}
    for s in segs(trace):
        if s["arrival"] is not None and "R" not in s["flags"]:
            arrivals.setdefault(s["dst"], []).append(s["arrival"])
    bad = []
    for r in trace.doc["states"]:
        if r["to"] == "CLOSED" and r["from"] not in ("TIME-WAIT", "LAST-ACK", "LISTEN"):
            bad.append(r)
        elif r["from"] == "LAST-ACK" and r["to"] == "CLOSED":
            if not any(abs(a - r["t"]) < 1e-12 for a in arrivals.get(r["host"], [])):
                bad.append(r)          # LAST-ACK gave up (retransmission timeout)
        elif r["from"] == "SYN-RECEIVED" and r["to"] == "LISTEN":
            bad.append(r)
    return bad


def final_by_socket(trace):
    last = {}
    for r in trace.doc["states"]:
        last[(r["socket"], r.get("conn"))] = r["to"]
    return last


def check_run(trace, n1, n2):
    sent = {"server": payload_pattern(n1), "client": payload_pattern(n2)}   # what each receives
    errors = error_events(trace)
    abnormal = abnormal_endings(trace)
    for host, expect in sent.items():
        got = trace.delivered[host]
        # never a duplicate, a corruption or a reordering: always a prefix of the peer's bytes
        assert expect.startswith(got), (host, len(got), len(expect), fmt(trace))
        reads = [e["result"] for e in events(trace, host=host, call="read")]
        assert sum(r for r in reads if isinstance(r, int) and not isinstance(r, bool)) == len(got)
        if 0 in reads:   # EOF means the peer's whole stream arrived (RFC 9293 §3.10.7.4)
            assert got == expect, (host, len(got), len(expect), fmt(trace))
    if not errors and not abnormal:
        # no error reported and no connection given up: everything arrived, all sockets closed
        for host, expect in sent.items():
            assert trace.delivered[host] == expect, (host, fmt(trace))
        for (sock, conn), state in final_by_socket(trace).items():
            assert state in ("CLOSED", "LISTEN"), (sock, state, fmt(trace))
    else:
        # timers expire: nothing may be left in a state that has a running timer
        for (sock, conn), state in final_by_socket(trace).items():
            assert state in ("CLOSED", "LISTEN", "ESTABLISHED", "FIN-WAIT-2", "CLOSE-WAIT"), \
                (sock, state, fmt(trace))
    assert trace.doc["states"] and all(r["t"] <= UNTIL for r in trace.doc["states"])
    assert not window_violations(trace), window_violations(trace)[:2]
    # relative numbers are consistent with the ISNs (RFC 9293 §3.4: modulo 2**32)
    for s in segs(trace):
        if s["rel_seq"] is not None and s.get("conn") in (0, None):
            assert s["rel_seq"] == rel(s["seq"], trace.doc["hosts"][s["src"]]["isn"])


sizes = st.integers(min_value=0, max_value=20000)
loss = st.floats(min_value=0.0, max_value=0.5, allow_nan=False)
profiles = st.sampled_from(["linux", "rfc9293"])
seeds = st.integers(min_value=0, max_value=2 ** 31)


@settings(max_examples=600, **SETTINGS)
@given(n1=sizes, n2=sizes, p=loss, profile=profiles, seed=seeds,
       mtu=st.sampled_from([1500, 576, 65536]))
def test_delivery_or_error_under_random_loss(n1, n2, p, profile, seed, mtu):
    """Each application receives exactly the bytes the other sent, or an error is reported
    (ETIMEDOUT/ECONNRESET/ECONNREFUSED) or a connection was given up by a timer; never a
    silent loss or a duplicate; all sockets end CLOSED (or LISTEN) once the timers expire."""
    t = run(app_scenario(n1, n2, p, profile, seed, mtu))
    check_run(t, n1, n2)


@settings(max_examples=300, **SETTINGS)
@given(n1=sizes, n2=sizes, p=st.floats(min_value=0.0, max_value=0.3), profile=profiles,
       seed=seeds, c_off=st.integers(1, 30000), s_off=st.integers(1, 30000))
def test_isn_near_wrap_under_loss(n1, n2, p, profile, seed, c_off, s_off):
    """RFC 9293 §3.4: the same properties with ISNs just below 2**32, so the sequence space
    wraps during the transfer."""
    t = run(app_scenario(n1, n2, p, profile, seed, client_isn=MOD - c_off, server_isn=MOD - s_off))
    check_run(t, n1, n2)


fault_spec = st.fixed_dictionaries({
    "kind": st.sampled_from(["delay", "duplicate"]),
    "from": st.sampled_from(["client", "server"]),
    "nth": st.integers(1, 30),
    "extra": st.floats(min_value=0.0001, max_value=3.0, allow_nan=False),
})


@settings(max_examples=300, **SETTINGS)
@given(n1=sizes, n2=sizes, p=st.floats(min_value=0.0, max_value=0.3), profile=profiles,
       seed=seeds, extra_faults=st.lists(fault_spec, max_size=4))
def test_reordering_and_old_duplicates(n1, n2, p, profile, seed, extra_faults):
    """RFC 9293 §3.4 / §3.10.7.4: segments held back (reordering) or delivered twice (old
    duplicates, up to 3 s later) never reach an application twice or out of order."""
    sc = app_scenario(n1, n2, p, profile, seed)
    for f in extra_faults:
        sc["faults"].append({f["kind"]: {"from": f["from"], "nth": [f["nth"]], "extra": f["extra"]}})
    t = run(sc)
    check_run(t, n1, n2)


@settings(max_examples=40, **SETTINGS)
@given(n1=sizes, n2=sizes, p=loss, seed=seeds)
def test_no_loss_always_completes(n1, n2, p, seed):
    """Without loss (p ignored) every run completes normally on both profiles: no error,
    exact delivery, every socket CLOSED/LISTEN."""
    for profile in ("linux", "rfc9293"):
        t = run(app_scenario(n1, n2, 0.0, profile, seed))
        assert not error_events(t) and not abnormal_endings(t), fmt(t)
        assert t.delivered["server"] == payload_pattern(n1)
        assert t.delivered["client"] == payload_pattern(n2)
        assert set(final_by_socket(t).values()) <= {"CLOSED", "LISTEN"}, fmt(t)


@settings(max_examples=25, **SETTINGS)
@given(n1=sizes, n2=sizes, p=loss, profile=profiles, seed=seeds)
def test_determinism(n1, n2, p, profile, seed):
    """The contract: the same scenario and seed give a byte-identical trace."""
    sc = app_scenario(n1, n2, p, profile, seed)
    a, b = run(sc), run(sc)
    assert a.to_json() == b.to_json()
    assert a.delivered == b.delivered


@settings(max_examples=25, **SETTINGS)
@given(seed=seeds, other=seeds)
def test_seed_changes_linux_isns(seed, other):
    """linux-facts §2 / RFC 6528: the ISN depends on a secret drawn from the seed: another
    seed gives other ISNs (both hosts)."""
    if seed == other:
        return
    a = run(app_scenario(100, 100, 0.0, "linux", seed))
    b = run(app_scenario(100, 100, 0.0, "linux", other))
    assert a.doc["hosts"]["client"]["isn"] != b.doc["hosts"]["client"]["isn"]
    assert a.doc["hosts"]["server"]["isn"] != b.doc["hosts"]["server"]["isn"]


# --------------------------------------------------------------------------- several connections
def many_scenario(k, n1, gap, p, profile, seed):
    """The client (ephemeral ports) connects ``k`` times, ``gap`` s apart, so connections
    overlap; on each it sends n1 bytes and half-closes, then closes on EOF; the server
    closes each connection at its EOF. Random loss p both ways."""
    actions = [act(round(gap * i, 6), "client", "connect", to="server") for i in range(1, k)]
    actions += [{"after": "connect", "host": "client", "do": "send", "bytes": n1}] if n1 else []
    actions += [{"after": "connect", "host": "client", "do": "shutdown"},
                act("eof", "server", "close"), act("eof", "client", "close")]
    faults = [{"loss": {"p": p}}] if p > 0 else []
    sc = scenario(actions, profile=profile, seed=seed, faults=faults, until=UNTIL)
    sc["hosts"]["client"]["port"] = None
    return sc


@settings(max_examples=30, **SETTINGS)
@given(k=st.integers(2, 4), n1=st.integers(0, 5000), gap=st.sampled_from([0.0, 0.001, 0.3]),
       p=st.floats(min_value=0.0, max_value=0.3), profile=profiles, seed=seeds)
def test_several_connections_each_deliver_their_own_bytes_or_report(k, n1, gap, p, profile,
                                                                     seed):
    """With several connections per host: each connection's segments carry its own 4-tuple,
    two live connections never share one, each server connection reads exactly the bytes of
    its client connection (or an error is reported / a connection given up), and every
    socket ends CLOSED or LISTEN."""
    t = run(many_scenario(k, n1, gap, p, profile, seed))
    tuples = {}
    for s in segs(t):
        client_port = s["sport"] if s["src"] == "client" else s["dport"]
        if not s.get("injected"):
            tuples.setdefault((s["src"], s["conn"]), set()).add(client_port)
    assert all(len(ports) == 1 for ports in tuples.values()), tuples
    clients = [c for h, c in tuples if h == "client"]
    assert sorted(clients) == list(range(len(clients)))
    errors = error_events(t)
    abnormal = abnormal_endings(t)
    reads = {}
    for e in events(t, host="server", call="read"):
        if isinstance(e["result"], int) and not isinstance(e["result"], bool):
            reads[e["conn"]] = reads.get(e["conn"], 0) + e["result"]
    assert all(n <= n1 for n in reads.values()), (reads, fmt(t))
    if not errors and not abnormal:
        accepted = [e["conn"] for e in events(t, host="server", call="accept")]
        assert all(reads.get(c, 0) == n1 for c in accepted), (reads, fmt(t))
        assert set(final_by_socket(t).values()) <= {"CLOSED", "LISTEN"}, fmt(t)
