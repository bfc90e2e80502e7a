"""What counts as a right answer: the one place, used by the checks and the hidden tests.

Theory of operation. A notebook's check (``check_…`` in ``handshake.py``) runs in the
student's kernel and gives feedback; a hidden test (nbgrader) must decide the same thing in a
way the student's cells cannot change. Both call the functions of this module: the check
directly, the hidden test through ``python -I -m tcpsim.exercises.grade`` (``grade.py``), a
fresh Python process that receives only the student's id and answers as JSON, so no name
the student rebinds in the kernel can reach it.

* **The same data.** The hidden test receives what ``json.dumps(..., default=str)`` makes of
  the answer; the check judges exactly that too (:func:`as_sent`), never the raw object.
* **Numbers.** :func:`whole_number` is the only rule for what a number answer may look like:
  an ``int``, a float without a fraction, or a string of digits ("4294967287", which is also
  what a numpy int becomes) is that number; ``True``, ``"12.0"``, ``"0x10"``, ``None`` and
  ``...`` are not numbers.
* **Expected numbers** are recomputed from the student's seed (:func:`handshake_numbers`),
  never read from the kernel.
* **Choices and fixed numbers** are known here only as salted digests (:func:`digest`): the
  package holds no answer in clear. Where a letter would give the answer away (the same
  letter for every student), the order of the choices is shuffled per student
  (:func:`choice_order`).

What this does not stop: the package is on the student's machine, so a student who reads
this file can compute digests of all four choices, or call a check in a loop. That takes
more than one line, the loop is counted (``feedback.record_try``), and
``instructors/tamper_report.py`` lists both. instructors/writing-exercises.md says more.

Only the standard library here: ``grade.py`` imports this module in a fresh process for
every hidden test, so it must load fast.
"""
from __future__ import annotations

import hashlib
import json
import random
from numbers import Integral

SEQ_SPACE = 2 ** 32   # RFC 9293 §3.4: sequence numbers are 32 bits, arithmetic modulo 2^32

# Not a secret (it ships with the package): it makes the digests of this course differ
# from a plain sha256 of "b", so a table of common answers does not undo them.
COURSE_SALT = "tcpsim-notebooks/2026"

DEFAULT_STUDENT_ID = "anonymous"   # what the notebooks' first cell says until a student edits it


class NotANumber(ValueError):
    """An answer that the rule of :func:`whole_number` does not take as a number."""


def whole_number(value) -> int:
    """The one rule for a number answer: ``value`` as an int, or :class:`NotANumber`."""
    if value is None or value is Ellipsis:
        raise NotANumber("has no value yet: replace the ... with your answer")
    if isinstance(value, bool):
        raise NotANumber(f"must be a whole number, not {value}")
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        return int(value.strip())
    raise NotANumber(f"must be a whole number (an int); you gave {value!r}")


class Unsendable(ValueError):
    """An answer that JSON cannot carry to the hidden test (a dict with tuple keys, a loop)."""


def as_sent(value):
    """``value`` as the hidden test receives it: through ``json.dumps(..., default=str)``.

    The checks judge this too, not the raw value, so that the check and the hidden test see
    the very same data: a numpy int arrives as a string of digits in both, an object that
    JSON cannot carry is refused by both."""
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError) as error:
        raise Unsendable(f"cannot be sent to the autograder as data ({error})") from None


def digest(exercise: str, value) -> str:
    """A salted sha256 of ``value`` (a choice's key, or a number) for ``exercise``."""
    text = f"{COURSE_SALT}|{exercise}|{value}"
    return hashlib.sha256(text.encode()).hexdigest()


def student_seed(student_id) -> int:
    """A number from 0 to 2**32 - 1 derived from a student id (any text).

    The same id always gives the same seed, on every machine, so an exercise randomized
    from it shows each student their own numbers and the hidden tests can recompute them.
    """
    text = str(student_id).strip().lower()
    if not text:
        raise ValueError("STUDENT_ID is empty: write your student id (any text, for example "
                         "your login) between the quotes")
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


