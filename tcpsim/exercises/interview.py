"""Exercises of notebook 10, the classic interview questions: a self-test of ten
multiple-choice items ("10-q1" .. "10-q10").

| item | about | randomized | shown with | judged by |
|---|---|---|---|---|
| 1 | why a third handshake segment | order | ``self_test(seed, 1)`` | ``judge_q1`` |
| 2 | how many SYNs before ETIMEDOUT | ``syn_retries``, order | ``self_test(seed, 2)`` | ``judge_q2`` |
| 3 | the lost third segment | order | ``self_test(seed, 3)`` | ``judge_q3`` |
| 4 | a SYN on an established connection | order | ``self_test(seed, 4)`` | ``judge_q4`` |
| 5 | how long TIME-WAIT lasts | ``tcp_fin_timeout``, order | ``self_test(seed, 5)`` | ``judge_q5`` |
| 6 | where TIME-WAITs pile up | order | ``self_test(seed, 6)`` | ``judge_q6`` |
| 7 | whose bug CLOSE-WAITs are | order | ``self_test(seed, 7)`` | ``judge_q7`` |
| 8 | what SYN cookies cost | order | ``self_test(seed, 8)`` | ``judge_q8`` |
| 9 | keepalive and a vanished peer | idle, interval, count, order | ``self_test(seed, 9)`` | ``judge_q9`` |
| 10 | ``shutdown()`` against ``close()`` | order | ``self_test(seed, 10)`` | ``judge_q10`` |

Each graded cell calls ``check_self_test(k, letter, seed)``, which shows the judge's
feedback; the hidden tests run the same judges in a fresh process (``GRADED``, ``python -m
tcpsim.exercises.grade``), as in ``handshake.py`` (notebook 02, the model). The choices are
shuffled per student (``answers.choice_order``); the right key and every choice's feedback
are sealed (``instructors/answer_keys.py``, ``sealed.py``). Items 2, 5 and 9 also take their
numbers from the student's seed (``answers.interview_numbers``); their right choice's
number comes from the simulator's ``linux`` profile (item 2: the SYNs of a run whose SYNs
are all lost) or from the profile's constants (items 5, 9), which
``tests/test_notebook10_claims.py`` and ``tests/test_fidelity.py`` hold to the captures
(``syn-loss``, ``time-wait-fin-timeout5``, ``keepalive-dead-peer``).
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from . import answers
from .feedback import Feedback, judge_as_sent, show, wrong
from .handshake import Choices, NoQuestion, _choices, _judge_choice

NO_ID_MESSAGE = (
    "STUDENT_ID is still 'anonymous', so there is no self-test for you yet. Every student "
    "gets the choices in their own order, and some questions their own numbers, from their "
    "id, and the autograder grades you against the id in your notebook: with the default id "
    "your answers cannot count. Put your student id (the one you hand in under) in the first "
    "code cell, run it, then run this cell again.")

ITEMS = tuple(range(1, 11))


def _fixed(question, choices):
    return lambda numbers: (question, choices)


def _q2(n):
    retries = n["syn_retries"]
    syns = syn_count(retries)
    question = (f"A Linux 6.18 client with net.ipv4.tcp_syn_retries = {retries} (the other "
                "sysctls at their defaults) connects to a host whose firewall drops every "
                "SYN. How many SYNs does the client send in all before connect() fails with "
                "ETIMEDOUT?")
    return (question,
            {"a": f"{syns}", "b": f"{syns - 1}", "c": f"{retries + 1}", "d": f"{retries}"})


def _q5(n):
    fin_timeout = n["fin_timeout_s"]
    question = (f"A Linux server runs with net.ipv4.tcp_fin_timeout = {fin_timeout}. One of "
                "its connections enters TIME-WAIT. How long does it stay there (no SYN "
                "arrives)?")
    return (question,
            {"a": "60 s", "b": f"{fin_timeout} s", "c": f"{2 * fin_timeout} s",
             "d": "240 s (2 × MSL, MSL = 2 minutes)"})


def _q9(n):
    idle, interval, count = n["keepalive_idle_s"], n["keepalive_intvl_s"], n["keepalive_cnt"]
    question = (f"A connection is idle, with SO_KEEPALIVE and TCP_KEEPIDLE = {idle} s, "
                f"TCP_KEEPINTVL = {interval} s, TCP_KEEPCNT = {count}. Just after the last "
                "segment arrived, the peer's machine loses power. How long after that "
                "segment does a read() on the socket fail with ETIMEDOUT?")
    return (question,
            {"a": f"{idle + count * interval} s", "b": f"{idle + (count - 1) * interval} s",
             "c": f"{count * interval} s",
             "d": "Never: an idle connection sends nothing, so it cannot notice."})


QUESTIONS = {
    1: _fixed("Why does TCP open a connection with three segments and not two?", {
        "a": "Both sides must show that they can send and receive; two segments would test "
             "only one direction.",
        "b": "The server must learn that the SYN it answered is not an old duplicate: only "
             "the client's ACK of the server's ISN shows that the client wants this "
             "connection now.",
        "c": "The server learns the client's window size only from the third segment.",
        "d": "The third segment carries the first data, without which accept() cannot "
             "return."}),
    2: _q2,
    3: _fixed("The third segment of the handshake, the client's ACK, is lost, and the client "
              "writes a request at once. What happens?", {
        "a": "The request's segment carries the same ACK, so it completes the server's "
             "handshake: the server delivers the request and acknowledges it.",
        "b": "The connection never opens: the client must time out and connect again.",
        "c": "The server answers the data with an RST: it is not in ESTABLISHED yet.",
        "d": "The client retransmits its ACK after 1 s, as every lost segment is "
             "retransmitted."}),
    4: _fixed("A host reboots and connects again from the same port while the server still "
              "has the old connection ESTABLISHED. What does the server answer to the new "
              "SYN?", {
        "a": "An ACK with its current sequence and acknowledgment numbers (a challenge ACK), "
             "which leads the client to reset the old connection.",
        "b": "An RST, which ends the old connection.",
        "c": "A SYN-ACK for the new connection; the old one is dropped.",
        "d": "Nothing: a SYN for an established connection is dropped in silence."}),
    5: _q5,
    6: _fixed("A web server shows 30 000 sockets in TIME-WAIT. Which is true?", {
        "a": "The server closes its connections first (it closes after each response): the "
             "side whose FIN goes first is the one that waits.",
        "b": "The clients never close their sockets: a bug in the clients.",
        "c": "tcp_tw_reuse = 1 on the server makes them go away.",
        "d": "Each of them holds one of the server's ephemeral ports, which will soon run "
             "out."}),
    7: _fixed("A server shows thousands of sockets in CLOSE-WAIT. Where is the bug?", {
        "a": "In the server's program: it saw the end of the stream (read() returned 0) and "
             "never called close().",
        "b": "In the clients: they did not acknowledge the server's FIN.",
        "c": "Nowhere: CLOSE-WAIT ends by itself after tcp_fin_timeout.",
        "d": "In the network: the clients' FINs were lost."}),
    8: _fixed("A Linux listener answers a SYN with a SYN cookie. What does that cost the "
              "connection?", {
        "a": "The server keeps no state for it, so what the SYN asked for must fit in the "
             "cookie: the MSS is rounded down to one of four values, and without timestamps "
             "window scaling and SACK are lost.",
        "b": "Nothing: cookies are free, which is why Linux uses them for every SYN.",
        "c": "The server's ISN is no longer random, so the connection can be hijacked.",
        "d": "The client must send its SYN twice."}),
    9: _q9,
    10: _fixed("A program calls shutdown(SHUT_WR) on a connection instead of close(). What "
               "can it still do?", {
        "a": "Read what the peer still sends: only its own direction is closed, by a FIN.",
        "b": "Nothing: shutdown() and close() do the same.",
        "c": "Send more data: the FIN leaves only when it calls close().",
        "d": "Nothing: shutdown() sends an RST."}),
}


def syn_count(syn_retries: int) -> int:
    """How many SYNs the ``linux`` profile sends, every one lost, before ETIMEDOUT."""
    from ..simulator import run
    trace = run({"profile": "linux",
                 "hosts": {"client": {"port": 40000, "options": {"syn_retries": syn_retries}},
                           "server": {"port": 5000}},
                 "actions": [{"at": 0.0, "host": "client", "do": "connect", "to": "server"}],
                 "faults": [{"drop": {"from": "client", "flags": "S"}}], "until": 3000.0})
    return int((trace.segments["flags"] == "S").sum())


@dataclass(frozen=True)
class SelfTestItem:
    """One item of the self-test as one student sees it."""
    number: int
    question: str
    choices: Choices

    def _repr_html_(self) -> str:
        return (f"<p><b>Question {self.number}.</b> {html.escape(self.question)}</p>"
                + self.choices._repr_html_())

    def __repr__(self) -> str:
        lines = [f"Question {self.number}. {self.question}"]
        lines += [f"  {letter}: {text}" for letter, text in self.choices.items()]
        return "\n".join(lines)


def _item_id(number: int) -> str:
    if number not in ITEMS:
        raise ValueError(f"the self-test has questions 1 to {len(ITEMS)}, not {number!r}")
    return f"10-q{number}"


def self_test(seed: int, number: int):
    """Item ``number`` (1..10) for this student: the question and the choices in their own
    order, or a refusal for the default id."""
    item = _item_id(number)
    if seed == answers.DEFAULT_SEED:
        return NoQuestion(NO_ID_MESSAGE)
    question, texts = QUESTIONS[number](answers.interview_numbers(seed))
    return SelfTestItem(number, question, _choices(item, texts, seed))


# The judges need only the choices' keys (the letters map to them per student), not the
# texts: grading runs no simulation.
KEYS = ("a", "b", "c", "d")


def judge_self_test(number: int, letter, seed: int) -> Feedback:
    """Item ``number``: the feedback for the letter this student chose."""
    item = _item_id(number)
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    return _judge_choice(item, dict.fromkeys(KEYS), seed, letter, f"q{number}")


def check_self_test(number: int, letter, seed: int) -> None:
    """Item ``number``, in the notebook: shows the feedback."""
    show(judge_as_sent(lambda answer, seed: judge_self_test(number, answer, seed), letter,
                       seed=seed), _item_id(number), letter)


def _judge(number):
    def judge(letter, seed: int) -> Feedback:
        return judge_self_test(number, letter, seed)
    judge.__name__ = judge.__qualname__ = f"judge_q{number}"
    judge.__doc__ = f"Self-test item {number} (notebook 10)."
    return judge


# --------------------------------------------------------- quick check (predict widget)
RESET_READ_CHOICES = {    # one line each: the predict widget shows them as radio buttons
    "a": "0: end of file, as after a FIN.",
    "b": "An error: ECONNRESET.",
    "c": "Nothing: read() keeps waiting for data on the old connection.",
    "d": "The new connection's data.",
}


def check_reset_read(letter) -> Feedback:
    """Quick check (ungraded, for the predict widget of section 15): the server's program
    reads the old connection when the rebooted client's SYN arrives; what does read()
    return? Returns the Feedback, which the widget shows."""
    return _judge_choice("10-reset-read", RESET_READ_CHOICES, None, letter, "answer")


# ------------------------------------------ what the hidden tests run (tcpsim.exercises.grade)
# exercise: (judge, the names of its answers in the notebook); every judge takes seed=
GRADED = {f"10-q{k}": (_judge(k), (f"q{k}",)) for k in ITEMS}
