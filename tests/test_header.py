"""tcpsim.header (a segment built and parsed with dpkt) and its two widgets (notebook 01).

The checksum is checked against Wireshark's own dissector: segments built here are written
into a pcap and read back with ``tshark -o tcp.check_checksum:TRUE`` (skipped without
tshark), and on a shipped capture tshark's computed checksum is ours, frame by frame.
"""
import shutil
import subprocess

import dpkt
import pytest
from hypothesis import given, settings, strategies as st

from tcpsim import course, header, widgets

TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")


def tshark_fields(path, *fields):
    out = subprocess.run([TSHARK, "-o", "tcp.check_checksum:TRUE", "-r", str(path), "-T",
                          "fields"] + [a for f in fields for a in ("-e", f)],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [line.split("\t") for line in out.strip().splitlines()]


def write_pcap(path, segments):
    """Ethernet + IPv4 + each Header's own TCP bytes, as a classic pcap."""
    with open(path, "wb") as f:
        writer = dpkt.pcap.Writer(f, linktype=dpkt.pcap.DLT_EN10MB)
        for k, seg in enumerate(segments):
            ip = dpkt.ip.IP(src=bytes(map(int, seg.src.split("."))),
                            dst=bytes(map(int, seg.dst.split("."))), p=6, ttl=64,
                            data=dpkt.tcp.TCP(seg.raw))
            ip.data.sum = seg.checksum          # keep ours: dpkt must not recompute it
            frame = dpkt.ethernet.Ethernet(src=b"\x02\x00\x0a\x00\x00\x01",
                                           dst=b"\x02\x00\x0a\x00\x00\x02",
                                           type=dpkt.ethernet.ETH_TYPE_IP, data=ip)
            writer.writepkt(bytes(frame), ts=k)


BUILT = [
    dict(sport=40001, dport=5201, seq=1000, flags="S",
         options={"mss": 1460, "sack_perm": True, "ts": [7, 0], "wscale": 7}),
    dict(sport=5201, dport=40001, seq=2 ** 32 - 1, ack=1001, flags="SA", options={"mss": 536},
         src="10.0.0.2", dst="10.0.0.1"),
    dict(sport=40001, dport=5201, seq=1001, ack=0, flags="PA", window=502,
         options={"ts": [8, 9]}, payload=b"hello, odd length"),
    dict(sport=40001, dport=5201, seq=1018, flags="FA", ack=5, window=0),
    dict(sport=40001, dport=5201, seq=1019, flags="R", window=0),
    dict(sport=1, dport=65535, seq=0, flags="SEC", urgent=3, src="192.168.1.7",
         dst="203.0.113.9"),
]


# ---------------------------------------------------------------------- build and decode
def test_build_puts_each_field_where_rfc_9293_figure_1_says():
    syn = header.build(40001, 5201, 1000, flags="S", window=64240, options={"mss": 1460})
    raw = syn.header_bytes
    assert len(raw) == 24 and syn.offset == 6 and raw[12] >> 4 == 6
    assert raw[0:2].hex() == "9c41" and raw[2:4] == (5201).to_bytes(2, "big")
    assert int.from_bytes(raw[4:8], "big") == 1000 and raw[8:12] == bytes(4)
    assert raw[13] == 0x02 and int.from_bytes(raw[14:16], "big") == 64240
    assert raw[20:24].hex() == "020405b4"                  # MSS 1460
    assert syn.checksum_ok and syn.checksum_status == "correct"
    assert len(syn.rows()) == 6 and [c[0] for c in syn.rows()[5]] == ["MSS 1460"]


@pytest.mark.parametrize("fields", BUILT, ids=[f["flags"] for f in BUILT])
def test_built_segments_decode_to_their_fields(fields):
    seg = header.build(**fields)
    again = header.decode(seg.raw.hex(" "), src=seg.src, dst=seg.dst)
    assert again == seg
    assert (again.sport, again.dport, again.seq, again.flags) == \
        (fields["sport"], fields["dport"], fields["seq"], fields["flags"])
    for key, value in (fields.get("options") or {}).items():
        assert again.options[key] == value
    assert again.payload == bytes(fields.get("payload", b""))
    assert again.checksum_ok


@given(st.integers(0, 65535), st.integers(0, 65535), st.integers(0, 2 ** 32 - 1),
       st.integers(0, 2 ** 32 - 1), st.sets(st.sampled_from("FSRPAUEC")),
       st.integers(0, 65535), st.binary(max_size=40))
@settings(max_examples=60, deadline=None)
def test_any_segment_round_trips_and_its_checksum_verifies(sport, dport, seq, ack, flags,
                                                           window, payload):
    flags = "".join(sorted(flags, key="FSRPAUEC".index))
    seg = header.build(sport, dport, seq, ack, flags, window, options={}, payload=payload)
    assert header.decode(seg.raw) == seg and seg.checksum_ok
    assert seg.seq_space == len(payload) + ("S" in flags) + ("F" in flags)
    assert header.flag_letters(seg.flags_byte) == flags
    corrupted = bytearray(seg.raw)
    corrupted[4] ^= 0x01                                       # one bit of the seq
    assert header.decode(bytes(corrupted)).checksum_status == "wrong"


def test_flags_are_bits_of_byte_13():
    assert header.flags_byte("SA") == 0x12 == header.flags_byte("S") | header.flags_byte("A")
    assert header.flags_byte("SEC") == 0xC2 and header.flag_letters(0x52) == "SAE"
    table = header.flag_bits_table(["SA", "FA"])
    assert list(table["byte 13 (hex)"]) == ["0x12", "0x11"]


@pytest.mark.parametrize("call, message", [
    (lambda: header.build(70000, 1, 0), "sport: 70000 does not fit in 16 bits"),
    (lambda: header.build(1, 2, 2 ** 32), "seq: 4294967296 does not fit in 32 bits"),
    (lambda: header.build(1, 2, 3, window=-1), "window: -1 does not fit"),
    (lambda: header.build(1, 2, 3, flags="SX"), "flags: unknown flag letter 'X'"),
    (lambda: header.build(1, 2, "3"), "seq: must be a whole number"),
    (lambda: header.build(1, 2, 3, src="nowhere"), "address"),
    (lambda: header.decode("zz"), "hex: not hexadecimal"),
    (lambda: header.decode(bytes(12)), "bytes: 12 bytes, a TCP header has at least 20"),
    (lambda: header.decode(bytes(12) + b"\xf0" + bytes(7)), "byte 12: data offset 15"),
    (lambda: header.decode(bytes(12) + b"\x30" + bytes(7)), "byte 12: data offset 3"),
    (lambda: header.from_capture("refused", frame=9), "frame: refused.pcap has no TCP frame 9"),
])
def test_bad_input_is_a_clear_error_naming_the_field(call, message):
    with pytest.raises(header.HeaderError, match=message.replace("(", r"\(")):
        call()


# ----------------------------------------------------------------- real captures, tshark
def test_captured_checksums_are_offloaded_partial_sums():
    """What notebook 01 section 3 says: on the sending host, the field holds the
    pseudo-header's one's-complement sum only (Linux CHECKSUM_PARTIAL), in every frame of
    a connection; the reset for a SYN to a closed port (tcp_v4_send_reset, no socket) is
    the exception: its checksum is complete."""
    for name in ("handshake", "ecn", "linger0"):
        for seg in header.capture_segments(name):
            assert seg.checksum == seg.pseudo_header_sum != seg.computed_checksum
            assert seg.checksum_status == "offloaded"
    syn, rst = header.capture_segments("refused")
    assert syn.checksum_status == "offloaded"
    assert rst.flags == "RA" and rst.checksum_status == "correct"


@needs_tshark
def test_tshark_agrees_with_the_checksums_of_built_segments(tmp_path):
    segments = [header.build(**fields) for fields in BUILT]
    path = tmp_path / "built.pcap"
    write_pcap(path, segments)
    rows = tshark_fields(path, "tcp.srcport", "tcp.seq_raw", "tcp.flags", "tcp.checksum",
                         "tcp.checksum.status", "tcp.checksum_calculated", "_ws.expert")
    assert len(rows) == len(segments)
    for seg, (sport, seq, flags, checksum, status, calculated, *expert) in zip(segments, rows):
        assert (int(sport), int(seq), int(flags, 16)) == (seg.sport, seg.seq, seg.flags_byte)
        assert int(checksum, 16) == seg.checksum == int(calculated, 16)
        assert status == "1", f"tshark calls checksum {checksum} bad ({expert})"   # 1 = Good


@needs_tshark
def test_tshark_computes_our_checksum_on_a_real_capture():
    segments = header.capture_segments("handshake")
    rows = tshark_fields(course.capture_path("handshake"), "tcp.checksum",
                         "tcp.checksum.status", "tcp.checksum_calculated")
    assert len(rows) == len(segments)
    for seg, (checksum, status, calculated) in zip(segments, rows):
        assert int(checksum, 16) == seg.checksum and int(calculated, 16) == seg.computed_checksum
        assert status == "0"                  # tshark: bad (it does not know about offload)


def test_decoded_captures_agree_with_read_pcap():
    for name in ("handshake", "ecn", "linger0"):
        rows = course.capture(name).segments
        for seg, (_, row) in zip(header.capture_segments(name), rows.iterrows()):
            assert (seg.seq, seg.ack, seg.flags, seg.window, len(seg.payload)) == \
                (row["seq"], row["ack"], row["flags"], row["win"], row["len"])
            assert {k: v for k, v in seg.options.items()} == \
                {k: v for k, v in row["options"].items() if v is not None}


# ---------------------------------------------------------------------------- widgets
def test_builder_rebuilds_on_every_change_and_names_a_bad_field():
    b = widgets.segment_builder()
    assert b.segment.flags == "S" and b.segment.offset == 6          # MSS by default
    b.flag_boxes["A"].value = True
    assert b.segment.flags == "SA" and b.segment.flags_byte == 0x12
    b.option_boxes["mss"][0].value = False
    assert b.segment.offset == 5 and len(b.segment.header_bytes) == 20
    b.option_boxes["ts"][0].value = True
    b.option_boxes["ts"][1].value = 12345
    assert b.segment.options["ts"] == [12345, 0]
    b.fields["payload"].value = "abc"
    assert b.segment.payload == b"abc" and b.segment.checksum_ok
    b.fields["window"].value = 70000
    assert b.segment is None and "window: 70000 does not fit in 16 bits" in b.view.value
    b.fields["window"].value = 100
    assert b.segment.window == 100 and "tcpsim-header" in b.view.value


def test_decoder_walks_the_frames_of_a_capture():
    d = widgets.segment_decoder("ecn")
    assert d.frame.max == 10 and d.segment.flags == "SEC"
    d.frame.value = 2
    assert d.segment.flags == "SAE" and "offloaded" in d.view.value
    d.capture.value = "refused"
    assert d.frame.max == 2 and d.frame.value == 1 and d.segment.flags == "S"
