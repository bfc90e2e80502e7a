"""One segment's TCP header, drawn as RFC 9293 §3.1 draws it: 32-bit rows.

``header_bytes`` builds the header with ``struct`` (options in Linux's order, as
``tcpsim.pcap`` writes them); ``header`` draws the fields with this segment's values, the
flag bits that are set lit, and the bytes in hex underneath.

The checksum covers an IPv4 pseudo-header, the header and the payload (RFC 9293 §3.1). It is
computed when the addresses are known (``trace=``) and the payload is known: always for a
simulated trace (the payload is the contract's pattern, byte k of the stream = k mod 251),
and for segments without payload in a capture; otherwise it is shown as 0 and labelled
"computed on the wire".
"""
from __future__ import annotations

import ipaddress
import struct

from matplotlib.patches import Rectangle

from ._common import as_trace, isnan
from .style import FONT, FONT_FAMILY, LIGHT, host_colours, new_figure

FLAG_BITS = (("CWR", "C", 0x80), ("ECE", "E", 0x40), ("URG", "U", 0x20), ("ACK", "A", 0x10),
             ("PSH", "P", 0x08), ("RST", "R", 0x04), ("SYN", "S", 0x02), ("FIN", "F", 0x01))
OPT_EOL, OPT_NOP, OPT_MSS, OPT_WSCALE, OPT_SACK_PERM, OPT_SACK, OPT_TS = 0, 1, 2, 3, 4, 5, 8
PAYLOAD_PERIOD = 251
HEADER_FMT = "!HHIIBBHHH"      # ports, seq, ack, offset<<4, flags, window, checksum, urgent


def _row(seg):
    if hasattr(seg, "to_dict"):
        seg = seg.to_dict()
    return dict(seg)


def options_bytes(opts, syn):
    """Options as Linux writes them; returns (bytes, [(name, first byte, length)])."""
    out, spans = bytearray(), []

    def add(name, b):
        spans.append((name, len(out), len(b)))
        out.extend(b)

    opts = opts or {}
    if syn:
        if "mss" in opts:
            add(f"MSS {opts['mss']}", struct.pack("!BBH", OPT_MSS, 4, opts["mss"]))
        ts, sack_perm = opts.get("ts"), opts.get("sack_perm")
        if ts:
            if sack_perm:
                add("SACK-perm", bytes([OPT_SACK_PERM, 2]))
            else:
                add("NOP", bytes([OPT_NOP]))
                add("NOP", bytes([OPT_NOP]))
            add(f"TS val {ts[0]} ecr {ts[1]}", struct.pack("!BBII", OPT_TS, 10, ts[0], ts[1]))
        elif sack_perm:
            add("NOP", bytes([OPT_NOP]))
            add("NOP", bytes([OPT_NOP]))
            add("SACK-perm", bytes([OPT_SACK_PERM, 2]))
        if opts.get("wscale") is not None:
            add("NOP", bytes([OPT_NOP]))
            add(f"WS {opts['wscale']}", bytes([OPT_WSCALE, 3, opts["wscale"]]))
    else:
        ts = opts.get("ts")
        if ts:
            add("NOP", bytes([OPT_NOP]))
            add("NOP", bytes([OPT_NOP]))
            add(f"TS val {ts[0]} ecr {ts[1]}", struct.pack("!BBII", OPT_TS, 10, ts[0], ts[1]))
        blocks = opts.get("sack") or []
        room = (40 - len(out) - 4) // 8
        blocks = blocks[:max(0, room)]
        if blocks:
            add("NOP", bytes([OPT_NOP]))
            add("NOP", bytes([OPT_NOP]))
            add("SACK " + " ".join(f"{lft}-{rgt}" for lft, rgt in blocks),
                bytes([OPT_SACK, 2 + 8 * len(blocks)]) +
                b"".join(struct.pack("!II", lft, rgt) for lft, rgt in blocks))
    while len(out) % 4:
        add("EOL", bytes([OPT_EOL]))
    return bytes(out), spans


def _payload(row):
    n = int(row.get("len") or 0)
    first = (int(row.get("rel_seq") or 0) - 1 + ("S" in (row.get("flags") or ""))) % PAYLOAD_PERIOD
    return bytes((first + k) % PAYLOAD_PERIOD for k in range(n))


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _endpoints(row, trace):
    """(sport, dport, saddr, daddr) from the trace's hosts (None where unknown)."""
    sport = row.get("sport")
    dport = row.get("dport")
    saddr = daddr = None
    if trace is not None:
        hosts = trace.hosts or {}
        src, dst = hosts.get(row.get("src")) or {}, hosts.get(row.get("dst")) or {}
        sport = src.get("port", sport)
        dport = dst.get("port", dport)
        defaults = {h: ("10.0.0.1", "10.0.0.2")[min(k, 1)] for k, h in enumerate(hosts)}
        saddr = src.get("addr") or defaults.get(row.get("src"))
        daddr = dst.get("addr") or defaults.get(row.get("dst"))
    return sport, dport, saddr, daddr


