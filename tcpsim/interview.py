"""Notebook 10: the classic interview questions on TCP connections, each answered by a run
of the simulator and a real capture.

    from tcpsim import interview
    interview.questions()                     # the table of questions, captures, notebooks
    interview.side_by_side("syn-established") # the run and the capture, two ladders
    interview.syn_schedules()                 # {"linux": trace, "rfc9293": trace}: lost SYNs

Each question of :data:`QUESTIONS` names the shipped capture that answers it
(``data/captures/``, made on Linux 6.18 by ``tools/capture.py``) and which of its segments
to look at; :func:`side_by_side` draws that capture and the same scenario through the
simulator's ``linux`` profile, ladder beside ladder. The other functions build the runs
that a capture cannot show (a SYN flood, a hundred connections, a crashed peer, a textbook
two-way handshake). ``tests/test_notebook10_claims.py`` checks every sentence of the
notebook against them and the captures; ``tests/test_fidelity.py`` holds the captures to
the simulator.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from . import course


@dataclass(frozen=True)
class Question:
    key: str
    title: str
    capture: str              # the shipped capture that answers it
    teaches: str              # the notebook that teaches it in depth (file name)
    stream: int = 0           # which connection of the capture
    segments: tuple | None = None   # (first, stop) of the ladders, None: all
    labels: str = "relative"  # "absolute" where the text speaks of absolute numbers
    options: bool = False     # the ladders also write each segment's options
    sim_segments: tuple | None = None   # the simulation's (first, stop), where its numbering
                              # differs (a later connection: the simulated trace has them all)


QUESTIONS = (
    Question("why-three", "Why three segments to open, and not two?", "handshake",
             "04-why-three-way", segments=(0, 3)),
    Question("why-four", "Why four segments to close, and why often three?",
             "close-four-segments", "07-closing-a-connection", segments=(7, 11)),
    Question("handshake-loss", "What happens when the SYN or the SYN-ACK is lost?",
             "synack-loss", "02-three-way-handshake", segments=(0, 6)),
    Question("third-ack-loss", "What happens when the third segment (the ACK) is lost?",
             "interview-ack-loss", "02-three-way-handshake", segments=(0, 5)),
    Question("last-ack-loss", "What happens when the last ACK of a close is lost?",
             "interview-last-ack-loss", "08-time-wait", segments=(5, 10)),
    Question("handshake-data", "Can the handshake carry data?", "fastopen",
             "05-buffers-and-acks", stream=1, segments=(0, 3), sim_segments=(8, 11)),
    Question("isn", "Why are ISNs random, and does the server store its ISN?",
             "syncookies-always", "03-initial-sequence-numbers", segments=(0, 3),
             labels="absolute"),
    Question("queues", "What are the SYN queue and the accept queue, and what happens "
             "when each is full?", "syncookies-always", "03-initial-sequence-numbers",
             segments=(0, 4)),
    Question("syn-flood", "What is a SYN flood, and what do SYN cookies cost?",
             "syncookies-no-ts", "03-initial-sequence-numbers", segments=(0, 3),
             options=True),
    Question("time-wait", "Why TIME-WAIT, why 2·MSL, and how long on Linux?",
             "time-wait-fin-timeout5", "08-time-wait", segments=(7, 11)),
    Question("many-time-waits", "Too many TIME-WAITs: why, where, and the remedies?",
             "server-closes-first", "08-time-wait", segments=(7, 10)),
    Question("many-close-waits", "Too many CLOSE-WAITs: whose bug?", "close-wait-leak",
             "07-closing-a-connection", segments=(7, 9)),
    Question("vanished-peer", "What happens when the peer's machine vanishes?",
             "keepalive-dead-peer", "06-loss-and-reordering"),
    Question("syn-closed-port", "What does a SYN to a closed port get?", "refused",
             "02-three-way-handshake"),
    Question("syn-established", "What does a SYN on an established connection get?",
             "interview-syn-established", "04-why-three-way", stream=1, segments=(0, 6),
             labels="absolute", sim_segments=(6, 12)),
    Question("syn-time-wait", "What does a SYN to a connection in TIME-WAIT get?",
             "interview-syn-time-wait", "08-time-wait", stream=1, segments=(0, 3),
             sim_segments=(8, 11)),
    Question("close-shutdown-linger", "close() against shutdown(), and SO_LINGER 0?",
             "half-close", "07-closing-a-connection", segments=(3, 11)),
)
BY_KEY = {q.key: q for q in QUESTIONS}


def question(key: str) -> Question:
    """The question ``key`` (see :data:`QUESTIONS`); a clear error for an unknown key."""
    if key not in BY_KEY:
        raise KeyError(f"no interview question {key!r} (known: {', '.join(BY_KEY)})")
    return BY_KEY[key]


def questions():
    """The questions as a table: number, question, the capture that answers it, and the
    notebook that teaches it in depth."""
    import pandas as pd
    return pd.DataFrame([{"#": k, "question": q.title, "capture": q.capture,
                          "in depth": q.teaches} for k, q in enumerate(QUESTIONS, start=1)])


def runs(key: str):
    """(simulated, real) traces of question ``key``: the capture's scenario through the
    ``linux`` profile, and the capture (its connection ``stream``)."""
    q = question(key)
    return course.simulate(q.capture), course.capture(q.capture, stream=q.stream)


@dataclass(frozen=True)
class SideBySide:
    """Two ladders, the simulation's and the real kernel's, as one HTML row (SVG)."""
    key: str
    simulated_svg: str
    real_svg: str

    def _repr_html_(self) -> str:
        q = question(self.key)
        cells = "".join(
            f"<figure style='margin: 0; flex: 1 1 320px; max-width: 480px'>"
            f"<figcaption style='font-weight: bold'>{html.escape(caption)}</figcaption>"
            f"<div class='tcpsim-picture' style='width: 100%'>{svg}</div></figure>"
            for caption, svg in (("tcpsim, linux profile", self.simulated_svg),
                                 (f"real Linux 6.18: {q.capture}.pcap", self.real_svg)))
        return f"<div style='display: flex; flex-wrap: wrap; gap: 12px'>{cells}</div>"

    def __repr__(self) -> str:
        return f"SideBySide({self.key!r}): the ladders of the simulation and the capture"


def side_by_side(key: str) -> SideBySide:
    """The ladders of question ``key``: its run and its capture, the same segments."""
    from .plots import ladder_svg
    q = question(key)
    simulated, real = runs(key)
    options = {"labels": q.labels, "options": q.options, "title": False}
    return SideBySide(key,
                      _fit(ladder_svg(simulated, segments=q.sim_segments or q.segments,
                                      **options)),
                      _fit(ladder_svg(real, segments=q.segments, **options)))


def _fit(svg: str) -> str:
    """An SVG that scales to its box (the ladders are drawn at a fixed size)."""
    return svg.replace("<svg ", "<svg style='width: 100%; height: auto' ", 1)


# ------------------------------------------------------------------ runs of their own
def _base(name: str, **hosts) -> dict:
    return {"name": name, "profile": "linux", "seed": 10, "link": {"mtu": 1500},
            "hosts": {"client": {"port": 40200, **hosts.get("client", {})},
                      "server": {"port": 5400, **hosts.get("server", {})}}}


def old_duplicate_syn(handshake: str = "three-way") -> dict:
    """RFC 9293 §3.5's reason for the third segment: an old duplicate SYN from the client's
    port arrives at 0.2 s, long after that connection was given up; the client's program
    connects only at 1.0 s. ``handshake`` "two-way" is the teaching variant in which the
    SYN-ACK alone opens the connection."""
    doc = _base(f"an old duplicate SYN, {handshake} handshake",
                server={"options": {"handshake": handshake}})
    doc["actions"] = [{"at": 0.0, "host": "server", "do": "listen"},
                      {"at": 1.0, "host": "client", "do": "connect", "to": "server"}]
    doc["faults"] = [{"inject": {"at": 0.2, "from": "client", "flags": "S", "seq": 123456789}}]
    doc["until"] = 3.0
    return doc


def syn_schedules(syn_retries: int | None = None) -> dict:
    """{"linux": trace, "rfc9293": trace}: a client whose every SYN is lost, until
    connect() fails (for ``plots.schedule``)."""
    from .simulator import run
    out = {}
    for profile in ("linux", "rfc9293"):
        doc = _base(f"every SYN lost ({profile})")
        doc["profile"] = profile
        if syn_retries is not None:
            doc["hosts"]["client"]["options"] = {"syn_retries": syn_retries}
        doc["actions"] = [{"at": 0.0, "host": "client", "do": "connect", "to": "server"}]
        doc["faults"] = [{"drop": {"from": "client", "flags": "S"}}]
        doc["until"] = 3000.0
        out[profile] = run(doc)
    return out


def third_ack_lost_no_data() -> dict:
    """The third segment is lost and the client sends nothing: the server, still in
    SYN-RECEIVED, retransmits its SYN-ACK, and the client ACKs it again."""
    doc = _base("the third segment lost, no data")
    doc["actions"] = [{"at": 0.0, "host": "server", "do": "listen"},
                      {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                      {"at": 3.0, "host": "client", "do": "close"},
                      {"on": "eof", "host": "server", "do": "close"}]
    doc["faults"] = [{"drop": {"from": "client", "flags": "A", "nth": [1]}}]
    return doc


def time_wait_pileup(count: int = 20, closer: str = "server", tw_reuse: int = 0,
                     port_range=None, every_s: float = 0.05) -> dict:
    """``count`` short connections from one client (ephemeral ports, from ``port_range`` if
    given) to one server port, ``every_s`` apart; ``closer`` ("server" or "client") closes
    each 20 ms after it opened, the other side on end-of-file; ``tw_reuse`` is the client's
    net.ipv4.tcp_tw_reuse."""
    other = "client" if closer == "server" else "server"
    options = {"tw_reuse": tw_reuse}
    if port_range is not None:
        options["port_range"] = list(port_range)
    doc = _base(f"{count} short connections, the {closer} closes first",
                client={"port": None, "options": options})
    doc["actions"] = [{"at": 0.0, "host": "server", "do": "listen"},
                      {"after": "connect" if closer == "client" else "accept", "host": closer,
                       "delay": 0.02, "do": "close"},
                      {"on": "eof", "host": other, "do": "close"}]
    doc["actions"][1:1] = [{"at": round(0.1 + every_s * k, 6), "host": "client",
                            "do": "connect", "to": "server"} for k in range(count)]
    doc["until"] = round(0.1 + every_s * count + 1.0, 6)
    return doc


def time_wait_count(trace) -> dict:
    """{host: connections in TIME-WAIT at the end of ``trace``}, and how many connect()
    calls failed with EADDRNOTAVAIL (``"EADDRNOTAVAIL"``)."""
    states = trace.states
    states = states[~states["socket"].astype(str).str.endswith(":listen")]
    last = states.groupby(["host", "conn"])["to"].last()
    out = {host: int((last.xs(host, level="host") == "TIME-WAIT").sum())
           for host in ("client", "server") if host in last.index.get_level_values("host")}
    events = trace.events
    out["EADDRNOTAVAIL"] = int((events["result"] == "EADDRNOTAVAIL").sum())
    return out


def vanished_peer(keepalive: bool = False, send_at: float | None = None) -> dict:
    """The server's machine loses power at 1.0 s (action ``crash``, no segment sent) and
    stays off; the client has SO_KEEPALIVE (idle 10 s, interval 5 s, 3 probes) or not, and
    writes 100 bytes at ``send_at`` (None: it stays idle)."""
    options = {"keepalive": {"time": 10, "intvl": 5, "probes": 3}} if keepalive else {}
    doc = _base("the server's machine vanishes", client={"options": options})
    doc["actions"] = [{"at": 0.0, "host": "server", "do": "listen"},
                      {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                      {"at": 1.0, "host": "server", "do": "crash", "down": 5000.0}]
    if send_at is not None:
        doc["actions"].append({"at": send_at, "host": "client", "do": "send", "bytes": 100})
    doc["until"] = 3000.0
    return doc


def syn_to_time_wait_old_isn() -> dict:
    """interview-syn-time-wait without timestamps, and with ISNs of 0 on the client (the
    host option ``isn_strategy`` "zero", a teaching variant), so that the new SYN's sequence
    number is *below* what the server's TIME-WAIT expects: the TIME-WAIT answers with an
    ACK, the client (in SYN-SENT) with an RST, which ends the TIME-WAIT (tcp_rfc1337 = 0),
    and the client's SYN goes again 8 ms later and opens the connection."""
    doc = course.scenario("interview-syn-time-wait")
    doc["name"] = "a SYN below the TIME-WAIT's sequence space (no timestamps, ISN 0)"
    for host in ("client", "server"):
        doc["hosts"][host].setdefault("options", {})["timestamps"] = False
    doc["hosts"]["client"]["options"]["isn_strategy"] = "zero"
    return doc