DEFAULT_SEED = student_seed(DEFAULT_STUDENT_ID)


def is_default_id(student_id) -> bool:
    return str(student_id).strip().lower() in ("", DEFAULT_STUDENT_ID)


# ------------------------------------------------------------ choices, shuffled per student
def choice_order(exercise: str, seed: int, keys) -> list:
    """The choice keys in the order this student sees them (as letters a, b, c, …)."""
    order = sorted(keys)
    random.Random(f"{exercise}-order-{seed}").shuffle(order)
    return order


def letters_for(exercise: str, seed: int, keys) -> dict:
    """{letter: key} as this student sees the choices."""
    return dict(zip("abcdefgh", choice_order(exercise, seed, keys)))


def choice_key(exercise: str, seed: int, keys, letter):
    """The key behind the letter a student chose, or None if it is not one of the letters."""
    text = str(letter).strip().lower().rstrip(")").lstrip("(")
    return letters_for(exercise, seed, keys).get(text)


def is_right_choice(exercise: str, key, right_digest: str) -> bool:
    return key is not None and digest(exercise, key) == right_digest


# ---------------------------------------------- notebook 02, exercises 1 and 2 (randomized)
def handshake_numbers(seed: int) -> tuple[int, int, int]:
    """(client ISN, server ISN, bytes of the first data segment) for this seed.

    The client's ISN lies so close to 2^32 that the data's ack wraps past it.
    """
    rng = random.Random(f"02-handshake-{seed}")
    data_bytes = rng.randint(100, 1448)
    client_isn = SEQ_SPACE - rng.randint(2, data_bytes)       # ISN + 1 + data crosses 2^32
    server_isn = rng.randrange(1_000_000, SEQ_SPACE - 1_000_000)
    return client_isn, server_isn, data_bytes


def expected_handshake(seed: int) -> dict:
    """Exercise 1: the SYN-ACK's ack and the third segment's seq and ack (absolute)."""
    client_isn, server_isn, _ = handshake_numbers(seed)
    return {"synack_ack": (client_isn + 1) % SEQ_SPACE,
            "third_seq": (client_isn + 1) % SEQ_SPACE,
            "third_ack": (server_isn + 1) % SEQ_SPACE}


def expected_first_data(seed: int) -> dict:
    """Exercise 2: the first data segment's seq, and the ack for it (absolute, mod 2^32)."""
    client_isn, _, data_bytes = handshake_numbers(seed)
    return {"data_seq": (client_isn + 1) % SEQ_SPACE,
            "data_ack": (client_isn + 1 + data_bytes) % SEQ_SPACE}


# ------------------------------------------------------- notebook 02, the fixed answers
# The real SYN's sequence number in data/captures/handshake.pcap (exercise 3), as a digest;
# tests/test_grading.py recomputes it from the capture.
CAPTURE_SYN_SEQ_DIGEST = "482284eacce996e4c6731653e81233219396179e4b19a651667e87c6bb3e51f3"


def capture_syn_seq_right(value) -> bool:
    """Exercise 3. Raises NotANumber like :func:`whole_number`."""
    return digest("02-ex3", whole_number(value)) == CAPTURE_SYN_SEQ_DIGEST


# ------------------------------------------- sealed feedback texts (tcpsim/exercises/sealed.py)
def _keystream(exercise: str, key: str, length: int) -> bytes:
    blocks, i = [], 0
    while sum(map(len, blocks)) < length:
        blocks.append(hashlib.sha256(f"{COURSE_SALT}|{exercise}|{key}|seal|{i}".encode())
                      .digest())
        i += 1
    return b"".join(blocks)[:length]


