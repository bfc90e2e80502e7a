"""Captures in and out: a real pcap as a trace, a simulated trace as a pcap.

    trace = read_pcap("capture.pcap", stream=None)  # one TCP connection, as a Trace
    list_streams("capture.pcap")                     # one printable line per connection
    write_pcap(trace.doc, "out.pcap")                # a trace as a capture (Ethernet, IPv4)

Reading goes in three passes (docs/captures.md explains every field, label and rule):

1. ``_scan``: dpkt reads the file (pcap or pcapng) and decodes link, IP and TCP headers;
   each TCP packet becomes a small tuple in its connection (grouped by 4-tuple, split when
   a new SYN reuses the ports, as Wireshark's ``tcp.stream`` does).
2. ``_segment_rows``: the chosen connection's tuples become the contract's segment rows,
   with relative numbers and Wireshark-style analysis labels (``dup_ack``, ``keep_alive``...).
3. ``_infer_states``: each side's RFC 9293 states, inferred from what crossed the wire.

Every problem with the file raises :class:`~tcpsim.errors.CaptureError` with one line
naming the file, and the packet number and byte offset where there is one.
"""
from __future__ import annotations

import io
import ipaddress
import math
import os
import struct
from collections import Counter

import dpkt

from .endpoint import TRANSITIONS as ENDPOINT_TRANSITIONS
from .rangeset import RangeSet
from .errors import CaptureError
from .segment import FLAG_ORDER, HALF, SEQ_MASK
from .gc_pause import garbage_collection_paused
from .trace import Trace

__all__ = ["read_pcap", "list_streams", "write_pcap"]

# --- TCP header flags (RFC 9293 §3.1; ECE and CWR: RFC 3168 §6.1) --------------------
FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
FLAG_LETTERS = FLAG_ORDER   # the contract's order of flag letters is the header's: bit 0 (FIN) .. 7 (CWR)
# "SA", "FPA", ... for each of the 256 values of the flags byte
FLAG_STRINGS = tuple("".join(c for bit, c in enumerate(FLAG_LETTERS) if v >> bit & 1)
                     for v in range(256))
FLAG_BITS = {c: 1 << bit for bit, c in enumerate(FLAG_LETTERS)}

# --- TCP option kinds (IANA "TCP Option Kind Numbers") ---------------------------------
OPT_EOL, OPT_NOP, OPT_MSS, OPT_WSCALE, OPT_SACK_PERM, OPT_SACK, OPT_TS = 0, 1, 2, 3, 4, 5, 8
OPT_FASTOPEN = 34       # RFC 7413 §4.1.1 (TCPOPT_FASTOPEN, include/net/tcp.h)
MAX_OPTION_BYTES = 40       # the data offset field allows 15 words = 60 header bytes

# --- sequence space (RFC 9293 §3.4: arithmetic modulo 2^32) ----------------------------
MASK = SEQ_MASK             # and HALF (segment.py): a - b < HALF means "a is at or after b"

# --- capture files ----------------------------------------------------------------------
# pcap magic numbers (pcap-savefile(5); dpkt.pcap), and the pcapng Section Header Block type
PCAP_MAGICS = {0xa1b2c3d4: 6, 0xd4c3b2a1: 6, 0xa1b23c4d: 9, 0x4d3cb2a1: 9,
               0xa1b2cd34: 6, 0x34cdb2a1: 6}          # -> digits of timestamp resolution
PCAPNG_MAGIC = 0x0a0d0d0a
PCAP_HEADER_BYTES = 24      # pcap's file header
PCAPNG_BYTE_ORDER_LE = b"\x4d\x3c\x2b\x1a"   # 0x1A2B3C4D written little-endian
# link types (https://www.tcpdump.org/linktypes.html); BSD's DLT_RAW is 12 or 14
LINK_NAMES = {dpkt.pcap.DLT_NULL: "BSD loopback (NULL)", dpkt.pcap.DLT_EN10MB: "Ethernet",
              101: "raw IP", 12: "raw IP", 14: "raw IP", dpkt.pcap.DLT_LOOP: "OpenBSD loopback",
              dpkt.pcap.DLT_LINUX_SLL: "Linux cooked (SLL)", 276: "Linux cooked v2 (SLL2)",
              228: "raw IPv4", 229: "raw IPv6"}

# --- analysis ---------------------------------------------------------------------------
# Wireshark's out-of-order threshold when the handshake RTT is unknown (packet-tcp.c: 3 ms)
OOO_THRESHOLD_DEFAULT = 0.003
MAX_HOLES = 64              # holes remembered per direction (old ones are forgotten)
# Linux never builds one segment bigger than half the largest window the peer announced
# (tcp_bound_to_half_wnd, net/ipv4/tcp_output.c); it applies once that window > 536 bytes.
LINUX_HALF_WINDOW_MIN = 536
UNLIMITED = 2 ** 32         # no limit known on a segment's payload

# --- writing ----------------------------------------------------------------------------
DEFAULT_ADDRS = ("10.0.0.1", "10.0.0.2")    # hosts without "addr", in the doc's order
WRITE_SNAPLEN = 262144                      # tcpdump's default snapshot length
IP_TTL = 64                                 # Linux net.ipv4.ip_default_ttl
PAYLOAD_PERIOD = 251                        # payload byte k = k % 251, as the simulator's


