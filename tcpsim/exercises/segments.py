"""Exercises of notebook 01, the segment and its flags.

| exercise | kind | shown with | judged by (returns Feedback) | graded cell calls |
|---|---|---|---|---|
| 1 | decode a real header from hex, randomized | ``decode_question(seed)`` | ``judge_decoded_header`` | ``check_decoded_header`` |
| 2 | build a segment (the RST), randomized | ``rst_question(seed)`` | ``judge_rst`` | ``check_rst`` |
| 3 | read a capture with pandas, randomized | ``fin_question(seed)`` | ``judge_fin_frames`` | ``check_fin_frames`` |
| 4 | compute, randomized | ``seq_space_question(seed)`` | ``judge_seq_spaces`` | ``check_seq_spaces`` |
| section 4 | predict widget (ungraded) | ``SYNACK_CHOICES`` | ``check_synack_segments`` | |

As in ``handshake.py``: the ``judge_…`` functions decide (the hidden tests run them in a fresh
process, ``GRADED`` below), the ``check_…`` functions show their feedback. The numbers come
from ``answers.py`` (the seed) and from the shipped captures (which segment, which capture,
chosen by the seed); hints name the idea missed, never the expected value.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from . import answers
from .answers import SEQ_SPACE
from .feedback import Feedback, judge_as_sent, right, show, whole_number, wrong
from .handshake import NO_ID_MESSAGE, NoQuestion, _judge_choice

# Exercise 1 picks one TCP segment of these captures (every frame of each, in order).
DECODE_CAPTURES = ("handshake", "refused", "linger0", "ecn", "half-close", "close-unread",
                   "fin-loss", "simultaneous-open")
DECODE_FIELDS = ("sport", "dport", "seq", "ack", "flags", "window")
# Exercise 3 gives each student one of these captures (each one connection, several FINs).
FIN_CAPTURES = ("fin-loss", "half-close", "raw/drop-fin-mtu1500", "raw/drop-mid-slow-mtu1500",
                "raw/fin-drop-backoff-mtu1500", "raw/timewait-finrtx-mtu1500",
                "raw/close-c2-mtu1500", "raw/finwait2-timeout5-mtu1500")
CLIENT_ADDR, SERVER_ADDR = "10.0.0.1", "10.0.0.2"    # exercise 2's connection (pseudo-header)


# ------------------------------------------------------------ exercise 1: decode from hex
def decode_pool() -> list:
    """[(capture, frame)] of every TCP segment exercise 1 may pick."""
    from .. import header
    return [(name, int(seg.where.rsplit(" ", 1)[1]))
            for name in DECODE_CAPTURES for seg in header.capture_segments(name)]


def _picked_segment(seed):
    from .. import header
    pool = decode_pool()
    name, frame = pool[answers.pick("01-ex1", seed, len(pool))]
    return header.from_capture(name, frame)


@dataclass(frozen=True)
class DecodeQuestion:
    """One student's real TCP header, as hex (the capture and frame are not shown)."""
    seed: int
    hex: str

    def _repr_html_(self) -> str:
        data = bytes.fromhex(self.hex)
        rows = "".join(f"<tr><td style='color:#777'>{4 * k:2d}</td><td><b>"
                       f"{html.escape(data[4 * k:4 * k + 4].hex(' '))}</b></td></tr>"
                       for k in range(len(data) // 4))
        return ("<div>Your TCP header, 4 bytes (one 32-bit row of RFC 9293 Figure 1) per "
                f"line, {len(data)} bytes:</div><table style='font-family:monospace'>"
                f"<tr><th>byte</th><th>hex</th></tr>{rows}</table>")

    def __repr__(self) -> str:
        return f"your TCP header ({len(self.hex) // 2} bytes): {self.hex}"


def decode_question(seed: int):
    """Exercise 1: this student's header (hex), or a refusal for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion()
    return DecodeQuestion(seed, _picked_segment(seed).header_bytes.hex())


def _flag_set(value):
    """The flag letters a student gave ("SA", "as", ["SYN", "ACK"]) as a set, or None."""
    from ..header import FLAG_NAME
    names = {name: letter for letter, name in FLAG_NAME.items()}
    if isinstance(value, str):
        text = value.replace(",", " ").replace("+", " ").replace("|", " ").split()
        if len(text) == 1 and text[0].upper() not in names:
            text = list(text[0])
        items = text
    elif isinstance(value, list):
        items = [str(v) for v in value]
    else:
        return None
    letters = set()
    for item in items:
        item = item.strip().upper()
        if item in names:
            letters.add(names[item])
        elif item in FLAG_NAME:
            letters.add(item)
        else:
            return None
    return letters


def judge_decoded_header(decoded, seed: int) -> Feedback:
    """Exercise 1: the fields of this student's header, a dict of DECODE_FIELDS."""
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    if not isinstance(decoded, dict):
        return wrong("decoded must be a dict {'sport': ..., 'dport': ..., 'seq': ..., "
                     "'ack': ..., 'flags': ..., 'window': ...}.")
    missing = [name for name in DECODE_FIELDS if name not in decoded]
    if missing:
        return wrong(f"decoded has no {', '.join(repr(m) for m in missing)} yet.")
    seg = _picked_segment(seed)
    want = {"sport": seg.sport, "dport": seg.dport, "seq": seg.seq, "ack": seg.ack,
            "window": seg.window}
    problems = []
    for name in ("sport", "dport", "seq", "ack", "window"):
        value = whole_number(decoded[name], f"decoded['{name}']")
        if isinstance(value, Feedback):
            return value
        if value == want[name]:
            continue
        bits = 32 if name in ("seq", "ack") else 16
        raw = seg.header_bytes
        little = {"sport": int.from_bytes(raw[0:2], "little"),
                  "dport": int.from_bytes(raw[2:4], "little"),
                  "seq": int.from_bytes(raw[4:8], "little"),
                  "ack": int.from_bytes(raw[8:12], "little"),
                  "window": int.from_bytes(raw[14:16], "little")}[name]
        if value == little:
            problems.append(f"{name}: read in the wrong byte order. Headers are in network "
                            "byte order, most significant byte first (big-endian).")
        elif name in ("sport", "dport") and value == want["dport" if name == "sport" else "sport"]:
            problems.append(f"{name}: that is the other port. The source port comes first, in "
                            "bytes 0-1; the destination port in bytes 2-3 (RFC 9293 Figure 1).")
        elif name in ("seq", "ack") and value in (0, 1) and want[name] > 1:
            problems.append(f"{name}: 0 and 1 are Wireshark's relative numbers. The bytes hold "
                            "the absolute 32-bit number.")
        elif name == "window" and value > 65535:
            problems.append("window: the field is 16 bits and is given raw; the scale factor "
                            "of the window-scale option is not applied in the header itself.")
        elif name == "ack" and value == 0:
            problems.append("ack: the field is not zero in these bytes. Read bytes 8-11 even "
                            "if you think the ACK flag is off.")
        else:
            problems.append(f"{name}: not what bytes {_span(name)} say ({bits}-bit field).")
    letters = _flag_set(decoded["flags"])
    if letters is None:
        problems.append("flags: give the letters of the bits set (as the traces write them: "
                        "'S', 'SA', 'FA', 'PA', 'R' ...), or a list of names like "
                        "['SYN', 'ACK'].")
    elif letters != set(seg.flags):
        if letters > set(seg.flags):
            problems.append("flags: you have a flag that is not set. Write byte 13 in binary: "
                            "bit 7 is CWR, then ECE, URG, ACK, PSH, RST, SYN, and bit 0 is FIN.")
        elif letters < set(seg.flags):
            problems.append("flags: a bit that is set in byte 13 is missing. Write the byte in "
                            "binary: every 1 is a flag (CWR ECE URG ACK PSH RST SYN FIN).")
        else:
            problems.append("flags: not the bits of byte 13. Write the byte in binary: bit 7 is "
                            "CWR, then ECE, URG, ACK, PSH, RST, SYN, and bit 0 is FIN.")
    if problems:
        return wrong("\n".join(problems))
    return right(f"That is the segment {seg.where} ({seg.flags}, {len(seg.payload)} payload "
                 "bytes in the capture). You read a real header the way the receiving kernel "
                 "does: fixed offsets, big-endian numbers, one bit per flag.")


def _span(name):
    return {"sport": "0-1", "dport": "2-3", "seq": "4-7", "ack": "8-11", "window": "14-15"}[name]


def check_decoded_header(decoded, seed: int) -> None:
    """Exercise 1, in the notebook."""
    show(judge_as_sent(judge_decoded_header, decoded, seed=seed), "01-ex1", decoded)


# --------------------------------------------------------------- exercise 2: build a RST
@dataclass(frozen=True)
class RstQuestion:
    """One student's connection (exercise 2): the segments so far, absolute numbers."""
    seed: int
    client_port: int
    server_port: int
    segments: tuple        # ((src, flags, seq, ack, len), ...)

    def table(self):
        """The segments as a pandas DataFrame (src, dst, flags, seq, ack, len)."""
        import pandas as pd
        return pd.DataFrame([{"src": s, "dst": "server" if s == "client" else "client",
                              "flags": f, "seq": q, "ack": a, "len": n}
                             for s, f, q, a, n in self.segments])

    def _repr_html_(self) -> str:
        return (f"<div>client {CLIENT_ADDR}:{self.client_port} → server "
                f"{SERVER_ADDR}:{self.server_port}; every segment below has arrived "
                "(absolute numbers):"
                f"</div>{self.table().to_html(index=True)}")

    def __repr__(self) -> str:
        return (f"client {CLIENT_ADDR}:{self.client_port} -> server {SERVER_ADDR}:"
                f"{self.server_port}; every segment below has arrived\n{self.table().to_string()}")


def rst_question(seed: int):
    """Exercise 2: this student's connection, or a refusal for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion()
    c = answers.rst_connection(seed)
    ci, si = c["client_isn"], c["server_isn"]
    m = SEQ_SPACE
    segs = [("client", "S", ci, 0, 0), ("server", "SA", si, (ci + 1) % m, 0),
            ("client", "A", (ci + 1) % m, (si + 1) % m, 0)]
    sent = 0
    for n in c["client_segments"][:-1]:
        segs.append(("client", "PA", (ci + 1 + sent) % m, (si + 1) % m, n))
        sent += n
        segs.append(("server", "A", (si + 1) % m, (ci + 1 + sent) % m, 0))
    segs.append(("server", "PA", (si + 1) % m, (ci + 1 + sent) % m, c["server_bytes"]))
    last = c["client_segments"][-1]
    segs.append(("client", "PA", (ci + 1 + sent) % m, (si + 1 + c["server_bytes"]) % m, last))
    return RstQuestion(seed, c["client_port"], c["server_port"], tuple(segs))


def judge_rst(rst_hex, seed: int) -> Feedback:
    """Exercise 2: the RST with which the client aborts, as the hex of its TCP bytes."""
    from .. import header
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    if not isinstance(rst_hex, str):
        return wrong("rst_hex must be the segment's bytes as hex text: "
                     "header.build(...).raw.hex().")
    try:
        seg = header.decode(rst_hex, src=CLIENT_ADDR, dst=SERVER_ADDR)
    except header.HeaderError as error:
        return wrong(f"rst_hex is not a TCP segment: {error}.")
    want = answers.expected_rst(seed)
    c = answers.rst_connection(seed)
    problems = []
    if "R" not in seg.flags:
        return wrong("The segment has no RST bit: a reset is the segment whose RST flag is 1.")
    if set(seg.flags) - {"R", "A"}:
        problems.append(f"flags: a reset carries RST (and usually ACK) only; "
                        f"{', '.join(header.FLAG_NAME[f] for f in seg.flags if f not in 'RA')} "
                        "has no place in it.")
    if (seg.sport, seg.dport) == (want["dport"], want["sport"]):
        problems.append("ports: this RST goes from the server's port to the client's. The "
                        "client sends it: its own port is the source port.")
    elif (seg.sport, seg.dport) != (want["sport"], want["dport"]):
        problems.append("ports: a segment belongs to a connection by its 4-tuple; these ports "
                        "are not the connection's (source = the sender's port).")
    if seg.payload:
        problems.append("payload: this reset carries data; give it none.")
    if seg.seq != want["seq"]:
        last = c["client_segments"][-1]
        ci = c["client_isn"]
        if seg.seq == (want["seq"] - last) % SEQ_SPACE:
            problems.append("seq: that is the first byte of the client's last segment. The "
                            "RST must carry the next number the server expects, after every "
                            "byte the client has sent (RFC 9293 §3.4: RCV.NXT).")
        elif seg.seq == (want["seq"] + 1) % SEQ_SPACE:
            problems.append("seq: the idea missed is that a RST occupies no sequence number: "
                            "it carries the next number itself, with nothing added.")
        elif seg.seq in (ci, (ci + 1) % SEQ_SPACE):
            problems.append("seq: the data the client sent has taken sequence numbers since "
                            "its SYN; count every byte.")
        elif seg.seq == (c["server_isn"] + 1 + c["server_bytes"]) % SEQ_SPACE:
            problems.append("seq: that number counts in the server's sequence space. The client's "
                            "segment carries the client's own numbers.")
        elif seg.seq == 0:
            problems.append("seq: seq 0 is for a reset that answers a segment without ACK "
                            "(RFC 9293 §3.5.2); this connection is synchronized, so the seq "
                            "must be exactly what the server expects next.")
        else:
            problems.append("seq: the server accepts a reset only if its seq is exactly the "
                            "next number it expects (RFC 9293 §3.10.7.4, RFC 5961 §3.2); one "
                            "merely inside the window gets a 'challenge ACK' instead.")
    if not seg.checksum_ok:
        problems.append("checksum: wrong, so the server would drop the segment without a word. "
                        "Let header.build compute it (pseudo-header 10.0.0.1 → 10.0.0.2).")
    if problems:
        return wrong("\n".join(problems))
    return right("This reset would close the connection at the server: the right 4-tuple and "
                 "exactly the sequence number it expects next. (Linux's own abort sends RST+ACK "
                 "with the same seq and its RCV.NXT as ack; capture 'linger0'.)")


def check_rst(rst_hex, seed: int) -> None:
    """Exercise 2, in the notebook."""
    show(judge_as_sent(judge_rst, rst_hex, seed=seed), "01-ex2", rst_hex)


# --------------------------------------------------------- exercise 3: every FIN, pandas
@dataclass(frozen=True)
class FinQuestion:
    seed: int
    capture: str

    def _repr_html_(self) -> str:
        return (f"<div>Your capture: <b>{html.escape(self.capture)}</b> "
                f"(<code>course.capture({self.capture!r})</code>)</div>")

    def __repr__(self) -> str:
        return f"your capture: {self.capture!r}"


def fin_question(seed: int):
    """Exercise 3: which capture this student searches, or a refusal for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion()
    return FinQuestion(seed, FIN_CAPTURES[answers.pick("01-ex3", seed, len(FIN_CAPTURES))])


def judge_fin_frames(fin_frames, seed: int) -> Feedback:
    """Exercise 3: the frame numbers of every segment with FIN set, in this student's capture."""
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    if not isinstance(fin_frames, list):
        return wrong("fin_frames must be a list of frame numbers, e.g. "
                     "list(rows['frame']) (a pandas Series is not a list yet).")
    values = []
    for k, item in enumerate(fin_frames):
        value = whole_number(item, f"fin_frames[{k}]")
        if isinstance(value, Feedback):
            return value
        values.append(value)
    frames = _frames_and_flags(fin_question(seed).capture)
    want = sorted(f for f, flags in frames.items() if "F" in flags)
    if len(set(values)) != len(values):
        return wrong("fin_frames lists a frame twice: give each segment once.")
    if sorted(values) == want:
        return right(f"{len(want)} segments with FIN. Count them per side: more than one FIN "
                     "from a side means retransmissions, the same sequence number sent again "
                     "(its 'seq' column).")
    if sorted(v + 1 for v in values) == want:
        return wrong("These are row positions (the index, from 0). The question asks for "
                     "Wireshark's frame numbers, the 'frame' column, which counts from 1.")
    if values and not set(values) <= set(frames):
        return wrong("Some of these are not frame numbers of your capture: take them from "
                     "its 'frame' column.")
    exact = sorted(f for f, flags in frames.items() if flags == "F")
    fa = sorted(f for f, flags in frames.items() if flags == "FA")
    if sorted(values) == exact or (not values and not exact):
        return wrong("A FIN almost never travels alone: after the handshake every segment "
                     "also has ACK set (RFC 9293 §3.1), and some carry data (PSH). Look for "
                     "the letter F in the flags, not for flags equal to 'F'.")
    if sorted(values) == fa and fa != want:
        return wrong("Not every FIN is 'FA': a FIN can ride on a data segment too. Look for "
                     "the letter F anywhere in the flags (Series.str.contains).")
    if set(values) < set(want):
        return wrong("Some FINs are missing. 'Every FIN' includes both sides and every "
                     "retransmission of a FIN.")
    return wrong("Some of these segments have no FIN. Select the rows whose flags contain the "
                 "letter F, and take their 'frame'.")


def _frames_and_flags(name) -> dict:
    """{frame: flags} of a shipped capture, decoded by dpkt alone (the grader's process
    loads no pandas); the same frames and flags as ``course.capture(name).segments`` for
    these one-connection captures (tests/test_notebook01_claims.py)."""
    from .. import header
    return {int(seg.where.rsplit(" ", 1)[1]): seg.flags for seg in header.capture_segments(name)}


def check_fin_frames(fin_frames, seed: int) -> None:
    """Exercise 3, in the notebook."""
    show(judge_as_sent(judge_fin_frames, fin_frames, seed=seed), "01-ex3", fin_frames)


# ------------------------------------------------------- exercise 4: sequence space
@dataclass(frozen=True)
class SeqSpaceQuestion:
    seed: int
    segments: tuple          # ((flags, len), ...)

    def table(self):
        import pandas as pd
        return pd.DataFrame([{"flags": f, "len": n} for f, n in self.segments])

    def _repr_html_(self) -> str:
        return self.table().to_html()

    def __repr__(self) -> str:
        return self.table().to_string()


def seq_space_question(seed: int):
    """Exercise 4: this student's five segments, or a refusal for the default id."""
    if seed == answers.DEFAULT_SEED:
        return NoQuestion()
    return SeqSpaceQuestion(seed, tuple(answers.seq_space_segments(seed)))


def judge_seq_spaces(seq_spaces, seed: int) -> Feedback:
    """Exercise 4: the sequence space of each of the five segments, as a list."""
    if seed == answers.DEFAULT_SEED:
        return wrong(NO_ID_MESSAGE)
    segs = answers.seq_space_segments(seed)
    want = answers.expected_seq_spaces(seed)
    if not isinstance(seq_spaces, list) or len(seq_spaces) != len(want):
        return wrong(f"seq_spaces must be a list of {len(want)} numbers, one per segment, in "
                     "the table's order.")
    problems = []
    for k, ((flags, n), item, expected) in enumerate(zip(segs, seq_spaces, want)):
        value = whole_number(item, f"seq_spaces[{k}]")
        if isinstance(value, Feedback):
            return value
        if value == expected:
            continue
        if value == n and ("S" in flags or "F" in flags):
            idea = "SYN" if "S" in flags else "FIN"
            problems.append(f"segment {k}: the {idea} flag takes one sequence number of its "
                            "own, beside the data (RFC 9293 §3.4).")
        elif value == n + 1 and not ("S" in flags or "F" in flags):
            problems.append(f"segment {k}: only SYN and FIN take a sequence number; ACK, PSH "
                            "and RST take none.")
        elif value >= 20 and value in (n + 20, n + 32, n + 40, 20, 32, 40):
            problems.append(f"segment {k}: sequence numbers count data bytes (and SYN, FIN), "
                            "not header bytes.")
        else:
            problems.append(f"segment {k}: count the data bytes, then one for SYN and one for "
                            "FIN if set.")
    if problems:
        return wrong("\n".join(problems))
    return right("SEG.LEN = data + SYN + FIN. The next segment from the same side starts that "
                 "many numbers further on, and the ACK that covers it names the number after.")


def check_seq_spaces(seq_spaces, seed: int) -> None:
    """Exercise 4, in the notebook."""
    show(judge_as_sent(judge_seq_spaces, seq_spaces, seed=seed), "01-ex4", seq_spaces)


# ------------------------------------------------------- quick check (predict widget)
SYNACK_CHOICES = {
    "a": "One segment, with both the SYN bit and the ACK bit set to 1.",
    "b": "Two segments: first an ACK of the client's SYN, then a SYN of its own.",
    "c": "Two segments: first its own SYN, then the ACK of the client's SYN.",
}


def check_synack_segments(letter) -> Feedback:
    """Quick check (ungraded, for the predict widget): how does a server answer a SYN?"""
    return _judge_choice("01-synack", SYNACK_CHOICES, None, letter, "answer")


# ------------------------------------------ what the hidden tests run (tcpsim.exercises.grade)
GRADED = {
    "01-ex1": (judge_decoded_header, ("decoded",)),
    "01-ex2": (judge_rst, ("rst_hex",)),
    "01-ex3": (judge_fin_frames, ("fin_frames",)),
    "01-ex4": (judge_seq_spaces, ("seq_spaces",)),
}
