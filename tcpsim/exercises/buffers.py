"""Exercises of notebook 05, buffers and ACKs.

| exercise | kind | shown with | judged by (returns Feedback) | graded cell calls |
|---|---|---|---|---|
| 1 | compute seq/ack/len of a write's k-th segment, randomized | ``write_question(seed)`` | ``judge_kth_segment`` | ``check_kth_segment`` |
| 2 | read a capture with pandas (fixed numbers, digests) | ``course.capture("buffers-every-second")`` | ``judge_ack_count`` | ``check_ack_count`` |
| 3 | predict, then reveal: the window after unread segments | ``window_choices(seed)`` | ``judge_unread_window`` | ``reveal_unread_window`` |
| 4 | build a scenario: the 40 ms stall, then without it | | ``judge_stall_scenarios`` | ``check_stall_scenarios`` |
| section 3 | predict widget (ungraded) | ``ONE_ACK_CHOICES`` | ``check_one_ack`` | |

As in ``handshake.py`` (notebook 02, the model): a ``judge_…`` decides and gives the
feedback, and is what the hidden tests run in a fresh process (``GRADED``); a ``check_…``
runs the same judge on the answer as the hidden test receives it, shows the feedback and
returns nothing. Exercise 1's numbers come from ``write_numbers(seed)``; the segments they
describe are the simulator's (tests/test_notebook05_claims.py runs them), and the
simulator's segmentation is held to the kernel by tests/test_fidelity.py.
"""
from __future__ import annotations

import html
import random
from dataclasses import dataclass

from . import answers
from .feedback import Feedback, judge_as_sent, right, show, whole_number, wrong
from .handshake import Choices, NoQuestion, Reveal, _choices, _judge_choice

NO_ID_MESSAGE = (
    "STUDENT_ID is still 'anonymous', so there is no question for you yet. Every student "
    "gets their own connection and their own write from their id, and the autograder grades "
    "you against the id in your notebook: with the default id your answers cannot count. Put "
    "your student id (the one you hand in under) in the first code cell, run it, then run "
    "this cell again.")

SEQ_SPACE = answers.SEQ_SPACE
FULL_SEGMENT = 1448        # MTU 1500 - 20 (IP) - 20 (TCP) - 12 (timestamps option)
MSS = 1460                 # what the SYNs announce at MTU 1500 (RFC 9293 §3.7.1)


# ------------------------------------------------ exercise 1 (seq/ack of the k-th segment)
def write_numbers(seed: int) -> dict:
    """Exercise 1's numbers for one student: both ISNs (the client's near the wrap of the
    sequence space for about a third of the students), the request and reply already
    exchanged, the write and which of its segments is asked about."""
    rng = random.Random(f"05-write-{seed}")
    if rng.random() < 0.35:
        client_isn = SEQ_SPACE - rng.randint(2000, 40000)     # the write crosses 2^32
    else:
        client_isn = rng.randrange(SEQ_SPACE)
    full = rng.randint(4, 12)
    write = full * FULL_SEGMENT + rng.randint(1, FULL_SEGMENT - 1)
    return {"client_isn": client_isn, "server_isn": rng.randrange(SEQ_SPACE),
            "request_bytes": rng.randint(20, 900), "reply_bytes": rng.randint(100, 1400),
            "write_bytes": write, "k": rng.randint(2, full + 1)}


def expected_kth_segment(seed: int) -> dict:
    """The k-th segment of the write: absolute seq and ack, and its payload length."""
    n = write_numbers(seed)
    before = n["request_bytes"] + (n["k"] - 1) * FULL_SEGMENT
    return {"kth_seq": (n["client_isn"] + 1 + before) % SEQ_SPACE,
            "kth_ack": (n["server_isn"] + 1 + n["reply_bytes"]) % SEQ_SPACE,
            "kth_len": min(FULL_SEGMENT, n["write_bytes"] - (n["k"] - 1) * FULL_SEGMENT)}


