"""Shared helpers for the behaviour tests: build scenarios, read traces.

Every behaviour test builds a two-host scenario (``client`` port 40000, ``server`` port 5001,
MTU 1500 unless told otherwise), runs it through the public API ``tcpsim.run`` and reads the
trace document (``trace.doc``) of ``../shared/tcpsim-json.md``. Expectations are computed
from the scenario and the ISNs in the trace, never copied from a trace dump.
"""
from __future__ import annotations

import copy

import pytest

import tcpsim

MOD = 2 ** 32
CLIENT_PORT = 40000
SERVER_PORT = 5001
DELAY = 0.00001          # the contract's default one-way delay (loopback-like)

try:
    from tcpsim.scenario import payload_pattern
except ImportError:      # the contract: byte i of a "bytes": N send is i % 251
    def payload_pattern(n):
        return bytes(i % 251 for i in range(n))


# --------------------------------------------------------------------------- scenarios
def act(at, host, do, **kw):
    """One action: ``act(0.5, "client", "send", bytes=100)``; ``at="eof"`` for on-EOF actions."""
    a = {"host": host, "do": do, **kw}
    if at == "eof":
        a["on"] = "eof"
    else:
        a["at"] = at
    return a


def scenario(actions=(), *, profile="linux", mtu=1500, delay=DELAY, seed=1, client=None,
             server=None, client_isn=None, server_isn=None, faults=(), until=None, open=True,
             name="test", client_port=CLIENT_PORT, server_port=SERVER_PORT):
    """A two-host scenario dict. With ``open`` (default) the server listens and the client
    connects at t=0; ``actions`` are appended after those two. ``client``/``server`` are the
    hosts' ``options`` dicts."""
    acts = []
    if open:
        acts = [act(0.0, "server", "listen"), act(0.0, "client", "connect", to="server")]
    acts += [copy.deepcopy(a) for a in actions]
    sc = {
        "tcpsim": 1, "name": name, "profile": profile, "seed": seed,
        "link": {"delay": delay, "mtu": mtu},
        "hosts": {
            "client": {"port": client_port, "isn": client_isn, "options": dict(client or {})},
            "server": {"port": server_port, "isn": server_isn, "options": dict(server or {})},
        },
        "actions": acts,
        "faults": [copy.deepcopy(f) for f in faults],
    }
    if until is not None:
        sc["until"] = until
    return sc


def run(sc):
    return tcpsim.run(sc)


# --------------------------------------------------------------------------- traces
def segs(trace, src=None, flags=None, data=None, dropped=None, conn=None, injected=False):
    """Segment rows (dicts), filtered. ``flags``: exact flag string; ``data``: True = len > 0."""
    out = []
    for s in trace.doc["segments"]:
        if src is not None and s["src"] != src:
            continue
        if flags is not None and set(s["flags"]) != set(flags):
            continue
        if data is not None and (s["len"] > 0) != data:
            continue
        if dropped is not None and s["dropped"] != dropped:
            continue
        if conn is not None and s.get("conn") != conn:
            continue
        if not injected and s.get("injected"):
            continue
        out.append(s)
    return out


def flows(trace, **filters):
    """``[(src, flags, rel_seq, rel_ack, len)]`` in send order."""
    return [(s["src"], s["flags"], s["rel_seq"], s["rel_ack"], s["len"])
            for s in segs(trace, **filters)]


def states(trace, socket=None, host=None, conn=None):
    rows = trace.doc["states"]
    return [r for r in rows
            if (socket is None or r["socket"] == socket)
            and (host is None or r["host"] == host)
            and (conn is None or r.get("conn") == conn)]


def path(trace, socket, conn=None):
    """The states a socket went through: [first 'from', 'to', 'to', ...]."""
    rows = states(trace, socket=socket, conn=conn)
    if not rows:
        return []
    return [rows[0]["from"]] + [r["to"] for r in rows]


def entered(trace, socket, state, conn=None):
    """Times at which ``socket`` entered ``state``."""
    return [r["t"] for r in states(trace, socket=socket, conn=conn) if r["to"] == state]


def final_states(trace):
    """{(socket, conn): last state}."""
    last = {}
    for r in trace.doc["states"]:
        last[(r["socket"], r.get("conn"))] = r["to"]
    return last


def events(trace, host=None, call=None, result=None):
    return [e for e in trace.doc["events"]
            if (host is None or e["host"] == host)
            and (call is None or e["call"] == call)
            and (result is None or e["result"] == result)]


ERRNOS = ("ETIMEDOUT", "ECONNRESET", "ECONNREFUSED")


def error_events(trace):
    return [e for e in trace.doc["events"] if e["result"] in ERRNOS]


def isn(trace, host):
    return trace.doc["hosts"][host]["isn"]


def rel(x, base):
    return (x - base) % MOD


