"""Exercises of notebook 02, the three-way handshake.

| exercise | kind | shown with | judged by (returns Feedback) | graded cell calls |
|---|---|---|---|---|
| 1 | compute, randomized | ``handshake_question(seed)`` | ``judge_handshake_numbers`` | ``check_handshake_numbers`` |
| 2 | compute, randomized | (the same question) | ``judge_first_data`` | ``check_first_data`` |
| 3 | read a real capture | | ``judge_capture_syn_seq`` | ``check_capture_syn_seq`` |
| 4 | explain (choice + written) | ``third_segment_choices(seed)`` | ``judge_third_segment_reason`` | ``check_third_segment_reason`` |
| 5 | predict, then reveal | ``synack_loss_choices(seed)`` | ``judge_synack_loss`` | ``reveal_synack_loss`` |
| 6 | build a scenario | | ``judge_etimedout_scenario`` | ``check_etimedout_scenario`` |
| section 6 | predict widget (ungraded) | ``REFUSED_CHOICES`` | ``check_refused`` | |

A ``judge_…`` function decides, and gives the feedback; it is what the hidden tests run,
in a fresh process (``GRADED`` below, ``python -m tcpsim.exercises.grade``). A ``check_…``
function runs the same judge on the answer *as the hidden test receives it* (through JSON,
``answers.as_sent``), displays the feedback, and returns nothing.

What counts as right lives in ``answers.py``: the rule for numbers, the expected numbers
from the seed, and the digests of the fixed answers. The choice questions' feedback is
sealed in ``sealed.py`` (from ``instructors/answer_keys.py``), and their order is shuffled
per student, so the package names no right letter.

Sequence numbers are 32-bit and wrap (RFC 9293 §3.4); the randomized numbers are drawn so
that the data exercise crosses 2^32 for every student.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

from . import answers, sealed
from .answers import SEQ_SPACE
from .feedback import Feedback, judge_as_sent, right, show, whole_number, wrong

NO_ID_MESSAGE = (
    "STUDENT_ID is still 'anonymous', so there are no numbers for you yet. Every student "
    "gets their own ISNs from their id, and the autograder grades you against the numbers "
    "of the id in your notebook: with the default id your answers cannot count. Put your "
    "student id (the one you hand in under) in the first code cell, run it, then run this "
    "cell again.")


# ----------------------------------------------------------- exercises 1 and 2 (randomized)
@dataclass(frozen=True)
class HandshakeQuestion:
    """The numbers of one student's handshake: two ISNs and the size of the first data."""
    seed: int
    client_isn: int
    server_isn: int
    data_bytes: int

    def _repr_html_(self) -> str:
        return ("<table style='font-family: monospace'>"
                f"<tr><td>client ISN</td><td><b>{self.client_isn}</b></td></tr>"
                f"<tr><td>server ISN</td><td><b>{self.server_isn}</b></td></tr>"
                f"<tr><td>first data segment (client → server)</td>"
                f"<td><b>{self.data_bytes}</b> bytes</td></tr></table>")

    def __repr__(self) -> str:
        return (f"client ISN = {self.client_isn}, server ISN = {self.server_isn}, "
                f"first data segment = {self.data_bytes} bytes")


class NoQuestion:
    """What a randomized question gives for the default id: a refusal that says why
    (``message``: the notebook's own wording; notebook 02's by default)."""

    def __init__(self, message: str = NO_ID_MESSAGE):
        self._message = message

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        raise ValueError(self._message)

    def _repr_html_(self) -> str:
        return wrong(self._message)._repr_html_()

    def __repr__(self) -> str:
        return str(wrong(self._message))


