"""Exercises of notebook 02, the three-way handshake.

| exercise | kind | function |
|---|---|---|
| 1 | compute, randomized | ``handshake_question(seed)``, ``check_handshake_numbers(...)`` |
| 2 | compute, randomized | ``check_first_data(...)`` (same question object) |
| 3 | read a real capture | ``check_capture_syn_seq(answer)`` |
| 4 | explain (choice + written) | ``check_third_segment_reason(letter)`` |
| 5 | predict, then reveal | ``check_synack_loss(letter)``, ``reveal_synack_loss(letter)`` |
| 6 | build a scenario | ``check_etimedout_scenario(scenario)`` |
| section 6 | predict widget | ``REFUSED_CHOICES``, ``check_refused(letter)`` |

Sequence numbers are 32-bit and wrap (RFC 9293 §3.4); the randomized numbers are drawn so
that the data exercise crosses 2^32 for every student.
"""
from __future__ import annotations

import html
import random
from dataclasses import dataclass, field

from .feedback import Feedback, choice_check, choice_letter, right, whole_number, wrong

SEQ_SPACE = 2 ** 32   # RFC 9293 §3.4: sequence numbers are 32 bits, arithmetic modulo 2^32


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


def handshake_question(seed: int) -> HandshakeQuestion:
    """This student's ISNs. The client's lies so close to 2^32 that the data wraps around."""
    rng = random.Random(f"02-handshake-{seed}")
    data_bytes = rng.randint(100, 1448)
    client_isn = SEQ_SPACE - rng.randint(2, data_bytes)       # ISN + 1 + data crosses 2^32
    server_isn = rng.randrange(1_000_000, SEQ_SPACE - 1_000_000)
    return HandshakeQuestion(seed, client_isn, server_isn, data_bytes)


def _number_hint(name, value, q: HandshakeQuestion, counts_from: str) -> str:
    """Why ``value`` is a wrong sequence/ack number, without giving the right one."""
    own_isn = q.client_isn if counts_from == "client" else q.server_isn
    other_isn = q.server_isn if counts_from == "client" else q.client_isn
    if value >= SEQ_SPACE:
        return (f"{name} = {value} does not fit in 32 bits: sequence numbers are counted "
                "modulo 2^32 (RFC 9293 §3.4), so they wrap around to 0.")
    if value in (0, 1) or value == q.data_bytes or value == q.data_bytes + 1:
        return (f"{name} = {value} looks like a Wireshark *relative* number. On the wire every "
                "number is absolute: count from the ISNs above.")
    if value == own_isn:
        return (f"{name} is the {counts_from}'s ISN itself. The SYN occupies one sequence "
                "number (RFC 9293 §3.4), so the next number is not the ISN.")
    if value in (other_isn, (other_isn + 1) % SEQ_SPACE):
        return (f"{name} counts in the wrong side's sequence space. Each side numbers its own "
                f"bytes; this number belongs to the {counts_from}'s numbering.")
    return (f"{name} = {value}: which ISN does it count from, and how many sequence numbers "
            "have been used since (SYN and FIN take one each, data one per byte)?")


def check_handshake_numbers(synack_ack, third_seq, third_ack, seed: int) -> Feedback:
    """Exercise 1: the SYN-ACK's ack, and the third segment's seq and ack (absolute)."""
    q = handshake_question(seed)
    expected = {"synack_ack": ((q.client_isn + 1) % SEQ_SPACE, "client"),
                "third_seq": ((q.client_isn + 1) % SEQ_SPACE, "client"),
                "third_ack": ((q.server_isn + 1) % SEQ_SPACE, "server")}
    given = {"synack_ack": synack_ack, "third_seq": third_seq, "third_ack": third_ack}
    problems = []
    for name, raw in given.items():
        value = whole_number(raw, name)
        if isinstance(value, Feedback):
            return value
        want, counts_from = expected[name]
        if value != want:
            problems.append(_number_hint(name, value, q, counts_from))
    if problems:
        return wrong("\n".join(problems))
    return right("The SYN-ACK acknowledges the client's SYN (ISN + 1), and the third segment "
                 "starts where the SYN left off: both sides have 'used' exactly one sequence "
                 "number, for their SYN.")