# =========================================================================================
# Reading: pass 1, the file into connections
# =========================================================================================
class _Conn:
    """One TCP connection of the file: its endpoints and its packets as tuples.

    ``a`` is the endpoint that sent the first packet; each packet tuple is
    ``(ts, direction, flags, seq, ack, win, raw_options, payload_len, number, offset)``
    with direction 0 for a -> b and 1 for b -> a.
    """
    __slots__ = ("index", "a", "b", "packets", "syn_seq", "first_syn_dir", "synack_dir")

    def __init__(self, index, a, b):
        self.index, self.a, self.b = index, a, b
        self.packets = []
        self.syn_seq = [None, None]     # seq of the latest SYN (without ACK) of each direction
        self.first_syn_dir = None       # direction of the first SYN without ACK
        self.synack_dir = None          # direction of the first SYN+ACK

    def client_dir(self):
        """0 if a is the client, 1 if b is: the sender of the first SYN (without ACK), else
        the other end of the first SYN+ACK, else the higher port."""
        if self.first_syn_dir is not None:
            return self.first_syn_dir
        if self.synack_dir is not None:
            return 1 - self.synack_dir
        return 0 if self.a[1] >= self.b[1] else 1


class _File:
    """The capture's bytes and a dpkt reader over them."""

    def __init__(self, path):
        self.name = os.fspath(path)
        try:
            with open(self.name, "rb") as f:
                self.data = f.read()
        except OSError as err:
            raise CaptureError(f"{self.name}: cannot read ({err.strerror or err})") from None
        if len(self.data) < 4:
            raise CaptureError(f"{self.name}: not a pcap or pcapng file "
                               f"({len(self.data)} bytes)")
        self.magic, = struct.unpack(">I", self.data[:4])
        self.pcapng = self.magic == PCAPNG_MAGIC
        if not self.pcapng and self.magic not in PCAP_MAGICS:
            raise CaptureError(f"{self.name}: not a pcap or pcapng file "
                               f"(magic 0x{self.magic:08x})")
        self.stream = io.BytesIO(self.data)
        try:
            if self.pcapng:
                self.reader = dpkt.pcapng.Reader(self.stream)
                divisor = float(getattr(self.reader, "_divisor", 1e9))
                self.digits = min(9, max(0, round(math.log10(divisor))))
            else:
                self.reader = dpkt.pcap.Reader(self.stream)
                self.digits = PCAP_MAGICS[self.magic]
        except Exception as err:  # noqa: BLE001 (dpkt raises ValueError, NeedData, struct.error...)
            kind = "pcapng" if self.pcapng else "pcap"
            cut = self.cut_at(0) is not None if self.pcapng else \
                len(self.data) < PCAP_HEADER_BYTES
            if cut or isinstance(err, dpkt.NeedData):
                raise CaptureError(f"{self.name}: truncated {kind} file header "
                                   f"({len(self.data)} bytes)") from None
            raise CaptureError(f"{self.name}: bad {kind} file header ({_why(err)})") from None

    def cut_at(self, start):
        """Where the file ends inside the record that begins at byte ``start`` (or inside a
        later pcapng block), or None. dpkt's readers stop quietly on a short last record."""
        data, size = self.data, len(self.data)
        if start >= size:
            return None
        if not self.pcapng:
            header = dpkt.pcap.MAGIC_TO_PKT_HDR[self.magic]
            if start + header.__hdr_len__ > size:
                return start
            caplen = header(data[start:start + header.__hdr_len__]).caplen
            return start if start + header.__hdr_len__ + caplen > size else None
        # pcapng: every block starts with its type and total length (32 bits each)
        order = "<II" if data[8:12] == PCAPNG_BYTE_ORDER_LE else ">II"
        while start < size:
            if start + 8 > size:
                return start
            _, length = struct.unpack_from(order, data, start)
            if length < 12 or start + length > size:
                return start
            start += length
        return None

    def truncated(self, number, start):
        return CaptureError(f"{self.name}: packet {number} at byte {start} is truncated "
                            f"(the file ends inside it)")


def _why(err):
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}"[:120] if text else type(err).__name__


# Each decoder takes a frame and returns its network layer (a dpkt IP or IP6, or else).
def _raw_ip(frame):
    version = frame[0] >> 4 if frame else 0
    if version == 6:
        return dpkt.ip6.IP6(frame)
    return dpkt.ip.IP(frame)


def _decoder(linktype):
    if linktype == dpkt.pcap.DLT_EN10MB:
        return lambda frame: dpkt.ethernet.Ethernet(frame).data
    if linktype == dpkt.pcap.DLT_LINUX_SLL:
        return lambda frame: dpkt.sll.SLL(frame).data
    if linktype == 276:                                   # LINKTYPE_LINUX_SLL2
        return lambda frame: dpkt.sll2.SLL2(frame).data
    if linktype in (dpkt.pcap.DLT_NULL, dpkt.pcap.DLT_LOOP):
        return lambda frame: dpkt.loopback.Loopback(frame).data
    if linktype in (101, 12, 14, 228, 229):               # raw IP (LINKTYPE_RAW, IPV4, IPV6)
        return _raw_ip
    return None