def seal(exercise: str, key: str, text: str) -> str:
    """``text`` made unreadable in the package without the choice it belongs to.

    Obfuscation, not secrecy: whoever runs :func:`unseal` on every key reads them all. It
    keeps a choice's feedback (which would tell the right choice from the others) out of
    plain sight: ``grep``, ``check??`` and reading the source show nothing.
    """
    import base64
    data = text.encode()
    return base64.b64encode(bytes(a ^ b for a, b in
                                  zip(data, _keystream(exercise, key, len(data))))).decode()


def unseal(exercise: str, key: str, sealed: str) -> str:
    import base64
    data = base64.b64decode(sealed)
    return bytes(a ^ b for a, b in zip(data, _keystream(exercise, key, len(data)))).decode()


# ------------------------------------------------ notebook 01, segments and flags (randomized)
# Exercise 1 decodes one real segment: which one is picked here (index into the pool of
# segments of notebook 01's captures, tcpsim/exercises/segments.py); exercise 3 finds every
# FIN of one capture of a pool. The expected values are then read from the shipped capture.
def pick(exercise: str, seed: int, n: int) -> int:
    """An index 0 .. n-1 for this student and exercise."""
    return random.Random(f"{exercise}-pick-{seed}").randrange(n)


def rst_connection(seed: int) -> dict:
    """Exercise 2: one student's connection, just before the client aborts it.

    The client (port ``client_port``) and the server (``server_port``) did the handshake
    from ``client_isn`` and ``server_isn``; then the client sent ``client_segments`` (data
    lengths, one segment each), the server acknowledged all but the last, and sent
    ``server_bytes`` of its own, which the client acknowledged."""
    rng = random.Random(f"01-rst-{seed}")
    return {"client_port": rng.randint(32768, 60999),      # Linux ip_local_port_range
            "server_port": rng.choice([80, 443, 5201, 8080, 6379, 5432]),
            "client_isn": rng.randrange(SEQ_SPACE),
            "server_isn": rng.randrange(SEQ_SPACE),
            "client_segments": [rng.randint(50, 1448) for _ in range(rng.randint(2, 3))],
            "server_bytes": rng.randint(20, 600)}


def expected_rst(seed: int) -> dict:
    """Exercise 2: the client's RST. RFC 9293 §3.5.3 and §3.10.7.4 with RFC 5961 §3.2: a reset is
    accepted only if its seq is exactly the receiver's RCV.NXT, here the client's SND.NXT =
    ISN + 1 + every data byte it sent (the last segment included: it was sent, it counts)."""
    c = rst_connection(seed)
    return {"sport": c["client_port"], "dport": c["server_port"],
            "seq": (c["client_isn"] + 1 + sum(c["client_segments"])) % SEQ_SPACE}


SEQ_SPACE_KINDS = (   # (flags, data bytes: None = any 1..1448), for exercise 4
    ("S", 0), ("SA", 0), ("A", 0), ("PA", None), ("FA", 0), ("FPA", None), ("RA", 0),
    ("A", None), ("R", 0))


def seq_space_segments(seed: int) -> list:
    """Exercise 4: five segments [(flags, len)], always one SYN or SYN-ACK, one pure ACK,
    one FIN, one with data, and one more of any kind, in this student's order."""
    rng = random.Random(f"01-space-{seed}")

    def make(kind):
        flags, n = kind
        return (flags, rng.randint(1, 1448) if n is None else n)
    chosen = [make(rng.choice(SEQ_SPACE_KINDS[:2])), make(("A", 0)),
              make(rng.choice((("FA", 0), ("FPA", None)))), make(("PA", None)),
              make(rng.choice(SEQ_SPACE_KINDS))]
    rng.shuffle(chosen)
    return chosen


def expected_seq_spaces(seed: int) -> list:
    """Exercise 4: each segment's sequence space, SEG.LEN = data + SYN + FIN (RFC 9293 §3.4)."""
    return [n + ("S" in flags) + ("F" in flags) for flags, n in seq_space_segments(seed)]
# ------------------------------------------------ notebook 07, the closes (randomized)
CLOSE_VARIANTS = ("at once", "later", "half-close")   # how the passive closer answers


