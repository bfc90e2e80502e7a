"""Exercises of notebook 06, loss and reordering.

| exercise | kind | shown with | judged by (returns Feedback) | graded cell calls |
|---|---|---|---|---|
| 1 | compute, randomized | ``rto_question(seed)`` | ``judge_rto`` | ``check_rto`` |
| 2 | read a capture with pandas, randomized | ``retransmissions_capture(seed)`` | ``judge_capture_retransmissions`` | ``check_capture_retransmissions`` |
| 3 | predict, then reveal, randomized | ``recovery_question(seed)`` | ``judge_recovery`` | ``reveal_recovery`` |
| 4 | build a scenario | | ``judge_wireshark_wrong`` | ``check_wireshark_wrong`` |
| 5 | explain in words (graded by hand, instructors/README.md) | | | |
| section 3 | predict widget (ungraded) | ``REORDER_CHOICES`` | ``check_reorder`` | |

As in ``handshake.py`` (notebook 02, the model): a ``judge_…`` decides and gives the
feedback, and is what the hidden tests run in a fresh process (``GRADED``, ``python -m
tcpsim.exercises.grade``); a ``check_…`` runs the same judge on the answer as the hidden
test receives it (``answers.as_sent``), shows the feedback and returns nothing.

Where the numbers come from: exercise 1's RTT samples from the seed, the answer from RFC 6298
§2 (``retransmissions.rto_steps``, the endpoint's own estimator); exercise 2's capture is
picked from the seed, its answer known here only as digests (``CAPTURE_DIGESTS``, which
tests/test_notebook06_claims.py recomputes from the captures); exercise 3's loss pattern from
the seed, the answer from running it through the ``rfc9293`` profile (3 duplicate ACKs, RTO
at least 1 s), which tests/test_notebook06_claims.py holds to RFC 5681 and RFC 6298 by hand;
exercise 4 runs the student's scenario and asks ``tcpsim.wireshark`` whether a label is wrong.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

from . import answers
from .feedback import Feedback, judge_as_sent, right, show, whole_number, wrong
from .handshake import NoQuestion

NO_ID_MESSAGE = (
    "STUDENT_ID is still 'anonymous', so there is no question for you yet. Every student "
    "gets their own numbers and their own capture from their id, and the autograder grades "
    "you against the id in your notebook: with the default id your answers cannot count. Put "
    "your student id (the one you hand in under) in the first code cell, run it, then run "
    "this cell again.")


def _no_value(value) -> bool:
    return value is None or value is Ellipsis or value == "Ellipsis"


def _number(value, name: str, unit: str):
    """A number (int or float, not bool; or a string of a decimal number, what a numpy float
    becomes on its way to the hidden test), or a Feedback saying why not."""
    if _no_value(value):
        return wrong(f"{name} has no value yet: replace the ... with your answer.")
    if isinstance(value, bool):
        return wrong(f"{name} must be a number of {unit}, not {value}.")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return wrong(f"{name} must be a number of {unit}; you gave {value!r}.")
    else:
        return wrong(f"{name} must be a number of {unit}; you gave {value!r}.")
    if not math.isfinite(number):
        return wrong(f"{name} must be a finite number of {unit}.")
    return number


# ------------------------------------------------------------- exercise 1 (the RTO)
RTO_SAMPLES = 3
RTO_TOLERANCE_MS = 0.5        # answers rounded to the millisecond or finer are right


def rto_samples_ms(seed: int) -> list:
    """Exercise 1: this student's three RTT samples, whole milliseconds (a long path)."""
    rng = random.Random(f"06-rto-{seed}")
    first = rng.randint(150, 600)
    return [first] + [max(20, first + rng.randint(-120, 240)) for _ in range(RTO_SAMPLES - 1)]


@dataclass(frozen=True)
class RtoQuestion:
    samples_ms: tuple

    def _repr_html_(self) -> str:
        items = "".join(f"<li>sample {k}: R = <b>{r} ms</b></li>"
                        for k, r in enumerate(self.samples_ms, start=1))
        return (f"<p>A new connection (no sample before these) measures, in this order:</p>"
                f"<ul>{items}</ul>")

    def __repr__(self) -> str:
        return "RTT samples, in order: " + ", ".join(f"{r} ms" for r in self.samples_ms)