def vanished_table():
    """When the client's program learns that the server's machine vanished (section on the
    vanished peer): idle without keepalive, idle with keepalive, and with data to send."""
    import pandas as pd
    from .simulator import run
    rows = []
    for case, keepalive, send_at in (("idle, no keepalive", False, None),
                                     ("idle, keepalive 10 s / 5 s / 3", True, None),
                                     ("writes 100 B at 2 s", False, 2.0)):
        trace = run(vanished_peer(keepalive, send_at))
        events = trace.events
        errors = events[(events["host"] == "client")
                        & events["result"].astype(str).str.startswith("E")]
        states = trace.states[trace.states["host"] == "client"]
        rows.append({"case": case,
                     "client's program learns at (s)": "never (run to 3000 s)"
                     if errors.empty else round(float(errors["t"].iloc[0]), 3),
                     "what it gets": "nothing" if errors.empty
                     else str(errors["result"].iloc[0]),
                     "client's state at the end": str(states["to"].iloc[-1]),
                     "segments sent after the crash": int((trace.segments["t"] > 1.0).sum())})
    return pd.DataFrame(rows)


def resend_gaps():
    """The gap between the client's RST and its SYN again, in interview-syn-established's
    second connection: the real kernel, and the scenario through both profiles."""
    import pandas as pd
    from .plots import connection_trace
    rows = []
    for label, trace in (("real Linux 6.18", course.capture("interview-syn-established", 1)),
                         ("tcpsim linux", connection_trace(
                             course.simulate("interview-syn-established"), 1)),
                         ("tcpsim rfc9293", connection_trace(
                             course.simulate("interview-syn-established", "rfc9293"), 1))):
        segs = trace.segments
        rst = segs[segs["flags"].str.contains("R")].iloc[0]
        again = segs[(segs["flags"] == "S") & (segs["t"] > rst["t"])].iloc[0]
        rows.append({"run": label, "RST at (s)": round(float(rst["t"]), 6),
                     "SYN again at (s)": round(float(again["t"]), 6),
                     "gap (ms)": round((float(again["t"]) - float(rst["t"])) * 1000, 1)})
    return pd.DataFrame(rows)