def write_scenario(seed: int) -> dict:
    """Exercise 1 as a scenario (what the simulator runs to show the answer in tests)."""
    n = write_numbers(seed)
    return {"name": "exercise 1: a request, a reply, then one large write", "profile": "linux",
            "seed": seed % 2**32, "link": {"mtu": 1500},
            "hosts": {"client": {"port": 40000 + seed % 20000, "isn": n["client_isn"]},
                      "server": {"port": 5005, "isn": n["server_isn"]}},
            "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                        {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                        {"at": 0.3, "host": "client", "do": "send", "bytes": n["request_bytes"]},
                        {"at": 0.31, "host": "server", "do": "send", "bytes": n["reply_bytes"]},
                        {"at": 0.5, "host": "client", "do": "send", "bytes": n["write_bytes"]},
                        {"at": 1.0, "host": "client", "do": "close"},
                        {"on": "eof", "host": "server", "do": "close"}]}


@dataclass(frozen=True)
class WriteQuestion:
    """One student's connection and write (exercise 1)."""
    seed: int
    numbers: dict

    def _lines(self) -> list:
        n = self.numbers
        return [(f"The client's ISN is {n['client_isn']}, the server's {n['server_isn']} "
                "(absolute numbers, from the SYN and the SYN-ACK)."),
                (f"The client sent a request of {n['request_bytes']} bytes; the server answered "
                f"with {n['reply_bytes']} bytes. Both arrived and were acknowledged."),
                (f"Now the client's program writes {n['write_bytes']} bytes in one send(). "
                f"Full segments carry {FULL_SEGMENT} bytes (MSS {MSS} minus the 12-byte "
                "timestamps option); the write is cut into full segments and a last, shorter "
                "one, and the server sends nothing meanwhile."),
                (f"Give the absolute seq, the absolute ack and the payload length of segment "
                f"number {n['k']} of this write (the write's first segment is number 1).")]

    def _repr_html_(self) -> str:
        return "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in self._lines()) + \
            "</ul>"

    def __repr__(self) -> str:
        return "\n".join(self._lines())


