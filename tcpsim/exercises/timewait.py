"""Exercises of notebook 08, TIME-WAIT.

| exercise | kind | shown with | judged by (returns Feedback) | graded cell calls |
|---|---|---|---|---|
| 1 | compute, randomized | ``rate_question(seed)`` | ``judge_sustained_rate`` | ``check_sustained_rate`` |
| 2 | predict, then reveal | ``fin_in_time_wait_choices(seed)`` | ``judge_fin_in_time_wait`` | ``reveal_fin_in_time_wait`` |
| 3 | build a scenario | | ``judge_corrupting_scenario`` | ``check_corrupting_scenario`` |
| 4 | explain in words | | by hand (rubric: instructors/README.md) | |
| section 8 | predict widget (ungraded) | ``RST_IN_TIME_WAIT_CHOICES`` | ``check_rst_in_time_wait`` | |

As in ``handshake.py`` (notebook 02, the model): a ``judge_…`` decides and gives the
feedback, and is what the hidden tests run in a fresh process (``GRADED``, ``python -m
tcpsim.exercises.grade``); a ``check_…`` runs the same judge on the answer as the hidden
test receives it (``answers.as_sent``), shows the feedback and returns nothing.

Exercise 1's numbers come from ``answers.rate_numbers``; the rule (ports / TIME-WAIT) is
``tcpsim.exhaustion.limit_per_s``, which ``tests/test_notebook08_claims.py`` holds to the
simulator's port allocator. Exercise 3 runs the student's scenario and looks, in the trace,
for a segment of an older incarnation of a 4-tuple that a newer incarnation accepted
(:func:`old_segments_accepted`).
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from . import answers
from .feedback import Feedback, judge_as_sent, right, show, wrong
from .handshake import Choices, NoQuestion, Reveal, _choices, _judge_choice

NO_ID_MESSAGE = (
    "STUDENT_ID is still 'anonymous', so there is no question for you yet. Every student "
    "gets their own port range and TIME-WAIT from their id, and the autograder grades you "
    "against the id in your notebook: with the default id your answers cannot count. Put "
    "your student id (the one you hand in under) in the first code cell, run it, then run "
    "this cell again.")

RATE_TOLERANCE = 0.005      # exercise 1: a rate within 0.5 % (rounding) is right


# ------------------------------------------------------- exercise 1 (sustained rate)
@dataclass(frozen=True)
class RateQuestion:
    """One student's client: its ephemeral port range and its TIME-WAIT length."""
    seed: int
    lo: int
    hi: int
    time_wait_s: int
    why: str

    def _repr_html_(self) -> str:
        return (f"<p>A client host has <code>net.ipv4.ip_local_port_range = {self.lo} "
                f"{self.hi}</code> and a TIME-WAIT of <b>{self.time_wait_s} s</b> "
                f"({html.escape(self.why)}). It opens short connections to <b>one</b> "
                "server address and port and always closes first.</p>")

    def __repr__(self) -> str:
        return (f"ip_local_port_range = {self.lo} {self.hi}; TIME-WAIT {self.time_wait_s} s "
                f"({self.why}); one server address and port; the client closes first")