def _scan(path):
    """Pass 1: every TCP packet of the file, grouped into connections (in capture order)."""
    f = _File(path)
    name, tell = f.name, f.stream.tell
    linktype = f.reader.datalink()
    decode = _decoder(linktype)
    if decode is None:
        raise CaptureError(f"{name}: link type {linktype} is not supported (Ethernet, Linux "
                           f"cooked SLL/SLL2, raw IP and BSD loopback are)")
    IP, IP6, TCP = dpkt.ip.IP, dpkt.ip6.IP6, dpkt.tcp.TCP
    conns, by_key = [], {}      # by_key: (src, sport, dst, dport) -> (conn, direction)
    number, end = 0, tell()
    start = end
    try:
        for ts, frame in f.reader:
            number += 1
            start, end = end, tell()
            try:
                ip = decode(frame)
            except Exception as err:  # noqa: BLE001 (any dpkt error: a one-line CaptureError)
                if f.cut_at(start) is not None:
                    raise f.truncated(number, start) from None
                raise CaptureError(f"{name}: packet {number} at byte {start} is malformed "
                                   f"({_why(err)})") from None
            cls = ip.__class__
            if cls is not IP and cls is not IP6:
                continue
            tcp = ip.data
            if tcp.__class__ is not TCP:
                if getattr(ip, "p", None) == 6 and (cls is IP6 or ip.offset == 0):
                    _bad_tcp_header(f, number, start, ip)       # TCP that dpkt can't decode
                continue
            payload = len(tcp.data)
            captured = 20 + len(tcp.opts) + payload
            expected = _tcp_length(ip, captured)
            if captured < expected:
                _raise_cut(f, number, start, captured, expected)
            key = (ip.src, tcp.sport, ip.dst, tcp.dport)
            found = by_key.get(key)
            flags = tcp.flags & 0xff
            if found is None:
                found = _new_conn(conns, by_key, key)
            if flags & SYN:
                found = _note_syn(conns, by_key, key, found, flags, tcp.seq)
            conn, direction = found
            conn.packets.append((ts, direction, flags, tcp.seq, tcp.ack, tcp.win, tcp.opts,
                                 payload, number, start))
    except CaptureError:
        raise
    except Exception as err:  # noqa: BLE001 (from dpkt's reader, between packets)
        if f.cut_at(end) is not None or isinstance(err, dpkt.NeedData):
            raise f.truncated(number + 1, end) from None
        raise CaptureError(f"{name}: packet {number + 1} at byte {end} is malformed "
                           f"({_why(err)})") from None
    if f.cut_at(start) is not None:
        raise f.truncated(max(number, 1), f.cut_at(start))
    if not conns:
        raise CaptureError(f"{name}: no TCP packets ({number} packets read)")
    return name, conns, f.digits, LINK_NAMES.get(linktype, str(linktype)), number


def _tcp_length(ip, captured):
    """The TCP segment's length according to the IP header (``captured`` if it says 0,
    as in TSO packets captured on the sending host)."""
    if ip.__class__ is dpkt.ip.IP:
        return ip.len - 20 - len(ip.opts) if ip.len else captured
    extensions = getattr(ip, "all_extension_headers", None) or ()
    return ip.plen - sum(len(h) for h in extensions) if ip.plen else captured


def _raise_cut(f, number, start, captured, expected):
    """A packet whose IP length says more than was captured: a file cut in the middle of the
    packet, or a snapshot length (tcpdump -s) shorter than the packet."""
    if f.cut_at(start) is not None:
        raise f.truncated(number, start)
    raise CaptureError(f"{f.name}: packet {number} at byte {start} is cut short by the "
                       f"snapshot length (only {captured} of its {expected} TCP bytes were "
                       f"captured)")


def _bad_tcp_header(f, number, start, ip):
    captured = len(ip.data)
    expected = _tcp_length(ip, captured)
    if captured < min(expected, 20):
        _raise_cut(f, number, start, captured, expected)
    raise CaptureError(f"{f.name}: packet {number} at byte {start} has a malformed TCP "
                       f"header")


def _new_conn(conns, by_key, key):
    src, sport, dst, dport = key
    conn = _Conn(len(conns), (src, sport), (dst, dport))
    conns.append(conn)
    by_key[key] = (conn, 0)
    by_key[(dst, dport, src, sport)] = (conn, 1)
    return conn, 0


def _note_syn(conns, by_key, key, found, flags, seq):
    """Remember who opened; a SYN (without ACK) with a new ISN from a side that already sent
    one opens a new connection on the same ports (Wireshark: "port numbers reused")."""
    conn, direction = found
    if flags & ACK:
        if conn.synack_dir is None:
            conn.synack_dir = direction
        return found
    previous = conn.syn_seq[direction]
    if previous is not None and previous != seq:
        conn, direction = _new_conn(conns, by_key, key)
    conn.syn_seq[direction] = seq
    if conn.first_syn_dir is None:
        conn.first_syn_dir = direction
    return conn, direction


# =========================================================================================
# Choosing a connection
# =========================================================================================
def _addr_text(packed):
    return str(ipaddress.ip_address(packed))


def _endpoint_text(endpoint):
    addr, port = endpoint
    text = _addr_text(addr)
    return f"[{text}]:{port}" if ":" in text else f"{text}:{port}"


def _parse_endpoint(text):
    """"ADDR:PORT" or "[IPV6]:PORT" -> (packed address, port); ValueError if not."""
    addr, _, port = text.strip().rpartition(":")
    if not port.isdigit() or int(port) > 65535:
        raise ValueError(text)
    return ipaddress.ip_address(addr.strip("[]")).packed, int(port)


def _parse_pair(text):
    """"ADDR:PORT-ADDR:PORT" -> two endpoints; ValueError if not."""
    parts = text.split("-")
    if len(parts) != 2:
        raise ValueError(text)
    return _parse_endpoint(parts[0]), _parse_endpoint(parts[1])


def _select(name, conns, stream):
    if stream is None:
        return conns[0]
    if isinstance(stream, bool):
        raise CaptureError(f"{name}: stream must be an index or ADDR:PORT-ADDR:PORT")
    if isinstance(stream, int) or (isinstance(stream, str) and stream.strip().isdigit()):
        index = int(stream)
        if 0 <= index < len(conns):
            return conns[index]
        raise CaptureError(f"{name}: no stream {index} (the capture has {len(conns)} "
                           f"connection{'s' * (len(conns) != 1)}: 0..{len(conns) - 1})")
    try:
        one, two = _parse_pair(str(stream))
    except ValueError:
        raise CaptureError(f"{name}: stream {stream!r} is neither an index nor "
                           f"ADDR:PORT-ADDR:PORT") from None
    for conn in conns:
        if {conn.a, conn.b} == {one, two}:
            return conn
    raise CaptureError(f"{name}: no connection between {_endpoint_text(one)} and "
                       f"{_endpoint_text(two)}")