def write_question(seed: int):
    """Exercise 1's question for this student, or a refusal for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion(NO_ID_MESSAGE)
    return WriteQuestion(seed, write_numbers(seed))


def _seq_hints(seq: int, want: int, n: dict) -> list:
    k, isn = n["k"], n["client_isn"]
    rel = (want - isn) % SEQ_SPACE
    if seq >= SEQ_SPACE:
        return [("kth_seq: sequence numbers are 32 bits: arithmetic modulo 2^32 "
                "(RFC 9293 §3.4), so a number past 4294967295 starts again at 0.")]
    if seq == rel or seq == rel - 1:
        return [("kth_seq: that is a relative number (as Wireshark shows it). The question asks "
                "for the absolute one, counted from the ISN.")]
    if seq == (want - 1) % SEQ_SPACE:
        return [("kth_seq: the SYN itself takes one sequence number (RFC 9293 §3.4): the first "
                "data byte is ISN + 1.")]
    if seq in ((want - FULL_SEGMENT) % SEQ_SPACE, (want + FULL_SEGMENT) % SEQ_SPACE):
        return [(f"kth_seq: count the segments before number {k}: the write's first segment "
                "starts right after the request.")]
    if seq == (want - n["request_bytes"]) % SEQ_SPACE:
        return [("kth_seq: the request's bytes came first on this connection: they took "
                "sequence numbers too.")]
    if seq == (n["server_isn"] + 1 + n["reply_bytes"]) % SEQ_SPACE:
        return [("kth_seq: the client's seq counts the client's own bytes, from its own ISN; "
                "the server's bytes are what its ack counts.")]
    return [("kth_seq: start from the client's ISN: the SYN, then every byte the client has "
            "sent before this segment.")]


def _ack_hints(ack: int, want: int, n: dict) -> list:
    isn = n["server_isn"]
    if ack >= SEQ_SPACE:
        return ["kth_ack: acknowledgment numbers are sequence numbers: modulo 2^32."]
    if ack == (want - isn) % SEQ_SPACE:
        return [("kth_ack: that is a relative number. The ack field carries the absolute one, "
                "in the server's sequence space.")]
    if ack == (want - 1) % SEQ_SPACE:
        return ["kth_ack: the server's SYN took one of its sequence numbers as well."]
    if ack == (isn + 1) % SEQ_SPACE:
        return [("kth_ack: the client has received more than the server's SYN since: the "
                "ack is the next byte the client expects.")]
    if ack in ((n["client_isn"] + 1 + n["request_bytes"]) % SEQ_SPACE,
               (n["client_isn"] + 1) % SEQ_SPACE):
        return [("kth_ack: the client's ack is about the server's bytes (the server's sequence "
                "space), not the client's own.")]
    return [("kth_ack: the ack is the next byte the client expects from the server: the "
            "server's ISN, its SYN, then every byte the server sent.")]


def judge_kth_segment(kth_seq, kth_ack, kth_len, seed: int) -> Feedback:
    """Exercise 1: the absolute seq, ack and length of the k-th segment of the write."""
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    values = []
    for value, name in ((kth_seq, "kth_seq"), (kth_ack, "kth_ack"), (kth_len, "kth_len")):
        number = whole_number(value, name)
        if isinstance(number, Feedback):
            return number
        values.append(number)
    seq, ack, length = values
    n, want = write_numbers(seed), expected_kth_segment(seed)
    problems = []
    if seq != want["kth_seq"]:
        problems += _seq_hints(seq, want["kth_seq"], n)
    if ack != want["kth_ack"]:
        problems += _ack_hints(ack, want["kth_ack"], n)
    if length != want["kth_len"]:
        if length == MSS:
            problems.append("kth_len: with timestamps on, every segment carries a 12-byte "
                            "option, which comes out of the MSS.")
        elif length == FULL_SEGMENT:
            problems.append("kth_len: is this segment the write's last? The last one "
                            "carries only what is left of the write.")
        elif want["kth_len"] == FULL_SEGMENT:
            problems.append("kth_len: only the write's last segment is shorter: the others "
                            "are full.")
        else:
            problems.append("kth_len: the last segment carries the write's bytes that the "
                            "full segments before it did not.")
    if problems:
        return wrong("\n".join(problems))
    return right("Each byte of the stream has its own sequence number, from ISN + 1 on; a "
                 "segment's seq is its first byte's. The ack is the next byte expected from "
                 "the other side, and every segment after the handshake carries it.")


def check_kth_segment(kth_seq, kth_ack, kth_len, seed: int) -> None:
    """Exercise 1, in the notebook."""
    show(judge_as_sent(judge_kth_segment, kth_seq, kth_ack, kth_len, seed=seed), "05-ex1",
         (kth_seq, kth_ack, kth_len))


# ------------------------------------------------- exercise 2 (count ACKs in a capture)
# digests of the two numbers read from data/captures/buffers-every-second.pcap
# (tests/test_notebook05_claims.py recomputes them from the capture)
ACK_COUNT_DIGEST = "76a33691f0bc47b179b73724cb2b7aec30d62926446e5e82b2d1c69f5df22a45"
TIMER_ACK_COUNT_DIGEST = "fbce3b48771bef31e4dae5c44ba07f0dc62bdba1d53ef9ea44a9fab49e0f9e82"
SEGMENTS_IN_CAPTURE = 21    # the client's full segments (the scenario says so)


def judge_ack_count(ack_count, timer_ack_count, seed: int | None = None) -> Feedback:
    """Exercise 2: how many ACKs the server sent for the 21 full segments of
    ``buffers-every-second``, and how many of them its delayed-ACK timer sent."""
    count = whole_number(ack_count, "ack_count")
    if isinstance(count, Feedback):
        return count
    timer = whole_number(timer_ack_count, "timer_ack_count")
    if isinstance(timer, Feedback):
        return timer
    problems = []
    if answers.digest("05-ex2", count) != ACK_COUNT_DIGEST:
        if count == SEGMENTS_IN_CAPTURE:
            problems.append("ack_count: one ACK per segment is what a receiver in quick-ACK "
                            "mode does. Count the server's rows that acknowledge those "
                            "bytes, not the client's segments.")
        elif count > SEGMENTS_IN_CAPTURE or count == 12:
            problems.append("ack_count: keep only the server's segments whose rel_ack lies "
                            "within the 21 full segments' bytes (after the 100-byte request, "
                            "before the FIN).")
        else:
            problems.append("ack_count: select the server's segments (src) that acknowledge "
                            "new bytes of the 21 full segments (rel_ack above the request's "
                            "101), then count them.")
    if answers.digest("05-ex2-timer", timer) != TIMER_ACK_COUNT_DIGEST:
        if timer == 0:
            problems.append("timer_ack_count: look at the time between each ACK and the segment "
                            "before it: is one of them much longer than the others?")
        else:
            problems.append("timer_ack_count: an ACK sent by the timer leaves about 40 ms after "
                            "the data it acknowledges; most ACKs here leave within "
                            "microseconds of a segment.")
    if problems:
        return wrong("\n".join(problems))
    return right("The server had just answered a request, so it is in pingpong (interactive) "
                 "mode: no quick-ACKs. It ACKs at once when more than one full segment is "
                 "unacknowledged, every second segment, and the odd last one waits for the "
                 "40 ms delayed-ACK timer (RFC 9293 §3.8.6.3, RFC 5681 §4.2).")


def check_ack_count(ack_count, timer_ack_count) -> None:
    """Exercise 2, in the notebook."""
    show(judge_as_sent(judge_ack_count, ack_count, timer_ack_count), "05-ex2",
         (ack_count, timer_ack_count))


# ---------------------------------------------------- exercise 3 (predict, then reveal)
UNREAD_SEGMENTS = 16          # paced-noread: from the 5th data segment to the 21st
WINDOW_CHOICES = {    # keys are the authors' order; students see them shuffled
    "a": "About the same: the window says how big the receive buffer is, and that does not "
         "change.",
    "b": "Smaller by exactly 16 × 1448 bytes: the window is the free space, and each unread "
         "byte takes one byte of it.",
    "c": "Smaller, but by clearly less than 16 × 1448 bytes.",
    "d": "0 at once: a receiver whose program stops reading closes its window.",
}


def window_choices(seed: int) -> Choices:
    """Exercise 3's choices, in this student's order."""
    return _choices("05-ex3", WINDOW_CHOICES, seed)


def judge_unread_window(letter, seed: int) -> Feedback:
    """Exercise 3: the server's program stops reading; after 16 more full segments, what has
    its advertised window become?"""
    return _judge_choice("05-ex3", WINDOW_CHOICES, seed, letter, "window_prediction")


def unread_window_table(first: int = 5, last: int = 5 + UNREAD_SEGMENTS):
    """The server's window in its ACK of each client data segment ``first``..``last`` of
    ``paced-noread`` (bytes, scaled), on the real kernel, tcpsim's linux profile and its
    rfc9293 profile, and the bytes unread by then."""
    import pandas as pd
    from .. import course
    columns = {}
    for label, trace in (("Linux (real capture)", course.capture("paced-noread")),
                         ("tcpsim linux", course.simulate("paced-noread")),
                         ("tcpsim rfc9293", course.simulate("paced-noread", "rfc9293"))):
        columns[label] = _window_after_segments(trace, first, last)
    table = pd.DataFrame(columns)
    table.index.name = "data segment"
    table.insert(0, "unread bytes", [(k - first) * FULL_SEGMENT for k in table.index])
    return table


def _window_after_segments(trace, first: int, last: int) -> dict:
    """{k: the window (bytes) of the server's ACK of the client's k-th data segment}."""
    from ..acks import _scale
    rows = trace.doc["segments"]
    scale = _scale(rows, "server", "client")
    data = [r for r in rows if r["src"] == "client" and r["len"] > 0 and not r["retransmission"]]
    out = {}
    for k in range(first, last + 1):
        end = int(data[k - 1]["rel_seq"]) + int(data[k - 1]["len"])
        ack = next((r for r in rows if r["src"] == "server" and r.get("rel_ack") == end), None)
        out[k] = None if ack is None else int(ack["win"]) << scale
    return out


def unread_window_reveal(prediction, seed: int) -> Reveal:
    """Exercise 3's reveal: the feedback, then the table of windows, only after a prediction."""
    feedback = judge_as_sent(judge_unread_window, prediction, seed=seed)
    if answers.choice_key("05-ex3", seed, WINDOW_CHOICES, prediction) is None:
        return Reveal(feedback)
    return Reveal(feedback, [unread_window_table()],
                  [("The server's advertised window (bytes) in its ACK of each data segment, "
                   "after its program stopped reading (data/captures/paced-noread)")])