def rate_question(seed: int):
    """Exercise 1's question for this student, or a refusal for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion(NO_ID_MESSAGE)
    n = answers.rate_numbers(seed)
    return RateQuestion(seed, n["lo"], n["hi"], n["time_wait_s"], n["why"])


def _number(value, name: str):
    """A number answer: an int or float (not bool), or a string of a decimal number (what a
    numpy float becomes on its way to the hidden test); else a Feedback."""
    if value is None or value is Ellipsis or value == "Ellipsis":
        return wrong(f"{name} has no value yet: replace the ... with your answer.")
    if isinstance(value, bool):
        return wrong(f"{name} must be a number, not {value}.")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            return wrong(f"{name} must be a number; you gave {value!r}.")
    if number != number or abs(number) == float("inf"):
        return wrong(f"{name} must be a finite number; you gave {value!r}.")
    return number


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= RATE_TOLERANCE * abs(b)


def judge_sustained_rate(ports, rate_per_s, seed: int) -> Feedback:
    """Exercise 1: how many ports the client can use, and how many new connections per
    second it can keep up for ever."""
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    n = answers.rate_numbers(seed)
    want_ports = n["hi"] - n["lo"] + 1
    want_rate = want_ports / n["time_wait_s"]
    got_ports = _number(ports, "ports")
    if isinstance(got_ports, Feedback):
        return got_ports
    got_rate = _number(rate_per_s, "rate_per_s")
    if isinstance(got_rate, Feedback):
        return got_rate
    problems = []
    if got_ports != want_ports:
        if got_ports == want_ports - 1:
            problems.append("ports: the range includes both of its ends.")
        elif got_ports in (28232, 65535, 65536, 64512):
            problems.append("ports: that is another range's size; use your client's "
                            "ip_local_port_range.")
        else:
            problems.append("ports: count the port numbers from lo to hi.")
    if not _close(got_rate, want_rate):
        if _close(got_rate, want_ports / (2 * n["time_wait_s"])):
            problems.append("rate_per_s: the TIME-WAIT given is already the whole wait "
                            "(2·MSL): do not double it again.")
        elif _close(got_rate, want_ports * n["time_wait_s"]) or \
                _close(got_rate, n["time_wait_s"] / want_ports):
            problems.append("rate_per_s: check the units: connections per second, from "
                            "ports and seconds.")
        elif _close(got_rate, want_ports / (n["time_wait_s"] / 60)):
            problems.append("rate_per_s: that is per minute's worth of TIME-WAIT: the rate "
                            "is per second.")
        elif _close(got_rate, 28232 / n["time_wait_s"]) or _close(got_rate, 28232 / 60):
            problems.append("rate_per_s: that is Linux's default range; your client has its "
                            "own.")
        elif not _close(got_rate, got_ports / n["time_wait_s"]):
            problems.append("rate_per_s: each connection keeps its port for the whole "
                            "TIME-WAIT after it closes. How many can be held at once, and "
                            "how long is each held?")
    if problems:
        return wrong("\n".join(problems))
    return right("Every connection holds its port for the whole TIME-WAIT after the client "
                 "closes, so at a steady rate r the client holds r × TIME-WAIT ports; "
                 "above ports / TIME-WAIT, connect() runs out and fails with EADDRNOTAVAIL. "
                 "(The limit is per server address and port: another destination has "
                 "all the ports again.)")


def check_sustained_rate(ports, rate_per_s, seed: int) -> None:
    """Exercise 1, in the notebook."""
    show(judge_as_sent(judge_sustained_rate, ports, rate_per_s, seed=seed), "08-ex1",
         (ports, rate_per_s))


# ---------------------------------------------------- exercise 2 (predict, then reveal)
FIN_IN_TIME_WAIT_CHOICES = {    # keys are the authors' order; students see them shuffled
    "a": "Nothing: TIME-WAIT only waits, and the server gives up on its own.",
    "b": "It acknowledges the FIN again and starts its TIME-WAIT over.",
    "c": "It answers with a RST: for the client the connection is over.",
    "d": "It acknowledges the FIN again; its TIME-WAIT keeps counting from the first FIN.",
}
LAST_ACK_CAPTURE = "timewait-last-ack-lost"


def fin_in_time_wait_choices(seed: int) -> Choices:
    """Exercise 2's choices, in this student's order."""
    return _choices("08-ex2", FIN_IN_TIME_WAIT_CHOICES, seed)


def judge_fin_in_time_wait(letter, seed: int) -> Feedback:
    """Exercise 2: the client's last ACK is lost; what does the client in TIME-WAIT do
    with the server's retransmitted FIN?"""
    return _judge_choice("08-ex2", FIN_IN_TIME_WAIT_CHOICES, seed, letter, "fin_prediction")


def fin_in_time_wait_reveal(prediction, seed: int) -> Reveal:
    """Exercise 2's reveal: the feedback, then the real capture and the simulation, drawn
    only after a prediction."""
    feedback = judge_as_sent(judge_fin_in_time_wait, prediction, seed=seed)
    if answers.choice_key("08-ex2", seed, FIN_IN_TIME_WAIT_CHOICES, prediction) is None:
        return Reveal(feedback)
    from .. import course, plots
    return Reveal(feedback,
                  [plots.ladder(course.capture(LAST_ACK_CAPTURE), segments=(5, 10)),
                   plots.ladder(course.simulate(LAST_ACK_CAPTURE), segments=(5, 10))],
                  [f"The real Linux kernel (data/captures/{LAST_ACK_CAPTURE}.pcap)",
                   "tcpsim, linux profile, the same scenario (the lost ACK is crossed out)"])