def check_first_data(data_seq, data_ack, seed: int) -> Feedback:
    """Exercise 2: the first data segment's seq, and the ack the server sends for it."""
    q = handshake_question(seed)
    want_seq = (q.client_isn + 1) % SEQ_SPACE
    want_ack = (q.client_isn + 1 + q.data_bytes) % SEQ_SPACE
    seq = whole_number(data_seq, "data_seq")
    if isinstance(seq, Feedback):
        return seq
    ack = whole_number(data_ack, "data_ack")
    if isinstance(ack, Feedback):
        return ack
    problems = []
    if seq != want_seq:
        if seq == (want_seq + 1) % SEQ_SPACE:
            problems.append("data_seq: the third segment of the handshake carried no data and "
                            "no SYN, so it used no sequence number. The data starts where the "
                            "third segment's seq was.")
        else:
            problems.append(_number_hint("data_seq", seq, q, "client"))
    if ack != want_ack:
        if ack == q.client_isn + 1 + q.data_bytes:
            problems.append(f"data_ack = {ack} does not fit in 32 bits: add modulo 2^32 "
                            "(RFC 9293 §3.4).")
        elif ack == (want_ack - 1) % SEQ_SPACE:
            problems.append("data_ack: an ack number names the *next* byte the receiver "
                            "expects, not the last one it got (RFC 9293 §3.4).")
        elif ack == (want_ack + 1) % SEQ_SPACE:
            problems.append("data_ack: the ACK counts the data bytes only; the SYN was "
                            "acknowledged already, and there is no FIN here.")
        else:
            problems.append(_number_hint("data_ack", ack, q, "client"))
    if problems:
        return wrong("\n".join(problems))
    return right("Data starts at ISN + 1, and the ack is the next byte expected, modulo 2^32: "
                 "the numbers wrapped through 0 in the middle of your segment, and nothing "
                 "special happens on the wire when they do.")


# ------------------------------------------------------------- exercise 3 (real capture)
def check_capture_syn_seq(answer) -> Feedback:
    """Exercise 3: the real sequence number of the SYN in the shipped handshake capture."""
    from .. import course
    segments = course.capture("handshake").segments
    syn = segments[segments["flags"] == "S"].iloc[0]
    value = whole_number(answer, "real_syn_seq")
    if isinstance(value, Feedback):
        return value
    if value == int(syn["seq"]):
        return right("Wireshark (and tcpsim's rel_seq) would show this SYN as Seq=0: that is "
                     "only a display convention. The kernel chose this number, and every "
                     "later number of the client counts on from it.")
    if value in (0, 1):
        return wrong("0 and 1 are *relative* numbers, computed by the tool that displays the "
                     "capture. Look at the 'seq' column, not 'rel_seq'.")
    synack = segments[segments["flags"] == "SA"].iloc[0]
    if value == int(synack["seq"]):
        return wrong("That is the server's SYN-ACK. Which segment is the client's SYN?")
    if value == int(synack["ack"]):
        return wrong("That is the SYN-ACK's ack number: one more than the number you want.")
    return wrong("Not the SYN's sequence number. Select the row whose flags are 'S' and read "
                 "its 'seq'.")


# ------------------------------------------------- exercise 5 (predict, then reveal)
SYNACK_LOSS_CHOICES = {
    "a": "Nothing: the server waits for the client to retransmit its SYN.",
    "b": "The same SYN-ACK, about 1 s after it sent the first one.",
    "c": "The same SYN-ACK, about 3 s after it sent the first one.",
    "d": "A new SYN-ACK with a new ISN, about 1 s after the first one.",
}
SYNACK_LOSS_ANSWER = "b"   # Linux TCP_TIMEOUT_INIT = 1 s (include/net/tcp.h), RFC 6298 §2.1


check_synack_loss = choice_check(
    SYNACK_LOSS_CHOICES, SYNACK_LOSS_ANSWER, name="synack_prediction",
    right_message="A listener keeps the half-open connection in SYN-RECEIVED with its own "
                  "retransmission timer, which starts at 1 s (RFC 6298 §2.1). The client's "
                  "SYN timer also runs out at about 1 s, so the client retransmits its SYN "
                  "too, and the server answers that SYN with one more SYN-ACK.",
    hints={
        "a": "The server does not just wait: a connection in SYN-RECEIVED has sent something "
             "(its SYN) that must be acknowledged, and RFC 9293 §3.8.1 says every segment "
             "that occupies sequence space is retransmitted until acknowledged.",
        "c": "3 s was the initial timeout of RFC 1122 (1989). RFC 6298 §2.1 (2011) changed "
             "it, and Linux follows RFC 6298 (TCP_TIMEOUT_INIT in include/net/tcp.h).",
        "d": "A retransmission re-sends the same sequence space: a new ISN would be a new "
             "connection, and the client's ACK of the first one would no longer match.",
    })
check_synack_loss.__doc__ = "Exercise 5: the server's first SYN-ACK is lost. What does the server do?"