def rto_question(seed: int):
    """Exercise 1's question for this student, or a refusal for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion(NO_ID_MESSAGE)
    return RtoQuestion(tuple(rto_samples_ms(seed)))


def _steps(samples_ms, alpha=1 / 8, beta=1 / 4, first_var=0.5, var_first=True, k=4,
           floor_ms=1000.0):
    """RFC 6298 §2 in milliseconds, with knobs for the typical mistakes."""
    srtt = rttvar = None
    for r in samples_ms:
        if srtt is None:
            srtt, rttvar = r, r * first_var
        elif var_first:
            rttvar = (1 - beta) * rttvar + beta * abs(srtt - r)
            srtt = (1 - alpha) * srtt + alpha * r
        else:
            srtt = (1 - alpha) * srtt + alpha * r
            rttvar = (1 - beta) * rttvar + beta * abs(srtt - r)
    rto = srtt + max(1.0, k * rttvar)             # §2.3 with G = 1 ms
    return {"srtt_ms": srtt, "rttvar_ms": rttvar, "rto_ms": max(floor_ms, rto)}


def expected_rto(seed: int) -> dict:
    """Exercise 1: SRTT, RTTVAR and RTO (ms) after the samples, RFC 6298 §2 (rfc9293
    profile: RTO at least 1 s, at most 60 s). Computed by ``retransmissions.rto_steps``."""
    from ..retransmissions import rto_steps
    last = rto_steps([r / 1000 for r in rto_samples_ms(seed)], "rfc9293").iloc[-1]
    return {"srtt_ms": float(last["srtt_s"]) * 1000, "rttvar_ms": float(last["rttvar_s"]) * 1000,
            "rto_ms": float(last["rto_s"]) * 1000}


MISTAKES = (   # (knobs of _steps, the idea missed)
    ({"first_var": 1.0}, "the first sample sets RTTVAR to R/2, not R (RFC 6298 §2.2)"),
    ({"var_first": False}, ("RTTVAR is updated first, with the *old* SRTT; only then SRTT "
                            "(RFC 6298 §2.3: the order matters)")),
    ({"alpha": 1 / 4, "beta": 1 / 8}, ("alpha (1/8) weighs the new sample into SRTT, beta "
                                       "(1/4) into RTTVAR (RFC 6298 §2.3): they are swapped")),
    ({"k": 1}, "RTO = SRTT + K·RTTVAR with K = 4 (RFC 6298 §2.3)"),
    ({"floor_ms": 0.0}, ("RFC 6298 §2.4: whenever RTO is computed below 1 second it is "
                         "rounded up to 1 second")),
    ({"floor_ms": 200.0}, ("this exercise follows RFC 6298 (1 second minimum), not Linux's "
                           "200 ms floor")),
)


def _close(a, b) -> bool:
    return abs(a - b) <= RTO_TOLERANCE_MS


def judge_rto(srtt_ms, rttvar_ms, rto_ms, seed: int) -> Feedback:
    """Exercise 1: SRTT, RTTVAR and RTO in milliseconds after this student's samples."""
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    given = {}
    for name, value in (("srtt_ms", srtt_ms), ("rttvar_ms", rttvar_ms), ("rto_ms", rto_ms)):
        number = _number(value, name, "milliseconds")
        if isinstance(number, Feedback):
            return number
        given[name] = number
    want = expected_rto(seed)
    wrong_names = [n for n in want if not _close(given[n], want[n])]
    if not wrong_names:
        return right("SRTT follows the samples slowly (1/8 of each new one), RTTVAR measures how "
                     "much they jump, and the RTO leaves room for four of those jumps; a "
                     "lower RTO would fire on a merely slow ACK.")
    samples = rto_samples_ms(seed)
    if all(0 < given[n] < 10 for n in given) and all(want[n] > 10 for n in want):
        return wrong("The samples are in milliseconds and so are the answers: you seem to "
                     "have given seconds.")
    hints = []
    for knobs, idea in MISTAKES:
        alternative = _steps(samples, **knobs)
        if all(_close(given[n], alternative[n]) for n in wrong_names) and \
                any(not _close(alternative[n], want[n]) for n in wrong_names):
            hints.append(idea)
    if hints:
        return wrong(f"{', '.join(wrong_names)}: " + "; ".join(hints[:2]) + ".")
    if "srtt_ms" in wrong_names and _close(given["srtt_ms"], sum(samples) / len(samples)):
        return wrong("srtt_ms: SRTT is not the mean of the samples but a moving average that "
                     "weighs each new sample by 1/8 (RFC 6298 §2.3).")
    if "srtt_ms" in wrong_names and _close(given["srtt_ms"], samples[-1]):
        return wrong("srtt_ms: SRTT remembers the earlier samples too: start from the first "
                     "(§2.2) and update it once per later sample (§2.3).")
    if wrong_names == ["rto_ms"]:
        return wrong("rto_ms: SRTT and RTTVAR are right; apply §2.3's formula to them, then "
                     "§2.4's lower bound.")
    return wrong(f"{', '.join(wrong_names)}: go through RFC 6298 §2.2 for the first sample "
                 "and §2.3 for each later one, in order, keeping the fractions.")