def handshake_question(seed: int):
    """This student's ISNs, or a refusal (:class:`NoQuestion`) for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion()
    return HandshakeQuestion(seed, *answers.handshake_numbers(seed))


def _number_hint(name, value, q: HandshakeQuestion, counts_from: str) -> str:
    """Which idea ``value`` missed, as a sequence/ack number; never how far off it is."""
    own_isn = q.client_isn if counts_from == "client" else q.server_isn
    other_isn = q.server_isn if counts_from == "client" else q.client_isn
    if value >= SEQ_SPACE:
        return (f"{name} = {value} does not fit in 32 bits: sequence numbers are counted "
                "modulo 2^32 (RFC 9293 §3.4), so they wrap around to 0.")
    if value in (0, 1) or value == q.data_bytes or value == q.data_bytes + 1:
        return (f"{name} = {value} looks like a Wireshark *relative* number. On the wire every "
                "number is absolute: count from the ISNs above.")
    if value == own_isn:
        return (f"{name} is the {counts_from}'s ISN itself: the idea missed is that the SYN "
                "itself takes a sequence number (RFC 9293 §3.4).")
    if value in (other_isn, (other_isn + 1) % SEQ_SPACE):
        return (f"{name} counts in the wrong side's sequence space. Each side numbers its own "
                f"bytes; this number belongs to the {counts_from}'s numbering.")
    return (f"{name} = {value}: which ISN does it count from, and which segments have used "
            "sequence numbers since (SYN and FIN take one each, data one per byte)?")


def judge_handshake_numbers(synack_ack, third_seq, third_ack, seed: int) -> Feedback:
    """Exercise 1: the SYN-ACK's ack, and the third segment's seq and ack (absolute)."""
    q = handshake_question(seed)
    if isinstance(q, NoQuestion):
        return wrong(NO_ID_MESSAGE)
    given = {"synack_ack": synack_ack, "third_seq": third_seq, "third_ack": third_ack}
    counts_from = {"synack_ack": "client", "third_seq": "client", "third_ack": "server"}
    problems = []
    for name, want in answers.expected_handshake(seed).items():
        value = whole_number(given[name], name)
        if isinstance(value, Feedback):
            return value
        if value != want:
            problems.append(_number_hint(name, value, q, counts_from[name]))
    if problems:
        return wrong("\n".join(problems))
    return right("The SYN-ACK acknowledges the client's SYN (ISN + 1), and the third segment "
                 "starts where the SYN left off: both sides have 'used' exactly one sequence "
                 "number, for their SYN.")


def judge_first_data(data_seq, data_ack, seed: int) -> Feedback:
    """Exercise 2: the first data segment's seq, and the ack the server sends for it."""
    q = handshake_question(seed)
    if isinstance(q, NoQuestion):
        return wrong(NO_ID_MESSAGE)
    want = answers.expected_first_data(seed)
    seq = whole_number(data_seq, "data_seq")
    if isinstance(seq, Feedback):
        return seq
    ack = whole_number(data_ack, "data_ack")
    if isinstance(ack, Feedback):
        return ack
    problems = []
    if seq != want["data_seq"]:
        if seq == (want["data_seq"] + 1) % SEQ_SPACE:
            problems.append("data_seq: the idea missed is that a segment with no data, no SYN "
                            "and no FIN (the third segment) takes no sequence number "
                            "(RFC 9293 §3.4).")
        else:
            problems.append(_number_hint("data_seq", seq, q, "client"))
    if ack != want["data_ack"]:
        if ack >= SEQ_SPACE:
            problems.append(f"data_ack = {ack} does not fit in 32 bits: sequence numbers wrap, "
                            "they are counted modulo 2^32 (RFC 9293 §3.4).")
        elif ack == (want["data_ack"] - 1) % SEQ_SPACE:
            problems.append("data_ack: an ack number names the *next* byte the receiver "
                            "expects, not the last one it got (RFC 9293 §3.4).")
        elif ack == (want["data_ack"] + 1) % SEQ_SPACE:
            problems.append("data_ack: the SYN was acknowledged already, in the handshake; "
                            "this ACK is about the data, and there is no FIN here.")
        else:
            problems.append(_number_hint("data_ack", ack, q, "client"))
    if problems:
        return wrong("\n".join(problems))
    return right("Data starts at ISN + 1, and the ack is the next byte expected, modulo 2^32: "
                 "the numbers wrapped through 0 in the middle of your segment, and nothing "
                 "special happens on the wire when they do.")