# =========================================================================================
# Pass 2: segment rows and analysis labels
# =========================================================================================
def _decode_options(raw):
    """TCP options as the contract names them. Unknown kinds are listed under "other";
    a malformed option ends the decoding (what came before it is kept)."""
    if len(raw) == 12 and raw[:4] == b"\x01\x01\x08\x0a":      # NOP NOP TS: most segments
        return {"ts": list(struct.unpack_from("!II", raw, 4))}
    options, i, n = {}, 0, len(raw)
    while i < n:
        kind = raw[i]
        if kind == OPT_EOL:
            break
        if kind == OPT_NOP:
            i += 1
            continue
        if i + 1 >= n or raw[i + 1] < 2 or i + raw[i + 1] > n:
            options["malformed"] = True
            break
        size = raw[i + 1]
        body = raw[i + 2:i + size]
        if kind == OPT_MSS and size == 4:
            options["mss"] = struct.unpack("!H", body)[0]
        elif kind == OPT_WSCALE and size == 3:
            options["wscale"] = body[0]
        elif kind == OPT_SACK_PERM and size == 2:
            options["sack_perm"] = True
        elif kind == OPT_TS and size == 10:
            options["ts"] = list(struct.unpack("!II", body))
        elif kind == OPT_SACK and (size - 2) % 8 == 0:
            edges = struct.unpack(f"!{(size - 2) // 4}I", body)
            options["sack"] = [list(edges[j:j + 2]) for j in range(0, len(edges), 2)]
        elif kind == OPT_FASTOPEN:      # "" = a cookie request, else the cookie in hex
            options["tfo"] = body.hex()
        else:
            options.setdefault("other", []).append(kind)
        i += size
    return options


class _Side:
    """What one direction of the connection has shown so far (Wireshark's tcp_flow_t)."""
    __slots__ = ("base", "syn_seq", "next", "next_t", "last_ack", "last_win", "holes")

    def __init__(self, base):
        self.base = base            # seq that rel_seq 0 stands for
        self.syn_seq = None         # seq of its latest SYN
        self.next = None            # rel_seq just after the highest sequence space seen
        self.next_t = 0.0           # when that highest segment was seen
        self.last_ack = None        # ack field of its latest segment with ACK
        self.last_win = None        # window field of its latest segment
        self.holes = RangeSet()     # [start, end) rel ranges skipped over, never seen


def _bases(packets, client_dir):
    """The seq that rel_seq 0 stands for, per side (0 = client, 1 = server): its SYN's seq
    if the capture has one; else, as Wireshark, one less than whichever comes first, its
    first seq or the first ack its peer sent (so numbering starts at 1, as after a SYN)."""
    base = [None, None]
    for p in packets:
        if p[2] & SYN:
            side = p[1] ^ client_dir
            if base[side] is None:
                base[side] = p[3]
                if None not in base:
                    break
    guessed = [None, None]
    for p in packets:
        side = p[1] ^ client_dir
        if guessed[side] is None:
            guessed[side] = (p[3] - 1) & MASK
        if p[2] & ACK and guessed[1 - side] is None:
            guessed[1 - side] = (p[4] - 1) & MASK
        if None not in guessed:
            break
    return [b if b is not None else (g if g is not None else 0)
            for b, g in zip(base, guessed)]


