"""widgets.capture_viewer (notebook 09): a capture file in, every view of a connection out,
and one clear message (with its remedy) for each kind of file that cannot be read."""
from __future__ import annotations

import copy

import dpkt
import ipywidgets
import pytest

import tcpsim
from tcpsim import course, widgets
from tcpsim.pcap import write_pcap
from tcpsim.widgets.captures import advice, label_table
from tcpsim.widgets.player import Player


def test_a_shipped_capture_shows_every_view():
    v = widgets.capture_viewer("data-rto")
    assert "pcap · link type Ethernet · IPv4" in v.status.value
    assert len(v.streams.options) == 1 and v.trace is not None
    kinds = [type(w) for w in v.views.children]
    assert Player in kinds and ipywidgets.Image in kinds
    html = "".join(w.value for w in v.views.children if isinstance(w, ipywidgets.HTML))
    assert "Wireshark" in html and "retransmission" in html
    assert not v.compare_button.disabled and v.comparison.value == ""
    v.compare()
    assert v.replay.similarity == 1.0
    assert "16 of 16 captured segments are the same" in v.comparison.value


def test_label_table_lists_only_labelled_segments():
    trace = course.capture("data-rto")
    table = label_table(trace)
    assert list(table["i"]) == list(trace.segments[trace.segments["retransmission"]]["i"])


def test_the_stream_picker_switches_connections():
    v = widgets.capture_viewer(str(course.capture_path("fastopen")))
    assert len(v.streams.options) == 2
    first = v.trace.doc["segments"]
    v.streams.value = 1
    assert v.trace.doc["capture"]["stream"] == 1 and v.trace.doc["segments"] != first
    assert "2 TCP connection(s)" in v.status.value


def test_upload_bytes_like_the_button():
    v = widgets.capture_viewer()
    assert v.trace is None and v.compare_button.disabled
    data = course.capture_path("handshake").read_bytes()
    v._uploaded(({"name": "mine.pcap", "content": memoryview(data)},))
    assert v.trace is not None and len(v.trace.doc["segments"]) == 10


def test_pcapng_and_ipv6_are_read_and_said(tmp_path):
    trace = tcpsim.run(course.scenario("handshake"))
    doc = copy.deepcopy(trace.doc)
    doc["hosts"]["client"]["addr"], doc["hosts"]["server"]["addr"] = "fd00::1", "fd00::2"
    write_pcap(doc, tmp_path / "v6.pcap")
    with open(tmp_path / "v6.pcap", "rb") as f:
        packets = list(dpkt.pcap.Reader(f))
    with open(tmp_path / "v6.pcapng", "wb") as f:
        writer = dpkt.pcapng.Writer(f, linktype=dpkt.pcap.DLT_EN10MB)
        for ts, buf in packets:
            writer.writepkt(buf, ts=ts)
    v = widgets.capture_viewer()
    v.load_bytes("v6.pcapng", (tmp_path / "v6.pcapng").read_bytes())
    assert "pcapng" in v.status.value and "IPv6" in v.status.value
    assert len(v.trace.doc["segments"]) == len(doc["segments"])


def cut(tmp_path):
    """handshake.pcap with a snapshot length of 60 bytes (Ethernet + IP + 6 TCP bytes)."""
    src = course.capture_path("handshake")
    with open(src, "rb") as f:
        packets = list(dpkt.pcap.Reader(f))
    out = tmp_path / "cut.pcap"
    with open(out, "wb") as f:
        writer = dpkt.pcap.Writer(f, snaplen=40)
        for ts, buf in packets:
            writer.writepkt(buf[:40], ts=ts)   # dpkt writes the captured length only
    return out


@pytest.mark.parametrize("kind", ["text", "snaplen", "linktype", "truncated", "no-tcp"])
def test_files_that_cannot_be_read_get_one_message_and_a_remedy(tmp_path, kind):
    if kind == "text":
        data = b"time,src,dst\n0.1,a,b\n" * 4
    elif kind == "snaplen":
        data = cut(tmp_path).read_bytes()
    elif kind == "linktype":
        data = bytearray(course.capture_path("handshake").read_bytes())
        data[20:24] = (127).to_bytes(4, "little")     # 802.11 radiotap
        data = bytes(data)
    elif kind == "truncated":
        data = course.capture_path("handshake").read_bytes()[:-30]
    else:
        out = tmp_path / "udp.pcap"
        with open(out, "wb") as f:
            writer = dpkt.pcap.Writer(f)
            udp = dpkt.udp.UDP(sport=53, dport=5353, data=b"x")
            ip = dpkt.ip.IP(src=b"\x0a\0\0\x01", dst=b"\x0a\0\0\x02", p=17, data=udp)
            writer.writepkt(bytes(dpkt.ethernet.Ethernet(type=0x0800, data=ip)), ts=1.0)
        data = out.read_bytes()
    v = widgets.capture_viewer()
    v.load_bytes("mine.pcap", data)
    message = v.status.value
    assert v.trace is None and v.views.children == () and v.streams.options == ()
    assert "mine.pcap" in message and "/tmp" not in message
    assert "Traceback" not in message
    remedy = {"text": "not a capture file", "snaplen": "default snapshot length",
              "linktype": "tcpsim reads Ethernet", "truncated": "Ctrl-C",
              "no-tcp": "capture filter"}[kind]
    assert remedy in message, message


def test_every_pcap_error_message_has_a_remedy():
    for message in ("x: not a pcap or pcapng file (magic 0x7b0a2020)",
                    ("x: packet 4 at byte 286 is cut short by the snapshot length (only 20 of "
                    "its 42 TCP bytes were captured)"),
                    "x: link type 127 is not supported (Ethernet, ...)",
                    "x: packet 17 at byte 2311 is truncated (the file ends inside it)",
                    "x: no TCP packets (3 packets read)"):
        assert advice(message), message