def check_handshake_numbers(synack_ack, third_seq, third_ack, seed: int) -> None:
    """Exercise 1, in the notebook: shows :func:`judge_handshake_numbers`' feedback."""
    show(judge_as_sent(judge_handshake_numbers, synack_ack, third_seq, third_ack, seed=seed),
         "02-ex1", (synack_ack, third_seq, third_ack))


def check_first_data(data_seq, data_ack, seed: int) -> None:
    """Exercise 2, in the notebook: shows :func:`judge_first_data`' feedback."""
    show(judge_as_sent(judge_first_data, data_seq, data_ack, seed=seed), "02-ex2",
         (data_seq, data_ack))


# ------------------------------------------------------------- exercise 3 (real capture)
def judge_capture_syn_seq(answer, seed: int | None = None) -> Feedback:
    """Exercise 3: the real sequence number of the SYN in the shipped handshake capture.

    Right or not is decided by a digest (answers.capture_syn_seq_right); the capture is read
    only to explain a wrong answer."""
    value = whole_number(answer, "real_syn_seq")
    if isinstance(value, Feedback):
        return value
    if answers.capture_syn_seq_right(value):
        return right("Wireshark (and tcpsim's rel_seq) would show this SYN as Seq=0: that is "
                     "only a display convention. The kernel chose this number, and every "
                     "later number of the client counts on from it.")
    if value in (0, 1):
        return wrong("0 and 1 are *relative* numbers, computed by the tool that displays the "
                     "capture. Look at the 'seq' column, not 'rel_seq'.")
    from .. import course
    segments = course.capture("handshake").segments
    synack = segments[segments["flags"] == "SA"].iloc[0]
    if value in (int(synack["seq"]), int(synack["ack"])):
        return wrong("That number is in the SYN-ACK, the server's answer. The question is "
                     "about the segment the client sent first: select it by its flags.")
    return wrong("Not the SYN's sequence number. Select the row whose flags are 'S' and read "
                 "its 'seq'.")


def check_capture_syn_seq(answer) -> None:
    """Exercise 3, in the notebook."""
    show(judge_as_sent(judge_capture_syn_seq, answer), "02-ex3", answer)


# ------------------------------------------------------------------- choice questions
class Choices(dict):
    """{letter: text} in the order one student sees them; shows as a list."""

    def _repr_html_(self) -> str:
        items = "".join(f"<li><b>{html.escape(letter)}</b>: {html.escape(text)}</li>"
                        for letter, text in self.items())
        return f"<ul style='list-style: none; padding-left: 0'>{items}</ul>"


def _choices(question: str, texts: dict, seed: int) -> Choices:
    return Choices({letter: texts[key] for letter, key in
                    answers.letters_for(question, seed, texts).items()})


def _judge_choice(question: str, texts: dict, seed, letter, name: str) -> Feedback:
    """The feedback for ``letter``, as the student with ``seed`` sees the choices (seed None:
    the authors' order, for an unshuffled question)."""
    if seed is None:
        key = str(letter).strip().lower().rstrip(")").lstrip("(")
        key = key if key in texts else None
        letters = list(texts)
    else:
        key = answers.choice_key(question, seed, texts, letter)
        letters = list(answers.letters_for(question, seed, texts))
    if letter is None or letter is Ellipsis:
        return wrong(f"{name} has no value yet: set it to one of "
                     f"{', '.join(map(repr, letters))}.")
    if key is None:
        return wrong(f"{name} must be one of {', '.join(map(repr, letters))}; "
                     f"you gave {letter!r}.")
    text = answers.unseal(question, key, sealed.FEEDBACK[question][key])
    if answers.is_right_choice(question, key, sealed.RIGHT[question]):
        return right(text)
    return wrong(text)