def header_fields(segment, trace=None):
    """The header's fields as numbers plus how the checksum was obtained.

    Returns a dict: ``sport``, ``dport``, ``seq``, ``ack``, ``offset`` (32-bit words),
    ``flags`` (the byte), ``window``, ``checksum``, ``urgent``, ``options`` (bytes),
    ``option_spans``, ``checksum_note``.
    """
    row = _row(segment)
    trace = as_trace(trace) if trace is not None else None
    sport, dport, saddr, daddr = _endpoints(row, trace)
    flags = row.get("flags") or ""
    fbyte = 0
    for _name, letter, bit in FLAG_BITS:
        if letter in flags:
            fbyte |= bit
    opts, spans = options_bytes(row.get("options") or {}, "S" in flags)
    ack = 0 if isnan(row.get("ack")) else int(row["ack"])
    f = {"sport": int(sport or 0), "dport": int(dport or 0), "seq": int(row["seq"]) & 0xFFFFFFFF,
         "ack": ack & 0xFFFFFFFF, "offset": 5 + len(opts) // 4, "flags": fbyte,
         "window": int(row.get("win") or 0), "checksum": 0, "urgent": 0, "options": opts,
         "option_spans": spans, "ports_known": sport is not None and dport is not None}
    simulated = trace is not None and trace.doc.get("profile") is not None
    n = int(row.get("len") or 0)
    if saddr and daddr and f["ports_known"] and (n == 0 or simulated):
        try:
            sa, da = ipaddress.ip_address(saddr), ipaddress.ip_address(daddr)
        except ValueError:
            sa = da = None
        if sa is not None and sa.version == 4:
            payload = _payload(row) if n else b""
            hdr = _pack(f, 0)
            pseudo = sa.packed + da.packed + struct.pack("!BBH", 0, 6, len(hdr) + n)
            f["checksum"] = _checksum(pseudo + hdr + payload)
            f["checksum_note"] = (f"computed: pseudo-header {saddr} \u2192 {daddr}"
                                  + (", payload = the contract's pattern" if n else ""))
    f.setdefault("checksum_note", "computed on the wire (addresses or payload unknown)")
    return f


def _pack(f, checksum):
    return struct.pack(HEADER_FMT, f["sport"], f["dport"], f["seq"], f["ack"], f["offset"] << 4,
                       f["flags"], f["window"], checksum, f["urgent"]) + f["options"]


def header_bytes(segment, trace=None) -> bytes:
    """The TCP header of a segment row (a trace.segments row or dict), options included."""
    f = header_fields(segment, trace)
    return _pack(f, f["checksum"])