def check_rto(srtt_ms, rttvar_ms, rto_ms, seed: int) -> None:
    """Exercise 1, in the notebook."""
    show(judge_as_sent(judge_rto, srtt_ms, rttvar_ms, rto_ms, seed=seed), "06-ex1",
         (srtt_ms, rttvar_ms, rto_ms))


# ------------------------------------- exercise 2 (the retransmissions of a real capture)
CAPTURE_POOL = ("data-rto", "reorder", "paced-noread", "data-loss-tail", "fin-loss",
                "loss-5pct", "synack-loss")
# digest("06-ex2", sorted frames of the retransmissions) and digest("06-ex2-needed", the
# sorted frames of those that were needed), per capture; tests/test_notebook06_claims.py
# recomputes them from the captures (retransmissions.retransmissions).
CAPTURE_DIGESTS = {
    "data-rto": ("17dedcf671f29333f7f5e4a4f8d826a9a1eec6969fce149760370e6965273f6f",
                 "a1978825a8373f541fbde27d458bf4a5691d18bf96aeef2833053e8ec1764a57"),
    "reorder": ("deea4f95c21a409f2a59ea6215cd7c2f0473c5702085490c5d0083f10dc8b1d3",
                "f3c78e17adaa94ba9d895ca58cb61bd01fe609701db303190cbad7bdea5b74ca"),
    "paced-noread": ("4fcf312becdce9891ff5438a637cd9112085e7b5e4c5bb9981f4b045d7d072cf",
                     "f3c78e17adaa94ba9d895ca58cb61bd01fe609701db303190cbad7bdea5b74ca"),
    "data-loss-tail": ("5c9d32b72c0926ae3f342f8598584cdc7f6f55c33cd2dc9b54f12aade526f1a0",
                       "6535a76bd4d415f45948531398023d87f47949a7811f30abce2fff98129bcdde"),
    "fin-loss": ("c49810ff48bd74e529d7806136a27724353793c16a0c47ab830d6daa2a84985d",
                 "f846b7d8d0a3227e70fc1fe3a6f93786696ea53defb0916272aa0bcc607a9fdf"),
    "loss-5pct": ("e4b41f19696dd06d93e660affc051ab28a80b58eccb3947bc5090a0494af9c76",
                  "7d93a1be0522cf1e04d74e8a5d9940ed98a42d3d881cf66707583cdfb2ed8dd6"),
    "synack-loss": ("f4b636a59e0e85292b91f8a3cdc44c1ecb008888f4d48c359e70a0ab824c8bbe",
                    "2574267a35ff81a0e1a0ba30e35256a787e49fe44ffb017ec612d42316cefec4"),
}