THIRD_SEGMENT_CHOICES = {   # keys are the authors' order; students see them shuffled
    "a": "The third segment carries the client's first data, which the server needs "
         "before accept() can return.",
    "b": "Only the third segment proves that the client received the server's ISN: until "
         "then the SYN may be an old duplicate or come from a forged address.",
    "c": "The server learns the client's window size only from the third segment.",
    "d": "The server does not store its ISN; when the ACK arrives it recomputes it from "
         "the addresses and only then can create the socket.",
}


def third_segment_choices(seed: int) -> Choices:
    """Exercise 4's choices, in this student's order."""
    return _choices("02-ex4", THIRD_SEGMENT_CHOICES, seed)


def judge_third_segment_reason(letter, seed: int) -> Feedback:
    """Exercise 4: why the connection exists on the server only after the third segment."""
    return _judge_choice("02-ex4", THIRD_SEGMENT_CHOICES, seed, letter,
                         "third_segment_reason")


def check_third_segment_reason(letter, seed: int) -> None:
    """Exercise 4, in the notebook."""
    show(judge_as_sent(judge_third_segment_reason, letter, seed=seed), "02-ex4", letter)


SYNACK_LOSS_CHOICES = {     # keys are the authors' order; students see them shuffled
    "a": "Nothing: the server waits for the client to retransmit its SYN.",
    "b": "The same SYN-ACK, about 1 s after it sent the first one.",
    "c": "The same SYN-ACK, about 3 s after it sent the first one.",
    "d": "A new SYN-ACK with a new ISN, about 1 s after the first one.",
}


def synack_loss_choices(seed: int) -> Choices:
    """Exercise 5's choices, in this student's order."""
    return _choices("02-ex5", SYNACK_LOSS_CHOICES, seed)


def judge_synack_loss(letter, seed: int) -> Feedback:
    """Exercise 5: the server's first SYN-ACK is lost. What does the server do?"""
    return _judge_choice("02-ex5", SYNACK_LOSS_CHOICES, seed, letter, "synack_prediction")


@dataclass
class Reveal:
    """What a reveal shows: the feedback, then the pictures (only after a prediction)."""
    feedback: Feedback
    figures: list = field(default_factory=list)
    captions: list = field(default_factory=list)

    def show(self, exercise: str, answer) -> None:
        """In the notebook: the feedback (recorded as a try of ``exercise``), then each
        picture under its caption."""
        show(self.feedback, exercise, answer)
        from IPython.display import HTML, display
        for caption, figure in zip(self.captions, self.figures):
            display(HTML(f"<b>{html.escape(caption)}</b>"))
            display(figure)


def synack_loss_reveal(prediction, seed: int) -> Reveal:
    """Exercise 5's reveal: the feedback, and what Linux and tcpsim do, drawn only once
    ``prediction`` is one of the choices (predict first)."""
    feedback = judge_as_sent(judge_synack_loss, prediction, seed=seed)
    if answers.choice_key("02-ex5", seed, SYNACK_LOSS_CHOICES, prediction) is None:
        return Reveal(feedback)
    from .. import course, plots
    return Reveal(feedback,
                  [plots.ladder(course.capture("synack-loss")),
                   plots.ladder(course.simulate("synack-loss"))],
                  ["The real Linux kernel (data/captures/synack-loss.pcap)",
                   "tcpsim, linux profile, the same scenario"])


def reveal_synack_loss(prediction, seed: int) -> None:
    """Exercise 5, in the notebook: shows the feedback, then the two ladders."""
    synack_loss_reveal(prediction, seed).show("02-ex5", prediction)


