"""What the notebooks share: the real captures shipped with the course.

    from tcpsim import course
    course.capture("handshake")            # the real kernel's trace (read from the pcap)
    course.scenario("handshake")           # the scenario it ran (a dict, for tcpsim.run)
    course.simulate("handshake")           # that scenario through the simulator
    course.events("handshake")             # what the programs saw on the real kernel
    course.socket_states("handshake")      # the socket states (and timers) ss saw meanwhile
    course.time_wait_table([...]), course.close_gaps([...])   # notebook 07's two tables
    course.capture_streams("interview-syn-established")   # every connection of a capture

The captures live in ``data/captures/`` at the top of the repository (see its README): each
is a scenario ``NAME.json``, the pcap the Linux kernel produced for it, and the applications'
results ``NAME.events.json``. Notebooks call these functions instead of writing paths, so a
notebook works wherever it is opened from (``notebooks/``, an nbgrader release folder, ...).
"""
from __future__ import annotations

import json
from pathlib import Path

CAPTURES_DIR = Path(__file__).resolve().parent.parent / "data" / "captures"


def _path(name: str, suffix: str) -> Path:
    path = CAPTURES_DIR / f"{name}{suffix}"
    if not path.is_file():
        known = ", ".join(names()) or "none"
        raise FileNotFoundError(f"no shipped capture {name!r} (known: {known})")
    return path


def names() -> list[str]:
    """The shipped captures, by name."""
    if not CAPTURES_DIR.is_dir():
        return []
    return sorted(p.stem for p in CAPTURES_DIR.glob("*.pcap"))


def capture_path(name: str) -> Path:
    """The pcap file of a shipped capture (for Wireshark, tcpdump -r, tcpsim.read_pcap)."""
    return _path(name, ".pcap")


def capture(name: str, stream: int = 0):
    """The real capture ``name`` as a Trace (``tcpsim.read_pcap``), on the scenario's clock.

    ``stream``: which connection of the capture (0, the first, by default; a client that
    connects again from the same port makes a new one, as Wireshark's ``tcp.stream`` counts
    them; :func:`capture_streams` gives them all).

    A capture made by ``tools/capture.py`` comes with the programs' results
    (``NAME.events.json``). Then the trace's times are shifted from "seconds since the first
    packet" to the scenario's clock (the SYN of a connect at 0.1 s is at 0.1 s, as in the
    simulation), the programs' calls are added as the trace's ``events``, so a ladder of
    the real capture shows ``connect() → ok`` like a simulated one, and the segments that
    the scenario's ``drop`` faults dropped are marked ``dropped``. Other captures
    (``raw/…``) are returned as ``read_pcap`` reads them.
    """
    from .pcap import read_pcap
    from .trace import Trace
    trace = read_pcap(capture_path(name), stream=stream)
    recorded = CAPTURES_DIR / f"{name}.events.json"
    if not recorded.is_file():
        return trace
    run = json.loads(recorded.read_text())
    doc = _on_scenario_clock(trace.doc, run)
    events = [dict(row) for row in run["events"]]
    if trace.doc["capture"]["streams"] > 1:   # the programs' calls on this connection
        events = [row for row in events if row.get("conn") in (None, stream)]
    doc["events"] = events
    doc["clock"] = "scenario"   # tcpsim extension: t = 0 is the scenario's start
    doc["name"] = f"real Linux capture: {name}.pcap" + (f", connection {stream}" if stream else "")
    earlier = [_on_scenario_clock(read_pcap(capture_path(name), stream=k).doc, run)["segments"]
               for k in range(stream)]
    _mark_dropped(doc, scenario(name), earlier)
    _mark_queue_stage(doc, run.get("queue"))
    doc["drops_marked"] = True   # tcpsim extension: `dropped` and `arrival` are the faults'
    return Trace(doc)


def capture_streams(name: str) -> list:
    """Every connection of the real capture ``name``, in order, each as :func:`capture`
    gives it (``capture_streams("fastopen")``: the cookie request, then the connection
    with data in its SYN)."""
    from .pcap import read_pcap
    count = read_pcap(capture_path(name)).doc["capture"]["streams"]
    return [capture(name, stream=k) for k in range(count)]


def _on_scenario_clock(doc: dict, run: dict) -> dict:
    shift = doc["capture"]["start"] - run["t0_epoch"]
    doc = dict(doc)
    doc["segments"] = [_shifted(row, shift, ("t", "arrival")) for row in doc["segments"]]
    doc["states"] = [_shifted(row, shift, ("t",)) for row in doc.get("states", [])]
    return doc


def _mark_dropped(doc: dict, scenario_doc: dict, earlier=()) -> None:
    """Mark the segments the capture tool dropped as ``dropped`` (no ``arrival``).

    tcpdump on ``lo`` records a packet as it is sent, before the receiver's nftables
    input-hook rule drops it, so the pcap alone shows every segment as delivered. The rules
    were made from the scenario's ``drop`` faults (``tools/capture.py``), so the same
    matching as the simulator's (``faults.py``) finds the segments they dropped.
    """
    from types import SimpleNamespace
    from .faults import Faults
    from .scenario import parse_scenario
    parsed = parse_scenario(scenario_doc)
    drops = [f for f in parsed.faults if f.kind == "drop"]
    if not drops:
        return
    faults = Faults(drops, parsed.seed)
    mine = {id(row) for row in doc["segments"]}
    rows = sorted([row for segments in earlier for row in segments] + doc["segments"],
                  key=lambda row: row["t"])     # earlier connections' segments count too (nth)
    for row in rows:
        segment = SimpleNamespace(src=row["src"], flags=row["flags"], data=row["len"] > 0,
                                  retransmission=bool(row.get("retransmission")))
        dropped, _, _ = faults.fate(segment, row["t"])
        if dropped and id(row) in mine:
            row["dropped"], row["arrival"] = True, None


