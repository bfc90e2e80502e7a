"""One TCP segment, byte by byte: built and parsed with dpkt (notebook 01).

    from tcpsim import header
    syn = header.build(sport=40001, dport=5201, seq=1000, flags="S", window=64240,
                       options={"mss": 1460})
    syn.header_bytes.hex(" ")        # the 24 bytes of the TCP header
    syn.checksum, syn.checksum_ok    # over the IPv4 pseudo-header (RFC 9293 §3.1, Figure 2)
    real = header.from_capture("handshake", frame=1)   # the kernel's SYN, decoded
    header.decode("9c4114...")       # any TCP segment given as hex

A :class:`Header` holds the fields of RFC 9293 §3.1 (Figure 1) with their values, the bytes
(header and payload), the two addresses of the IPv4 pseudo-header, and the checksum: the
one carried in the bytes and the one dpkt computes over pseudo-header + segment. In a
notebook it shows as the RFC's 32-bit rows, the bytes in hex and the checksum line.

dpkt does the work both ways: ``dpkt.tcp.TCP(...)`` builds the segment, ``bytes(dpkt.ip.IP(
..., data=tcp))`` fills in the checksum, ``dpkt.tcp.TCP(raw)`` and ``dpkt.tcp.parse_opts``
take bytes apart. The options are written in Linux's order, as ``tcpsim.pcap`` writes them
(docs/captures.md, "Writing a trace as a pcap"). Only IPv4 (the captures' 127.0.0.1).
"""
from __future__ import annotations

import html
import ipaddress
import struct
from dataclasses import dataclass, field

import dpkt

from .segment import FLAG_ORDER, SEQ_MASK

# The control bits, in the header's order from the most significant bit of byte 13 down
# (RFC 9293 §3.1, Figure 1; CWR and ECE: RFC 3168 §6.1); letter = the trace contract's.
FLAGS = (("CWR", "C", dpkt.tcp.TH_CWR), ("ECE", "E", dpkt.tcp.TH_ECE),
         ("URG", "U", dpkt.tcp.TH_URG), ("ACK", "A", dpkt.tcp.TH_ACK),
         ("PSH", "P", dpkt.tcp.TH_PUSH), ("RST", "R", dpkt.tcp.TH_RST),
         ("SYN", "S", dpkt.tcp.TH_SYN), ("FIN", "F", dpkt.tcp.TH_FIN))
FLAG_BIT = {letter: bit for _name, letter, bit in FLAGS}
FLAG_NAME = {letter: name for name, letter, _bit in FLAGS}
HEADER_MIN_BYTES = 20          # five 32-bit words (RFC 9293 §3.1)
MAX_OPTION_BYTES = 40          # the data offset is 4 bits: at most 15 words = 60 bytes
DEFAULT_SRC, DEFAULT_DST = "10.0.0.1", "10.0.0.2"   # as tcpsim.pcap writes simulated traces
IPPROTO_TCP = dpkt.ip.IP_PROTO_TCP                   # 6, the pseudo-header's protocol field

_OPTION_NAMES = {dpkt.tcp.TCP_OPT_EOL: "EOL", dpkt.tcp.TCP_OPT_NOP: "NOP",
                 dpkt.tcp.TCP_OPT_MSS: "MSS", dpkt.tcp.TCP_OPT_WSCALE: "WS",
                 dpkt.tcp.TCP_OPT_SACKOK: "SACK-perm", dpkt.tcp.TCP_OPT_SACK: "SACK",
                 dpkt.tcp.TCP_OPT_TIMESTAMP: "TS"}


class HeaderError(ValueError):
    """Bytes or fields that do not make a TCP segment; the message names the field or byte."""


def flags_byte(flags: str) -> int:
    """The flags byte (byte 13) for flag letters such as ``"SA"``: each letter sets one bit."""
    value = 0
    for letter in str(flags).upper():
        if letter not in FLAG_BIT:
            raise HeaderError(f"flags: unknown flag letter {letter!r} (use {' '.join(FLAG_ORDER)})")
        value |= FLAG_BIT[letter]
    return value


