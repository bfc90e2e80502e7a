"""Exercises of notebook 09, real captures.

| exercise | kind | shown with | judged by (returns Feedback) | graded cell calls |
|---|---|---|---|---|
| 1 | read a capture with pandas, randomized | ``capture_question(seed)`` | ``judge_capture_findings`` | ``check_capture_findings`` |
| 2 | compute the RTT, randomized | ``rtt_question(seed)`` | ``judge_handshake_rtt`` | ``check_handshake_rtt`` |
| 3 | predict, then reveal | ``closed_first_choices(seed)`` | ``judge_closed_first`` | ``reveal_closed_first`` |
| 4 | explain in words (graded by hand) | | | (rubric: instructors/README.md) |
| section 3 | predict widget (ungraded) | ``VANTAGE_CHOICES`` | ``check_vantage`` | |

As in ``handshake.py`` (notebook 02, the model): a ``judge_…`` decides and gives the
feedback, and is what the hidden tests run in a fresh process (``GRADED``, ``python -m
tcpsim.exercises.grade``); a ``check_…`` runs the same judge on the answer as the hidden
test receives it (``answers.as_sent``), shows the feedback and returns nothing.

Exercise 1 gives each student one of the shipped captures (``CAPTURE_POOL``, picked from
the seed); what is right is read from that capture by ``read_pcap`` (its SYN flags, its
``retransmission`` labels, which equal tshark's, and its inferred states, docs/captures.md).
Exercise 2's capture is a simulated connection with the student's own one-way delay,
written as the pcap a capture on the client would hold (the server's segments at their
arrival) and read back; the RTT it shows is twice that delay.
"""
from __future__ import annotations

import html
import math
import os
import random
import tempfile
from dataclasses import dataclass

from . import answers
from .feedback import Feedback, judge_as_sent, right, show, whole_number, wrong
from .handshake import Choices, NoQuestion, Reveal, _choices, _judge_choice

NO_ID_MESSAGE = (
    "STUDENT_ID is still 'anonymous', so there is no capture for you yet. Every student gets "
    "their own capture and their own round-trip time from their id, and the autograder "
    "grades you against the id in your notebook: with the default id your answers cannot "
    "count. Put your student id (the one you hand in under) in the first code cell, run it, "
    "then run this cell again.")

# ------------------------------------------------- exercise 1 (find it in a capture)
CAPTURE_POOL = ("syn-loss", "synack-loss", "data-rto", "fin-loss", "data-loss-tail",
                "data-loss-middle", "reorder", "server-closes-first", "simultaneous-close",
                "loss-5pct")
TIME_WAIT_ANSWERS = ("client", "server", "both", "neither")
SHOWN_COLUMNS = ["i", "frame", "t", "src", "flags", "rel_seq", "rel_ack", "len", "retransmission"]


def capture_name(seed: int) -> str:
    """The shipped capture of this student's exercise 1."""
    return random.Random(f"09-ex1-{seed}").choice(CAPTURE_POOL)


def _capture(name: str):
    from .. import course
    from ..pcap import read_pcap
    return read_pcap(course.capture_path(name))


@dataclass(frozen=True)
class CaptureQuestion:
    """One student's capture for exercise 1: ``name`` and ``trace`` (``read_pcap``)."""
    seed: int
    name: str
    trace: object

    @property
    def segments(self):
        return self.trace.segments

    @property
    def states(self):
        return self.trace.states

    def _repr_html_(self) -> str:
        table = self.segments[SHOWN_COLUMNS].to_html(index=False, border=0, max_rows=40)
        return (f"<p>Your capture: <b>{html.escape(self.name)}</b> "
                f"(<code>data/captures/{html.escape(self.name)}.pcap</code>), "
                f"{len(self.trace.doc['segments'])} segments. Its tables: <code>q.segments</code> "
                "and <code>q.states</code>.</p>" + table)

    def __repr__(self) -> str:
        return f"your capture: {self.name} ({len(self.trace.doc['segments'])} segments)"