def header(segment, ax=None, trace=None, title=True):
    """Draw a segment's TCP header (RFC 9293 §3.1 layout) with its values and bytes in hex.

    ``segment``: a row of ``trace.segments`` (Series) or a segment dict; ``trace`` gives the
    ports and addresses (without it ports show as 0 and the checksum is not computed).
    Returns the Figure (or ``ax``); ``ax.tcpsim`` holds ``fields``, ``bytes`` and ``lit``
    (the names of the flag bits drawn lit).
    """
    row = _row(segment)
    f = header_fields(row, trace)
    raw = _pack(f, f["checksum"])
    n_opt_rows = len(f["options"]) // 4
    n_rows = 5 + n_opt_rows
    hex_lines = (len(raw) + 15) // 16
    colour = "#0072B2"
    if trace is not None:
        colour = host_colours(as_trace(trace)).get(row.get("src"), colour)
    created = ax is None
    height = 1.3 + 0.52 * n_rows + 0.2 * hex_lines + 0.4
    if created:
        fig = new_figure(height)
        ax = fig.add_axes((0.03, 0.02, 0.94, 0.96 - 0.45 / height))
    else:
        fig = ax.figure
    ax.set_axis_off()
    ax.set_xlim(-0.5, 32.5)
    total = n_rows + 1.2 + 0.45 * hex_lines + 0.9
    ax.set_ylim(total - 0.4, -1.0)
    lit = []

    def cell(row_i, b0, b1, name, value, fc="white", tc="#111111", vsize=FONT["small"]):
        ax.add_patch(Rectangle((b0, row_i), b1 - b0, 1, fc=fc, ec="#333333", lw=1.0))
        if name:
            ax.text((b0 + b1) / 2, row_i + 0.27, name, ha="center", va="center",
                    fontsize=FONT["tiny"], family=FONT_FAMILY, color="#555555" if fc == "white"
                    else tc)
        ax.text((b0 + b1) / 2, row_i + (0.66 if name else 0.5), value, ha="center",
                va="center", fontsize=vsize, family=FONT_FAMILY, color=tc, fontweight="bold")

    for b in range(32):        # bit ruler
        ax.text(b + 0.5, -0.25, str(b % 10), ha="center", va="center", fontsize=FONT["tiny"] - 1,
                family=FONT_FAMILY, color="#777777")
    for b in (0, 10, 20, 30):
        ax.text(b + 0.5, -0.65, str(b // 10), ha="center", va="center",
                fontsize=FONT["tiny"] - 1, family=FONT_FAMILY, color="#777777")
    ports = f["ports_known"]
    cell(0, 0, 16, "source port", str(f["sport"]) if ports else "?")
    cell(0, 16, 32, "destination port", str(f["dport"]) if ports else "?")
    rs = row.get("rel_seq")
    cell(1, 0, 32, "sequence number", f"{f['seq']}" + ("" if isnan(rs) else f"   (relative {int(rs)})"))
    ra = row.get("rel_ack")
    ack_txt = f"{f['ack']}" + ("" if isnan(ra) else f"   (relative {int(ra)})")
    cell(2, 0, 32, "acknowledgment number" + ("" if f["flags"] & 0x10 else " (ACK off: ignored)"),
         ack_txt)
    cell(3, 0, 4, "off", f"{f['offset']}", vsize=FONT["tiny"])
    cell(3, 4, 8, "rsvd", "0", vsize=FONT["tiny"])
    for k, (name, _letter, bit) in enumerate(FLAG_BITS):
        on = bool(f["flags"] & bit)
        if on:
            lit.append(name)
        ax.add_patch(Rectangle((8 + k, 3), 1, 1, fc=colour if on else LIGHT, ec="#333333",
                               lw=1.0, gid=f"flag-{name}"))
        ax.text(8 + k + 0.5, 3.3, name, ha="center", va="center", rotation=90,
                fontsize=FONT["tiny"] - 1.5, family=FONT_FAMILY,
                color="white" if on else "#777777", fontweight="bold" if on else "normal")
        ax.text(8 + k + 0.5, 3.8, "1" if on else "0", ha="center", va="center",
                fontsize=FONT["tiny"], family=FONT_FAMILY, color="white" if on else "#777777",
                fontweight="bold")
    cell(3, 16, 32, "window", f"{f['window']}")
    cell(4, 0, 16, "checksum", f"0x{f['checksum']:04x}" if f["checksum"] or
         f["checksum_note"].startswith("computed:") else "(on the wire)")
    cell(4, 16, 32, "urgent pointer", "0")
    for name, start, length in f["option_spans"]:
        pieces, pos = [], start
        while pos < start + length:
            r = pos // 4
            end = min(start + length, (r + 1) * 4)
            pieces.append((5 + r, (pos % 4) * 8, ((end - 1) % 4 + 1) * 8))
            pos = end
        big = max(pieces, key=lambda p: p[2] - p[1])
        for p in pieces:
            short = name if p is big else name.split(" ")[0] + " \u2026"
            if len(short) * 0.55 > (p[2] - p[1]):
                short = name.split(" ")[0]
            cell(p[0], p[1], p[2], "", short, fc="#FFF4DB", vsize=FONT["tiny"])
    if not f["options"]:
        pass
    # hex dump
    y = n_rows + 0.9
    ax.text(0, y - 0.35, f"header bytes ({len(raw)}; data offset {f['offset']} \u00d7 4)  "
            f"\u2014 checksum {f['checksum_note']}", ha="left", va="center",
            fontsize=FONT["tiny"], family=FONT_FAMILY, color="#444444")
    for k in range(hex_lines):
        chunk = raw[16 * k:16 * k + 16]
        text = f"{16 * k:04x}  " + " ".join(chunk[j:j + 4].hex(" ") for j in range(0, len(chunk), 4))
        ax.text(0, y + 0.15 + 0.45 * k, text, ha="left", va="center", family="DejaVu Sans Mono",
                fontsize=FONT["small"], color="#111111")
    if title:
        from .style import flag_label
        ax.set_title(f"TCP header of segment {row.get('i')}: {row.get('src')} \u2192 "
                     f"{row.get('dst')}  {flag_label(row.get('flags') or '')}, "
                     f"len {int(row.get('len') or 0)}", fontsize=FONT["label"] + 1,
                     family=FONT_FAMILY, loc="left", color=colour)
    ax.tcpsim = {"fields": f, "bytes": raw, "lit": lit}
    return fig if created else ax