def reveal_unread_window(prediction, seed: int) -> None:
    """Exercise 3, in the notebook: the feedback, then the table."""
    unread_window_reveal(prediction, seed).show("05-ex3", prediction)


# -------------------------------------------------- exercise 4 (build the 40 ms stall)
STALL_MIN_MS = 30.0          # a write held back this long waited for a delayed ACK
NO_STALL_MAX_MS = 5.0


def _client_writes(scenario) -> list:
    acts = scenario.get("actions") if isinstance(scenario, dict) else None
    hosts = scenario.get("hosts") if isinstance(scenario, dict) else None
    if not isinstance(acts, list) or not isinstance(hosts, dict):
        return []
    connecting = next((a.get("host") for a in acts if isinstance(a, dict) and
                       a.get("do") == "connect"), None)
    return [a.get("bytes") for a in acts if isinstance(a, dict) and a.get("do") == "send" and
            a.get("host") == connecting]


def _longest_wait(scenario, name: str):
    """(trace, the connecting host, its longest write wait in ms), or a Feedback."""
    from ..acks import write_delays
    from ..errors import ScenarioError
    from ..simulator import run
    if not isinstance(scenario, dict):
        return wrong(f"{name}: give the scenario as a dict (like the one above).")
    try:
        trace = run(scenario)
    except ScenarioError as error:
        return wrong(f"{name}: tcpsim cannot run this scenario: {error}")
    connects = trace.events[trace.events["call"] == "connect"]
    if connects.empty or not (connects["result"] == "ok").any():
        return wrong(f"{name}: the connection never opened: listen on one side, connect "
                     "from the other, as in the scenario above.")
    client = str(connects["host"].iloc[0])
    delays = write_delays(trace, client)
    if len(delays) < 2:
        return wrong(f"{name}: the connecting side must write at least twice (the stall is "
                     "in a second write).")
    waits = delays["waited_ms"].dropna()
    return trace, client, (float(waits.max()) if len(waits) else 0.0)