def reveal_fin_in_time_wait(prediction, seed: int) -> None:
    """Exercise 2, in the notebook: the feedback, then the two ladders."""
    fin_in_time_wait_reveal(prediction, seed).show("08-ex2", prediction)


# ---------------------------------------- exercise 3 (TIME-WAIT removed: a corruption)
def _conn_of(segments, host: str, sport: int, dport: int, t: float):
    """The incarnation (conn) of ``host``'s connection on the 4-tuple of a segment sent from
    ``sport`` to ``dport``, at time ``t``: the newest conn of the segments ``host`` sent on
    it (from ``dport`` to ``sport``) by then, or None."""
    mine = segments[(segments["src"] == host) & (segments["sport"] == dport)
                    & (segments["dport"] == sport) & (segments["t"] <= t + 1e-9)]
    return None if mine.empty else int(mine["conn"].max())


def old_segments_accepted(trace):
    """Data segments of an older incarnation that a newer one took in: a pandas DataFrame
    (segment, t_sent, arrived, src, dst, conn_sent, conn_there, len), empty when none.

    A segment row's ``arrival`` and ``copies`` are when it (and its duplicates) reached
    ``dst``; there it met connection ``conn_there``, the newest incarnation of that 4-tuple
    the receiver had sent a segment on by then (the two ends of one 4-tuple number their
    incarnations alike in these scenarios). It was taken in if no ``ignored`` row of the
    receiver names that segment at that moment."""
    import pandas as pd
    segments, ignored = trace.segments, trace.ignored
    rows = []
    for _, s in segments[(segments["len"] > 0)].iterrows():
        times = [s["arrival"]] if s["arrival"] == s["arrival"] and s["arrival"] is not None \
            else []
        copies = s.get("copies")
        if isinstance(copies, list):
            times += copies
        for at in times:
            there = _conn_of(segments, s["dst"], int(s["sport"]), int(s["dport"]), float(at))
            if there is None or there <= int(s["conn"]):
                continue
            dropped = ignored[(ignored["host"] == s["dst"]) & (ignored["segment"] == s["i"])
                              & ((ignored["t"] - at).abs() < 1e-6)]
            if dropped.empty:
                rows.append({"segment": int(s["i"]), "t_sent": float(s["t"]),
                             "arrived": float(at), "src": s["src"], "dst": s["dst"],
                             "conn_sent": int(s["conn"]), "conn_there": there,
                             "len": int(s["len"])})
    return pd.DataFrame(rows, columns=["segment", "t_sent", "arrived", "src", "dst",
                                       "conn_sent", "conn_there", "len"])


def _time_wait_kept(trace) -> bool:
    """Did a connection stay in TIME-WAIT for more than no time at all (the teaching
    variant ``time_wait: 0`` leaves it at once, "TIME-WAIT timer expired (0 s)")?"""
    states = trace.states
    entered = ((states["to"] == "TIME-WAIT") & (states["from"] != "TIME-WAIT")).sum()
    skipped = ((states["from"] == "TIME-WAIT")
               & states["cause"].str.contains("expired (0 s)", regex=False)).sum()
    return entered > skipped