def flag_letters(byte: int) -> str:
    """The letters of the bits set in a flags byte, in the contract's order (``0x12`` → ``"SA"``)."""
    return "".join(letter for letter in FLAG_ORDER if byte & FLAG_BIT[letter])


@dataclass(frozen=True)
class Header:
    """A TCP segment: its header fields, its bytes, and the checksum over the pseudo-header."""
    sport: int
    dport: int
    seq: int
    ack: int
    offset: int                 # data offset, in 32-bit words
    flags: str                  # letters in the contract's order, "SA"
    window: int
    checksum: int               # as carried in the bytes
    urgent: int
    options: dict               # the contract's names: mss, sack_perm, ts, wscale, sack
    option_list: tuple          # ((name, first byte in the options, length), ...) as on the wire
    payload: bytes
    raw: bytes                  # the whole TCP segment: header, options, payload
    src: str                    # the pseudo-header's addresses
    dst: str
    computed_checksum: int      # what dpkt computes over pseudo-header + segment
    where: str = field(default="", compare=False)   # "handshake.pcap frame 1", for captions

    @property
    def header_bytes(self) -> bytes:
        return self.raw[:self.offset * 4]

    @property
    def flags_byte(self) -> int:
        return flags_byte(self.flags)

    @property
    def checksum_ok(self) -> bool:
        return self.checksum == self.computed_checksum

    @property
    def pseudo_header_sum(self) -> int:
        """The one's-complement sum of the pseudo-header alone (dpkt's ``in_cksum``, undone).
        A segment captured on the host that sent it carries this in its checksum field when
        the kernel left the checksum to the network card (checksum offload, Linux's
        CHECKSUM_PARTIAL: ``__tcp_v4_send_check`` in net/ipv4/tcp_ipv4.c), as on loopback."""
        return ~dpkt.in_cksum(self.pseudo_header) & 0xFFFF

    @property
    def checksum_status(self) -> str:
        """"correct", "offloaded" (only the pseudo-header's sum is in the field: see
        :attr:`pseudo_header_sum`) or "wrong"."""
        if self.checksum_ok:
            return "correct"
        return "offloaded" if self.checksum == self.pseudo_header_sum else "wrong"

    @property
    def seq_space(self) -> int:
        """Sequence numbers the segment occupies: payload bytes + 1 for SYN + 1 for FIN
        (RFC 9293 §3.4, SEG.LEN)."""
        return len(self.payload) + ("S" in self.flags) + ("F" in self.flags)

    @property
    def pseudo_header(self) -> bytes:
        """RFC 9293 §3.1, Figure 2: source and destination address, zero, protocol 6, and the
        TCP length (header + payload), which the checksum covers besides the segment."""
        return (ipaddress.IPv4Address(self.src).packed + ipaddress.IPv4Address(self.dst).packed
                + struct.pack("!BBH", 0, IPPROTO_TCP, len(self.raw)))

    def fields(self) -> dict:
        """The header's fields as {name: value}, for a table."""
        return {"source port": self.sport, "destination port": self.dport,
                "sequence number": self.seq, "acknowledgment number": self.ack,
                "data offset": self.offset, "flags": self.flags,
                "flags byte": f"0x{self.flags_byte:02x} = {self.flags_byte:08b}",
                "window": self.window, "checksum": f"0x{self.checksum:04x}",
                "urgent pointer": self.urgent, "options": self.options,
                "payload bytes": len(self.payload)}

    def rows(self) -> list:
        """RFC 9293 Figure 1 with this segment's values: one list per 32-bit row of
        (field name, first bit, bits wide, value as text)."""
        rows = [[("Source Port", 0, 16, str(self.sport)),
                 ("Destination Port", 16, 16, str(self.dport))],
                [("Sequence Number", 0, 32, str(self.seq))],
                [("Acknowledgment Number", 0, 32, str(self.ack)
                  + ("" if "A" in self.flags else " (ACK off: ignored)"))],
                [("Data Offset", 0, 4, str(self.offset)), ("Rsrvd", 4, 4, "0")]
                + [(name, 8 + k, 1, "1" if letter in self.flags else "0")
                   for k, (name, letter, _bit) in enumerate(FLAGS)]
                + [("Window", 16, 16, str(self.window))],
                [("Checksum", 0, 16, f"0x{self.checksum:04x}"),
                 ("Urgent Pointer", 16, 16, str(self.urgent))]]
        for word in range(len(self.header_bytes) // 4 - 5):
            row, first = [], word * 4
            for name, start, length in self.option_list:
                lo, hi = max(start, first), min(start + length, first + 4)
                if lo < hi:
                    row.append((name, (lo - first) * 8, (hi - lo) * 8,
                                self.header_bytes[20 + lo:20 + hi].hex(" ")))
            rows.append(row)
        return rows

    def summary(self) -> str:
        return (f"{self.sport} → {self.dport} [{self.flags or '-'}] seq {self.seq} ack {self.ack} "
                f"win {self.window} len {len(self.payload)}")

    def _repr_html_(self) -> str:
        return header_html(self)

    def __repr__(self) -> str:
        return f"<Header {self.summary()}>"


# ------------------------------------------------------------------------------ build
def _options_bytes(options: dict, syn: bool) -> bytes:
    from .pcap import _options_bytes as linux_order     # the writer's own, Linux's order
    out = linux_order(options or {}, syn)
    if len(out) % 4:
        out += bytes(4 - len(out) % 4)                    # EOL padding to a whole word
    if len(out) > MAX_OPTION_BYTES:
        raise HeaderError(f"options: {len(out)} bytes, more than the {MAX_OPTION_BYTES} "
                          "the data offset can describe")
    return out


def _check_range(name, value, bits):
    if isinstance(value, bool) or not isinstance(value, int):
        raise HeaderError(f"{name}: must be a whole number, not {value!r}")
    if not 0 <= value < 2 ** bits:
        raise HeaderError(f"{name}: {value} does not fit in {bits} bits (0 .. {2 ** bits - 1})")
    return value


def build(sport: int, dport: int, seq: int, ack: int = 0, flags: str = "S",
          window: int = 64240, options: dict | None = None, payload: bytes = b"",
          src: str = DEFAULT_SRC, dst: str = DEFAULT_DST, urgent: int = 0) -> Header:
    """A segment from its fields, built by dpkt, checksum over the pseudo-header included."""
    for name, value, bits in (("sport", sport, 16), ("dport", dport, 16), ("seq", seq, 32),
                              ("ack", ack, 32), ("window", window, 16), ("urgent", urgent, 16)):
        _check_range(name, value, bits)
    if isinstance(payload, str):
        payload = payload.encode()
    tcp = dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags_byte(flags),
                       win=window, urp=urgent, sum=0)
    tcp.opts = _options_bytes(options or {}, "S" in str(flags).upper())
    tcp.off = 5 + len(tcp.opts) // 4
    tcp.data = bytes(payload)
    ip = _ip(src, dst, tcp)
    bytes(ip)                                  # dpkt fills in tcp.sum over the pseudo-header
    return decode(bytes(ip.data), src=src, dst=dst)


