"""Exercises of notebook 07, closing a connection.

| exercise | kind | shown with | judged by (returns Feedback) | graded cell calls |
|---|---|---|---|---|
| 1 | name the states, randomized | ``close_question(seed)`` | ``judge_close_states`` | ``check_close_states`` |
| 2 | build a scenario | | ``judge_simultaneous_close`` | ``check_simultaneous_close`` |
| 3 | predict, then reveal | ``read_after_rst_choices(seed)`` | ``judge_read_after_rst`` | ``reveal_read_after_rst`` |
| 4 | read a trace with pandas, randomized | ``leak_trace(seed)`` | ``judge_close_wait_leak`` | ``check_close_wait_leak`` |
| section 3 | predict widget (ungraded) | ``FOUR_OR_THREE_CHOICES`` | ``check_four_or_three`` | |

As in ``handshake.py`` (notebook 02, the model): a ``judge_…`` decides and gives the
feedback, and is what the hidden tests run in a fresh process (``GRADED``, ``python -m
tcpsim.exercises.grade``); a ``check_…`` runs the same judge on the answer as the hidden
test receives it (``answers.as_sent``), shows the feedback and returns nothing.

The randomized questions' parameters come from ``answers.py`` (``close_numbers``,
``leak_numbers``); the states and times they lead to come from running them through the
simulator's ``linux`` profile, which ``tests/test_fidelity.py`` holds to the real kernel
(``close-four-segments``, ``handshake``, ``half-close``, ``close-wait-leak``), and
``tests/test_notebook07_claims.py`` to hand-made tables of RFC 9293 §3.6.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import answers
from .feedback import Feedback, judge_as_sent, right, show, whole_number, wrong
from .handshake import Choices, NoQuestion, Reveal, _choices, _judge_choice

NO_ID_MESSAGE = (
    "STUDENT_ID is still 'anonymous', so there is no question for you yet. Every student "
    "gets their own close and their own table from their id, and the autograder grades you "
    "against the id in your notebook: with the default id your answers cannot count. Put "
    "your student id (the one you hand in under) in the first code cell, run it, then run "
    "this cell again.")

STATES = ("CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
          "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT")   # RFC 9293 §3.3.2
HOSTS = ("client", "server")
SERVER_PORT = 8080          # exercise 4's server
FIRST_CLOSE_AT_S = 0.8      # exercise 1: when the first side closes


def _other(host: str) -> str:
    return "server" if host == "client" else "client"


def state_name(text):
    """``text`` as an RFC 9293 state name ("time_wait", "Time Wait" -> "TIME-WAIT"), or None."""
    if not isinstance(text, str):
        return None
    name = "-".join(text.strip().upper().replace("_", " ").replace("-", " ").split())
    name = {"FIN-WAIT1": "FIN-WAIT-1", "FIN-WAIT2": "FIN-WAIT-2", "FINWAIT-1": "FIN-WAIT-1",
            "FINWAIT-2": "FIN-WAIT-2", "SYN-RECV": "SYN-RECEIVED"}.get(name, name)
    return name if name in STATES else None


def socket_state_at(states, host: str, t: float) -> str:
    """The state of ``host``'s connection (not its listener) after every change at a time
    <= ``t``, from a trace's ``states`` table."""
    rows = states[(states["host"] == host) & (states["socket"] == host)]
    rows = rows[rows["t"] <= t + 1e-9]
    return "CLOSED" if rows.empty else str(rows["to"].iloc[-1])