def _released_by_delayed_ack(trace, client: str) -> bool:
    """Did the write that waited longest leave after an ACK sent by the peer's delayed-ACK
    timer (and not, say, after an ACK that was only slow to travel)?"""
    from ..acks import DELAYED, classify_acks, write_delays
    delays = write_delays(trace, client).dropna(subset=["waited_ms"])
    left = float(delays.loc[delays["waited_ms"].idxmax(), "left_at"])
    peer = next(h for h in trace.segments["src"].unique() if h != client)
    rows = [r for r in trace.doc["segments"] if r["src"] == peer and r.get("arrival") is not None
            and r["arrival"] <= left + 1e-9]
    if not rows:
        return False
    reasons = classify_acks(trace, peer).set_index("i")["reason"]
    last = rows[-1]
    return reasons.get(last["i"]) == DELAYED


def judge_stall_scenarios(stall_scenario, no_stall_scenario, seed: int | None = None) -> Feedback:
    """Exercise 4: a scenario in which a write waits for a delayed ACK (the Nagle stall), and
    the same writes without the stall."""
    stalled = _longest_wait(stall_scenario, "stall_scenario")
    if isinstance(stalled, Feedback):
        return stalled
    trace, client, wait_ms = stalled
    if wait_ms < STALL_MIN_MS:
        writes = [b for b in _client_writes(stall_scenario) if isinstance(b, int)]
        options = (stall_scenario.get("hosts", {}).get(client) or {}).get("options") or {}
        if options.get("nodelay"):
            return wrong("stall_scenario: the client has nodelay on, which turns Nagle's "
                         "algorithm off: nothing holds a small write back.")
        if writes and min(writes) >= FULL_SEGMENT:
            return wrong("stall_scenario: Nagle holds back only a *small* segment, while "
                         "data is unacknowledged; full segments always leave.")
        return wrong("stall_scenario: no write waited. Was the first small write ACKed at "
                     "once? A receiver that is not in pingpong mode ACKs at once (quick-ACK): "
                     "it must have answered with data shortly before (section 5).")
    if not _released_by_delayed_ack(trace, client):
        return wrong("stall_scenario: a write waited, but not for a delayed ACK: the ACK that "
                     "released it was sent at once and was only slow to arrive (a long "
                     "link delay?). Keep the link fast: the wait must come from the "
                     "receiver holding its ACK.")
    free = _longest_wait(no_stall_scenario, "no_stall_scenario")
    if isinstance(free, Feedback):
        return free
    _, _, free_ms = free
    if _client_writes(no_stall_scenario) != _client_writes(stall_scenario):
        return wrong("no_stall_scenario: keep the same writes (the program's messages are "
                     "what they are): change how the socket sends them.")
    if free_ms > NO_STALL_MAX_MS:
        return wrong("no_stall_scenario: a write still waits for an ACK. Which socket option "
                     "turns Nagle's algorithm off (docs/scenario.md, host options)?")
    return right("The first small write leaves at once; Nagle's algorithm holds the second "
                 "until it is ACKed, and the receiver, in pingpong mode, holds its ACK for "
                 "the 40 ms timer, hoping to send it with an answer that cannot come before "
                 "the second write arrives. nodelay (TCP_NODELAY) lets the second write leave "
                 "at once.")