def flood_table(backlog: int = 8, count: int = 40):
    """A listener with ``backlog`` flooded with ``count`` spoofed SYNs, for each
    ``tcp_syncookies`` value: when the real client's connect() returned, and how many
    SYN-ACKs carried a cookie (``isn_experiments.flood_scenario``, notebook 03)."""
    import pandas as pd
    from .isn_experiments import flood_queue, flood_scenario
    from .simulator import run
    rows = []
    for cookies in (0, 1, 2):
        doc = flood_scenario(backlog=backlog, count=count, syn_cookies=cookies)
        doc["until"] = 120.0    # long enough for the flood's requests to time out
        trace = run(doc)
        events = trace.events
        connect = events[(events["host"] == "client") & (events["call"] == "connect")]
        queue = flood_queue(trace)
        client_syns = trace.segments[(trace.segments["src"] == "client")
                                     & (trace.segments["flags"] == "S")]
        rows.append({"tcp_syncookies": cookies,
                     "largest SYN queue": int(queue["syn_queue"].max()),
                     "SYN-ACKs with a cookie": int(queue["cookies"].iloc[-1]),
                     "client's SYNs": len(client_syns),
                     "connect() at 0.5 s returned": str(connect["result"].iloc[0])
                     if len(connect) else "nothing yet",
                     "at (s)": round(float(connect["t"].iloc[0]), 3) if len(connect) else None})
    return pd.DataFrame(rows)