QUEUE_MATCH_S = 0.005   # a queue-stage log entry and its packet in the pcap: this close in time


def _mark_queue_stage(doc: dict, queue) -> None:
    """Mark what the capture tool's queue stage did (``NAME.events.json``, ``queue.log``):
    a ``drop`` verdict makes its segment ``dropped`` (no ``arrival``), a ``delay`` verdict
    sets its ``arrival`` to the time it was let through (``extra`` later). tcpdump on ``lo``
    saw each packet before the stage did, so the pcap alone shows neither."""
    if not queue:
        return
    rows = doc["segments"]
    taken = set()
    for entry in queue.get("log", []):
        if entry.get("verdict") not in ("drop", "delay"):
            continue
        for k, row in enumerate(rows):
            if k in taken or row["src"] != entry["from"] or row["seq"] != entry["seq"] \
                    or row["len"] != entry["len"] or row["flags"] != entry["flags"] \
                    or abs(row["t"] - entry["t"]) > QUEUE_MATCH_S:
                continue
            taken.add(k)
            if entry["verdict"] == "drop":
                row["dropped"], row["arrival"] = True, None
            else:
                row["arrival"] = round(row["t"] + entry["extra"], 6)
            break


def _shifted(row: dict, shift: float, keys) -> dict:
    row = dict(row)
    for key in keys:
        if isinstance(row.get(key), (int, float)):
            row[key] = round(row[key] + shift, 6)
    return row


def scenario(name: str) -> dict:
    """The scenario that was run on the real kernel to make capture ``name``."""
    return json.loads(_path(name, ".json").read_text())


def simulate(name: str, profile: str = "linux"):
    """The capture's scenario run through the simulator (``profile`` linux or rfc9293)."""
    from .simulator import run
    doc = scenario(name)
    doc["profile"] = profile
    return run(doc)


def _first_fin(segments):
    fins = segments[segments["flags"].str.contains("F")]
    return None if fins.empty else fins.iloc[0]


def time_wait_table(names):
    """For each capture: which side sent the first FIN, and which side(s) went into
    TIME-WAIT, on the real kernel (the states ``read_pcap`` infers from its packets) and in
    the simulation of the same scenario."""
    import pandas as pd
    rows = []
    for name in names:
        real, simulated = capture(name), simulate(name)
        first = _first_fin(real.segments)
        rows.append({"capture": name,
                     "first FIN from": None if first is None else first["src"],
                     "TIME-WAIT (real)": _time_wait_hosts(real.states),
                     "TIME-WAIT (simulated)": _time_wait_hosts(simulated.states)})
    return pd.DataFrame(rows)


def _time_wait_hosts(states) -> str:
    return ", ".join(dict.fromkeys(states[states["to"] == "TIME-WAIT"]["host"])) or "nobody"


def close_gaps(names):
    """For each capture, the segments from the first FIN on, with the time since that FIN in
    milliseconds (how long each answer took)."""
    import pandas as pd
    tables = []
    for name in names:
        segments = capture(name).segments
        first = _first_fin(segments)
        if first is None:
            continue
        rest = segments.loc[first.name:, ["src", "dst", "flags", "rel_seq", "rel_ack"]].copy()
        rest.insert(0, "capture", name)
        rest["ms after the first FIN"] = ((segments.loc[first.name:, "t"] - first["t"])
                                          * 1000).round(3)
        tables.append(rest)
    return pd.concat(tables, ignore_index=True)


def socket_states(name: str):
    """The socket states ``ss`` saw during the real run (``NAME.events.json``), as a table
    (t on the scenario's clock, host, from, to, and ``timer``/``timer_left_s`` where ``ss -o``
    showed one: ``timewait,59sec,0`` is a TIME-WAIT with 59 s left; ss prints an orphaned
    FIN-WAIT-2's timer as "timewait" too). ``ss`` is polled, so states that last less than a
    poll (a few ms) are missing."""
    import pandas as pd
    rows = json.loads(_path(name, ".events.json").read_text())["states"]
    table = pd.DataFrame(rows)
    for column in ("timer", "timer_left_s"):
        if column not in table:
            table[column] = None
    return table[["t", "host", "from", "to", "timer", "timer_left_s"]]


def events(name: str):
    """What the programs saw on the real kernel, as a table like ``trace.events``.

    Times are seconds on the scenario's clock (the capture tool started the scenario at
    t = 0), so they line up with a simulation of the same scenario.
    """
    import pandas as pd
    from .trace import EVENT_COLUMNS
    rows = json.loads(_path(name, ".events.json").read_text())["events"]
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)