def retransmissions_capture(seed: int):
    """Exercise 2: the shipped capture this student examines (a name for
    ``course.capture``), or a refusal for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion(NO_ID_MESSAGE)
    return CAPTURE_POOL[answers.pick("06-ex2", seed, len(CAPTURE_POOL))]


def frames_digest(exercise: str, frames) -> str:
    return answers.digest(exercise, ",".join(str(f) for f in sorted(frames)))


def _frames(value, name: str):
    """A list of frame numbers (whole numbers, by the course's one rule), or a Feedback."""
    if _no_value(value):
        return wrong(f"{name} has no value yet: a list of frame numbers, [] if none.")
    if isinstance(value, (str, dict)) or not hasattr(value, "__iter__"):
        return wrong(f"{name} must be a list of frame numbers (the 'frame' column), "
                     f"[] if none; you gave {value!r}.")
    out = []
    for item in value:
        number = whole_number(item, f"{name}: each frame")
        if isinstance(number, Feedback):
            return number
        out.append(number)
    if len(set(out)) != len(out):
        return wrong(f"{name} names a frame twice.")
    return out


def _capture_facts(name: str):
    """(segments, {frame: needed} of the retransmissions) of a shipped capture."""
    from .. import course
    from ..retransmissions import retransmissions
    trace = course.capture(name)
    segments = trace.segments
    frame_of = dict(zip(segments["i"], segments["frame"]))
    table = retransmissions(trace)
    return segments, {int(frame_of[i]): bool(n) for i, n in zip(table["i"], table["needed"])}


def judge_capture_retransmissions(retransmitted_frames, needed_frames, seed: int) -> Feedback:
    """Exercise 2: every retransmission of the student's capture (frame numbers), and which
    of them were needed (every earlier copy of their bytes lost)."""
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    name = retransmissions_capture(seed)
    sent = _frames(retransmitted_frames, "retransmitted_frames")
    if isinstance(sent, Feedback):
        return sent
    needed = _frames(needed_frames, "needed_frames")
    if isinstance(needed, Feedback):
        return needed
    right_sent = frames_digest("06-ex2", sent) == CAPTURE_DIGESTS[name][0]
    right_needed = frames_digest("06-ex2-needed", needed) == CAPTURE_DIGESTS[name][1]
    if right_sent and right_needed:
        return right("A retransmission re-sends sequence space already sent; it was needed "
                     "only if no earlier copy reached the receiver. The sender cannot know "
                     "that when it re-sends; a D-SACK from the receiver (RFC 2883) tells it "
                     "afterwards.")
    segments, facts = _capture_facts(name)    # only to explain the wrong answer
    by_frame = {int(f): row for f, row in zip(segments["frame"], segments.to_dict("records"))}
    problems = []
    if not right_sent:
        strange = [f for f in sent if f not in facts]
        unknown = [f for f in strange if f not in by_frame]
        if unknown:
            problems.append(f"retransmitted_frames: {name} has no frame {unknown[0]} (frames "
                            f"are numbered from 1, the 'frame' column).")
        elif strange:
            row = by_frame[strange[0]]
            space = row["len"] + ("S" in row["flags"]) + ("F" in row["flags"])
            what = ("carries no data, SYN or FIN: an ACK is never retransmitted (a duplicate "
                    "ACK is a new segment that repeats an ack number)") if not space else \
                ("sends its bytes for the first time")
            problems.append(f"retransmitted_frames: frame {strange[0]} {what}.")
        else:
            problems.append("retransmitted_frames: every frame you give is a retransmission, "
                            "but some are missing: look at every row of the capture, SYNs "
                            "and FINs too.")
    if not set(needed) <= set(sent) and right_sent:
        problems.append("needed_frames must be among retransmitted_frames.")
    elif not right_needed and right_sent:
        not_needed = [f for f in needed if facts.get(f) is False]
        if not_needed:
            problems.append(f"needed_frames: frame {not_needed[0]} was not needed: an earlier "
                            "copy of the same bytes reached the receiver (look at the earlier "
                            "rows with the same rel_seq and their 'dropped').")
        else:
            problems.append("needed_frames: a retransmission whose every earlier copy was "
                            "dropped was needed: you left one out.")
    return wrong("\n".join(problems) or "Look again at the 'retransmission' and 'dropped' "
                                        "columns.")


def check_capture_retransmissions(retransmitted_frames, needed_frames, seed: int) -> None:
    """Exercise 2, in the notebook."""
    show(judge_as_sent(judge_capture_retransmissions, retransmitted_frames, needed_frames,
                       seed=seed), "06-ex2", (retransmitted_frames, needed_frames))


# ---------------------------------------- exercise 3 (fast retransmit or timeout?)
RECOVERIES = ("fast retransmit", "timeout")
REPAIR_TOLERANCE_S = 0.002
MSS_RFC9293 = 1460            # the rfc9293 profile at MTU 1500: no timestamps (docs/scenario.md)
RECOVERY_SEND_AT_S = 0.5


def recovery_numbers(seed: int) -> dict:
    """Exercise 3: a write of ``segments`` full segments, the ``lost``-th of them lost once,
    over a path of ``delay_ms`` one way; half the students get a pattern that fast
    retransmit repairs, half one that needs the timer."""
    rng = random.Random(f"06-recovery-{seed}")
    segments = rng.randint(4, 10)
    delay_ms = rng.choice((5, 10, 20, 30, 40, 50))
    if rng.random() < 0.5:
        lost = rng.randint(1, segments - 3)                   # three or more after it
    else:
        lost = rng.randint(max(1, segments - 2), segments)    # two or fewer after it
    return {"segments": segments, "lost": lost, "delay_ms": delay_ms}


def recovery_scenario(seed: int) -> dict:
    """Exercise 3's scenario (the rfc9293 profile)."""
    n = recovery_numbers(seed)
    return {"name": f"exercise 3: segment {n['lost']} of {n['segments']} lost",
            "profile": "rfc9293", "seed": seed % 2 ** 32,
            "link": {"mtu": 1500, "delay": n["delay_ms"] / 1000},
            "hosts": {"client": {"port": 40000 + seed % 20000}, "server": {"port": 5000}},
            "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                        {"at": 0.0, "host": "client", "do": "connect", "to": "server"},
                        {"at": RECOVERY_SEND_AT_S, "host": "client", "do": "send",
                         "bytes": n["segments"] * MSS_RFC9293}],
            "faults": [{"drop": {"from": "client", "data_segment": n["lost"]}}]}