def capture_question(seed: int):
    """Exercise 1's capture for this student, or a refusal for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion(NO_ID_MESSAGE)
    name = capture_name(seed)
    return CaptureQuestion(seed, name, _capture(name))


def expected_findings(seed: int) -> dict:
    """What exercise 1 wants, read from the student's capture."""
    trace = _capture(capture_name(seed))
    rows = trace.doc["segments"]
    hosts = {r["host"] for r in trace.doc["states"] if r["to"] == "TIME-WAIT"}
    return {"syn_rows": [r["i"] for r in rows if "S" in r["flags"]],
            "retransmitted_rows": [r["i"] for r in rows if r["retransmission"]],
            "time_wait": "both" if len(hosts) == 2 else hosts.pop() if hosts else "neither",
            "rows": rows}


def _row_list(value, name: str):
    """A list of row numbers (ints by the course's rule, any order, no repeats), or a
    Feedback. A pandas Series or Index arrives as a list or as its text."""
    if value is None or value is Ellipsis or value == "Ellipsis":
        return wrong(f"{name} has no value yet: replace the ... with a list of row numbers.")
    if isinstance(value, str) and value.strip().startswith(("[", "(")):
        value = [v for v in value.strip("[]() \n").replace(",", " ").split() if v]
    if not isinstance(value, (list, tuple)):
        return wrong(f"{name} must be a list of row numbers, like [3, 4]; you gave {value!r}. "
                     "From pandas: list(table['i']).")
    numbers = []
    for item in value:
        n = whole_number(item, f"each row number in {name}")
        if isinstance(n, Feedback):
            return n
        numbers.append(n)
    if len(set(numbers)) != len(numbers):
        return wrong(f"{name} names a row twice.")
    return sorted(numbers)


def _rows_hint(name, given, want, rows, what) -> str | None:
    """The hint for a wrong list of rows (never the expected rows)."""
    if given == want:
        return None
    if given == sorted(k + 1 for k in want):
        return (f"{name}: those are Wireshark's frame numbers (column 'frame', from 1); the "
                "question asks for the trace's row numbers, column 'i' (from 0).")
    if not given and want:
        return f"{name}: the capture has some; select the rows {what}."
    outside = [k for k in given if not 0 <= k < len(rows)]
    if outside:
        return f"{name}: the capture has rows 0 to {len(rows) - 1} only."
    if name == "syn_rows":
        if set(given) < set(want) and all(rows[k]["flags"] == "S" for k in given):
            return ("syn_rows: the SYN-ACK carries the SYN flag too: select every row whose "
                    "flags contain 'S', not only those equal to 'S'.")
        extra = [k for k in given if "S" not in rows[k]["flags"]]
        if extra:
            return f"syn_rows: row {extra[0]} has no SYN flag (its flags are {rows[extra[0]]['flags']!r})."
        return "syn_rows: a SYN sent again is a SYN too: every row whose flags contain 'S'."
    originals = [k for k in given if not rows[k]["retransmission"]]
    if originals and len(given) == len(want):
        return ("retransmitted_rows: the first copy of a segment is not a retransmission: "
                "the later copies are. The column 'retransmission' marks them.")
    if originals:
        return (f"retransmitted_rows: row {originals[0]} is a first transmission (its "
                "'retransmission' is False).")
    return ("retransmitted_rows: some retransmission is missing: every row whose "
            "'retransmission' is True, SYNs and FINs sent again included.")


def _time_wait_text(value):
    if value is None or value is Ellipsis or value == "Ellipsis":
        return wrong("time_wait has no value yet: replace the ... with "
                     + ", ".join(map(repr, TIME_WAIT_ANSWERS)) + ".")
    text = str(value).strip().lower()
    if text not in TIME_WAIT_ANSWERS:
        return wrong("time_wait must be one of " + ", ".join(map(repr, TIME_WAIT_ANSWERS))
                     + f"; you gave {value!r}.")
    return text