def judge_corrupting_scenario(scenario, seed: int | None = None) -> Feedback:
    """Exercise 3: a scenario in which a segment of an old incarnation is taken in by a
    new incarnation of the same 4-tuple, because the old one's TIME-WAIT was removed."""
    from ..errors import ScenarioError
    from ..simulator import run
    if not isinstance(scenario, (dict, str)):
        return wrong("Give the scenario as a dict (like the ones above).")
    try:
        trace = run(scenario)
    except ScenarioError as error:
        return wrong(f"tcpsim cannot run this scenario: {error}")
    events, segments, ignored = trace.events, trace.segments, trace.ignored
    connects = events[events["call"] == "connect"]
    if not (connects["result"] == "ok").any():
        return wrong("No connection opened: listen on one side, connect from the other.")
    accepted = old_segments_accepted(trace)
    if not accepted.empty:
        if _time_wait_kept(trace):
            return wrong("An old segment got into a new connection, but TIME-WAIT was "
                         "still there. Remove it (the host option time_wait, "
                         "docs/scenario.md) on the side that closes first, and keep the "
                         "rest the same.")
        return right("The old incarnation's TIME-WAIT was gone, so the same 4-tuple could "
                     "open again at once; its late segment fell inside the new "
                     "connection's window and its bytes were delivered as the new "
                     "connection's. With TIME-WAIT kept, Linux would have refused the "
                     "new connect() (no timestamps) or started it 65537 beyond the old "
                     "sequence space, with PAWS against old timestamps.")
    if (connects["result"] == "EADDRNOTAVAIL").any() and _time_wait_kept(trace):
        return wrong("TIME-WAIT is still there, and it protects the new connection: look "
                     "at what the second connect() returned, and at the host option "
                     "time_wait (docs/scenario.md).")
    if (connects["result"] == "ok").sum() < 2:
        return wrong("There is only one connection: the corruption needs a *new* "
                     "connection on the same 4-tuple after the old one closed.")
    ports = segments.groupby("conn")["sport"].agg(set)
    if segments["conn"].nunique() >= 2 and len(set.union(*ports)) > 2:
        return wrong("The connections use different ports, so they are different "
                     "4-tuples: an old segment cannot reach the new one. Give the client "
                     "a fixed port.")
    late = segments[(segments["len"] > 0) & (
        segments["copies"].apply(lambda c: isinstance(c, list) and len(c) > 0)
        if "copies" in segments else False)]
    delayed_faults = isinstance(scenario, dict) and any(
        "delay" in f or "duplicate" in f for f in scenario.get("faults", []) or [])
    if not delayed_faults and late.empty:
        return wrong("Nothing of the old connection arrives late: an old duplicate is a "
                     "segment that lingers in the network (a delay or duplicate fault, "
                     "docs/scenario.md) until the new connection exists.")
    reasons = " ".join(ignored["reason"]) if len(ignored) else ""
    if "PAWS" in reasons or "timestamp" in reasons:
        return wrong("The old segment arrived, but the new connection threw it away: its "
                     "timestamp was older than the connection's (PAWS, RFC 7323 §5). "
                     "Which host option turns that protection off?")
    if "not yet sent" in reasons:
        return wrong("The old segment arrived, but its acknowledgment number is beyond "
                     "anything the new connection's other side has sent, so it was thrown "
                     "away (RFC 9293 §3.10.7.4). Which side's initial sequence number "
                     "decides that, and how can it start where the old one did?")
    if "window" in reasons:
        return wrong("The old segment arrived, but outside the new connection's receive "
                     "window. The new connection's sequence numbers start elsewhere "
                     "(RFC 9293 §3.4.1): how can the new incarnation start where the old "
                     "one did (docs/scenario.md, isn and isn_strategy)?")
    if _time_wait_kept(trace):
        return wrong("TIME-WAIT is still there, and it protects the new connection: look "
                     "at what the second connect() returned, and at the host option "
                     "time_wait (docs/scenario.md).")
    return wrong("No old segment reached the new connection: make one arrive after the "
                 "new connection is ESTABLISHED, and before the new connection itself "
                 "has sent those sequence numbers.")


def check_corrupting_scenario(scenario) -> None:
    """Exercise 3, in the notebook."""
    show(judge_as_sent(judge_corrupting_scenario, scenario), "08-ex3", scenario)


# --------------------------------------------------------- quick check (predict widget)
RST_IN_TIME_WAIT_CHOICES = {    # one line each: the predict widget shows them as radio buttons
    "a": "Nothing: TIME-WAIT ignores resets, that is what it is for.",
    "b": "TIME-WAIT ends at once: the connection is gone.",
    "c": "TIME-WAIT answers it with one more ACK.",
    "d": "TIME-WAIT starts its 60 s over.",
}


def check_rst_in_time_wait(letter) -> Feedback:
    """Quick check (ungraded, for the predict widget): Linux with its defaults, an RST at
    exactly RCV.NXT reaches a connection in TIME-WAIT. Returns the Feedback."""
    return _judge_choice("08-rst-in-time-wait", RST_IN_TIME_WAIT_CHOICES, None, letter,
                         "answer")


# ------------------------------------------ what the hidden tests run (tcpsim.exercises.grade)
# exercise: (judge, the names of its answers in the notebook); every judge takes seed=
GRADED = {
    "08-ex1": (judge_sustained_rate, ("ports", "rate_per_s")),
    "08-ex2": (judge_fin_in_time_wait, ("fin_prediction",)),
    "08-ex3": (judge_corrupting_scenario, ("my_scenario",)),
}