def _ip(src, dst, tcp):
    try:
        s, d = ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed
    except ValueError as error:
        raise HeaderError(f"address: {error}") from None
    return dpkt.ip.IP(src=s, dst=d, p=IPPROTO_TCP, data=tcp)


def checksum(raw: bytes, src: str, dst: str) -> int:
    """The TCP checksum of segment ``raw`` between IPv4 ``src`` and ``dst``, as dpkt computes
    it (the checksum field itself counted as zero)."""
    tcp = dpkt.tcp.TCP(bytes(raw))
    tcp.sum = 0
    ip = _ip(src, dst, tcp)
    bytes(ip)
    return tcp.sum


# ----------------------------------------------------------------------------- decode
def _decode_options(opts: bytes):
    """(the contract's dict, ((name, first byte, length), ...)) with dpkt's option parser."""
    decoded, listing, pos = {}, [], 0
    for kind, data in dpkt.tcp.parse_opts(opts):
        if kind is None:
            decoded["malformed"] = True
            break
        length = 1 if kind in (dpkt.tcp.TCP_OPT_EOL, dpkt.tcp.TCP_OPT_NOP) else 2 + len(data)
        name = _OPTION_NAMES.get(kind, f"kind {kind}")
        if kind == dpkt.tcp.TCP_OPT_MSS:
            decoded["mss"] = int.from_bytes(data, "big")
            name = f"MSS {decoded['mss']}"
        elif kind == dpkt.tcp.TCP_OPT_WSCALE:
            decoded["wscale"] = data[0]
            name = f"WS {data[0]}"
        elif kind == dpkt.tcp.TCP_OPT_SACKOK:
            decoded["sack_perm"] = True
        elif kind == dpkt.tcp.TCP_OPT_TIMESTAMP:
            decoded["ts"] = [int.from_bytes(data[:4], "big"), int.from_bytes(data[4:], "big")]
            name = "TS val {} ecr {}".format(*decoded["ts"])
        elif kind == dpkt.tcp.TCP_OPT_SACK:
            edges = [int.from_bytes(data[k:k + 4], "big") for k in range(0, len(data), 4)]
            decoded["sack"] = [edges[k:k + 2] for k in range(0, len(edges), 2)]
        elif kind not in (dpkt.tcp.TCP_OPT_EOL, dpkt.tcp.TCP_OPT_NOP):
            decoded.setdefault("other", []).append(kind)
        listing.append((name, pos, length))
        pos += length
    while pos < len(opts):                    # dpkt stops at EOL: the padding after it
        listing.append(("EOL", pos, 1))
        pos += 1
    return decoded, tuple(listing)