def judge_capture_findings(syn_rows, retransmitted_rows, time_wait, seed: int) -> Feedback:
    """Exercise 1: the rows with SYN, the retransmitted rows, and who entered TIME-WAIT."""
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    want = expected_findings(seed)
    syn = _row_list(syn_rows, "syn_rows")
    if isinstance(syn, Feedback):
        return syn
    rtx = _row_list(retransmitted_rows, "retransmitted_rows")
    if isinstance(rtx, Feedback):
        return rtx
    tw = _time_wait_text(time_wait)
    if isinstance(tw, Feedback):
        return tw
    rows = want["rows"]
    problems = [h for h in (_rows_hint("syn_rows", syn, want["syn_rows"], rows,
                                       "whose flags contain 'S'"),
                            _rows_hint("retransmitted_rows", rtx, want["retransmitted_rows"],
                                       rows, "whose 'retransmission' is True")) if h]
    if tw != want["time_wait"]:
        if want["time_wait"] == "both" or tw == "both":
            problems.append("time_wait: look at q.states: which hosts have a row whose 'to' "
                            "is TIME-WAIT? In a simultaneous close both FINs go first.")
        elif tw == "neither":
            problems.append("time_wait: the capture ends before TIME-WAIT does (60 s on "
                            "Linux): its inferred states end in TIME-WAIT for a side.")
        else:
            problems.append("time_wait: TIME-WAIT belongs to the side whose FIN went first "
                            "(RFC 9293 §3.6): find the first row with F in its flags, or the "
                            "TIME-WAIT rows of q.states.")
    if problems:
        return wrong("\n".join(problems))
    return right("The SYNs are where the connection starts (a SYN and a SYN-ACK, and any "
                 "copies the timers sent again); the retransmission label is Wireshark's "
                 "(tcpsim computes it the same way, tests/test_pcap.py checks it against "
                 "tshark); and the state inferred from the wire puts in TIME-WAIT the side "
                 "whose FIN went first.")


def check_capture_findings(syn_rows, retransmitted_rows, time_wait, seed: int) -> None:
    """Exercise 1, in the notebook."""
    show(judge_as_sent(judge_capture_findings, syn_rows, retransmitted_rows, time_wait,
                       seed=seed), "09-ex1", (syn_rows, retransmitted_rows, time_wait))


# ------------------------------------------------- exercise 2 (the RTT of a handshake)
RTT_TOLERANCE_MS = 0.05       # the capture's times are microseconds
CLIENT_PORT, SERVER_PORT = 51234, 443


def rtt_numbers(seed: int) -> dict:
    """This student's one-way delay (ms, one decimal) and client port."""
    rng = random.Random(f"09-ex2-{seed}")
    return {"delay_ms": round(rng.uniform(4.0, 90.0), 1),
            "client_port": rng.randrange(40000, 60000)}


def rtt_scenario(seed: int) -> dict:
    n = rtt_numbers(seed)
    return {"name": "a connection to a distant server, seen by a capture on the client",
            "profile": "linux", "seed": seed, "link": {"mtu": 1500, "delay": n["delay_ms"] / 1000},
            "hosts": {"client": {"port": n["client_port"]}, "server": {"port": SERVER_PORT}},
            "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                        {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                        {"after": "connect", "host": "client", "do": "send", "bytes": 300},
                        {"at": 1.0, "host": "client", "do": "close"},
                        {"on": "eof", "host": "server", "do": "close"}]}


def client_side_doc(doc: dict, host: str = "client") -> dict:
    """A simulated trace as a capture on ``host`` would see it: its own segments when they
    leave, the peer's when (and if) they arrive, in that order."""
    rows = []
    for s in doc["segments"]:
        if s["src"] != host:
            if s["dropped"] or s["arrival"] is None:
                continue
            s = dict(s, t=s["arrival"])
        rows.append(s)
    rows.sort(key=lambda s: s["t"])
    return dict(doc, segments=rows)