# ------------------------------------------------------- exercise 1 (states of a close)
def close_scenario(seed: int) -> dict:
    """The scenario of this student's close (answers.close_numbers)."""
    n = answers.close_numbers(seed)
    first, other = n["first"], _other(n["first"])
    second_at = round(FIRST_CLOSE_AT_S + n["answer_s"], 6)
    actions = [{"at": 0.0, "host": "server", "do": "listen"},
               {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
               {"at": 0.3, "host": "client", "do": "send", "bytes": n["data_bytes"]},
               {"at": 0.5, "host": "server", "do": "send", "bytes": 100}]
    if n["variant"] == "half-close":
        actions += [{"at": FIRST_CLOSE_AT_S, "host": first, "do": "shutdown"},
                    {"at": second_at, "host": other, "do": "send", "bytes": n["reply_bytes"]},
                    {"at": round(second_at + 0.3, 6), "host": other, "do": "close"},
                    {"on": "eof", "host": first, "do": "close"}]
    else:
        actions += [{"at": FIRST_CLOSE_AT_S, "host": first, "do": "close"},
                    {"at": second_at, "host": other, "do": "close"}]
    return {"name": f"exercise 1: {first} closes first ({n['variant']})", "profile": "linux",
            "seed": seed % 2**32, "link": {"mtu": 1500},
            "hosts": {"client": {"port": 40000 + seed % 20000}, "server": {"port": 5000}},
            "actions": actions}


@dataclass(frozen=True)
class CloseQuestion:
    """One student's close: what the applications do, and the segments from the first FIN."""
    seed: int
    calls: tuple          # (t, host, call) of the applications, from the first close on
    segments: tuple       # (k, src, dst, flags, rel_seq, rel_ack, len)

    def _repr_html_(self) -> str:
        calls = "".join(f"<li>t = {t:.3f} s: the {host}'s application calls <b>{call}</b></li>"
                        for t, host, call in self.calls)
        head = "".join(f"<th>{h}</th>" for h in ("segment", "from → to", "flags", "seq (rel)",
                                                   "ack (rel)", "len"))
        rows = "".join(f"<tr><td>{k}</td><td>{src} → {dst}</td><td>{flags}</td><td>{seq}</td>"
                       f"<td>{ack}</td><td>{n}</td></tr>"
                       for k, src, dst, flags, seq, ack, n in self.segments)
        return (f"<ul>{calls}</ul><table style='font-family: monospace'><tr>{head}</tr>"
                f"{rows}</table>")

    def __repr__(self) -> str:
        lines = [f"t = {t:.3f} s: {host} calls {call}" for t, host, call in self.calls]
        lines += [f"segment {k}: {src} -> {dst} {flags} seq {seq} ack {ack} len {n}"
                  for k, src, dst, flags, seq, ack, n in self.segments]
        return "\n".join(lines)


def _close_run(seed: int):
    """(trace, the segments from the first FIN on) of this student's close."""
    from ..simulator import run
    trace = run(close_scenario(seed))
    segments = trace.segments
    fins = segments.index[segments["flags"].str.contains("F")]
    return trace, segments.loc[fins[0]:]


def close_question(seed: int):
    """Exercise 1's question for this student, or a refusal for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion(NO_ID_MESSAGE)
    trace, segments = _close_run(seed)
    events = trace.events
    calls = tuple((float(e["t"]), e["host"], f"{e['call']}()") for _, e in events.iterrows()
                  if e["call"] in ("close", "shutdown", "send") and e["t"] >= FIRST_CLOSE_AT_S)
    rows = tuple((k, s["src"], s["dst"], s["flags"], int(s["rel_seq"]), int(s["rel_ack"]),
                  int(s["len"])) for k, (_, s) in enumerate(segments.iterrows(), start=1))
    return CloseQuestion(seed, calls, rows)


def expected_close_states(seed: int) -> list:
    """[(client state, server state)] right after each segment of the question: the
    sender's state once it has sent it, the receiver's once it has processed it."""
    trace, segments = _close_run(seed)
    out = []
    for _, s in segments.iterrows():
        sender, receiver = s["src"], s["dst"]
        after = {sender: socket_state_at(trace.states, sender, float(s["t"])),
                 receiver: socket_state_at(trace.states, receiver, float(s["arrival"]))}
        out.append((after["client"], after["server"]))
    return out


def _state_hint(k, host, given, want, first) -> str:
    """Why ``given`` is not ``host``'s state after segment ``k``: the idea, not the state."""
    where = f"After segment {k}, the {host}"
    if given == "TIME-WAIT" and host != first:
        return (f"{where}: only the side whose FIN went first waits in TIME-WAIT; the "
                f"{host} sent its FIN second (RFC 9293 §3.6).")
    if given == "CLOSED" and host == first:
        return (f"{where}: the side that closed first does not forget the connection when "
                "its last ACK leaves: it must be able to answer a retransmitted FIN "
                "(RFC 9293 §3.6.1).")
    if given == "FIN-WAIT-2" and want == "TIME-WAIT":
        return (f"{where}: look at every flag of the segment. One segment can acknowledge "
                "a FIN *and* carry a FIN; the receiver processes the ACK first, then the FIN "
                "(RFC 9293 §3.10.7.4).")
    if given in ("FIN-WAIT-1", "FIN-WAIT-2") and want in ("FIN-WAIT-1", "FIN-WAIT-2"):
        return (f"{where}: has the {host}'s FIN been acknowledged by this point? Follow "
                "the ack numbers.")
    if given in ("LAST-ACK", "CLOSED") and want == "CLOSE-WAIT":
        return (f"{where}: receiving a FIN does not make a side send its own. That waits "
                f"for the {host}'s application to call close().")
    if given == "CLOSE-WAIT" and want != "CLOSE-WAIT":
        return (f"{where}: a side that has sent its own FIN has left the state in which "
                "it waited for its application.")
    if given == "ESTABLISHED":
        return (f"{where}: a FIN has already been sent or received here: one direction "
                "of the connection is over.")
    return (f"{where}: which segments has the {host} sent and received up to here, and "
            "which of them were FINs or acknowledged a FIN?")


def judge_close_states(close_states, seed: int) -> Feedback:
    """Exercise 1: both sides' states right after each segment of the student's close."""
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    if close_states is None or close_states is Ellipsis or close_states == "Ellipsis":
        return wrong("close_states has no value yet: a list with one (client, server) pair "
                     "per segment.")
    want = expected_close_states(seed)
    if not isinstance(close_states, (list, tuple)):
        return wrong("close_states must be a list of (client state, server state) pairs, "
                     "one per segment.")
    if len(close_states) != len(want):
        return wrong(f"close_states has {len(close_states)} pairs; your question shows "
                     f"{len(want)} segments, one pair for each.")
    first = answers.close_numbers(seed)["first"]
    problems = []
    for k, (pair, wanted) in enumerate(zip(close_states, want), start=1):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            return wrong(f"close_states[{k - 1}] must be a pair (client state, server state); "
                         f"you gave {pair!r}.")
        for host, given, state in zip(HOSTS, pair, wanted):
            name = state_name(given)
            if name is None:
                return wrong(f"close_states[{k - 1}]: {given!r} is not a state of RFC 9293 "
                             f"§3.3.2 ({', '.join(STATES)}).")
            if name != state:
                problems.append(_state_hint(k, host, name, state, first))
    if problems:
        return wrong("\n".join(problems[:3]) + (
            f"\n(and {len(problems) - 3} more)" if len(problems) > 3 else ""))
    return right("Each FIN moves its receiver to CLOSE-WAIT (or, crossing, CLOSING), each ACK "
                 "of a FIN moves its sender on, and the side whose FIN went first ends in "
                 "TIME-WAIT, whatever its role.")


def check_close_states(close_states, seed: int) -> None:
    """Exercise 1, in the notebook."""
    show(judge_as_sent(judge_close_states, close_states, seed=seed), "07-ex1", close_states)


# --------------------------------------------------------- exercise 4 (find the leak)
def leak_scenario(seed: int, k: int) -> dict:
    """Connection ``k`` (0..5) of exercise 4, on its own clock (t = 0 at its connect)."""
    n = answers.leak_numbers(seed)
    actions = [{"at": 0.0, "host": "server", "do": "listen"},
               {"at": 0.0, "host": "client", "do": "connect", "to": "server"},
               {"at": 0.1, "host": "client", "do": "send", "bytes": 200},
               {"at": 0.2, "host": "server", "do": "send", "bytes": 1000},
               {"at": 0.5, "host": "client", "do": "close"}]
    if k == n["decoy"]:
        actions.append({"at": 0.5 + n["decoy_close_s"], "host": "server", "do": "close"})
    elif k != n["leaked"]:
        actions.append({"on": "eof", "host": "server", "do": "close"})
    return {"name": f"exercise 4, connection {k}", "profile": "linux", "seed": seed % 2**32,
            "link": {"mtu": 1500},
            "hosts": {"client": {"port": n["ports"][k],
                                 "options": {"fin_timeout": n["fin_timeout_s"]}},
                      "server": {"port": SERVER_PORT}},
            "actions": actions, "until": 100.0}


def leak_trace(seed: int):
    """Exercise 4's table: the state changes of six connections to port 8080, one second
    apart, as one pandas DataFrame (t, port = the client's port, host, from, to, cause)."""
    import pandas as pd
    if seed == answers.DEFAULT_SEED:
        return NoQuestion(NO_ID_MESSAGE)
    from ..simulator import run
    n = answers.leak_numbers(seed)
    tables = []
    for k, port in enumerate(n["ports"]):
        states = run(leak_scenario(seed, k)).states
        states = states[~states["socket"].str.endswith(":listen")].copy()
        states["t"] = (states["t"] + k).round(6)
        states["port"] = port
        tables.append(states[["t", "port", "host", "from", "to", "cause"]])
    table = pd.concat(tables).sort_values("t", kind="stable").reset_index(drop=True)
    return table


def _seconds(value, name: str):
    """A duration in seconds: an int or float (not bool), or a string of a decimal number
    (what a numpy float becomes on its way to the hidden test); else a Feedback."""
    if value is None or value is Ellipsis or value == "Ellipsis":
        return wrong(f"{name} has no value yet: replace the ... with your answer.")
    if isinstance(value, bool):
        return wrong(f"{name} must be a number of seconds, not {value}.")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
        if number is not None and number == number and abs(number) != float("inf"):
            return number
    return wrong(f"{name} must be a number of seconds; you gave {value!r}.")


FIN_WAIT_2_TOLERANCE_S = 0.02   # below the 40 ms FIN-WAIT-1 of these runs (delayed ACK)


def judge_close_wait_leak(leaked_port, finwait2_s, seed: int) -> Feedback:
    """Exercise 4: which connection's server never closed, and how long that connection's
    client stayed in FIN-WAIT-2."""
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    n = answers.leak_numbers(seed)
    port = whole_number(leaked_port, "leaked_port")
    if isinstance(port, Feedback):
        return port
    seconds = _seconds(finwait2_s, "finwait2_s")
    if isinstance(seconds, Feedback):
        return seconds
    problems = []
    if port != n["ports"][n["leaked"]]:
        if port == SERVER_PORT:
            problems.append("leaked_port: every connection has the server's port; they differ "
                            "by the client's, the 'port' column.")
        elif port == n["ports"][n["decoy"]]:
            problems.append("leaked_port: that server spent a long time in CLOSE-WAIT, but "
                            "look at where it ended: its application did call close().")
        elif port in n["ports"]:
            problems.append("leaked_port: that connection's server left CLOSE-WAIT. Which "
                            "server's *last* state is CLOSE-WAIT?")
        else:
            problems.append("leaked_port: no connection in the table has that port.")
    fin_timeout_s = n["fin_timeout_s"]
    if abs(seconds - fin_timeout_s) > FIN_WAIT_2_TOLERANCE_S:
        if seconds in (60, 60.0):
            problems.append("finwait2_s: 60 s is Linux's default, but this table's clients "
                            "run with another tcp_fin_timeout: measure it in the table.")
        elif abs(seconds - fin_timeout_s) < 0.1:
            problems.append("finwait2_s: count from the row where the client *enters* "
                            "FIN-WAIT-2 (the ACK of its FIN), not from its close().")
        elif seconds < 0:
            problems.append("finwait2_s: a duration is the later time minus the earlier one.")
        else:
            problems.append("finwait2_s: take the leaked connection's client rows: the time "
                            "it left FIN-WAIT-2 minus the time it entered it.")
    if problems:
        return wrong("\n".join(problems))
    return right("The server's socket stays in CLOSE-WAIT for as long as its process lives: "
                 "no timer ends it, only close(). The client, orphaned after its close(), "
                 "gave up silently after tcp_fin_timeout: no segment tells the server.")


def check_close_wait_leak(leaked_port, finwait2_s, seed: int) -> None:
    """Exercise 4, in the notebook."""
    show(judge_as_sent(judge_close_wait_leak, leaked_port, finwait2_s, seed=seed), "07-ex4",
         (leaked_port, finwait2_s))


# ---------------------------------------------------- exercise 3 (predict, then reveal)
READ_AFTER_RST_CHOICES = {    # keys are the authors' order; students see them shuffled
    "a": "0: end of file, as after a FIN.",
    "b": "An error: ECONNRESET (connection reset by peer).",
    "c": "Nothing yet: read() blocks until the client's own timeout.",
    "d": "The bytes the server had not read, sent back, then 0.",
}


def read_after_rst_choices(seed: int) -> Choices:
    """Exercise 3's choices, in this student's order."""
    return _choices("07-ex3", READ_AFTER_RST_CHOICES, seed)


def judge_read_after_rst(letter, seed: int) -> Feedback:
    """Exercise 3: the server closes with unread data; what does the client's read() return?"""
    return _judge_choice("07-ex3", READ_AFTER_RST_CHOICES, seed, letter, "rst_prediction")


def read_after_rst_reveal(prediction, seed: int) -> Reveal:
    """Exercise 3's reveal: the feedback, then the real capture and the simulation (their
    ladders, which mark the errors the applications got), drawn only after a prediction."""
    feedback = judge_as_sent(judge_read_after_rst, prediction, seed=seed)
    if answers.choice_key("07-ex3", seed, READ_AFTER_RST_CHOICES, prediction) is None:
        return Reveal(feedback)
    from .. import course, plots
    return Reveal(feedback,
                  [plots.ladder(course.capture("close-unread"), segments=(3, 6)),
                   plots.ladder(course.simulate("close-unread"), segments=(3, 6))],
                  ["The real Linux kernel (data/captures/close-unread.pcap)",
                   "tcpsim, linux profile, the same scenario"])


def reveal_read_after_rst(prediction, seed: int) -> None:
    """Exercise 3, in the notebook: the feedback, then the two ladders."""
    read_after_rst_reveal(prediction, seed).show("07-ex3", prediction)


# ------------------------------------------------- exercise 2 (build a simultaneous close)
def judge_simultaneous_close(scenario, seed: int | None = None) -> Feedback:
    """Exercise 2: a scenario in which both sides go FIN-WAIT-1 -> CLOSING -> TIME-WAIT."""
    from ..errors import ScenarioError
    from ..simulator import run
    if not isinstance(scenario, (dict, str)):
        return wrong("Give the scenario as a dict (like the ones above).")
    try:
        trace = run(scenario)
    except ScenarioError as error:
        return wrong(f"tcpsim cannot run this scenario: {error}")
    states, segments = trace.states, trace.segments
    hosts = list(dict.fromkeys(states["host"]))
    closing = {h for h in hosts if ((states["host"] == h) & (states["to"] == "CLOSING")).any()}
    time_wait = {h for h in hosts if ((states["host"] == h) & (states["to"] == "TIME-WAIT")).any()}
    fins = segments[segments["flags"].str.contains("F")]
    if segments["flags"].str.contains("R").any() and len(closing) < 2:
        return wrong("A RST ended the connection: close() with unread data, linger0 or "
                     "abort() resets it. A simultaneous close is made of two FINs.")
    if not (trace.events["call"] == "connect").any() or \
            not (states["to"] == "ESTABLISHED").any():
        return wrong("The connection never opened: listen on one side, connect from the "
                     "other, as in the scenarios above.")
    if fins.empty:
        return wrong("No FIN was sent: both applications must call close().")
    if len(set(fins["src"])) < 2:
        return wrong("Only one side sent a FIN: the other application never called close().")
    if len(closing) == 2 and len(time_wait & closing) == 2:
        return right("Both FINs were on the way at the same time, so each arrived at a side "
                     "that was in FIN-WAIT-1, waiting for the ACK of its own FIN: CLOSING, "
                     "then TIME-WAIT on both sides (RFC 9293 §3.6, Figure 13).")
    if (states["to"] == "CLOSE-WAIT").any():
        return wrong("One FIN arrived before the other side had sent its own, so that side "
                     "went to CLOSE-WAIT: an ordinary close. Both FINs must be on the way at "
                     "the same time: what makes segments take longer to arrive "
                     "(docs/scenario.md, 'link' and 'faults')?")
    if len(closing) == 1:
        return wrong("The FINs crossed, but only one side went through CLOSING: the other got "
                     "the ACK of its FIN before the peer's FIN, which was slower than that "
                     "ACK. Slow down every segment, not only the FINs.")
    return wrong("Look at the states table of your run: which side did not reach CLOSING, "
                 "and what did it receive while in FIN-WAIT-1?")


def check_simultaneous_close(scenario) -> None:
    """Exercise 2, in the notebook."""
    show(judge_as_sent(judge_simultaneous_close, scenario), "07-ex2", scenario)


# --------------------------------------------------------- quick check (predict widget)
FOUR_OR_THREE_CHOICES = {    # one line each: the predict widget shows them as radio buttons
    "a": "Always four: an ACK can never share a segment with a FIN.",
    "b": "Four in principle, as a FIN waits for its program; three when the ACK is still "
         "waiting too and rides on the FIN.",
    "c": "Always three: TCP merges the ACK with the second FIN, as in the handshake.",
    "d": "Four, because the last ACK must be acknowledged too.",
}


def check_four_or_three(letter) -> Feedback:
    """Quick check (ungraded, for the predict widget): why is a close four segments, and
    why do captures often show three? Returns the Feedback, which the widget shows."""
    return _judge_choice("07-four-or-three", FOUR_OR_THREE_CHOICES, None, letter, "answer")


# ------------------------------------------ what the hidden tests run (tcpsim.exercises.grade)
# exercise: (judge, the names of its answers in the notebook); every judge takes seed=
GRADED = {
    "07-ex1": (judge_close_states, ("close_states",)),
    "07-ex2": (judge_simultaneous_close, ("my_scenario",)),
    "07-ex3": (judge_read_after_rst, ("rst_prediction",)),
    "07-ex4": (judge_close_wait_leak, ("leaked_port", "finwait2_s")),
}