def close_numbers(seed: int) -> dict:
    """Exercise 1 of notebook 07: one student's close. Which side closes first, how the
    other answers (``CLOSE_VARIANTS``), and the times and sizes that go with it.

    * "at once": the other side's application closes ``answer_s`` (5-30 ms) after the
      first FIN, within the 40 ms delayed ACK: three segments;
    * "later": it closes 0.2-0.9 s later: four segments;
    * "half-close": the first side calls shutdown(); the other sends ``reply_bytes`` first,
      ``answer_s`` after the FIN (5 ms to 0.2 s), then closes 0.3 s after that.
    The segments and states themselves come from the simulator (closing.py), which
    tests/test_notebook07_claims.py checks against hand-made tables."""
    rng = random.Random(f"07-close-{seed}")
    first = rng.choice(("client", "server"))
    variant = rng.choice(CLOSE_VARIANTS)
    if variant == "at once":
        answer_s = rng.choice((0.005, 0.01, 0.02, 0.03))
    elif variant == "later":
        answer_s = rng.choice((0.2, 0.3, 0.5, 0.7, 0.9))
    else:
        answer_s = rng.choice((0.005, 0.01, 0.1, 0.2))
    return {"first": first, "variant": variant, "answer_s": answer_s,
            "data_bytes": rng.randint(20, 1400), "reply_bytes": rng.randint(100, 1400)}


def leak_numbers(seed: int) -> dict:
    """Exercise 2 of notebook 07: six connections to one server port, one second apart.
    In one the server never closes (the leak); in another
    (the decoy) it closes late, after ``decoy_close_s``; the clients' orphan timeout is
    ``fin_timeout_s`` (whole seconds, as the sysctl)."""
    rng = random.Random(f"07-leak-{seed}")
    ports = rng.sample(range(33000, 60000), 6)
    leaked, decoy = rng.sample(range(6), 2)
    fin_timeout_s = rng.randint(8, 40)
    return {"ports": ports, "leaked": leaked, "decoy": decoy, "fin_timeout_s": fin_timeout_s,
            "decoy_close_s": rng.randint(2, fin_timeout_s - 3)}


# ------------------------------------------------ notebook 10, the self-test's numbers
def interview_numbers(seed: int) -> dict:
    """Items 2, 5 and 9 of notebook 10's self-test: one student's ``tcp_syn_retries`` (3-7,
    where the four choices' counts always differ), ``tcp_fin_timeout`` (never 30 or 120,
    whose doubles are other choices) and keepalive settings (idle longer than the interval,
    so that no two choices coincide)."""
    rng = random.Random(f"10-numbers-{seed}")
    return {"syn_retries": rng.randint(3, 7),
            "fin_timeout_s": rng.choice((5, 10, 15, 20, 25, 45)),
            "keepalive_idle_s": rng.choice((60, 120, 300, 600, 1800)),
            "keepalive_intvl_s": rng.choice((5, 10, 15, 30)),
            "keepalive_cnt": rng.randint(3, 9)}


# ------------------------------------------------ notebook 08, TIME-WAIT (randomized)
TIME_WAITS = ((60, "Linux: TCP_TIMEWAIT_LEN, compiled in"),
              (240, "RFC 793's 2·MSL with MSL = 2 minutes"),
              (120, "2·MSL with an MSL of 60 s, as some other systems use"))


def rate_numbers(seed: int) -> dict:
    """Exercise 1 of notebook 08: one student's client, its ephemeral port range ``lo`` ..
    ``hi`` (an even number of ports, which Linux's port choice uses in full: tcpsim/ports.py)
    and its TIME-WAIT ``time_wait_s`` (``why``: whose value it is)."""
    rng = random.Random(f"08-rate-{seed}")
    size = 2 * rng.randint(500, 15000)
    lo = rng.randint(1024, 65536 - size)
    time_wait_s, why = rng.choice(TIME_WAITS)
    return {"lo": lo, "hi": lo + size - 1, "time_wait_s": time_wait_s, "why": why}