@dataclass(frozen=True)
class RecoveryQuestion:
    segments: int
    lost: int
    delay_ms: int

    def _repr_html_(self) -> str:
        return (f"<p>Profile <code>rfc9293</code>, one-way delay <b>{self.delay_ms} ms</b>. "
                f"After the handshake, at t = {RECOVERY_SEND_AT_S} s, the client writes "
                f"<b>{self.segments} full segments</b> at once (the initial window lets them "
                f"all go). Segment <b>{self.lost}</b> of them is lost; everything else, and "
                "every retransmission, arrives.</p>")

    def __repr__(self) -> str:
        return (f"rfc9293, delay {self.delay_ms} ms one way: {self.segments} full segments at "
                f"t = {RECOVERY_SEND_AT_S} s, segment {self.lost} lost")


def recovery_question(seed: int):
    """Exercise 3's question, or a refusal for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion(NO_ID_MESSAGE)
    return RecoveryQuestion(**recovery_numbers(seed))


def recovery_run(seed: int):
    from ..simulator import run
    return run(recovery_scenario(seed))


def expected_recovery(seed: int) -> dict:
    """Exercise 3: how the lost segment was repaired in the simulation ("fast retransmit"
    when an ACK triggered its retransmission, else "timeout"), and ``repair_s``: from the
    lost segment's first send to its retransmission."""
    from ..retransmissions import retransmissions
    table = retransmissions(recovery_run(seed))
    first = table[table["len"] > 0].iloc[0]
    return {"recovery": "fast retransmit" if first["trigger"] == "ACK" else "timeout",
            "repair_s": round(float(first["t"] - first["first_sent"]), 9)}