def sdiff(a, b):
    """a - b in 32-bit sequence space (signed)."""
    d = (a - b) % MOD
    return d - MOD if d >= 2 ** 31 else d


def syn_options(trace, host, conn=None):
    for s in segs(trace, src=host, conn=conn):
        if "S" in s["flags"]:
            return s["options"]
    return None


def window_violations(trace):
    """Data segments whose last byte lies beyond the right edge the receiver advertised.

    The edge a sender may use at time t is the largest ``ack + (win << shift)`` among the
    non-RST segments from its peer that arrived by t (RFC 9293 §3.8.6: the receiver should
    not shrink the window, so the largest edge seen is the most the sender may assume).
    ``shift`` is the peer's wscale when both SYNs carried one (RFC 7323 §2.2-2.3), and 0 for
    SYN segments. A 1-byte segment past a zero window is a window probe (RFC 9293
    §3.8.6.1) and allowed. Returns a list of (segment, edge) pairs.
    """
    bad = []
    rows = [s for s in trace.doc["segments"] if not s.get("injected")]
    conns = sorted({s.get("conn") for s in rows}, key=lambda c: (c is None, c))
    for conn in conns:
        cs = [s for s in rows if s.get("conn") == conn]
        hosts = sorted({s["src"] for s in cs})
        ws = {}
        for h in hosts:
            syn = next((s for s in cs if s["src"] == h and "S" in s["flags"]), None)
            ws[h] = syn["options"].get("wscale") if syn else None
        both = all(ws.get(h) is not None for h in hosts) and len(hosts) == 2
        for s in cs:
            if s["len"] == 0 or "S" in s["flags"] or "R" in s["flags"]:
                continue
            peer = [h for h in hosts if h != s["src"]]
            if not peer:
                continue
            peer = peer[0]
            edge = None
            for p in cs:
                if p["src"] != peer or p["dropped"] or "R" in p["flags"] or "A" not in p["flags"]:
                    continue
                if p["arrival"] is None or p["arrival"] > s["t"]:
                    continue
                shift = 0 if "S" in p["flags"] else (ws[peer] if both else 0)
                e = (p["ack"] + (p["win"] << shift)) % MOD
                if edge is None or sdiff(e, edge) > 0:
                    edge = e
            if edge is None:
                continue
            end = (s["seq"] + s["len"]) % MOD
            if sdiff(end, edge) > 0 and not (s["len"] == 1 and sdiff(s["seq"], edge) >= 0):
                bad.append((s, edge))
    return bad


def fmt(trace, limit=80):
    """A readable dump of a trace, for assertion messages."""
    lines = []
    for s in trace.doc["segments"][:limit]:
        lines.append(f'{s["t"]:.6f} {s["src"]}>{s["dst"]} [{s["flags"]}] seq={s["rel_seq"]} '
                     f'ack={s["rel_ack"]} len={s["len"]} win={s["win"]} {s["options"]}'
                     f'{" RTX" if s["retransmission"] else ""}{" DROPPED" if s["dropped"] else ""}')
    for r in trace.doc["states"]:
        lines.append(f'{r["t"]:.6f} {r["socket"]}: {r["from"]} -> {r["to"]} ({r["cause"]})')
    for e in trace.doc["events"]:
        lines.append(f'{e["t"]:.6f} {e["host"]} {e["call"]} -> {e["result"]}')
    return "\n".join(lines)


@pytest.fixture
def sim():
    """The run function, for tests that prefer a fixture."""
    return run


# ---------------------------------------------------------------- reporting figures
def report(request, line: str) -> None:
    """Show ``line`` on the terminal, even under ``-q`` and pytest's output capture."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    terminal = request.config.pluginmanager.getplugin("terminalreporter")
    if capture is None or terminal is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():
        if getattr(getattr(terminal, "_tw", None), "width_of_current_line", 0):
            terminal.write("\n")         # after -q's progress dots
        terminal.write_line(line)


# ------------------------------------------------------------------ the order of the run
# `make test` runs pytest with pytest-xdist (`-n auto --dist loadfile`): each file goes whole
# to one worker, in collection order. These files take a minute or more each (a venv on the
# oldest Python, nbgrader autograding a class, the benchmarks' smoke run, a browser), so they
# are collected first: started last, one of them would run alone at the end while the other
# cores sit idle. Without xdist the order changes nothing but the order of the dots.
SLOW_FILES_FIRST = ("test_student_repo.py", "test_grading.py", "test_benchmarks.py",
                    "test_browser.py", "test_release.py", "test_notebooks.py",
                    "test_pythons.py", "test_first_run.py")


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return SLOW_FILES_FIRST.index(name) if name in SLOW_FILES_FIRST else len(SLOW_FILES_FIRST)
    items.sort(key=rank)           # stable: within a file, and among the others, unchanged