def rtt_trace(seed: int):
    """Exercise 2's capture: the run written as the client's pcap and read back."""
    from ..pcap import read_pcap, write_pcap
    from ..simulator import run
    doc = client_side_doc(run(rtt_scenario(seed)).doc)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "client.pcap")
        write_pcap(doc, path)
        return read_pcap(path)


@dataclass(frozen=True)
class RttQuestion:
    """Exercise 2's capture: ``trace`` (read_pcap) and its ``segments``; shows the first rows."""
    seed: int
    trace: object

    @property
    def segments(self):
        return self.trace.segments

    def _repr_html_(self) -> str:
        columns = ["i", "t", "src", "flags", "rel_seq", "rel_ack", "len"]
        return ("<p>A capture on the client (<code>far.segments</code>), its first rows:</p>"
                + self.segments[columns].head(6).to_html(index=False, border=0))

    def __repr__(self) -> str:
        return "a capture on the client: far.segments"


def rtt_question(seed: int):
    """Exercise 2's capture for this student, or a refusal for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion(NO_ID_MESSAGE)
    return RttQuestion(seed, rtt_trace(seed))


def expected_rtt_ms(seed: int) -> float:
    """SYN-ACK time minus SYN time in the student's client-side capture, in ms."""
    rows = rtt_trace(seed).doc["segments"]
    syn = next(r for r in rows if r["flags"] == "S")
    synack = next(r for r in rows if r["flags"] == "SA")
    return (synack["t"] - syn["t"]) * 1000


