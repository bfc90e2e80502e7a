"""Exercises of notebook 04, why the handshake takes three segments.

| exercise | kind | shown with | judged by (returns Feedback) | graded cell calls |
|---|---|---|---|---|
| 1 | predict, then reveal, randomized | ``rst_seq_question(seed)`` | ``judge_rst_seq`` | ``reveal_rst_seq`` |
| 2 | read a trace with pandas, randomized | ``ghost_trace(seed)`` | ``judge_ghost_count`` | ``check_ghost_count`` |
| 3 | build a scenario | | ``judge_ghost_scenario`` | ``check_ghost_scenario`` |
| 4 | explain in words (graded by hand) | | | |
| section 6 | predict widget (ungraded) | ``HALF_OPEN_CHOICES`` | ``check_half_open`` | |

As in ``handshake.py`` (notebook 02, the model): a ``judge_…`` decides and gives the
feedback, and is what the hidden tests run in a fresh process (``GRADED``, ``python -m
tcpsim.exercises.grade``); a ``check_…`` runs the same judge on the answer as the hidden
test receives it (``answers.as_sent``), shows the feedback and returns nothing.

The randomized numbers come from the student's seed here (``ghost_numbers``,
``rst_numbers``), and what is right from running them through the simulator
(``tcpsim.ghosts``); ``tests/test_notebook04_claims.py`` checks the rules the hints name
against those runs (RFC 9293 §3.5, Figure 8; §3.10.7.3).
"""
from __future__ import annotations

import html
import random

from . import answers
from .answers import SEQ_SPACE
from .feedback import Feedback, judge_as_sent, right, show, whole_number, wrong
from .handshake import NoQuestion, Reveal, _judge_choice

NO_ID_MESSAGE = (
    "STUDENT_ID is still 'anonymous', so there is no question for you yet. Every student "
    "gets their own trace and their own sequence numbers from their id, and the autograder "
    "grades you against the id in your notebook: with the default id your answers cannot "
    "count. Put your student id (the one you hand in under) in the first code cell, run it, "
    "then run this cell again.")

CLIENT_PORT, SERVER_PORT = 40000, 5001
CONNECTION_EVERY_S = 2.0      # exercise 2: the client connects at 0.1, 2.1, 4.1, ...


# ------------------------------------------------------- exercise 2 (count the ghosts)
def ghost_numbers(seed: int) -> dict:
    """Exercise 2's run: how many connections the client opens (one every 2 s, each
    sending 100 bytes and closing 1 s after its connect) and when the old SYNs of the
    client's port reach the server (``old_syns_at``, seconds), some inside a connection,
    some between two."""
    rng = random.Random(f"04-ghosts-{seed}")
    connections = rng.randint(2, 4)
    inside = [round(k * CONNECTION_EVERY_S + rng.uniform(0.3, 0.9), 3)
              for k in rng.sample(range(connections), rng.randint(1, 2))]
    between = [round(k * CONNECTION_EVERY_S + rng.uniform(1.3, 1.9), 3)
               for k in rng.sample(range(connections), rng.randint(1, connections))]
    return {"connections": connections, "old_syns_at": sorted(inside + between),
            "old_syn_seqs": [rng.randrange(SEQ_SPACE) for _ in inside + between]}


def ghost_scenario(seed: int) -> dict:
    """Exercise 2's scenario: the two-way teaching handshake, linux profile otherwise."""
    n = ghost_numbers(seed)
    delay_s = 0.01
    actions = [{"at": 0.0, "host": "server", "do": "listen"},
               {"after": "accept", "host": "server", "do": "send", "data": "220 ready\r\n"},
               {"on": "eof", "host": "server", "do": "close"}]
    for k in range(n["connections"]):
        start = round(0.1 + k * CONNECTION_EVERY_S, 6)
        actions += [{"at": start, "host": "client", "do": "connect", "to": "server"},
                    {"at": round(start + 0.2, 6), "host": "client", "do": "send", "bytes": 100},
                    {"at": round(start + 1.0, 6), "host": "client", "do": "close"}]
    faults = [{"inject": {"at": round(at - delay_s, 6), "from": "client", "flags": "S",
                          "seq": seq}}
              for at, seq in zip(n["old_syns_at"], n["old_syn_seqs"])]
    return {"name": "exercise 2: old duplicate SYNs, two-way handshake", "profile": "linux",
            "seed": seed % 2**32, "link": {"delay": delay_s, "mtu": 1500},
            "hosts": {"client": {"port": CLIENT_PORT, "options": {"handshake": "two-way"}},
                      "server": {"port": SERVER_PORT, "options": {"handshake": "two-way"}}},
            "actions": actions, "faults": faults,
            "until": round(n["connections"] * CONNECTION_EVERY_S + 1.0, 6)}