def queue_rules(backlog: int = 128):
    """What Linux does when each queue is full (``tcpsim.backlog``, measured in
    docs/linux-connections.md §4), for a listener with ``backlog``."""
    import pandas as pd
    from . import backlog as bl
    limit = bl.max_ack_backlog(backlog)
    full = limit + 1
    cases = [("a SYN; the SYN queue is full", "tcp_syncookies = 0",
              bl.on_syn(syn_queue_len=full, accept_queue_len=0, max_backlog=limit,
                        syncookies=0).reason),
             ("a SYN; the SYN queue is full", "tcp_syncookies = 1 (default)",
              bl.on_syn(syn_queue_len=full, accept_queue_len=0, max_backlog=limit,
                        syncookies=1).reason),
             ("a SYN; the accept queue is full", "tcp_syncookies = 1 (default)",
              bl.on_syn(syn_queue_len=0, accept_queue_len=full, max_backlog=limit,
                        syncookies=1).reason),
             ("the final ACK; the accept queue is full", "tcp_abort_on_overflow = 0 (default)",
              bl.on_final_ack(accept_queue_len=full, max_backlog=limit).reason),
             ("the final ACK; the accept queue is full", "tcp_abort_on_overflow = 1",
              bl.on_final_ack(accept_queue_len=full, max_backlog=limit,
                              abort_on_overflow=True).reason)]
    return pd.DataFrame(cases, columns=["what arrives", "sysctl", "Linux"])