def decode(raw, src: str = DEFAULT_SRC, dst: str = DEFAULT_DST, where: str = "") -> Header:
    """A TCP segment (bytes, or hex text with or without spaces) into its fields.

    ``src`` and ``dst`` are the IPv4 addresses of the pseudo-header, needed for the
    checksum only."""
    if isinstance(raw, str):
        text = "".join(raw.split())
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise HeaderError("hex: not hexadecimal digits (two per byte, spaces allowed)") from None
    raw = bytes(raw)
    if len(raw) < HEADER_MIN_BYTES:
        raise HeaderError(f"bytes: {len(raw)} bytes, a TCP header has at least "
                          f"{HEADER_MIN_BYTES}")
    offset = raw[12] >> 4
    if offset < 5 or offset * 4 > len(raw):
        raise HeaderError(f"byte 12: data offset {offset} words ({offset * 4} bytes) does not "
                          f"fit a segment of {len(raw)} bytes (it must be 5 .. 15)")
    try:
        tcp = dpkt.tcp.TCP(raw)
    except dpkt.Error as error:
        raise HeaderError(f"bytes: dpkt cannot decode them ({error})") from None
    options, listing = _decode_options(bytes(tcp.opts))
    return Header(sport=tcp.sport, dport=tcp.dport, seq=tcp.seq & SEQ_MASK,
                  ack=tcp.ack & SEQ_MASK, offset=tcp.off, flags=flag_letters(tcp.flags),
                  window=tcp.win, checksum=tcp.sum, urgent=tcp.urp, options=options,
                  option_list=listing, payload=bytes(tcp.data), raw=raw, src=src, dst=dst,
                  computed_checksum=checksum(raw, src, dst), where=where)


def capture_segments(name: str) -> list:
    """Every TCP segment of shipped capture ``name`` (``tcpsim.course``), decoded, in order;
    element k is Wireshark's frame k + 1."""
    from .course import capture_path
    from .pcap import _decoder
    path = capture_path(name)
    out = []
    with open(path, "rb") as f:
        reader = dpkt.pcap.Reader(f)
        unwrap = _decoder(reader.datalink())
        for number, (_ts, frame) in enumerate(reader, start=1):
            ip = unwrap(frame)
            if not isinstance(ip, dpkt.ip.IP) or not isinstance(ip.data, dpkt.tcp.TCP):
                continue
            # the segment's own bytes, as captured: the IP payload up to the IP length
            raw = bytes(ip)[ip.hl * 4:ip.len]
            out.append(decode(raw, src=str(ipaddress.IPv4Address(ip.src)),
                              dst=str(ipaddress.IPv4Address(ip.dst)),
                              where=f"{name}.pcap frame {number}"))
    return out