def ghost_trace(seed: int):
    """Exercise 2's trace for this student (a tcpsim Trace), or a refusal for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion(NO_ID_MESSAGE)
    from ..simulator import run
    return run(ghost_scenario(seed))


GHOST_TRACE_COLUMNS = ["t", "src", "flags", "seq", "ack", "len", "conn", "injected"]


def show_ghost_trace(trace) -> None:
    """Exercise 2's tables in the notebook: the segments (``GHOST_TRACE_COLUMNS``) and the
    events of ``ghost_trace(seed)``, or the refusal it gave for the default id."""
    from IPython.display import display
    if isinstance(trace, NoQuestion):
        display(trace)
        return
    display(trace.segments[GHOST_TRACE_COLUMNS])
    display(trace.events)


def _ghost_facts(seed: int) -> dict:
    """What exercise 2's typical wrong answers count, from the student's own trace."""
    from ..ghosts import count_ghosts
    trace = ghost_trace(seed)
    seg, events = trace.segments, trace.events
    accepts = int(((events["host"] == "server") & (events["call"] == "accept")).sum())
    connects = int(((events["host"] == "client") & (events["call"] == "connect")
                    & (events["result"] == "ok")).sum())
    old = int(seg["injected"].fillna(False).astype(bool).sum()) if "injected" in seg else 0
    return {"ghosts": count_ghosts(trace), "accepts": accepts, "connects": connects,
            "old_syns": old}


def judge_ghost_count(ghost_count, seed: int) -> Feedback:
    """Exercise 2: how many connections did the server's application accept that no
    connect() of the client opened?"""
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    value = whole_number(ghost_count, "ghost_count")
    if isinstance(value, Feedback):
        return value
    facts = _ghost_facts(seed)
    if value == facts["ghosts"]:
        return right("Each ghost is a connection whose SYN-ACK acknowledges a SYN that none "
                     "of the client's connect() calls sent: an old duplicate. With a two-way "
                     "handshake the server has no way to tell, so its application accepted "
                     "it and greeted nobody.")
    if value == facts["accepts"]:
        return wrong("ghost_count: that counts every connection the server accepted, the "
                     "client's real ones too. Which of them did the client open?")
    if value == facts["old_syns"]:
        return wrong("ghost_count: not every old SYN made a connection. Look at what the "
                     "server answered to each: an old SYN that arrives while a connection "
                     "holds those ports gets only an ACK (a challenge ACK, RFC 5961 §4).")
    if value == facts["connects"]:
        return wrong("ghost_count: that is how many connections the client opened. A ghost "
                     "is one the server's application believes in and the client never "
                     "asked for.")
    if value < 0:
        return wrong("ghost_count: a count is never negative.")
    return wrong("ghost_count: compare the server's accept events (trace.events) with the "
                 "client's connect events, or each server SYN-ACK's ack with the seq of the "
                 "client's own SYNs: a ghost's SYN-ACK acknowledges a SYN that the client's "
                 "connect() did not send.")


def check_ghost_count(ghost_count, seed: int) -> None:
    """Exercise 2, in the notebook."""
    show(judge_as_sent(judge_ghost_count, ghost_count, seed=seed), "04-ex2", ghost_count)


# --------------------------------------------- exercise 1 (predict the RST's sequence)
def rst_numbers(seed: int) -> dict:
    """Exercise 1's numbers: the client's ISN, the old SYN's sequence number and the
    server's ISN. For a third of the students the old SYN's number is the last one below
    2^32, so the SYN-ACK's ack wraps to 0."""
    rng = random.Random(f"04-rst-{seed}")
    old_syn = SEQ_SPACE - 1 if rng.random() < 1 / 3 else rng.randrange(SEQ_SPACE - 1)
    client = rng.randrange(SEQ_SPACE)
    while client in (old_syn, (old_syn + 1) % SEQ_SPACE):
        client = rng.randrange(SEQ_SPACE)
    return {"client_isn": client, "old_syn_seq": old_syn, "server_isn": rng.randrange(SEQ_SPACE)}


class RstQuestion:
    """Exercise 1's situation for one student (RFC 9293 Figure 8 with their numbers)."""

    def __init__(self, seed: int):
        self.seed = seed
        n = rst_numbers(seed)
        self.client_isn, self.old_syn_seq, self.server_isn = (
            n["client_isn"], n["old_syn_seq"], n["server_isn"])

    def _rows(self):
        return [("1", "client → server", "SYN", f"seq = {self.client_isn}", "(slow: still on its way)"),
                ("2", "(an old duplicate) → server", "SYN", f"seq = {self.old_syn_seq}",
                 "arrives first"),
                ("3", "server → client", "SYN, ACK", f"seq = {self.server_isn}",
                 "ack = ? (the server answers segment 2)"),
                ("4", "client → server", "RST", "seq = rst_seq", "your prediction")]

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in ("", "from → to", "flags", "seq", ""))
        rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in self._rows())
        return f"<table style='font-family: monospace'><tr>{head}</tr>{rows}</table>"

    def __repr__(self) -> str:
        return "\n".join("  ".join(row) for row in self._rows())


