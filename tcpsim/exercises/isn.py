"""Exercises of notebook 03, initial sequence numbers and SYN cookies.

| exercise | kind | shown with | judged by (returns Feedback) | graded cell calls |
|---|---|---|---|---|
| 1 | compute, randomized | ``clock_question(seed)`` | ``judge_next_clock_isn`` | ``check_next_clock_isn`` |
| 2 | build a scenario (attack, then defence) | | ``judge_spoof_scenarios`` | ``check_spoof_scenarios`` |
| 3 | compute, randomized | ``cookie_question(seed)`` | ``judge_cookie_mss`` | ``check_cookie_mss`` |
| 4 | predict, then reveal, randomized | ``stale_question(seed)``, ``stale_choices(seed)`` | ``judge_stale_segment`` | ``reveal_stale_segment`` |
| 5 | explain in words (graded by hand) | | | |
| section 5 | predict widget (ungraded) | ``COOKIE_ACK_LOSS_CHOICES`` | ``check_cookie_ack_loss`` | |

As in ``handshake.py`` (notebook 02, the model): a ``judge_…`` decides and gives the
feedback, and is what the hidden tests run in a fresh process (``GRADED``, ``python -I -m
tcpsim.exercises.grade``); a ``check_…`` runs the same judge on the answer as the hidden
test receives it (``answers.as_sent``), shows the feedback and returns nothing.

What is right is decided here, from the student's seed: the numbers of exercises 1 and 3
(``clock_numbers``, ``cookie_numbers``: standard library only, as ``answers.py``), and the
outcomes of exercises 2 and 4 by running the simulator (``tcpsim.isn_experiments``), which
``tests/test_isn_experiments.py`` and ``tests/test_notebook03_claims.py`` hold to the RFCs
and to the kernel's captures. Exercise 4's right choice depends on the student's numbers, so
it is computed, not sealed; its choices are shuffled per student all the same.
"""
from __future__ import annotations

import copy
import html
import json
import random
from dataclasses import dataclass

from . import answers
from .answers import SEQ_SPACE
from .feedback import Feedback, judge_as_sent, right, show, whole_number, wrong
from .handshake import Choices, NoQuestion, Reveal, _choices, _judge_choice

NO_ID_MESSAGE = (
    "STUDENT_ID is still 'anonymous', so there are no numbers for you yet. Every student "
    "gets their own ISNs, cookies and segments from their id, and the autograder grades you "
    "against the id in your notebook: with the default id your answers cannot count. Put "
    "your student id (the one you hand in under) in the first code cell, run it, then run "
    "this cell again.")

CLOCK_TICK_US = 4           # RFC 9293 §3.4.1 (RFC 793): the ISN clock ticks every 4 µs
LINUX_TICK_NS = 64          # net/core/secure_seq.c: ktime_get_real_ns() >> 6


# ------------------------------------------------------- exercise 1 (predict a clock ISN)
def clock_numbers(seed: int) -> dict:
    """Exercise 1: the ISN a host with RFC 793's clock sent at ``seen_at_us`` (µs), and the
    time ``next_at_us`` of the next connection's SYN. The clock wraps in between for every
    student (seen + ticks > 2^32)."""
    rng = random.Random(f"03-clock-{seed}")
    ticks = rng.randint(50_000_000, 2_500_000_000)        # 200 s to 10000 s of clock
    seen_at_us = CLOCK_TICK_US * rng.randint(250_000, 25_000_000)   # 1 s to 100 s
    seen_isn = SEQ_SPACE - rng.randint(1, ticks - 1)
    return {"seen_isn": seen_isn, "seen_at_us": seen_at_us,
            "next_at_us": seen_at_us + CLOCK_TICK_US * ticks}