def check_stall_scenarios(stall_scenario, no_stall_scenario) -> None:
    """Exercise 4, in the notebook."""
    show(judge_as_sent(judge_stall_scenarios, stall_scenario, no_stall_scenario), "05-ex4",
         (stall_scenario, no_stall_scenario))


# --------------------------------------------------------- quick check (predict widget)
ONE_ACK_CHOICES = {    # one line each: the predict widget shows them as radio buttons
    "a": "One ACK, after the last segment: TCP ACKs each burst once.",
    "b": "One ACK per segment, always: TCP acknowledges every segment it receives.",
    "c": "It depends: one per segment at first (quick-ACKs), one per two full segments in "
         "interactive mode, and an odd last segment waits up to 40 ms.",
    "d": "None until the program reads the data: ACKs are sent by read().",
}


def check_one_ack(letter) -> Feedback:
    """Quick check (ungraded, for the predict widget): how many ACKs does a Linux receiver
    send for 21 full segments? Returns the Feedback, which the widget shows."""
    return _judge_choice("05-one-ack", ONE_ACK_CHOICES, None, letter, "answer")


# ------------------------------------------ what the hidden tests run (tcpsim.exercises.grade)
# exercise: (judge, the names of its answers in the notebook); every judge takes seed=
GRADED = {
    "05-ex1": (judge_kth_segment, ("kth_seq", "kth_ack", "kth_len")),
    "05-ex2": (judge_ack_count, ("ack_count", "timer_ack_count")),
    "05-ex3": (judge_unread_window, ("window_prediction",)),
    "05-ex4": (judge_stall_scenarios, ("stall_scenario", "no_stall_scenario")),
}