def rst_seq_question(seed: int):
    """Exercise 1's numbers for this student, or a refusal for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion(NO_ID_MESSAGE)
    return RstQuestion(seed)


def expected_rst_seq(seed: int) -> int:
    """RFC 9293 §3.10.7.3 (SYN-SENT, first check) and §3.10.7.1: an unacceptable ACK is
    answered by <SEQ=SEG.ACK><CTL=RST>; the SYN-ACK acknowledges the old SYN, whose
    sequence number the SYN itself used: old SYN + 1, modulo 2^32."""
    return (rst_numbers(seed)["old_syn_seq"] + 1) % SEQ_SPACE


def rst_scenario(seed: int) -> dict:
    """Exercise 1's run: Figure 8 with the student's numbers (linux profile, three-way)."""
    n = rst_numbers(seed)
    return {"name": "exercise 1: an old duplicate SYN arrives first", "profile": "linux",
            "seed": seed % 2**32, "link": {"delay": 0.01, "mtu": 1500},
            "hosts": {"client": {"port": CLIENT_PORT, "isn": n["client_isn"]},
                      "server": {"port": SERVER_PORT, "isn": n["server_isn"]}},
            "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                        {"at": 0.1, "host": "client", "do": "connect", "to": "server"}],
            "faults": [{"inject": {"at": 0.1, "from": "client", "flags": "S",
                                   "seq": n["old_syn_seq"]}},
                       {"delay": {"from": "client", "flags": "S", "nth": [1], "extra": 0.05}}],
            "until": 1.0}


def judge_rst_seq(rst_seq, seed: int) -> Feedback:
    """Exercise 1: the sequence number of the client's RST (absolute)."""
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    value = whole_number(rst_seq, "rst_seq")
    if isinstance(value, Feedback):
        return value
    n = rst_numbers(seed)
    want = expected_rst_seq(seed)
    if value == want:
        return right("The client answers an ACK that acknowledges nothing it sent with "
                     "<SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.3): the reset carries exactly "
                     "the number the server expects next from the old SYN's sender, so the "
                     "server accepts it and goes back to LISTEN (Figure 8, line 5).")
    if value >= SEQ_SPACE:
        return wrong("rst_seq does not fit in 32 bits: sequence numbers are counted modulo "
                     "2^32 (RFC 9293 §3.4).")
    if value == n["old_syn_seq"]:
        return wrong("rst_seq: the RST takes its number from the SYN-ACK's ack, and that ack "
                     "counts the old SYN itself: a SYN occupies one sequence number.")
    if value in (n["client_isn"], (n["client_isn"] + 1) % SEQ_SPACE):
        return wrong("rst_seq: the client is answering a segment that has an ACK. Such a "
                     "reset does not use the client's own numbers: where does RFC 9293 "
                     "§3.10.7.3 say its SEQ comes from?")
    if value in (n["server_isn"], (n["server_isn"] + 1) % SEQ_SPACE):
        return wrong("rst_seq: that number counts in the server's sequence space. The "
                     "server accepts a reset only if its seq lies where it expects the "
                     "*other* side's next byte.")
    if value in (0, 1):
        return wrong("rst_seq: a reset answering a segment *without* ACK has seq 0; this "
                     "SYN-ACK has one. Absolute numbers, as in the table.")
    return wrong("rst_seq: first work out the SYN-ACK's ack (what does it acknowledge?), "
                 "then RFC 9293 §3.10.7.3: how does SYN-SENT answer an ACK that does not "
                 "acknowledge its own SYN?")


def rst_reveal(prediction, seed: int) -> Reveal:
    """Exercise 1's reveal: the feedback, then the run's ladder with absolute numbers, only
    once ``prediction`` is a whole number (predict first)."""
    feedback = judge_as_sent(judge_rst_seq, prediction, seed=seed)
    if seed == answers.DEFAULT_SEED or isinstance(
            whole_number(answers.as_sent(prediction), "rst_seq"), Feedback):
        return Reveal(feedback)
    from .. import plots
    from ..simulator import run
    trace = run(rst_scenario(seed))
    return Reveal(feedback, [plots.ladder(trace, labels="absolute")],
                  ["tcpsim, linux profile: your numbers, RFC 9293 Figure 8"])


def reveal_rst_seq(rst_seq, seed: int) -> None:
    """Exercise 1, in the notebook: the feedback, then the ladder."""
    rst_reveal(rst_seq, seed).show("04-ex1", rst_seq)