@dataclass
class Reveal:
    """What ``reveal_…`` shows: the feedback, then the pictures (only after a prediction)."""
    feedback: Feedback
    figures: list = field(default_factory=list)
    captions: list = field(default_factory=list)

    def _ipython_display_(self):
        from IPython.display import HTML, display
        display(self.feedback)
        for caption, figure in zip(self.captions, self.figures):
            display(HTML(f"<b>{html.escape(caption)}</b>"))
            display(figure)


def reveal_synack_loss(prediction) -> Reveal:
    """Exercise 5's reveal: check the prediction, then draw what Linux and tcpsim do.

    Nothing is drawn until ``prediction`` is one of the choices: predict first.
    """
    feedback = check_synack_loss(prediction)
    if choice_letter(prediction, SYNACK_LOSS_CHOICES, "synack_prediction") not in \
            SYNACK_LOSS_CHOICES:
        return Reveal(feedback)
    from .. import course, plots
    return Reveal(feedback,
                  [plots.ladder(course.capture("synack-loss")),
                   plots.ladder(course.simulate("synack-loss"))],
                  ["The real Linux kernel (data/captures/synack-loss.pcap)",
                   "tcpsim, linux profile, the same scenario"])


# --------------------------------------------------------- exercise 6 (build a scenario)
def check_etimedout_scenario(scenario, limit_s: float = 10.0) -> Feedback:
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


def _connect_time(scenario, host) -> float:
    if isinstance(scenario, dict):
        for action in scenario.get("actions", []):
            if (isinstance(action, dict) and action.get("do") == "connect"
                    and action.get("host") == host):
                return float(action.get("at") or 0.0)
    return 0.0


# -------------------------------------------------------------- exercise 4 (explain)
THIRD_SEGMENT_CHOICES = {
    "a": "The third segment carries the client's first data, which the server needs "
         "before accept() can return.",
    "b": "Only the third segment proves that the client received the server's ISN: until "
         "then the SYN may be an old duplicate or come from a forged address.",
    "c": "The server learns the client's window size only from the third segment.",
    "d": "The server does not store its ISN; when the ACK arrives it recomputes it from "
         "the addresses and only then can create the socket.",
}
THIRD_SEGMENT_ANSWER = "b"   # RFC 9293 §3.5, Figure 9 (old duplicate SYN); RFC 4987


check_third_segment_reason = choice_check(
    THIRD_SEGMENT_CHOICES, THIRD_SEGMENT_ANSWER, name="third_segment_reason",
    right_message="The ACK of the third segment can only be right if the client saw the "
                  "SYN-ACK, so the client is alive, at that address, and wants *this* "
                  "connection (RFC 9293 §3.5). Until then the server keeps only a small "
                  "request entry, which also limits what a SYN flood can cost it.",
    hints={
        "a": "Look at the capture: on Linux the third segment has len = 0, yet accept() "
             "returns when it arrives.",
        "c": "The client's window is already in its SYN (not scaled there, RFC 7323 §2.2).",
        "d": "That is how SYN cookies work, a special mode Linux uses only under a SYN "
             "flood (RFC 4987 §3.6). Normally the server stores its ISN in the request entry.",
    })
check_third_segment_reason.__doc__ = ("Exercise 4: why the connection exists on the server "
                                      "only after the third segment.")


# --------------------------------------------------------- quick check (predict widget)
REFUSED_CHOICES = {
    "a": "Nothing: the SYN is ignored and connect() times out after about two minutes.",
    "b": "A RST+ACK at once, and connect() fails with ECONNREFUSED.",
    "c": "A SYN-ACK, then a RST when the client's ACK arrives.",
    "d": "An ICMP 'port unreachable' message.",
}
REFUSED_ANSWER = "b"   # RFC 9293 §3.10.7.1 (segment arrives in state CLOSED)


check_refused = choice_check(
    REFUSED_CHOICES, REFUSED_ANSWER,
    right_message="RFC 9293 §3.10.7.1: a segment for a connection that does not exist "
                  "(state CLOSED) is answered with a reset. The SYN had no ACK, so the "
                  "reset carries ACK = the SYN's seq + 1 and seq 0.",
    hints={
        "a": "That is what a firewall that drops packets causes. A host whose TCP gets a SYN "
             "for a port without a listener answers it itself: RFC 9293 §3.10.7.1.",
        "c": "A SYN-ACK would mean that somebody listens on that port.",
        "d": "ICMP port unreachable is how a host answers UDP to a closed port. TCP has its "
             "own way to say no.",
    })
check_refused.__doc__ = "Quick check: a client connects to a port on which nothing listens."