def _number(value, name: str):
    if value is None or value is Ellipsis or value == "Ellipsis":
        return wrong(f"{name} has no value yet: replace the ... with your answer.")
    if isinstance(value, bool):
        return wrong(f"{name} must be a number of milliseconds, not {value}.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return wrong(f"{name} must be a number of milliseconds; you gave {value!r}.")
    if not math.isfinite(number):
        return wrong(f"{name} must be a number of milliseconds; you gave {value!r}.")
    return number


def judge_handshake_rtt(rtt_ms, seed: int) -> Feedback:
    """Exercise 2: the round-trip time the client's capture of the handshake shows."""
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    value = _number(rtt_ms, "rtt_ms")
    if isinstance(value, Feedback):
        return value
    want = expected_rtt_ms(seed)
    if abs(value - want) <= RTT_TOLERANCE_MS:
        return right("At the client, the SYN-ACK comes back one round trip after the SYN "
                     "left: there and back, plus the time the server took to answer (none "
                     "on this simulated link, microseconds on a real machine). It is the "
                     "first RTT sample a TCP gets (RFC 6298 §2.2), before any data.")
    if abs(value * 1000 - want) <= RTT_TOLERANCE_MS:
        return wrong("rtt_ms is in milliseconds: the 't' column is in seconds.")
    if abs(value * 2 - want) <= 2 * RTT_TOLERANCE_MS:
        return wrong("rtt_ms: that is one way. The capture is on the client: the SYN-ACK can "
                     "only come back after the SYN went there, so the gap is there *and* back.")
    if abs(value) <= 1.0:
        return wrong("rtt_ms: that is how fast the client answered the SYN-ACK (its own ACK "
                     "leaves at once). The round trip is from the SYN to the SYN-ACK.")
    return wrong("rtt_ms: take the SYN's row and the SYN-ACK's row ('flags' 'S' and 'SA') and "
                 "subtract their times; give milliseconds.")


def check_handshake_rtt(rtt_ms, seed: int) -> None:
    """Exercise 2, in the notebook."""
    show(judge_as_sent(judge_handshake_rtt, rtt_ms, seed=seed), "09-ex2", rtt_ms)


# ---------------------------------------------------- exercise 3 (predict, then reveal)
CLOSED_FIRST_CHOICES = {    # keys are the authors' order; students see them shuffled
    "a": "The clients: they connected, so they hang up first.",
    "b": "The server: the side in TIME-WAIT is the side whose FIN went first.",
    "c": "Both at once: TIME-WAIT on one side needs FINs that crossed.",
    "d": "Nobody: the server's sockets were reset, and a reset leaves TIME-WAIT behind.",
}


def closed_first_choices(seed: int) -> Choices:
    """Exercise 3's choices, in this student's order."""
    return _choices("09-ex3", CLOSED_FIRST_CHOICES, seed)


def judge_closed_first(letter, seed: int) -> Feedback:
    """Exercise 3: a server's ss shows one TIME-WAIT socket per finished request: who closed
    those connections first?"""
    return _judge_choice("09-ex3", CLOSED_FIRST_CHOICES, seed, letter, "closed_first")


def closed_first_reveal(prediction, seed: int) -> Reveal:
    """Exercise 3's reveal: the feedback, then the real capture whose server closes first,
    its ladder and the states inferred from it, drawn only after a prediction."""
    feedback = judge_as_sent(judge_closed_first, prediction, seed=seed)
    if answers.choice_key("09-ex3", seed, CLOSED_FIRST_CHOICES, prediction) is None:
        return Reveal(feedback)
    from .. import course, plots
    trace = course.capture("server-closes-first")
    return Reveal(feedback,
                  [plots.ladder(trace, segments=(7, 10)),
                   trace.states[["t", "host", "from", "to", "cause"]].tail(6)],
                  [("The real Linux kernel: the server closes first (data/captures/"
                   "server-closes-first.pcap)"), "The states inferred from that capture"])


def reveal_closed_first(prediction, seed: int) -> None:
    """Exercise 3, in the notebook: the feedback, then the ladder and the states."""
    closed_first_reveal(prediction, seed).show("09-ex3", prediction)


# ------------------------------------ section 3 quick check (ungraded, the predict widget)
VANTAGE_CHOICES = {    # one line each: the predict widget shows them as radio buttons
    "a": "From the SYN to the SYN-ACK.",
    "b": "From the SYN-ACK to the ACK.",
    "c": "From the SYN to the ACK.",
    "d": "None: a capture on the server cannot show the round trip.",
}
VANTAGE_DELAY_S = 0.02          # the quick check's one-way delay: a 40 ms round trip


def check_vantage(letter) -> Feedback:
    """Quick check (ungraded, for the predict widget): in a capture on the server, which gap
    of the handshake is the round trip? Returns the Feedback, which the widget shows."""
    return _judge_choice("09-vantage", VANTAGE_CHOICES, None, letter, "answer")


def server_side_trace():
    """The quick check's reveal: a handshake over a 40 ms round trip as a capture on the
    server holds it (read back from its pcap)."""
    from ..pcap import read_pcap, write_pcap
    from ..simulator import run
    scenario = {"name": "a handshake seen by a capture on the server", "link": {
        "mtu": 1500, "delay": VANTAGE_DELAY_S},
        "hosts": {"client": {"port": 51000}, "server": {"port": 443}},
        "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                    {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                    {"after": "connect", "host": "client", "do": "send", "bytes": 300}]}
    doc = client_side_doc(run(scenario).doc, host="server")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "server.pcap")
        write_pcap(doc, path)
        return read_pcap(path)


def vantage_reveal():
    """The ladder of ``server_side_trace`` (its first four segments, absolute times)."""
    from .. import plots
    return plots.ladder(server_side_trace(), segments=(0, 4))


GRADED = {
    "09-ex1": (judge_capture_findings, ("syn_rows", "retransmitted_rows", "time_wait")),
    "09-ex2": (judge_handshake_rtt, ("rtt_ms",)),
    "09-ex3": (judge_closed_first, ("closed_first",)),
}