def _size_limits(packets, client_dir):
    """The most payload one segment from each side (0 = client, 1 = server) may carry: the
    MSS its peer announced in its SYN, or (Linux, tcp_bound_to_half_wnd) half the window in
    the peer's SYN if that is smaller. Unknown (no SYN from the peer): no limit."""
    limit = [UNLIMITED, UNLIMITED]
    seen = set()
    for p in packets:
        if p[2] & SYN:
            sender = 1 - (p[1] ^ client_dir)        # who sends to this SYN's sender
            if sender in seen:
                continue
            seen.add(sender)
            mss = _decode_options(p[6]).get("mss")
            if mss is not None:
                limit[sender] = mss
            if p[5] > LINUX_HALF_WINDOW_MIN:
                limit[sender] = min(limit[sender], p[5] // 2)
    return limit


def _handshake_rtt(packets, client_dir):
    """First SYN to the first ACK of the SYN+ACK (Wireshark's ts_first_rtt), or None."""
    syn_t = synack = None
    for p in packets:
        side, flags = p[1] ^ client_dir, p[2]
        if syn_t is None and flags & SYN and not flags & ACK and side == 0:
            syn_t = p[0]
        elif syn_t is not None and flags & SYN and flags & ACK and side == 1:
            synack = p[3]
        elif synack is not None and side == 0 and flags & ACK and not flags & SYN \
                and p[4] == (synack + 1) & MASK:
            return float(p[0] - syn_t)
    return None


def _segment_rows(conn, client_dir, digits):
    """Pass 2: the contract's segment rows for one connection, with analysis labels
    (Wireshark's tcp.analysis rules; docs/captures.md has them in words)."""
    packets = conn.packets
    names = ("client", "server")
    sides = [_Side(b) for b in _bases(packets, client_dir)]
    limit = _size_limits(packets, client_dir)
    rtt = _handshake_rtt(packets, client_dir)
    ooo_threshold = rtt if rtt else OOO_THRESHOLD_DEFAULT
    t0, scale = packets[0][0], 10 ** digits
    decode, flag_strings = _decode_options, FLAG_STRINGS
    rows = []
    append = rows.append
    ports = ((conn.a[1], conn.b[1]), (conn.b[1], conn.a[1]))   # by direction: (sport, dport)
    stream = conn.index
    for i, (ts, direction, flags, seq, ack, win, raw_opts, length, number, _) in \
            enumerate(packets):
        s = direction ^ client_dir
        me, peer = sides[s], sides[1 - s]
        t = round((ts - t0) * scale) / scale
        if flags & SYN:
            if me.syn_seq is not None and seq != me.syn_seq:
                me.base, me.next, me.holes = seq, None, RangeSet()      # a new ISN: a new request
            me.syn_seq = seq
        rel = (seq - me.base) & MASK
        space = length + (flags & FIN) + (flags & SYN) // SYN   # sequence space used
        control = flags & (SYN | FIN | RST)
        retransmission = out_of_order = keep_alive = dup_ack = window_update = False
        nxt = me.next
        if nxt is None:                                         # its first segment
            if not flags & RST:
                me.next, me.next_t = (rel + space) & MASK, t
        elif rel == nxt:                                        # in order
            if space:
                me.next, me.next_t = (rel + space) & MASK, t
            elif not control and flags & ACK and win and ack == me.last_ack:
                dup_ack = win == me.last_win
                window_update = not dup_ack
        else:
            behind = (nxt - rel) & MASK
            if behind == 1 and not control and length <= 1:
                keep_alive = True
            elif space and behind < HALF:                       # re-sends, or comes late
                end = (rel + space) & MASK
                if me.holes.subtract(rel, end) and t - me.next_t < ooo_threshold:
                    out_of_order = True
                else:
                    retransmission = True
                if 0 < (end - nxt) & MASK < HALF:               # reaches past the highest
                    me.next, me.next_t = end, t
            elif behind >= HALF and not flags & RST:            # skips bytes never seen
                me.holes.ranges.append((nxt, rel))
                if len(me.holes) > MAX_HOLES:
                    del me.holes.ranges[0]
                me.next, me.next_t = (rel + space) & MASK, t
        if flags & ACK:
            me.last_ack = ack
        me.last_win = win
        append({"i": i, "t": t, "src": names[s], "dst": names[1 - s],
                "flags": flag_strings[flags], "seq": seq, "ack": ack, "rel_seq": rel,
                "rel_ack": (ack - peer.base) & MASK if flags & ACK else None,
                "len": length, "win": win, "options": decode(raw_opts) if raw_opts else {},
                "retransmission": retransmission, "dropped": False, "arrival": t,
                "conn": stream, "sport": ports[direction][0], "dport": ports[direction][1],
                "frame": number,
                "dup_ack": dup_ack, "out_of_order": out_of_order,
                "zero_window": win == 0 and not control, "window_update": window_update,
                "keep_alive": keep_alive, "oversize": length > limit[s]})
    return rows, limit


# =========================================================================================
# Pass 3: states inferred from the wire
# =========================================================================================
# (state, event) -> (new state, cause), derived from the simulator's own table
# (tcpsim.endpoint.TRANSITIONS) so that one file decides every transition: each endpoint
# event that shows on the wire is renamed to what a capture sees (docs/captures.md, "States").
# Pairs not listed change nothing.
WIRE_EVENTS = {
    "connect()": ("send SYN", "SYN sent (connect())"),
    "rcv SYN": ("recv SYN", "SYN received"),
    "rcv SYN+ACK": ("recv SYN+ACK", "SYN+ACK received"),
    "rcv ACK of SYN": ("recv ACK of SYN", "ACK of SYN received"),
    "close()": ("send FIN", "FIN sent (close() or shutdown())"),
    "rcv FIN": ("recv FIN", "FIN received"),
    "rcv ACK of FIN": ("recv ACK of FIN", "ACK of FIN received"),
}
# Endpoint transitions that put nothing on the wire, or that a capture shows otherwise:
NOT_SEEN_ON_THE_WIRE = {("SYN-SENT", "close()"), ("LISTEN", "close()"), ("TIME-WAIT", "rcv FIN")}
TRANSITIONS = {
    (state, WIRE_EVENTS[event][0]): (new_state, WIRE_EVENTS[event][1])
    for (state, event), (new_state, _rule) in ENDPOINT_TRANSITIONS.items()
    if event in WIRE_EVENTS and (state, event) not in NOT_SEEN_ON_THE_WIRE
}
TRANSITIONS[("SYN-SENT", "recv SYN")] = ("SYN-RECEIVED", "SYN received (simultaneous open)")
TRANSITIONS[("FIN-WAIT-1", "recv FIN")] = ("CLOSING", "FIN received (simultaneous close)")
TRANSITIONS[("CLOSE-WAIT", "send FIN")] = ("LAST-ACK", "FIN sent (close())")
# Only a capture can see this: a SYN+ACK from a side whose SYN never reached the capture.
TRANSITIONS[("LISTEN", "send SYN+ACK")] = ("SYN-RECEIVED", "SYN+ACK sent (the SYN was not captured)")
LIVE_STATES = ("SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2",
               "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT")


# flag strings without SYN, FIN or RST: such segments never change a state by themselves
_PLAIN = frozenset(FLAG_STRINGS[v] for v in range(256) if not v & (SYN | FIN | RST))


def _peer(host):
    return "server" if host == "client" else "client"


def _covers(row, end, resets):
    """Does this row acknowledge everything before absolute seq ``end``? A RST's ack field
    shows what its sender had received (``resets``=True), but a RST's receiver does not
    process its ACK (RFC 9293 §3.10.7.4: the RST check comes first)."""
    flags = row["flags"]
    return "A" in flags and (resets or "R" not in flags) and (row["ack"] - end) & MASK < HALF


def _acknowledgment(rows, host, end, after, resets):
    """The first row from ``host`` after row ``after`` that acknowledges ``end``, and the
    last row from ``host`` before that one (it had not processed ``end`` yet), or None."""
    before = None
    for k in range(after + 1, len(rows)):
        if rows[k]["src"] == host:
            if _covers(rows[k], end, resets):
                return k, before
            before = k
    return None, before


def _syn_fin_events(rows, control, events):
    """When each SYN and FIN is received, and when its ACK is (docs/captures.md, rules 1
    and 2): received once the peer acknowledges it, after the peer's last segment that did
    not, and at the last copy sent before that acknowledgment; its ACK reaches the sender
    at the first acknowledgment after its last copy (earlier ones were lost)."""
    copies = {}     # (src, "SYN", "SYN+ACK" or "FIN", seq just after it) -> [row indices]
    for k in control:
        r = rows[k]
        if "S" in r["flags"]:
            what = "SYN+ACK" if "A" in r["flags"] else "SYN"
            copies.setdefault((r["src"], what, (r["seq"] + 1) & MASK), []).append(k)
        if "F" in r["flags"]:
            end = (r["seq"] + r["len"] + ("S" in r["flags"]) + 1) & MASK
            copies.setdefault((r["src"], "FIN", end), []).append(k)
    for (src, what, end), ks in copies.items():
        peer = _peer(src)
        acked, not_yet = _acknowledgment(rows, peer, end, ks[0], resets=True)
        if acked is not None:
            got = max(max(k for k in ks if k < acked), not_yet or 0)
            events.setdefault(got, []).append((peer, f"recv {what}"))
        ack_of, _ = _acknowledgment(rows, peer, end, ks[-1], resets=False)
        if ack_of is not None:
            control_bit = "FIN" if what == "FIN" else "SYN"
            events.setdefault(ack_of, []).append((src, f"recv ACK of {control_bit}"))


def _no_socket_replies(rows, control):
    """RSTs shaped as RFC 9293 §3.10.7.1 answers a segment for which there is no
    connection, answering the peer's previous segment: {that segment's index: RST sender}."""
    found = {}
    for k in control:
        rst = rows[k]
        if "R" not in rst["flags"]:
            continue
        peer = _peer(rst["src"])
        x = next((x for x in range(k - 1, -1, -1) if rows[x]["src"] == peer), None)
        if x is None:
            continue
        seg = rows[x]
        if "A" in seg["flags"]:         # <SEQ=SEG.ACK><CTL=RST>
            reply = rst["flags"] == "R" and rst["seq"] == seg["ack"]
        else:                           # <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
            space = seg["len"] + ("S" in seg["flags"]) + ("F" in seg["flags"])
            reply = "A" in rst["flags"] and rst["seq"] == 0 \
                and rst["ack"] == (seg["seq"] + space) & MASK
        if reply:
            found[x] = rst["src"]
    return found


def _last_non_rst(rows):
    """{host: index of its last segment that is not a RST}."""
    last = {}
    for k in range(len(rows) - 1, -1, -1):
        src = rows[k]["src"]
        if src not in last and "R" not in rows[k]["flags"]:
            last[src] = k
            if len(last) == 2:
                break
    return last


def _initial_states(rows, control):
    """CLOSED for a side that sent a SYN, LISTEN for one that only sent a SYN+ACK, None
    (unknown: no rows) for one that sent neither, ESTABLISHED for both if there is no SYN."""
    syn, synack = set(), set()
    for k in control:
        flags = rows[k]["flags"]
        if "S" in flags:
            (synack if "A" in flags else syn).add(rows[k]["src"])
    if not syn and not synack:
        return {"client": "ESTABLISHED", "server": "ESTABLISHED"}   # joined mid-connection
    return {h: "CLOSED" if h in syn else "LISTEN" if h in synack else None
            for h in ("client", "server")}


def _infer_states(rows):
    """Pass 3: state rows for both sides (docs/captures.md, "States", has the rules)."""
    control = [k for k, r in enumerate(rows) if r["flags"] not in _PLAIN]
    events = {}                         # row index -> [(host, "recv ..."), ...]
    _syn_fin_events(rows, control, events)
    no_socket = _no_socket_replies(rows, control)
    last_live = _last_non_rst(rows)
    state = _initial_states(rows, control)
    passive = {host: state[host] == "LISTEN" for host in state}
    syn_seq, out = {}, []

    def move(k, host, new, cause):
        if state[host] is not None and state[host] != new:
            out.append({"t": rows[k]["t"], "host": host, "socket": host, "from": str(state[host]),
                        "to": str(new), "cause": cause, "conn": rows[k]["conn"]})
            state[host] = new

    def apply(k, host, event):
        step = TRANSITIONS.get((state[host], event))
        if step:
            move(k, host, *step)

    for k in sorted(set(control) | set(events) | set(no_socket)):
        r = rows[k]
        src, dst, flags = r["src"], r["dst"], r["flags"]
        # what the sender does
        if "S" in flags:
            if syn_seq.get(src, r["seq"]) != r["seq"] and state[src] == "SYN-RECEIVED":
                move(k, src, "CLOSED", "request dropped (inferred: a SYN+ACK with a new ISN)")
                state[src] = "LISTEN"
                move(k, src, "SYN-RECEIVED", "SYN received again (a new request)")
            syn_seq[src] = r["seq"]
            apply(k, src, "send SYN+ACK" if "A" in flags else "send SYN")
        if "F" in flags and not r["retransmission"]:
            apply(k, src, "send FIN")
        if "R" in flags and state[src] in LIVE_STATES:
            move(k, src, "CLOSED", "RST sent")
        # what the receiver makes of it
        gone = no_socket.get(k)             # the receiver, if it answers with a reset
        data_after_close = gone is not None and r["len"] > 0
        for host, event in sorted(events.get(k, ()), key=lambda e: _EVENT_ORDER[e[1]]):
            if host != gone or (data_after_close and event.startswith("recv ACK")):
                apply(k, host, event)
        if gone and state[gone] in LIVE_STATES:
            move(k, gone, "CLOSED", "data received after close(): it answers with a reset"
                 if data_after_close else "no connection any more: it answers this segment "
                 "with a reset")
        if "R" in flags and dst != gone and state[dst] in LIVE_STATES \
                and last_live.get(dst, -1) < k:
            if state[dst] == "SYN-RECEIVED" and passive[dst]:
                move(k, dst, "LISTEN", "RST received (back to LISTEN: passive open)")
            elif state[dst] == "SYN-SENT":
                move(k, dst, "CLOSED", "RST received (connection refused)")
            else:
                move(k, dst, "CLOSED", "RST received")
    return out


# RFC 9293 §3.10.7.4 order: SYN bit, then ACK field, then FIN bit
_EVENT_ORDER = {"recv SYN": 0, "recv SYN+ACK": 0, "recv ACK of SYN": 1, "recv ACK of FIN": 2,
                "recv FIN": 3}


# =========================================================================================
# Public: read_pcap, list_streams
# =========================================================================================
OFFLOAD_NOTE = (
    "{count} segment(s) from {hosts} carry more payload than one segment may ({limits}): "
    "the capture was taken on the sending host before TCP segmentation offload (TSO/GSO) "
    "cut them into MSS-sized segments, or on the receiving host after GRO/LRO merged "
    "several. They are marked \"oversize\"; on the wire they were several segments, so "
    "segment counts, sizes and ACK patterns differ from what the other end saw.")


def read_pcap(path, stream=None) -> Trace:
    """One TCP connection of a pcap or pcapng file as a trace (docs/captures.md).

    ``stream``: None (the first connection), an index (int or digit string, as listed by
    :func:`list_streams`), or ``"ADDR:PORT-ADDR:PORT"`` (either direction; IPv6 as
    ``[addr]:port``). Raises :class:`CaptureError` for anything wrong with the file.
    """
    with garbage_collection_paused():   # see gc_pause.py
        name, conns, digits, link, count = _scan(path)
        conn = _select(name, conns, stream)
        client_dir = conn.client_dir()
        rows, limit = _segment_rows(conn, client_dir, digits)
    t0 = conn.packets[0][0]
    ends = (conn.a, conn.b) if client_dir == 0 else (conn.b, conn.a)
    hosts = {}
    for side, host in enumerate(("client", "server")):
        addr, port = ends[side]
        syn = next((r for r in rows if r["src"] == host and "S" in r["flags"]), None)
        hosts[host] = {"addr": _addr_text(addr), "port": port,
                       "isn": syn["seq"] if syn else None}
    doc = {"tcpsim": 1, "name": f"{os.path.basename(name)} stream {conn.index}",
           "profile": None, "hosts": hosts, "segments": rows,
           "states": _infer_states(rows), "events": []}
    doc.update(_vantage(rows, limit))
    doc["capture"] = {"file": name, "stream": conn.index, "streams": len(conns),
                      "link_type": link, "packets": count, "start": float(t0)}
    return Trace(doc)


def _vantage(rows, limit):
    big = Counter(r["src"] for r in rows if r["oversize"])
    if not big:
        return {"offload": False, "note": None}
    limits = ", ".join(f"{h} -> {'server' if h == 'client' else 'client'}: "
                       f"{limit[0 if h == 'client' else 1]} bytes" for h in sorted(big))
    return {"offload": True,
            "note": OFFLOAD_NOTE.format(count=sum(big.values()), hosts=" and ".join(sorted(big)),
                                        limits=limits)}


def list_streams(path) -> list[str]:
    """One line per connection: index, endpoints (client first), packet count, first and
    last time (seconds since the capture's first TCP packet) and the flags seen, counted."""
    with garbage_collection_paused():   # see gc_pause.py
        _, conns, _, _, _ = _scan(path)
    start = conns[0].packets[0][0]
    lines = []
    for conn in conns:
        client_dir = conn.client_dir()
        client, server = (conn.a, conn.b) if client_dir == 0 else (conn.b, conn.a)
        first, last = conn.packets[0][0] - start, conn.packets[-1][0] - start
        flags = Counter(FLAG_STRINGS[p[2]] or "-" for p in conn.packets)
        summary = " ".join(f"{f}:{n}" for f, n in flags.items())
        lines.append(f"{conn.index}  {_endpoint_text(client)} -> {_endpoint_text(server)}  "
                     f"{len(conn.packets)} packets  {float(first):.6f}..{float(last):.6f} s  "
                     f"flags {summary}")
    return lines


# =========================================================================================
# Writing
# =========================================================================================
def _syn_options(opts):
    """Linux's SYN layout (tcp_options_write; docs/linux-facts.md §1.2): MSS, then
    SACK_PERM+TS, or NOP NOP TS, then NOP NOP SACK_PERM (no TS), then NOP WSCALE."""
    out = b""
    if "mss" in opts:
        out += struct.pack("!BBH", OPT_MSS, 4, opts["mss"])
    ts, sack_perm = opts.get("ts"), opts.get("sack_perm")
    if ts:
        head = bytes([OPT_SACK_PERM, 2]) if sack_perm else bytes([OPT_NOP, OPT_NOP])
        out += head + struct.pack("!BBII", OPT_TS, 10, ts[0], ts[1])
    elif sack_perm:
        out += bytes([OPT_NOP, OPT_NOP, OPT_SACK_PERM, 2])
    if opts.get("wscale") is not None:
        out += bytes([OPT_NOP, OPT_WSCALE, 3, opts["wscale"]])
    if opts.get("tfo") is not None:
        # tcp_options_write(): kind 34, length, the cookie, then NOP NOP if that left the
        # options 2 bytes short of a 4-byte word (an empty request: 34 2 NOP NOP)
        cookie = bytes.fromhex(opts["tfo"])
        out += bytes([OPT_FASTOPEN, 2 + len(cookie)]) + cookie
        if (2 + len(cookie)) % 4 == 2:
            out += bytes([OPT_NOP, OPT_NOP])
    return out


def _options_bytes(opts, syn):
    """A segment's options on the wire. Non-SYN: NOP NOP TS, then NOP NOP SACK with as many
    blocks as fit in 40 bytes (3 with timestamps, as Linux)."""
    if not opts:
        return b""
    if syn:
        return _syn_options(opts)
    out = b""
    ts = opts.get("ts")
    if ts:
        out += struct.pack("!BBBBII", OPT_NOP, OPT_NOP, OPT_TS, 10, ts[0], ts[1])
    blocks = opts.get("sack") or []
    room = (MAX_OPTION_BYTES - len(out) - 4) // 8
    blocks = blocks[:max(0, room)]
    if blocks:
        out += bytes([OPT_NOP, OPT_NOP, OPT_SACK, 2 + 8 * len(blocks)])
        out += b"".join(struct.pack("!II", left, right) for left, right in blocks)
    return out


_PATTERN = bytes(k % PAYLOAD_PERIOD for k in range(PAYLOAD_PERIOD + 65536))


def _payload(row):
    """``len`` bytes of the pattern k % 251, k = offset in the sender's byte stream, so a
    retransmission carries the same bytes as the original."""
    n = row.get("len") or 0
    if n <= 0:
        return b""
    first = ((row.get("rel_seq") or 0) - 1 + ("S" in row["flags"])) % PAYLOAD_PERIOD
    if n <= 65536:
        return _PATTERN[first:first + n]
    return (_PATTERN[first:] * (n // len(_PATTERN) + 2))[:n]


def _flag_bits(flags):
    bits = 0
    for c in flags:
        bits |= FLAG_BITS.get(c, 0)
    return bits


def _host_addresses(doc):
    """{host name: (ipaddress object, MAC bytes)} for the doc's hosts."""
    out = {}
    for k, (host, info) in enumerate((doc.get("hosts") or {}).items()):
        text = (info or {}).get("addr") or DEFAULT_ADDRS[min(k, 1)]
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            raise CaptureError(f"hosts.{host}.addr: {text!r} is not an IP address") from None
        mac = b"\x02\x00" + addr.packed[-4:]      # locally administered, from the address
        out[host] = (addr, mac)
    return out


def _add_spoofed_address(row, end, hosts, where):
    """A flood's spoofed source (docs/scenario.md) is named by its address and its row
    carries ``sport``/``dport``: write it from that address; any other name is an error."""
    name = row.get(end)
    try:
        addr = ipaddress.ip_address(name)
    except (ValueError, TypeError):
        raise CaptureError(f"{where}: src and dst must name hosts of the trace") from None
    if "sport" not in row or "dport" not in row:
        raise CaptureError(f"{where}: a segment from or to {name} needs sport and dport")
    hosts[name] = (addr, b"\x02\x00" + addr.packed[-4:])


def _packet(row, hosts, ports, ip_ids):
    """One Ethernet frame (bytes) for a segment row, checksums filled in by dpkt."""
    src, dst = row["src"], row["dst"]
    (saddr, smac), (daddr, dmac) = hosts[src], hosts[dst]
    flags = row.get("flags") or ""
    sport = row["sport"] if "sport" in row else ports[src]
    dport = row["dport"] if "dport" in row else ports[dst]
    tcp = dpkt.tcp.TCP(sport=sport, dport=dport, seq=row["seq"] & MASK,
                       ack=(row.get("ack") or 0) & MASK, win=row.get("win") or 0, urp=0,
                       flags=_flag_bits(flags))
    tcp.opts = _options_bytes(row.get("options") or {}, "S" in flags)
    tcp.off = 5 + len(tcp.opts) // 4
    tcp.data = _payload(row)
    if saddr.version == 4:
        ip_ids[src] = (ip_ids.get(src, 0) + 1) & 0xffff
        ip = dpkt.ip.IP(src=saddr.packed, dst=daddr.packed, p=dpkt.ip.IP_PROTO_TCP,
                        ttl=IP_TTL, id=ip_ids[src], df=1, data=tcp)
        eth_type = dpkt.ethernet.ETH_TYPE_IP
    else:
        ip = dpkt.ip6.IP6(src=saddr.packed, dst=daddr.packed, nxt=dpkt.ip.IP_PROTO_TCP,
                          hlim=IP_TTL, plen=len(tcp), data=tcp)
        eth_type = dpkt.ethernet.ETH_TYPE_IP6
    return bytes(dpkt.ethernet.Ethernet(src=smac, dst=dmac, type=eth_type, data=ip))


def write_pcap(doc, path, include_dropped=True) -> None:
    """Write a trace document as a classic pcap (Ethernet, microsecond timestamps = ``t``).

    Every segment becomes one packet with valid IPv4 (or IPv6) and TCP headers and
    checksums, the row's ``seq``/``ack``/``win``/flags, its options in Linux's wire order
    and ``len`` bytes of payload. Dropped segments are written too (at their send time, as
    tcpdump on the sending host sees them); ``include_dropped=False`` leaves them out.
    """
    if isinstance(doc, Trace):
        doc = doc.doc
    hosts = _host_addresses(doc)
    ports = {h: (info or {}).get("port") or 0 for h, info in (doc.get("hosts") or {}).items()}
    rows = [r for r in doc.get("segments") or () if include_dropped or not r.get("dropped")]
    rows.sort(key=lambda r: r.get("t") or 0.0)          # stable: ties keep the doc's order
    ip_ids = {}
    with open(os.fspath(path), "wb") as f:
        writer = dpkt.pcap.Writer(f, snaplen=WRITE_SNAPLEN, linktype=dpkt.pcap.DLT_EN10MB)
        for row in rows:
            where = f"segments[{row.get('i')}]"
            for end in ("src", "dst"):
                if row.get(end) not in hosts:
                    _add_spoofed_address(row, end, hosts, where)
            try:
                frame = _packet(row, hosts, ports, ip_ids)
            except (dpkt.Error, struct.error, ValueError, TypeError, KeyError) as err:
                raise CaptureError(f"{where}: cannot be written as a packet "
                                   f"({_why(err)})") from None
            micros = round((row.get("t") or 0.0) * 1_000_000)
            sec, usec = divmod(micros, 1_000_000)
            writer.writepkt_time(frame, sec + usec / 1e6)