def judge_recovery(recovery, repair_s, seed: int) -> Feedback:
    """Exercise 3: fast retransmit or timeout, and how long after the first send."""
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    if _no_value(recovery):
        return wrong(f"recovery has no value yet: one of {', '.join(map(repr, RECOVERIES))}.")
    text = str(recovery).strip().lower().replace("-", " ").replace("_", " ")
    text = {"fast retransmission": "fast retransmit", "rto": "timeout",
            "retransmission timeout": "timeout"}.get(text, text)
    if text not in RECOVERIES:
        return wrong(f"recovery must be one of {', '.join(map(repr, RECOVERIES))}; you gave "
                     f"{recovery!r}.")
    seconds = _number(repair_s, "repair_s", "seconds")
    if isinstance(seconds, Feedback):
        return seconds
    n = recovery_numbers(seed)
    want = expected_recovery(seed)
    after = n["segments"] - n["lost"]
    problems = []
    if text != want["recovery"]:
        if text == "fast retransmit":
            problems.append(f"recovery: count the duplicate ACKs. Each of the {after} "
                            "segment(s) after the lost one makes the receiver repeat its ACK; "
                            "how many does RFC 5681 §3.2 want before it re-sends?")
        else:
            problems.append("recovery: the segments after the lost one each produce a "
                            "duplicate ACK; count them against RFC 5681 §3.2's threshold.")
    elif abs(seconds - want["repair_s"]) > REPAIR_TOLERANCE_S:
        rtt = 2 * n["delay_ms"] / 1000
        if want["recovery"] == "timeout" and abs(seconds - 1.0) <= REPAIR_TOLERANCE_S:
            problems.append("repair_s: when does the timer start? RFC 6298 §5.3: an ACK that "
                            "acknowledges new data restarts it.")
        elif want["recovery"] == "timeout" and seconds < 0.9:
            problems.append("repair_s: the handshake gave an RTT sample, but what is the "
                            "smallest RTO RFC 6298 §2.4 allows?")
        elif want["recovery"] == "fast retransmit" and abs(seconds - rtt / 2) <= REPAIR_TOLERANCE_S:
            problems.append("repair_s: the duplicate ACKs have to travel back to the sender: "
                            "a round trip, not one way.")
        else:
            problems.append("repair_s: follow the segments on a ladder: when does the event "
                            "that triggers the retransmission reach the sender?")
    if problems:
        return wrong("\n".join(problems))
    if want["recovery"] == "fast retransmit":
        return right("Three duplicate ACKs are taken as proof of a loss (RFC 5681 §3.2): the "
                     "repair costs one round trip. Fewer than three, and only the timer is "
                     "left.")
    return right("With fewer than three duplicate ACKs only the retransmission timer is left: "
                 "at least 1 s (RFC 6298 §2.4), restarted by every ACK of new data (§5.3). "
                 "That is why a loss near the end of a write costs so much more.")


def recovery_reveal(recovery, repair_s, seed: int):
    """Exercise 3's reveal: the feedback, then the time-sequence graph and ladder of the run,
    drawn only once ``recovery`` is one of the choices (predict first)."""
    from .handshake import Reveal
    feedback = judge_as_sent(judge_recovery, recovery, repair_s, seed=seed)
    text = str(recovery).strip().lower()
    if seed == answers.DEFAULT_SEED or not any(text.startswith(c[:4]) for c in RECOVERIES):
        return Reveal(feedback)
    from .. import plots
    trace = recovery_run(seed)
    return Reveal(feedback, [plots.time_sequence(trace, host="client")],
                  ["Your loss pattern, simulated (rfc9293 profile)"])


def reveal_recovery(recovery, repair_s, seed: int) -> None:
    """Exercise 3, in the notebook: the feedback, then the picture."""
    recovery_reveal(recovery, repair_s, seed).show("06-ex3", (recovery, repair_s))