def expected_next_clock_isn(seed: int) -> int:
    n = clock_numbers(seed)
    return (n["seen_isn"] + (n["next_at_us"] - n["seen_at_us"]) // CLOCK_TICK_US) % SEQ_SPACE


def _seconds(us: int) -> str:
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


@dataclass(frozen=True)
class ClockQuestion:
    seed: int
    seen_isn: int
    seen_at_s: str
    next_at_s: str

    def _repr_html_(self) -> str:
        return ("<table style='font-family: monospace'>"
                f"<tr><td>ISN in the server's SYN-ACK sent at t = {self.seen_at_s} s</td>"
                f"<td><b>{self.seen_isn}</b></td></tr>"
                f"<tr><td>the next connection's SYN arrives at t =</td>"
                f"<td><b>{self.next_at_s}</b> s</td></tr></table>")

    def __repr__(self) -> str:
        return (f"ISN {self.seen_isn} at t = {self.seen_at_s} s; next SYN at t = "
                f"{self.next_at_s} s")


def clock_question(seed: int):
    """Exercise 1's numbers for this student, or a refusal for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion(NO_ID_MESSAGE)
    n = clock_numbers(seed)
    return ClockQuestion(seed, n["seen_isn"], _seconds(n["seen_at_us"]),
                         _seconds(n["next_at_us"]))


def judge_next_clock_isn(predicted_isn, seed: int) -> Feedback:
    """Exercise 1: the ISN of the next connection, from one ISN of a 4 µs clock."""
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    value = whole_number(predicted_isn, "predicted_isn")
    if isinstance(value, Feedback):
        return value
    n = clock_numbers(seed)
    want = expected_next_clock_isn(seed)
    if value == want:
        return right("The clock's ticks since the ISN you saw, added modulo 2^32: whoever "
                     "sees one ISN of a clock-driven host knows every later one. That is all "
                     "the attack of section 3 needs.")
    elapsed_us = n["next_at_us"] - n["seen_at_us"]
    if value >= SEQ_SPACE:
        return wrong(f"predicted_isn = {value} does not fit in 32 bits: the clock is a 32-bit "
                     "counter, it wraps around to 0 (RFC 9293 §3.4.1).")
    if value == n["seen_isn"]:
        return wrong("That is the ISN you saw: the clock kept ticking between the two "
                     "connections.")
    if value == (want + 1) % SEQ_SPACE:
        return wrong("That is the number an ACK of this SYN-ACK would carry (ISN + 1). The "
                     "question asks for the ISN itself.")
    if value == (n["seen_isn"] + elapsed_us * 1000 // LINUX_TICK_NS) % SEQ_SPACE:
        return wrong("That counts Linux's 64 ns ticks. This host runs RFC 793's clock "
                     "(section 2): how often does it tick?")
    if value == (n["seen_isn"] + elapsed_us) % SEQ_SPACE:
        return wrong("That counts one tick per microsecond. How often does RFC 793's clock "
                     "tick?")
    if value == (n["seen_isn"] - elapsed_us // CLOCK_TICK_US) % SEQ_SPACE:
        return wrong("The clock counts up: the later connection gets the larger number "
                     "(modulo 2^32).")
    if value in (want - 1, (want + 2) % SEQ_SPACE):
        return wrong("Close, but not exact: the time between the two is a whole number of "
                     "ticks. Count them exactly (integers, no rounding of the times).")
    return wrong("How many ticks of the clock lie between the two times? Add them to the ISN "
                 "you saw, modulo 2^32.")


def check_next_clock_isn(predicted_isn, seed: int) -> None:
    """Exercise 1, in the notebook."""
    show(judge_as_sent(judge_next_clock_isn, predicted_isn, seed=seed), "03-ex1",
         predicted_isn)


# --------------------------------------------- exercise 2 (build the attack, then defend)
def _server_strategy(doc) -> str | None:
    try:
        return doc["hosts"]["server"]["options"]["isn_strategy"]
    except (KeyError, TypeError):
        return None


def _without_strategy(doc) -> str:
    doc = copy.deepcopy(doc)
    doc.pop("name", None)
    options = doc.get("hosts", {}).get("server", {}).get("options")
    if isinstance(options, dict):
        options.pop("isn_strategy", None)
    return json.dumps(doc, sort_keys=True)


def _blind_acks(doc) -> list:
    faults = doc.get("faults") if isinstance(doc.get("faults"), list) else []
    return [f["inject"] for f in faults if isinstance(f, dict) and isinstance(
        f.get("inject"), dict) and f["inject"].get("from") == "trusted"
        and "A" in str(f["inject"].get("flags", ""))]


def _attack_hint(doc, trace) -> str:
    from .. import isn_experiments as isnx
    segs = trace.segments
    if (segs["src"] == "trusted").any() and segs[(segs["src"] == "trusted")
                                                 & segs["flags"].str.contains("R")].size:
        return ("The trusted host answered: a RST from it tears the half-open connection "
                "down. Keep it silenced (the drop fault of spoof_scenario).")
    acks = _blind_acks(doc)
    if not acks:
        return ("There is no blind ACK yet: add an inject fault from 'trusted' with flags "
                "'PA', the bytes of the command, and the ack number you predicted.")
    actual = isnx.spoofed_synack(trace)
    if actual is None:
        return ("The server sent no SYN-ACK to the trusted host: keep the spoofed SYN of "
                "spoof_scenario.")
    try:
        _, probe_isn = isnx.probe_synack(trace)
    except ValueError:
        return "Keep the attacker's own SYN (the probe): it is how the attacker sees an ISN."
    ack = acks[-1].get("ack")
    seq = acks[-1].get("seq")
    if seq != isnx.SPOOFED_ISN + 1:
        return ("The ACK's seq must follow the spoofed SYN's: that SYN took one sequence "
                "number (RFC 9293 §3.4).")
    if ack == actual:
        return ("The ACK must acknowledge the server's SYN: its ack number is the server's "
                "ISN plus one.")
    if ack in (probe_isn, (probe_isn + 1) % SEQ_SPACE):
        return ("That is the probe's ISN (or its + 1): the server's clock ran on between the "
                "probe and the spoofed SYN.")
    if _server_strategy(doc) not in ("clock", None):
        return ("The server's ISNs here are not a clock: nobody can predict them. Build the "
                "attack against isn_strategy 'clock'.")
    return ("The server refused the ACK: it did not acknowledge the SYN-ACK it sent. Predict "
            "that SYN-ACK's ISN from the probe's (exercise 1), then add one.")


def judge_spoof_scenarios(my_attack, my_defence, seed: int | None = None) -> Feedback:
    """Exercise 2: ``my_attack`` is a scenario in which the blind-spoofed command reaches the
    server's program; ``my_defence`` is the same scenario with only the server's
    ``isn_strategy`` changed, and the attack fails."""
    from .. import isn_experiments as isnx
    from ..errors import ScenarioError
    from ..simulator import run
    traces = {}
    for name, doc in (("my_attack", my_attack), ("my_defence", my_defence)):
        if not isinstance(doc, dict):
            return wrong(f"{name} must be a scenario dict (start from "
                         "isnx.spoof_scenario('clock')).")
        try:
            traces[name] = run(doc)
        except ScenarioError as error:
            return wrong(f"tcpsim cannot run {name}: {error}")
    if not isnx.spoof_accepted(traces["my_attack"]):
        return wrong("my_attack: the attack failed. " + _attack_hint(my_attack,
                                                                     traces["my_attack"]))
    if _without_strategy(my_attack) != _without_strategy(my_defence):
        return wrong("my_defence must be my_attack with one change: the server's "
                     "options.isn_strategy. Copy my_attack (copy.deepcopy) and change only "
                     "that.")
    if _server_strategy(my_defence) == _server_strategy(my_attack):
        return wrong("my_defence uses the same ISN strategy as my_attack: change the server's "
                     "options.isn_strategy.")
    if _server_strategy(my_defence) == "zero":
        return wrong("my_defence: ISNs that are always 0 are the easiest of all to predict: "
                     "the attacker would simply send ack = 1. Which strategy makes the ISN "
                     "of one 4-tuple impossible to compute from another's (RFC 9293 §3.4.1, "
                     "MUST-9)?")
    if isnx.spoof_accepted(traces["my_defence"]):
        return wrong(f"my_defence: the attack still works with isn_strategy "
                     f"{_server_strategy(my_defence)!r}: those ISNs are as predictable as the "
                     "clock's. Which strategy makes the ISN of one 4-tuple impossible to "
                     "compute from another's (RFC 9293 §3.4.1, MUST-9)?")
    return right("The same attack, the same prediction: with a clock the server's program ran "
                 "the command, with RFC 6528's keyed hash (or random ISNs) the blind ACK "
                 "missed and the server answered it with a RST the attacker never saw.")


def check_spoof_scenarios(my_attack, my_defence) -> None:
    """Exercise 2, in the notebook."""
    show(judge_as_sent(judge_spoof_scenarios, my_attack, my_defence), "03-ex2",
         (my_attack, my_defence))


# ------------------------------------------------------- exercise 3 (read a SYN cookie)
CLIENT_MSS_CHOICES = (536, 1024, 1200, 1220, 1280, 1300, 1360, 1380, 1400, 1420, 1440, 1452,
                      1460, 8960, 65495)


def cookie_numbers(seed: int) -> dict:
    """Exercise 3: a SYN (ISN, MSS) and the cookie a Linux listener answered it with, with
    the listener's two hashes for that 4-tuple (syncookies.py), from a secret of this
    student's."""
    from ..syncookies import COOKIEMASK, _cookie_hash, cookie_count, make_cookie
    rng = random.Random(f"03-cookie-{seed}")
    secret = rng.getrandbits(128).to_bytes(16, "big")
    four_tuple = (f"192.0.2.{rng.randint(1, 254)}", "198.51.100.7", rng.randint(32768, 60999),
                  443)
    client_isn = rng.randrange(SEQ_SPACE)
    client_mss = rng.choice(CLIENT_MSS_CHOICES)
    now_s = rng.uniform(60, 86400)
    count = cookie_count(now_s)
    cookie, mss = make_cookie(secret, four_tuple, client_isn, client_mss, now_s)
    return {"four_tuple": four_tuple, "client_isn": client_isn, "client_mss": client_mss,
            "cookie": cookie, "count": count & 0xFF,
            "h0": _cookie_hash(secret, four_tuple, 0, 0) & 0xFFFFFFFF,
            "h1": _cookie_hash(secret, four_tuple, count, 1) & COOKIEMASK, "mss": mss}


@dataclass(frozen=True)
class CookieQuestion:
    seed: int
    client: str
    client_isn: int
    client_mss: int
    cookie: int
    count: int
    h0: int
    h1: int

    def _repr_html_(self) -> str:
        rows = [("the SYN (from " + self.client + ")",
                 f"seq {self.client_isn}, MSS option {self.client_mss}"),
                ("the SYN-ACK's ISN (the cookie)", str(self.cookie)),
                ("the listener's minute counter, low 8 bits", str(self.count)),
                ("H0 = hash(4-tuple, secret 0), 32 bits", str(self.h0)),
                ("H1 = hash(4-tuple, count, secret 1), low 24 bits", str(self.h1))]
        body = "".join(f"<tr><td>{html.escape(a)}</td><td><b>{b}</b></td></tr>"
                       for a, b in rows)
        return f"<table style='font-family: monospace'>{body}</table>"

    def __repr__(self) -> str:
        return (f"SYN from {self.client}: seq {self.client_isn}, MSS {self.client_mss}; "
                f"cookie {self.cookie}; count {self.count}; H0 {self.h0}; H1 {self.h1}")


def cookie_question(seed: int):
    """Exercise 3's numbers for this student, or a refusal for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion(NO_ID_MESSAGE)
    n = cookie_numbers(seed)
    client = f"{n['four_tuple'][0]}:{n['four_tuple'][2]}"
    return CookieQuestion(seed, client, n["client_isn"], n["client_mss"], n["cookie"],
                          n["count"], n["h0"], n["h1"])


def judge_cookie_mss(cookie_mss, seed: int) -> Feedback:
    """Exercise 3: the MSS the connection rebuilt from this cookie will use."""
    from ..syncookies import MSSTAB
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    value = whole_number(cookie_mss, "cookie_mss")
    if isinstance(value, Feedback):
        return value
    n = cookie_numbers(seed)
    if value == n["mss"]:
        return right("The low 24 bits, less H1, leave the index into msstab; the listener "
                     "kept nothing else about this SYN. The client asked for "
                     f"{n['client_mss']}: a cookie connection can only round it down to one "
                     "of four values.")
    if 0 <= value < len(MSSTAB):
        return wrong("That is an index, 0 to 3. The connection's MSS is the table entry it "
                     "points to (msstab, section 5).")
    if value == n["client_mss"]:
        return wrong("That is the MSS the client asked for. A cookie has room for two bits "
                     "of MSS: an index into a table of four values. Which entry does the "
                     "cookie hold?")
    if value in MSSTAB and value > n["mss"]:
        return wrong("The cookie's table entry is never above the client's MSS: the client "
                     "could not receive larger segments. Decode the index from the cookie.")
    if value in MSSTAB:
        return wrong("Not that entry. Decode the index: subtract H0 and the SYN's seq, drop "
                     "the top 8 bits (the counter), subtract H1, all modulo 2^24.")
    return wrong("A cookie connection's MSS is one of the four msstab values. Subtract H0 "
                 "and the SYN's seq from the cookie, keep the low 24 bits, subtract H1 "
                 "(modulo 2^24): that is the index.")


def check_cookie_mss(cookie_mss, seed: int) -> None:
    """Exercise 3, in the notebook."""
    show(judge_as_sent(judge_cookie_mss, cookie_mss, seed=seed), "03-ex3", cookie_mss)


# ------------------------------------------ exercise 4 (predict, then reveal: a stale segment)
STALE_CHOICES = {     # keys are the authors' order; students see them shuffled
    "a": "Accepted: its bytes reach the server's program as if they were new data.",
    "b": "Not acceptable (outside the window): dropped, and the server answers with an ACK.",
    "c": "Answered with a RST, which resets the new connection.",
    "d": "Dropped silently: the server sees that it belongs to the old connection.",
}
STALE_OLD_SEGMENTS = 20     # the old incarnation sent 20 full segments


def stale_numbers(seed: int) -> dict:
    """Exercise 4: the ISN strategy, the gap between incarnations, which old segment comes
    back (``k``, from 0) and how many bytes the new connection has received by then."""
    from ..isn_experiments import SEGMENT_BYTES
    rng = random.Random(f"03-stale-{seed}")
    strategy = rng.choice(("zero", "zero", "clock"))
    k = rng.randint(0, STALE_OLD_SEGMENTS - 1)
    ahead = rng.random() < 0.5      # zero: the stale data is at or past RCV.NXT, or below it
    if ahead:                       # it starts right at RCV.NXT: delivered at once if acceptable
        received = k * SEGMENT_BYTES
    else:
        received = rng.randint((k + 1) * SEGMENT_BYTES, (STALE_OLD_SEGMENTS + 10) *
                               SEGMENT_BYTES)
    return {"strategy": strategy, "gap_s": float(rng.randint(3, 30)), "k": k,
            "received": received}


def _stale_run(seed: int):
    from .. import isn_experiments as isnx
    n = stale_numbers(seed)
    return isnx.stale_trace(n["strategy"], n["gap_s"], n["k"], n["received"],
                            old_bytes=STALE_OLD_SEGMENTS * isnx.SEGMENT_BYTES, seed=seed)


@dataclass(frozen=True)
class StaleQuestion:
    seed: int
    strategy: str
    gap_s: float
    rows: tuple          # (what, value)

    def _repr_html_(self) -> str:
        body = "".join(f"<tr><td>{html.escape(a)}</td><td><b>{b}</b></td></tr>"
                       for a, b in self.rows)
        return f"<table style='font-family: monospace'>{body}</table>"

    def __repr__(self) -> str:
        return "\n".join(f"{a}: {b}" for a, b in self.rows)


def stale_question(seed: int):
    """Exercise 4's situation for this student (numbers from the simulator's run), or a
    refusal for the default id."""
    from ..isn_experiments import SEGMENT_BYTES
    if seed == answers.DEFAULT_SEED:
        return NoQuestion(NO_ID_MESSAGE)
    n = stale_numbers(seed)
    trace, (seq, ack) = _stale_run(seed)
    syns = trace.segments[trace.segments["flags"].isin(["S", "SA"])]
    isn = {(int(r["conn"]), r["flags"]): int(r["seq"]) for _, r in syns.iterrows()}
    rows = (("ISN strategy of both hosts", n["strategy"]),
            ("old incarnation: client ISN, server ISN", f"{isn[(0, 'S')]}, {isn[(0, 'SA')]}"),
            ("new incarnation (connect at t = %g s): client ISN, server ISN" % n["gap_s"],
             f"{isn[(1, 'S')]}, {isn[(1, 'SA')]}"),
            ("bytes the server has received on the new connection", str(n["received"])),
            ("the server's receive window RCV.WND", "65535"),
            ("data the server has sent on either connection", "none"),
            ("the stale segment (client → server): seq, len, ack",
             f"{seq}, {SEGMENT_BYTES}, {ack}"))
    return StaleQuestion(seed, n["strategy"], n["gap_s"], rows)


def stale_choices(seed: int) -> Choices:
    """Exercise 4's choices, in this student's order."""
    return _choices("03-ex4", STALE_CHOICES, seed)


def stale_accepted(seed: int) -> bool:
    """Exercise 4's truth: did the server's program read the stale bytes in the run?"""
    n = stale_numbers(seed)
    trace, _ = _stale_run(seed)
    events = trace.events
    reads = events[(events["host"] == "server") & (events["call"] == "read")
                   & (events["conn"] == 1)]
    got = sum(r for r in reads["result"] if isinstance(r, int) and not isinstance(r, bool))
    return got > n["received"]


def judge_stale_segment(stale_prediction, seed: int) -> Feedback:
    """Exercise 4: what the new incarnation does with the stale segment."""
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    letters = list(answers.letters_for("03-ex4", seed, STALE_CHOICES))
    if stale_prediction is None or stale_prediction is Ellipsis:
        return wrong(f"stale_prediction has no value yet: set it to one of "
                     f"{', '.join(map(repr, letters))}.")
    key = answers.choice_key("03-ex4", seed, STALE_CHOICES, stale_prediction)
    if key is None:
        return wrong(f"stale_prediction must be one of {', '.join(map(repr, letters))}; "
                     f"you gave {stale_prediction!r}.")
    accepted = stale_accepted(seed)
    want = "a" if accepted else "b"
    if key == want:
        if accepted:
            return right("Its sequence numbers fall inside the new window, and nothing else "
                         "in a segment tells one incarnation from another: the old bytes are "
                         "delivered as new data. That is why the ISN must not start again "
                         "where the last incarnation did.")
        return right("Its sequence numbers lie outside [RCV.NXT, RCV.NXT + RCV.WND): RFC "
                     "9293 §3.10.7.4 drops it and answers <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. "
                     "The ISNs kept the old numbers away from the new window.")
    if key == "c":
        return wrong("A RST answers a segment for which no connection exists (RFC 9293 "
                     "§3.5.2). Here the 4-tuple has a connection, the new incarnation: what "
                     "does §3.10.7.4 do with a segment, in or out of its window?")
    if key == "d":
        return wrong("Nothing in a segment says which incarnation sent it: the 4-tuple is the "
                     "same. The receiver can only compare SEG.SEQ with RCV.NXT and RCV.WND.")
    if key == "a":
        return wrong("Compute SEG.SEQ − RCV.NXT modulo 2^32 (RCV.NXT = the new client ISN + 1 "
                     "+ the bytes received): do the segment's first or last byte fall inside "
                     "the window?")
    return wrong("Check both ends of the segment against [RCV.NXT, RCV.NXT + RCV.WND), "
                 "modulo 2^32 (RCV.NXT = the new client ISN + 1 + the bytes received), and "
                 "the ack against the server's SND.NXT.")


def stale_reveal(stale_prediction, seed: int) -> Reveal:
    """Exercise 4's reveal: the feedback, then the run's last segments and what the server
    made of the stale one, only once the prediction is one of the choices."""
    feedback = judge_as_sent(judge_stale_segment, stale_prediction, seed=seed)
    if seed == answers.DEFAULT_SEED or answers.choice_key(
            "03-ex4", seed, STALE_CHOICES, stale_prediction) is None:
        return Reveal(feedback)
    from .. import plots
    trace, _ = _stale_run(seed)
    segs = trace.segments
    injected = segs.index[segs["injected"].fillna(False).astype(bool)]
    first = int(injected[0])
    figure = plots.ladder(trace, segments=(first, min(first + 3, len(segs))),
                          labels="absolute", ignored=True)
    return Reveal(feedback, [figure], ["tcpsim (rfc9293 profile): the stale segment arrives"])


def reveal_stale_segment(stale_prediction, seed: int) -> None:
    """Exercise 4, in the notebook: the feedback, then the ladder."""
    stale_reveal(stale_prediction, seed).show("03-ex4", stale_prediction)


# --------------------------------------------------------- quick check (predict widget)
COOKIE_ACK_LOSS_CHOICES = {    # one line each: the predict widget shows them as radio buttons
    "a": "It retransmits its SYN-ACK after 1 s, as any listener does.",
    "b": "Nothing: it kept no state, so it has nothing to retransmit; the client's data "
         "completes the connection.",
    "c": "It sends a RST when its SYN-ACK timer expires.",
    "d": "It sends a new SYN-ACK with a new cookie when the minute counter advances.",
}


def check_cookie_ack_loss(letter) -> Feedback:
    """Quick check (ungraded, for the predict widget): a listener sent a SYN cookie and the
    client's third segment is lost; what does the listener do? Returns the Feedback."""
    return _judge_choice("03-cookie-ack-loss", COOKIE_ACK_LOSS_CHOICES, None, letter, "answer")


# ------------------------------------------ what the hidden tests run (tcpsim.exercises.grade)
# exercise: (judge, the names of its answers in the notebook); every judge takes seed=
GRADED = {
    "03-ex1": (judge_next_clock_isn, ("predicted_isn",)),
    "03-ex2": (judge_spoof_scenarios, ("my_attack", "my_defence")),
    "03-ex3": (judge_cookie_mss, ("cookie_mss",)),
    "03-ex4": (judge_stale_segment, ("stale_prediction",)),
}