# --------------------------------------------------------- exercise 6 (build a scenario)
def judge_etimedout_scenario(scenario, seed: int | None = None,
                             limit_s: float = 10.0) -> Feedback:
    """Exercise 6: a scenario whose client connect() fails with ETIMEDOUT within ``limit_s``."""
    from ..errors import ScenarioError
    from ..simulator import run
    if not isinstance(scenario, (dict, str)):
        return wrong("Give the scenario as a dict (like the ones above).")
    try:
        trace = run(scenario)
    except ScenarioError as error:
        return wrong(f"tcpsim cannot run this scenario: {error}")
    events = trace.events
    connects = events[events["call"] == "connect"]
    if connects.empty:
        calls = [a for a in (scenario.get("actions", []) if isinstance(scenario, dict) else [])
                 if isinstance(a, dict) and a.get("do") == "connect"]
        if calls:
            return wrong("connect() had not finished when the run stopped: is 'until' too "
                         "small?")
        return wrong("Nobody calls connect(): add an action "
                     "{'at': 0, 'host': 'client', 'do': 'connect', 'to': 'server'}.")
    result = connects.iloc[0]
    started = _connect_time(scenario, result["host"])
    took = float(result["t"]) - started
    syns = trace.segments[(trace.segments["src"] == result["host"])
                          & (trace.segments["flags"] == "S")]
    if result["result"] == "ok":
        return wrong(f"connect() succeeded after {took:.3f} s: a SYN got through and was "
                     "answered. For ETIMEDOUT the client must never get an answer to its SYN "
                     "(look at the 'faults' of docs/scenario.md).")
    if result["result"] == "ECONNREFUSED":
        return wrong("connect() was refused: a RST came back at once (nobody listened). A "
                     "refused connect is ECONNREFUSED, not ETIMEDOUT; ETIMEDOUT needs SYNs "
                     "that get no answer at all.")
    if result["result"] != "ETIMEDOUT":
        return wrong(f"connect() failed with {result['result']}, not ETIMEDOUT.")
    if took >= limit_s:
        return wrong(f"ETIMEDOUT, but only after {took:.0f} s ({len(syns)} SYNs). How long the "
                     "client keeps trying is a host option (docs/scenario.md, 'options').")
    return right(f"connect() failed with ETIMEDOUT after {took:.1f} s, having sent "
                 f"{len(syns)} SYNs. Compare the number of SYNs with the option you set: on "
                 "Linux the limit is a time computed from it, not a count.")


def check_etimedout_scenario(scenario) -> None:
    """Exercise 6, in the notebook."""
    show(judge_as_sent(judge_etimedout_scenario, scenario), "02-ex6", scenario)


def _connect_time(scenario, host) -> float:
    if isinstance(scenario, dict):
        for action in scenario.get("actions", []):
            if (isinstance(action, dict) and action.get("do") == "connect"
                    and action.get("host") == host):
                return float(action.get("at") or 0.0)
    return 0.0


# --------------------------------------------------------- quick check (predict widget)
REFUSED_CHOICES = {
    "a": "Nothing: the SYN is ignored and connect() times out after about two minutes.",
    "b": "A RST+ACK at once, and connect() fails with ECONNREFUSED.",
    "c": "A SYN-ACK, then a RST when the client's ACK arrives.",
    "d": "An ICMP 'port unreachable' message.",
}


def check_refused(letter) -> Feedback:
    """Quick check (ungraded, for the predict widget): a client connects to a port on which
    nothing listens. Returns the Feedback, which the widget shows."""
    return _judge_choice("02-refused", REFUSED_CHOICES, None, letter, "answer")


# ------------------------------------------ what the hidden tests run (tcpsim.exercises.grade)
# exercise: (judge, the names of its answers in the notebook); every judge takes seed=
GRADED = {
    "02-ex1": (judge_handshake_numbers, ("synack_ack", "third_seq", "third_ack")),
    "02-ex2": (judge_first_data, ("data_seq", "data_ack")),
    "02-ex3": (judge_capture_syn_seq, ("real_syn_seq",)),
    "02-ex4": (judge_third_segment_reason, ("third_segment_reason",)),
    "02-ex5": (judge_synack_loss, ("synack_prediction",)),
    "02-ex6": (judge_etimedout_scenario, ("my_scenario",)),
}