def from_capture(name: str, frame: int) -> Header:
    """Frame ``frame`` (numbered from 1, as Wireshark and a trace's ``frame`` column) of
    shipped capture ``name``, decoded."""
    segments = capture_segments(name)
    for seg in segments:
        if seg.where.endswith(f" frame {frame}"):
            return seg
    raise HeaderError(f"frame: {name}.pcap has no TCP frame {frame} (it has "
                      f"{len(segments)} TCP frames)")


# ---------------------------------------------------------------------------- picture
_FLAG_ON, _OPTION = "#0072B2", "#FFF4DB"       # Okabe-Ito blue; the options' pale yellow


def header_html(h: Header) -> str:
    """RFC 9293 Figure 1 as an HTML table with ``h``'s values, then the bytes in hex and the
    checksum over the pseudo-header."""
    ruler = "".join(f"<td style='{_RULER}'>{b % 10}</td>" for b in range(32))
    body = [f"<tr>{ruler}</tr>"]
    for row in h.rows():
        cells = []
        for name, _first, width, value in row:
            if width == 1:              # a flag bit
                on = value == "1"
                style = (f"background:{_FLAG_ON};color:white;font-weight:bold" if on
                         else "background:#EEEEEE;color:#777777")
                cells.append(f"<td title='{name}' style='{_CELL}{style}'>"
                             f"<div style='font-size:8px'>{name}</div>{value}</td>")
            else:
                style = f"background:{_OPTION}" if h.option_list and _is_option(name) else ""
                cells.append(f"<td colspan='{width}' style='{_CELL}{style}'>"
                             f"<div style='font-size:9px;color:#555555'>{html.escape(name)}</div>"
                             f"<b>{html.escape(value)}</b></td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    hexdump = "<br>".join(
        f"{16 * k:04x}&nbsp;&nbsp;" + " ".join(h.header_bytes[16 * k + j:16 * k + j + 4].hex(" ")
                                               for j in range(0, 16, 4)).strip()
        for k in range((len(h.header_bytes) + 15) // 16))
    verdict = {"correct": "<span style='color:#009E73'>they agree</span>",
               "offloaded": ("<span style='color:#E69F00'>offloaded</span>: the field holds "
                             "only the pseudo-header's sum, the kernel left the rest to the "
                             "network card (a capture on the sending host)"),
               "wrong": "<span style='color:#D55E00'>they differ: a corrupted segment</span>",
               }[h.checksum_status]
    caption = html.escape(h.where or "built")
    return (f"<div class='tcpsim-header' style='max-width:640px'>"
            f"<div style='font-weight:bold;margin-bottom:2px'>{caption}: "
            f"{html.escape(h.summary())}</div>"
            f"<table style='border-collapse:collapse;table-layout:fixed;width:100%;"
            f"font-family:monospace;font-size:11px'>{''.join(body)}</table>"
            f"<div style='font-family:monospace;font-size:12px;margin-top:4px;line-height:1.35'>"
            f"header, {len(h.header_bytes)} bytes (data offset {h.offset} × 4):<br>{hexdump}</div>"
            f"<div style='font-family:monospace;font-size:12px;margin-top:4px;line-height:1.35'>"
            f"pseudo-header {h.src} → {h.dst}, protocol 6, TCP length {len(h.raw)}: "
            f"{h.pseudo_header.hex(' ')}<br>checksum in the header 0x{h.checksum:04x}; "
            f"computed over pseudo-header + header + {len(h.payload)} payload bytes: "
            f"0x{h.computed_checksum:04x}; {verdict}</div></div>")


_CELL = ("border:1px solid #333333;text-align:center;padding:1px 0;overflow:hidden;"
         "white-space:nowrap;line-height:1.15;")
_RULER = "text-align:center;color:#777777;font-size:9px;padding:0;"


def _is_option(name: str) -> bool:
    return name.split(" ")[0] in {"EOL", "NOP", "MSS", "WS", "SACK-perm", "SACK", "TS"} \
        or name.startswith("kind ")


# ------------------------------------------------------------------ tables for notebook 01
def flag_bits_table(flag_strings):
    """For flag strings such as ``["S", "SA"]``: the flags byte in hex and in binary and the
    bits' names: one byte per segment, one bit per flag."""
    import pandas as pd
    rows = []
    for flags in flag_strings:
        byte = flags_byte(flags)
        rows.append({"flags": flags, "byte 13 (hex)": f"0x{byte:02x}",
                     "binary (CWR ECE URG ACK PSH RST SYN FIN)": f"{byte:08b}",
                     "bits set": " + ".join(f"{FLAG_NAME[c]} 0x{FLAG_BIT[c]:02x}"
                                            for c in FLAG_ORDER[::-1] if c in flags)})
    return pd.DataFrame(rows)


def checksum_table(name: str, frames: int | None = None):
    """A shipped capture's checksums, frame by frame: the field as captured, the
    pseudo-header's sum, and what dpkt computes over pseudo-header + segment."""
    import pandas as pd
    rows = [{"frame": int(h.where.rsplit(" ", 1)[1]), "flags": h.flags, "len": len(h.payload),
             "in the header": f"0x{h.checksum:04x}",
             "pseudo-header sum": f"0x{h.pseudo_header_sum:04x}",
             "computed": f"0x{h.computed_checksum:04x}", "status": h.checksum_status}
            for h in capture_segments(name)[:frames]]
    return pd.DataFrame(rows)


def sequence_space(segments):
    """``segments`` (a trace's table) with two columns more: ``space`` = len + SYN + FIN
    (RFC 9293 §3.4, SEG.LEN) and ``next_seq`` = (seq + space) mod 2^32, the number the
    sender's next new segment starts at and the receiver's ACK names."""
    out = segments.copy()
    flags = out["flags"]
    out["space"] = (out["len"] + flags.str.contains("S").astype(int)
                    + flags.str.contains("F").astype(int))
    out["next_seq"] = (out["seq"] + out["space"]) % (SEQ_MASK + 1)
    return out


# What sets each flag, with a real segment of a shipped capture (notebook 01, section 4):
# (flag letter, capture, how to find the segment, who set it and why).
FLAG_EXAMPLES = (
    ("S", "handshake", "S",
     "connect(): the client's first segment; the listener's answer is a SYN too (SYN-ACK)"),
    ("A", "handshake", "A", "every segment after the first SYN: the ack field is valid"),
    ("P", "handshake", "PA",
     "the sender's TCP, on the last segment of what it had queued (RFC 9293 §3.9.1.2)"),
    ("F", "handshake", "FA", "close() or shutdown(SHUT_WR): no more data from this side"),
    ("R", "refused", "RA",
     "a SYN to a port where nothing listens (also: close() with unread data, SO_LINGER 0)"),
    ("E", "ecn", "SEC", "with tcp_ecn=1, connect() asks for ECN: ECE and CWR in the SYN"),
    ("C", "ecn", "SEC", "(the same SYN); later, a sender that reduced its window after an ECE"),
)


def flag_examples():
    """One real segment per flag (URG: none; no shipped capture sets it), from the captures."""
    import pandas as pd
    from . import course
    rows = []
    for letter, name, flags, why in FLAG_EXAMPLES:
        segments = course.capture(name).segments
        seg = segments[segments["flags"] == flags].iloc[0]
        rows.append({"flag": FLAG_NAME[letter], "capture": name, "frame": int(seg["frame"]),
                     "src": seg["src"], "flags": seg["flags"], "seq": int(seg["seq"]),
                     "len": int(seg["len"]), "set by": why})
    return pd.DataFrame(rows)