# ------------------------------------------ exercise 4 (Wireshark's label is wrong)
def judge_wireshark_wrong(scenario, vantage, seed: int | None = None) -> Feedback:
    """Exercise 4: a scenario in which, seen from ``vantage`` ("sender" or "receiver"),
    Wireshark's label of some data segment does not say what it is."""
    from .. import wireshark
    from ..errors import ScenarioError
    from ..simulator import run
    if not isinstance(scenario, (dict, str)):
        return wrong("Give the scenario as a dict (like the ones above).")
    if vantage not in wireshark.VANTAGES:
        return wrong(f"my_vantage must be {' or '.join(map(repr, wireshark.VANTAGES))}: where "
                     "the capture is taken.")
    try:
        trace = run(scenario)
    except ScenarioError as error:
        return wrong(f"tcpsim cannot run this scenario: {error}")
    segments = trace.segments
    if segments.empty or not (segments["len"] > 0).any():
        return wrong("No data was sent: connect, then send some bytes (several segments).")
    table = wireshark.compare(trace, vantage)
    bad = table[~table["agrees"]]
    if not bad.empty:
        row = bad.iloc[0]
        return right(f"Frame {row['frame']} at the {vantage}'s host: Wireshark says "
                     f"{row['wireshark'] or 'nothing'!r}, the simulator knows it is a "
                     f"{row['truth']}: {row['why']}.")
    lost = bool(segments["dropped"].any())
    late = bool((segments["arrival"] - segments["t"]).gt(
        segments["arrival"].sub(segments["t"]).median() + 1e-9).any())
    if not lost and not late:
        return wrong("Nothing was lost or delayed, so every segment arrived in order and "
                     "every label is right. Add a fault (docs/scenario.md, 'faults').")
    if vantage == "sender" and late and not lost:
        return wrong("At the sender's host a delayed segment leaves in order: the capture "
                     "sees it before the delay. Where would the delay show?")
    if late:
        return wrong("A segment was held, but not long enough to look like anything but "
                     "out-of-order: Wireshark's threshold is one handshake round trip. Hold "
                     "it longer, or look from the other host.")
    return wrong("A drop alone: Wireshark sees a gap and its retransmission, and names "
                 "them right here. What can make a segment arrive *after* later ones, "
                 "without being lost?")


def check_wireshark_wrong(scenario, vantage) -> None:
    """Exercise 4, in the notebook."""
    show(judge_as_sent(judge_wireshark_wrong, scenario, vantage), "06-ex4",
         (scenario, vantage))


# --------------------------------------------------------- quick check (predict widget)
REORDER_CHOICES = {    # one line each: the predict widget shows them as radio buttons
    "a": "Nothing yet: it waits for three duplicate ACKs, and the late segment arrives first.",
    "b": "It re-sends the late segment after the first duplicate ACK; the original arrives "
         "too, and the receiver reports the copy as a duplicate.",
    "c": "It waits for its retransmission timer: only a timeout proves a loss.",
    "d": "The receiver drops the three later segments, so the sender re-sends all four.",
}


def check_reorder(letter) -> Feedback:
    """Quick check (ungraded, for the predict widget): what does Linux do when a segment is
    overtaken by three later ones? Returns the Feedback, which the widget shows."""
    from .handshake import _judge_choice
    return _judge_choice("06-reorder", REORDER_CHOICES, None, letter, "answer")


# ------------------------------------------ what the hidden tests run (tcpsim.exercises.grade)
# exercise: (judge, the names of its answers in the notebook); every judge takes seed=
GRADED = {
    "06-ex1": (judge_rto, ("srtt_ms", "rttvar_ms", "rto_ms")),
    "06-ex2": (judge_capture_retransmissions, ("retransmitted_frames", "needed_frames")),
    "06-ex3": (judge_recovery, ("recovery", "repair_s")),
    "06-ex4": (judge_wireshark_wrong, ("my_scenario", "my_vantage")),
}