# ----------------------------------------------- exercise 3 (build a ghost, two-way)
def _listener_host(doc):
    for action in doc.get("actions", []):
        if isinstance(action, dict) and action.get("do") == "listen":
            return action.get("host")
    return None


def _why_no_ghost(doc, trace, listener) -> str:
    """Why the old SYNs of a run made no ghost: the first reason that applies."""
    seg, states = trace.segments, trace.states
    old = seg[seg["injected"].fillna(False).astype(bool)] if "injected" in seg else seg.iloc[:0]
    old_syns = old[old["flags"] == "S"]
    if old_syns.empty:
        return ("No old SYN reached anyone: a ghost needs an old duplicate SYN, an 'inject' "
                "fault with flags 'S' from the connecting host (docs/scenario.md, 'inject').")
    options = (doc.get("hosts", {}).get(listener, {}) or {}).get("options") or {}
    if options.get("handshake", "three-way") != "two-way":
        return ("The listening host uses the real three-way handshake: its SYN-ACK to the "
                "old SYN was answered with a RST and it went back to LISTEN before its "
                "application saw anything (RFC 9293 Figure 8). This exercise is about the "
                "two-way handshake: set it in that host's options.")
    arrived = old_syns[old_syns["dropped"] != True]  # noqa: E712
    if arrived.empty:
        return "Every old SYN was lost on the way (a fault dropped it): none reached the server."
    listens = states[(states["host"] == listener) & (states["to"] == "LISTEN")]
    first_listen = float(listens["t"].min()) if not listens.empty else None
    for _, syn in arrived.iterrows():
        at = float(syn["arrival"])
        if first_listen is None or at < first_listen:
            return ("The old SYN arrived before the server listened: a host with no socket "
                    "for a port answers with a RST (RFC 9293 §3.10.7.1).")
    replies = seg[(seg["src"] == listener) & (seg["flags"] == "A")]
    if not replies.empty and any((replies["t"] - float(s["arrival"])).abs().min() < 1e-9
                                 for _, s in arrived.iterrows()):
        return ("The old SYN arrived while a connection held those ports: the connection "
                "answered it with an ACK (a challenge ACK, RFC 5961 §4) and nothing new was "
                "opened. Let it arrive when no connection holds them.")
    return ("The old SYN reached the server but no ghost was accepted: look at the states "
            "table of your run and at the port the old SYN was sent to.")


def judge_ghost_scenario(scenario, seed: int | None = None) -> Feedback:
    """Exercise 3: a scenario in which a two-way handshake makes the server's application
    accept a connection that the other host never opened (``tcpsim.ghosts.ghosts``)."""
    from ..errors import ScenarioError
    from ..ghosts import ghosts
    from ..scenario import load
    from ..simulator import run
    if not isinstance(scenario, (dict, str)):
        return wrong("Give the scenario as a dict (like the ones above).")
    try:
        doc = load(scenario) if isinstance(scenario, str) else scenario
        trace = run(scenario)
    except ScenarioError as error:
        return wrong(f"tcpsim cannot run this scenario: {error}")
    listener = _listener_host(doc) if isinstance(doc, dict) else None
    if listener is None:
        return wrong("Nobody listens: a ghost is a connection a server's application "
                     "accepts, so one host must listen.")
    found = ghosts(trace, server=listener)
    if not found.empty:
        return right("The server's application accepted a connection that the other host "
                     "never opened: with only two segments, a SYN that arrives is taken at "
                     "its word. Look at what the other host answered to the SYN-ACK.")
    return wrong(_why_no_ghost(doc, trace, listener))


def check_ghost_scenario(scenario) -> None:
    """Exercise 3, in the notebook."""
    show(judge_as_sent(judge_ghost_scenario, scenario), "04-ex3", scenario)


# --------------------------------------------------------- quick check (predict widget)
HALF_OPEN_CHOICES = {    # one line each: the predict widget shows them as radio buttons
    "a": "A SYN-ACK: it opens a second connection on the same ports.",
    "b": "An ACK with the old connection's numbers; the client's reset then ends it.",
    "c": "Nothing: it drops the SYN until the old connection times out.",
    "d": "A RST: a SYN on an established connection is an error.",
}


def check_half_open(letter) -> Feedback:
    """Quick check (ungraded, for the predict widget): a restarted client connects again
    from the same port; what does the server, still ESTABLISHED, answer? Returns the
    Feedback, which the widget shows."""
    return _judge_choice("04-half-open", HALF_OPEN_CHOICES, None, letter, "answer")


# ------------------------------------------ what the hidden tests run (tcpsim.exercises.grade)
# exercise: (judge, the names of its answers in the notebook); every judge takes seed=
GRADED = {
    "04-ex1": (judge_rst_seq, ("rst_seq",)),
    "04-ex2": (judge_ghost_count, ("ghost_count",)),
    "04-ex3": (judge_ghost_scenario, ("my_scenario",)),
}
