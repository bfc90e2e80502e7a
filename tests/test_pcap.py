"""Tests for tcpsim.pcap: reading real captures, writing simulated ones, bad input.

The facts checked on the shipped captures (data/captures/raw/, made on this machine's
loopback) come from docs/linux-facts.md; the analysis labels are checked against tshark's
tcp.analysis flags when tshark is installed (skipped otherwise).
"""
from __future__ import annotations

import copy
import io
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import dpkt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tcpsim
from tcpsim.errors import CaptureError
from tcpsim.pcap import list_streams, read_pcap, write_pcap

from conftest import act, scenario

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "captures" / "raw"
CAPTURES = sorted(RAW.glob("*.pcap"))
TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")
LABELS = ("retransmission", "dup_ack", "out_of_order", "zero_window", "window_update",
          "keep_alive")


def doc_of(name, **kw):
    return read_pcap(RAW / name, **kw).doc


def path_of(doc, host):
    """The states a host went through: [first 'from', 'to', 'to', ...]."""
    rows = [r for r in doc["states"] if r["host"] == host]
    return [rows[0]["from"]] + [r["to"] for r in rows] if rows else []


def flow(doc, n=None):
    return [(s["src"], s["flags"], s["rel_seq"], s["rel_ack"], s["len"])
            for s in doc["segments"][:n]]


# =========================================================================================
# Real captures: facts from docs/linux-facts.md
# =========================================================================================
def test_every_capture_reads_with_the_contract_fields():
    fields = {"i", "t", "src", "dst", "flags", "seq", "ack", "rel_seq", "rel_ack", "len",
              "win", "options", "retransmission", "dropped", "arrival", *LABELS, "oversize"}
    for path in CAPTURES:
        doc = read_pcap(path).doc
        assert set(doc) >= {"tcpsim", "hosts", "segments", "states", "events", "offload"}
        assert doc["events"] == []
        assert set(doc["hosts"]) == {"client", "server"}
        for host in doc["hosts"].values():
            assert set(host) >= {"addr", "port", "isn"}
        for k, s in enumerate(doc["segments"]):
            assert fields <= set(s), path.name
            assert s["i"] == k and s["arrival"] == s["t"] and s["dropped"] is False
            assert s["src"] != s["dst"] and {s["src"], s["dst"]} == {"client", "server"}
        times = [s["t"] for s in doc["segments"]]
        assert times[0] == 0.0 and times == sorted(times)
        json.dumps(doc)                                         # plain JSON types only


def test_handshake_and_data_mtu1500():
    """§1.1 and §3: options, raw windows 64240/65160/63/64, relative numbering, 1448 B."""
    doc = doc_of("handshake-data-mtu1500.pcap")
    assert doc["hosts"]["client"] == {"addr": "127.0.0.1", "port": 42762, "isn": 3340705904}
    assert doc["hosts"]["server"] == {"addr": "127.0.0.1", "port": 5021, "isn": 3852485755}
    assert flow(doc, 7) == [
        ("client", "S", 0, None, 0), ("server", "SA", 0, 1, 0), ("client", "A", 1, 1, 0),
        ("client", "PA", 1, 1, 100), ("server", "A", 1, 101, 0),
        ("server", "PA", 1, 101, 50), ("client", "A", 101, 51, 0)]
    syn, synack, third = doc["segments"][:3]
    assert syn["options"] == {"mss": 1460, "sack_perm": True, "ts": [315509975, 0],
                              "wscale": 10}
    assert synack["options"] == {"mss": 1460, "sack_perm": True,
                                 "ts": [54240161, 315509975], "wscale": 10}
    assert third["options"] == {"ts": [315509975, 54240161]}
    assert (syn["win"], synack["win"], third["win"]) == (64240, 65160, 63)
    assert doc["segments"][4]["win"] == 64                      # the server's first ACK
    assert syn["seq"] == 3340705904 and synack["ack"] == 3340705905
    data = [s for s in doc["segments"] if s["src"] == "client" and s["len"] > 100]
    assert max(s["len"] for s in data) == 1448                  # MSS 1460 - 12 (TS)
    assert sum(s["len"] for s in doc["segments"] if s["src"] == "client") == 100 + 100000
    assert not any(s[label] for s in doc["segments"] for label in LABELS)
    assert doc["offload"] is False and not any(s["oversize"] for s in doc["segments"])
    assert path_of(doc, "client") == ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1",
                                      "FIN-WAIT-2", "TIME-WAIT"]
    assert path_of(doc, "server") == ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT",
                                      "LAST-ACK", "CLOSED"]


@pytest.mark.parametrize("name, syn_options, synack_win, third_options", [
    ("handshake-nots-mtu1500.pcap", {"mss": 1460, "sack_perm": True, "wscale": 10}, 64240, {}),
    ("handshake-nosack-mtu1500.pcap", {"mss": 1460, "ts": None, "wscale": 10}, 65160, "ts"),
    ("handshake-nots-nosack-mtu1500.pcap", {"mss": 1460, "wscale": 10}, 64240, {}),
    ("handshake-nows-mtu1500.pcap", {"mss": 1460, "sack_perm": True, "ts": None}, 65160, "ts"),
])
def test_handshake_variants(name, syn_options, synack_win, third_options):
    """§1.2: the options each sysctl variant puts in SYN and SYN+ACK."""
    doc = doc_of(name)
    syn, synack, third = doc["segments"][:3]
    for seg in (syn, synack):
        assert set(seg["options"]) == set(syn_options)
        assert seg["options"]["mss"] == 1460
        if "wscale" in syn_options:
            assert seg["options"]["wscale"] == 10
    assert syn["win"] == 64240 and synack["win"] == synack_win
    if third_options == "ts":
        assert set(third["options"]) == {"ts"}
    else:
        assert third["options"] == third_options
    assert [s["flags"] for s in (syn, synack, third)] == ["S", "SA", "A"]
    expected_third_win = 64240 if "nows" in name else 63      # no scaling: bytes
    assert third["win"] == expected_third_win


def test_mtu65536_gso_packets_are_flagged_as_offload():
    """§10: GSO super-packets of 32768/34464 B exceed Linux's one-segment size (half the
    peer's 65483 B SYN window = 32741), so the capture was taken on the sending host."""
    doc = doc_of("handshake-data-mtu65536.pcap")
    big = [s for s in doc["segments"] if s["oversize"]]
    assert [s["len"] for s in big] == [32768, 32768, 34464]
    assert all(s["src"] == "client" for s in big)
    assert doc["offload"] is True and "TSO/GSO" in doc["note"]
    assert doc["segments"][0]["options"]["mss"] == 65495 and doc["segments"][1]["win"] == 65483
    paced = doc_of("bulk-paced-noreq-mtu65536.pcap")
    assert [s["len"] for s in paced["segments"] if s["oversize"]] == [34518]  # 32741 fits
    assert doc_of("close-a-mtu65536.pcap")["offload"] is False


def test_close_a_four_segments_with_delayed_ack():
    """§5a: FIN, ACK after ~42 ms, FIN 0.5 s later, ACK."""
    doc = doc_of("close-a-mtu1500.pcap")
    tail = doc["segments"][-4:]
    assert [(s["src"], s["flags"]) for s in tail] == [
        ("client", "FA"), ("server", "A"), ("server", "FA"), ("client", "A")]
    delay = tail[1]["t"] - tail[0]["t"]
    assert 0.040 < delay < 0.044
    when = {(r["host"], r["to"]): r["t"] for r in doc["states"]}
    assert when[("client", "FIN-WAIT-1")] == tail[0]["t"]
    assert when[("server", "CLOSE-WAIT")] == tail[0]["t"]
    assert when[("client", "FIN-WAIT-2")] == tail[1]["t"]
    assert when[("server", "LAST-ACK")] == tail[2]["t"]
    assert when[("client", "TIME-WAIT")] == tail[2]["t"]
    assert when[("server", "CLOSED")] == tail[3]["t"]


@pytest.mark.parametrize("name", ["close-b-mtu1500.pcap", "close-b2-mtu1500.pcap",
                                  "close-c-mtu1500.pcap"])
def test_three_segment_closes(name):
    """§5b/c: FIN, FIN+ACK (ACK piggy-backed), ACK; the client ends in TIME-WAIT."""
    doc = doc_of(name)
    assert [s["flags"] for s in doc["segments"][-3:]] == ["FA", "FA", "A"]
    assert path_of(doc, "client")[-3:] == ["FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"]
    assert path_of(doc, "server")[-3:] == ["CLOSE-WAIT", "LAST-ACK", "CLOSED"]


def test_crossing_fins_both_sides_closing_then_time_wait():
    """§5 c2: both FINs lost once, the retransmissions cross: CLOSING, then TIME-WAIT."""
    doc = doc_of("close-c2-mtu1500.pcap")
    for host in ("client", "server"):
        assert path_of(doc, host)[-3:] == ["FIN-WAIT-1", "CLOSING", "TIME-WAIT"]
    fins = [s for s in doc["segments"] if "F" in s["flags"]]
    assert [s["retransmission"] for s in fins] == [False, False, True, True]


def test_half_close_then_data():
    """§5d: shutdown(SHUT_WR); the server keeps sending; the client ACKs in FIN-WAIT-2."""
    doc = doc_of("close-d-mtu1500.pcap")
    assert path_of(doc, "client")[-3:] == ["FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"]
    assert path_of(doc, "server")[-3:] == ["CLOSE-WAIT", "LAST-ACK", "CLOSED"]
    assert sum(s["len"] for s in doc["segments"] if s["src"] == "server") == 10 + 3000


def test_rst_a_connection_refused():
    """§6a: SYN to a port without listener -> [R.] seq 0 ack ISN+1, win 0, no options."""
    doc = doc_of("rst-a-mtu1500.pcap")
    syn, rst = doc["segments"]
    assert (rst["flags"], rst["seq"], rst["ack"], rst["win"], rst["options"]) == \
        ("RA", 0, syn["seq"] + 1, 0, {})
    assert (rst["rel_seq"], rst["rel_ack"]) == (1, 1)      # Wireshark's numbering, no SYN
    assert doc["hosts"]["server"]["isn"] is None
    assert path_of(doc, "client") == ["CLOSED", "SYN-SENT", "CLOSED"]
    assert doc["states"][-1]["cause"] == "RST received (connection refused)"
    assert path_of(doc, "server") == []                    # no listener: nothing to infer


@pytest.mark.parametrize("name", ["rst-b-mtu1500.pcap", "rst-c-mtu1500.pcap"])
def test_abort_rst_from_a_live_socket(name):
    """§6b/c: [R.] seq=snd_nxt ack=rcv_nxt with timestamps and the current window."""
    doc = doc_of(name)
    rst = doc["segments"][-1]
    assert rst["src"] == "server" and rst["flags"] == "RA" and rst["win"] == 64
    assert set(rst["options"]) == {"ts"}
    assert path_of(doc, "server")[-2:] == ["ESTABLISHED", "CLOSED"]
    assert path_of(doc, "client")[-2:] == ["ESTABLISHED", "CLOSED"]
    causes = {r["host"]: r["cause"] for r in doc["states"] if r["to"] == "CLOSED"}
    assert causes == {"server": "RST sent", "client": "RST received"}


def test_rst_d_orphan_answers_data_with_a_no_socket_reset():
    """§6d: the client close()d; data from the server gets [R] seq=ack, win 0 (Linux aborts
    the orphan on data after close() and answers as if there were no socket)."""
    doc = doc_of("rst-d-mtu1500.pcap")
    data, rst = doc["segments"][-2:]
    assert (rst["src"], rst["flags"], rst["seq"], rst["win"], rst["options"]) == \
        ("client", "R", data["ack"], 0, {})
    assert path_of(doc, "client")[-2:] == ["FIN-WAIT-2", "CLOSED"]
    closed = [r for r in doc["states"] if r["host"] == "client" and r["to"] == "CLOSED"][0]
    assert closed["t"] == data["t"] and "data received after close()" in closed["cause"]
    assert path_of(doc, "server")[-1] == "CLOSED"


def test_rst_e_first_reset_lost_after_the_capture_point():
    """§6e: the server's abort RST was dropped (the client kept sending), so the client
    closes only at the second, no-socket RST."""
    doc = doc_of("rst-e-mtu1500.pcap")
    rsts = [s for s in doc["segments"] if "R" in s["flags"]]
    assert [s["flags"] for s in rsts] == ["RA", "R"]
    client_closed = [r["t"] for r in doc["states"] if r["host"] == "client"
                     and r["to"] == "CLOSED"]
    assert client_closed == [rsts[1]["t"]]


def test_orphaned_fin_wait_2_timeout_shows_as_no_socket_reset():
    """§9: FIN-WAIT-2 timed out silently; the server's FIN 8 s later gets [R]."""
    doc = doc_of("finwait2-timeout5-mtu1500.pcap")
    fin, rst = doc["segments"][-2:]
    assert fin["flags"] == "FA" and rst["flags"] == "R" and rst["seq"] == fin["ack"]
    assert path_of(doc, "client")[-2:] == ["FIN-WAIT-2", "CLOSED"]
    assert path_of(doc, "server")[-3:] == ["CLOSE-WAIT", "LAST-ACK", "CLOSED"]


def test_syn_retransmissions_and_client_stays_in_syn_sent():
    """§7a: 6 identical SYNs (TCP_SYNCNT 2) at 0, 1, 2, 3, 4, 5 s; no answer."""
    doc = doc_of("syn-drop-syncnt2-mtu1500.pcap")
    syns = doc["segments"]
    assert [s["flags"] for s in syns] == ["S"] * 6
    assert len({s["seq"] for s in syns}) == 1 and all(s["rel_seq"] == 0 for s in syns)
    assert [s["retransmission"] for s in syns] == [False] + [True] * 5
    assert [round(s["t"]) for s in syns] == [0, 1, 2, 3, 4, 5]
    assert path_of(doc, "client") == ["CLOSED", "SYN-SENT"]
    assert path_of(doc, "server") == []


def test_synack_drop():
    """§7b: every SYN+ACK dropped on the client's input: the client never acknowledges,
    so it stays in SYN-SENT; the server's new request (new ISN) is numbered from 0 again."""
    doc = doc_of("synack-drop-mtu1500.pcap")
    assert path_of(doc, "client") == ["CLOSED", "SYN-SENT"]
    assert path_of(doc, "server")[:2] == ["LISTEN", "SYN-RECEIVED"]
    synacks = [s for s in doc["segments"] if s["flags"] == "SA"]
    assert all(s["rel_seq"] == 0 and s["rel_ack"] == 1 for s in synacks)
    new_isn = [s for s in synacks if s["seq"] != synacks[0]["seq"]]
    assert len(new_isn) == 6 and not new_isn[0]["retransmission"]
    assert all(s["retransmission"] for s in new_isn[1:])
    assert not any(s["flags"] == "A" for s in doc["segments"])


def test_time_wait_answers_retransmitted_fins():
    """§8: the client's final ACKs were dropped: the server retransmits its FIN 5 times and
    leaves LAST-ACK only at the last ACK; the client is in TIME-WAIT from the first FIN."""
    doc = doc_of("timewait-finrtx-mtu1500.pcap")
    server_fins = [s for s in doc["segments"] if s["src"] == "server" and "F" in s["flags"]]
    assert [s["retransmission"] for s in server_fins] == [False] + [True] * 5
    acks = [s for s in doc["segments"] if s["src"] == "client" and s["flags"] == "A"
            and s["rel_ack"] == 12]
    assert [s["dup_ack"] for s in acks] == [False] + [True] * 5
    when = {(r["host"], r["to"]): r["t"] for r in doc["states"]}
    assert when[("client", "TIME-WAIT")] == server_fins[0]["t"]
    assert when[("server", "CLOSED")] == doc["segments"][-1]["t"]


def test_lost_fin_is_received_at_its_retransmission():
    """§7e: the first FIN was dropped after the capture point; the server enters
    CLOSE-WAIT at the retransmission, the copy it acknowledged."""
    doc = doc_of("drop-fin-mtu1500.pcap")
    fins = [s for s in doc["segments"] if s["src"] == "client" and "F" in s["flags"]]
    assert [s["retransmission"] for s in fins] == [False, True]
    assert 0.20 < fins[1]["t"] - fins[0]["t"] < 0.21
    when = {(r["host"], r["to"]): r["t"] for r in doc["states"]}
    assert when[("client", "FIN-WAIT-1")] == fins[0]["t"]
    assert when[("server", "CLOSE-WAIT")] == fins[1]["t"]


def test_mid_transfer_loss_sack_dup_acks_and_one_retransmission():
    """§7c: dup ACKs carrying SACK blocks (absolute edges above the ACK), one retransmission
    of the hole."""
    doc = doc_of("drop-mid-mtu1500.pcap")
    rtx = [s for s in doc["segments"] if s["retransmission"]]
    assert [(s["src"], s["rel_seq"], s["len"]) for s in rtx] == [("client", 27513, 1448)]
    dups = [s for s in doc["segments"] if s["dup_ack"]]
    assert dups and all(s["src"] == "server" and s["rel_ack"] == 27513 for s in dups)
    for s in dups:
        (left, right), = s["options"]["sack"]
        assert left - doc["hosts"]["client"]["isn"] == 28961 and right > left


def test_isn_ts_capture_has_eight_connections():
    """§2: 8 connections; the last 4 reuse one 4-tuple (a new ISN each: a new stream)."""
    lines = list_streams(RAW / "isn-ts-mtu1500.pcap")
    assert len(lines) == 8
    assert all(line.startswith(f"{k}  ") for k, line in enumerate(lines))
    assert sum("127.0.0.1:40000 -> 127.0.0.1:5030" in line for line in lines) == 4
    assert all("2 packets" in line and "S:1 SA:1" in line for line in lines)
    isns = [doc_of("isn-ts-mtu1500.pcap", stream=k)["hosts"]["client"]["isn"]
            for k in range(4, 8)]
    assert isns == [4124088899, 4124872959, 4125656964, 4126441268]


def test_stream_selection():
    path = RAW / "isn-ts-mtu1500.pcap"
    assert read_pcap(path).doc["hosts"]["client"]["port"] == 49774
    assert read_pcap(path, stream=1).doc["hosts"]["client"]["port"] == 49786
    assert read_pcap(path, stream="2").doc["hosts"]["client"]["port"] == 49792
    by_pair = read_pcap(path, stream="127.0.0.1:5030-127.0.0.1:49796").doc
    assert by_pair["hosts"]["client"]["port"] == 49796
    assert read_pcap(path, stream="127.0.0.1:40000-127.0.0.1:5030").doc["capture"]["stream"] == 4
    for bad, message in [(8, "no stream 8"), ("x", "neither an index"),
                         ("1.2.3.4:1-1.2.3.4:2", "no connection between")]:
        with pytest.raises(CaptureError, match=message):
            read_pcap(path, stream=bad)


@needs_tshark
@pytest.mark.parametrize("path", CAPTURES, ids=[p.name for p in CAPTURES])
def test_labels_and_relative_numbers_match_tshark(path):
    """Our rel_seq/rel_ack and labels against tshark's on every shipped capture."""
    fields = {"retransmission": ("tcp.analysis.retransmission",
                                 "tcp.analysis.fast_retransmission",
                                 "tcp.analysis.spurious_retransmission"),
              "dup_ack": ("tcp.analysis.duplicate_ack",),
              "out_of_order": ("tcp.analysis.out_of_order",),
              "zero_window": ("tcp.analysis.zero_window",),
              "window_update": ("tcp.analysis.window_update",),
              "keep_alive": ("tcp.analysis.keep_alive",)}
    columns = [f for fs in fields.values() for f in fs]
    cmd = [TSHARK, "-r", str(path), "-T", "fields", "-e", "frame.number", "-e", "tcp.seq",
           "-e", "tcp.ack", "-e", "tcp.stream"] + [a for f in columns for a in ("-e", f)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    theirs = {}
    for line in out.splitlines():
        number, seq, ack, stream, *flags = line.split("\t")
        labels = {label for label, fs in fields.items()
                  if any(flags[columns.index(f)] for f in fs)}
        theirs[int(number)] = (int(seq), int(ack), int(stream), labels)
    streams = len(list_streams(path))
    for index in range(streams):
        for s in read_pcap(path, stream=index).doc["segments"]:
            seq, ack, stream, labels = theirs[s["frame"]]
            assert stream == index
            assert s["rel_seq"] == seq, s
            if s["rel_ack"] is not None:
                assert s["rel_ack"] == ack, s
            assert {label for label in LABELS if s[label]} == labels, s


# =========================================================================================
# Link types, pcapng, IPv6
# =========================================================================================
def _rewrap(tmp_path, name, linktype, wrap, pcapng=False):
    """close-a-mtu1500.pcap rewritten with another link layer (or as pcapng)."""
    out = tmp_path / f"{name}.pcap"
    with open(RAW / "close-a-mtu1500.pcap", "rb") as f:
        packets = [(ts, dpkt.ethernet.Ethernet(buf)) for ts, buf in dpkt.pcap.Reader(f)]
    with open(out, "wb") as f:
        writer = (dpkt.pcapng.Writer(f, linktype=linktype) if pcapng
                  else dpkt.pcap.Writer(f, linktype=linktype, snaplen=65535))
        for ts, eth in packets:
            writer.writepkt(wrap(eth), ts=ts)
    return out


@pytest.mark.parametrize("name, linktype, wrap, pcapng", [
    ("ethernet-pcapng", dpkt.pcap.DLT_EN10MB, bytes, True),
    ("sll", dpkt.pcap.DLT_LINUX_SLL,
     lambda e: bytes(dpkt.sll.SLL(type=0, ethtype=0x0800, data=e.data)), False),
    ("sll2", 276, lambda e: bytes(dpkt.sll2.SLL2(ethtype=0x0800, data=e.data)), False),
    ("raw", 101, lambda e: bytes(e.data), False),
    ("null", dpkt.pcap.DLT_NULL, lambda e: struct.pack("=I", 2) + bytes(e.data), False),
    ("loop", dpkt.pcap.DLT_LOOP, lambda e: struct.pack(">I", 2) + bytes(e.data), False),
])
def test_link_types(tmp_path, name, linktype, wrap, pcapng):
    expected = doc_of("close-a-mtu1500.pcap")
    doc = read_pcap(_rewrap(tmp_path, name, linktype, wrap, pcapng)).doc
    keys = ("t", "flags", "seq", "ack", "rel_seq", "rel_ack", "len", "win", "options")
    assert [[s[k] for k in keys] for s in doc["segments"]] == \
        [[s[k] for k in keys] for s in expected["segments"]]
    assert doc["states"] == expected["states"] and doc["hosts"] == expected["hosts"]


def test_ipv6_round_trip(tmp_path):
    trace = tcpsim.run(scenario([act(0.01, "client", "send", bytes=5000),
                                 act(0.5, "client", "close"), act("eof", "server", "close")]))
    doc = copy.deepcopy(trace.doc)
    doc["hosts"]["client"]["addr"], doc["hosts"]["server"]["addr"] = "fd00::1", "fd00::2"
    write_pcap(doc, tmp_path / "v6.pcap")
    back = read_pcap(tmp_path / "v6.pcap", stream="[fd00::2]:5001-[fd00::1]:40000").doc
    assert back["hosts"]["client"] == {"addr": "fd00::1", "port": 40000,
                                       "isn": doc["hosts"]["client"]["isn"]}
    assert _compare(doc["segments"], back["segments"]) == []
    assert list_streams(tmp_path / "v6.pcap")[0].startswith("0  [fd00::1]:40000 -> ")


# =========================================================================================
# Writing: round trips through write_pcap and read_pcap
# =========================================================================================
ROUND_TRIP = {
    "basic": scenario([act(0.25, "client", "send", bytes=100),
                       act(0.25, "server", "send", bytes=50),
                       act(0.5, "client", "close"), act(1.0, "server", "close")]),
    "loss-sack": scenario([act(0.01, "client", "send", bytes=200_000),
                           act(0.01, "client", "close"), act("eof", "server", "close")],
                          faults=[{"loss": {"p": 0.05}}], seed=4),
    "no-timestamps": scenario([act(0.01, "client", "send", bytes=5000),
                               act(0.5, "client", "close"), act("eof", "server", "close")],
                              client={"timestamps": False}, server={"timestamps": False}),
    "no-sack": scenario([act(0.01, "client", "send", bytes=5000), act(0.5, "client", "close"),
                         act("eof", "server", "close")], client={"sack": False},
                        server={"sack": False}),
    "no-wscale": scenario([act(0.01, "client", "send", bytes=5000),
                           act(0.5, "client", "close"), act("eof", "server", "close")],
                          client={"wscale": False}, server={"wscale": False}),
    "abort": scenario([act(0.01, "client", "send", bytes=3000), act(0.5, "client", "abort")]),
    "synack-drop": scenario([act(3.0, "client", "close")],
                            faults=[{"drop": {"from": "server", "flags": "SA", "nth": [1, 2]}}]),
    "mtu65536": scenario([act(0.01, "client", "send", bytes=300_000),
                          act(0.5, "client", "close"), act("eof", "server", "close")],
                         mtu=65536),
    "rfc9293": scenario([act(0.01, "client", "send", bytes=20_000), act(0.5, "client", "close"),
                         act("eof", "server", "close")], profile="rfc9293"),
}
COMPARED = ("src", "flags", "seq", "ack", "len", "win", "options", "rel_seq", "rel_ack")


def _compare(sent, read):
    """Fields that differ between simulated rows and the rows read back, per segment."""
    diffs = [("count", len(sent), len(read))] if len(sent) != len(read) else []
    for a, b in zip(sent, read):
        diffs += [(a["i"], k, a[k], b[k]) for k in COMPARED if a[k] != b[k]]
        if abs(a["t"] - b["t"]) > 0.5e-6:
            diffs.append((a["i"], "t", a["t"], b["t"]))
    return diffs


@pytest.fixture(scope="module")
def round_trips(tmp_path_factory):
    """{name: (trace, path of its pcap)} for the scenarios above."""
    out = {}
    for name, sc in ROUND_TRIP.items():
        trace = tcpsim.run(sc)
        path = tmp_path_factory.mktemp("pcap") / f"{name}.pcap"
        trace.to_pcap(path)
        out[name] = (trace, path)
    return out


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_round_trip_every_segment(round_trips, name):
    trace, path = round_trips[name]
    doc = read_pcap(path).doc
    sent = sorted(trace.doc["segments"], key=lambda s: s["t"])
    assert _compare(sent, doc["segments"]) == []
    assert [s["retransmission"] for s in doc["segments"]] == \
        [s["retransmission"] for s in sent]
    for host in ("client", "server"):
        assert doc["hosts"][host]["port"] == trace.doc["hosts"][host]["port"]
        assert doc["hosts"][host]["addr"] == trace.doc["hosts"][host]["addr"]


@pytest.mark.parametrize("name", ["basic", "loss-sack", "synack-drop"])
def test_round_trip_without_dropped_segments(round_trips, tmp_path, name):
    trace, _ = round_trips[name]
    write_pcap(trace.doc, tmp_path / "x.pcap", include_dropped=False)
    kept = sorted((s for s in trace.doc["segments"] if not s["dropped"]), key=lambda s: s["t"])
    read = read_pcap(tmp_path / "x.pcap").doc["segments"]
    assert [(s["flags"], s["seq"], s["ack"], s["len"], s["win"], s["options"]) for s in kept] == \
        [(s["flags"], s["seq"], s["ack"], s["len"], s["win"], s["options"]) for s in read]


STATE_SCENARIOS = {
    "basic": ROUND_TRIP["basic"],
    "simultaneous-open": scenario([act(0, "server", "connect", to="client"),
                                   act(0, "client", "connect", to="server"),
                                   act(0.5, "client", "close"), act(0.6, "server", "close")],
                                  open=False),
    "simultaneous-close": scenario([act(0.1, "client", "close"), act(0.1, "server", "close")],
                                   delay=0.01),
    "half-close": scenario([act(0.01, "client", "send", bytes=100),
                            act(0.02, "client", "shutdown"),
                            act(0.1, "server", "send", bytes=3000), act(0.3, "server", "close")]),
    "linger0": scenario([act(0.01, "client", "send", bytes=100), act(0.02, "client", "close")],
                        client={"linger0": True}),
    "refused": scenario([act(0, "client", "connect", to="server")], open=False),
    "fin-lost": scenario([act(0.01, "client", "send", bytes=100), act(0.1, "client", "close"),
                          act("eof", "server", "close")],
                         faults=[{"drop": {"from": "client", "flags": "FA", "nth": [1]}}]),
    "last-ack-lost": scenario([act(0.01, "client", "close"), act("eof", "server", "close")],
                              faults=[{"drop": {"from": "client", "flags": "A", "nth": [2, 3]}}]),
    "rfc9293": scenario([act(0.01, "client", "close"), act(0.5, "server", "close")],
                        profile="rfc9293"),
}


@pytest.mark.parametrize("name", STATE_SCENARIOS)
def test_inferred_states_match_the_simulation(tmp_path, name):
    """States inferred from a simulated run's pcap are the simulated ones, in order (the
    times differ: the capture sees each segment when it is sent). Timer expiries and the
    listening socket are not on the wire, so they are left out of the comparison."""
    trace = tcpsim.run(STATE_SCENARIOS[name])
    trace.to_pcap(tmp_path / "x.pcap")
    doc = read_pcap(tmp_path / "x.pcap").doc
    port_of = {h: info["port"] for h, info in trace.doc["hosts"].items()}
    host_of = {doc["hosts"][h]["port"]: h for h in ("client", "server")}   # capture names
    inferred = [(r["host"], r["from"], r["to"]) for r in doc["states"]]
    simulated = [(host_of[port_of[r["host"]]], r["from"], r["to"]) for r in trace.doc["states"]
                 if not r["socket"].endswith(":listen") and "timer" not in r["cause"]]
    assert inferred == simulated


def test_mtu65536_simulation_is_flagged_oversize(round_trips):
    """The simulator sends 65483-byte segments at MTU 65536, more than Linux's half-window
    bound (32741): reading its pcap says so."""
    _, path = round_trips["mtu65536"]
    doc = read_pcap(path).doc
    assert doc["offload"] is True
    assert all(s["len"] > 32741 for s in doc["segments"] if s["oversize"])


def _option_layout(path, flags_wanted):
    """The option kinds (in wire order) of the first segment with these flags."""
    with open(path, "rb") as f:
        for _, buf in dpkt.pcap.Reader(f):
            tcp = dpkt.ethernet.Ethernet(buf).data.data
            if tcp.flags & 0xff == flags_wanted:
                return [kind for kind, _ in dpkt.tcp.parse_opts(tcp.opts)]
    return None


@pytest.mark.parametrize("options, capture", [
    ({}, "handshake-data-mtu1500.pcap"),
    ({"timestamps": False}, "handshake-nots-mtu1500.pcap"),
    ({"sack": False}, "handshake-nosack-mtu1500.pcap"),
    ({"timestamps": False, "sack": False}, "handshake-nots-nosack-mtu1500.pcap"),
    ({"wscale": False}, "handshake-nows-mtu1500.pcap"),
])
def test_written_options_have_linux_wire_layout(tmp_path, options, capture):
    """§1.2: SYN and SYN+ACK options (NOP padding included) byte for byte in Linux's order,
    compared with the real capture of the same sysctl variant."""
    trace = tcpsim.run(scenario([act(0.01, "client", "send", bytes=100),
                                 act(0.5, "client", "close"), act("eof", "server", "close")],
                                client=options, server=options))
    write_pcap(trace.doc, tmp_path / "sim.pcap")
    for flags in (dpkt.tcp.TH_SYN, dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK, dpkt.tcp.TH_ACK):
        assert _option_layout(tmp_path / "sim.pcap", flags) == \
            _option_layout(RAW / capture, flags), flags


def test_sack_blocks_are_written_after_nop_nop(round_trips):
    _, path = round_trips["loss-sack"]
    layouts = set()
    with open(path, "rb") as f:
        for _, buf in dpkt.pcap.Reader(f):
            tcp = dpkt.ethernet.Ethernet(buf).data.data
            opts = tcp.opts
            if len(opts) > 12 and not tcp.flags & dpkt.tcp.TH_SYN:
                layouts.add((opts[:4], opts[12:15], (len(opts) - 16) // 8))
    assert layouts == {(b"\x01\x01\x08\x0a", b"\x01\x01\x05", n)
                       for n in {lay[2] for lay in layouts}}
    assert {lay[2] for lay in layouts} <= {1, 2, 3}


def test_default_addresses_and_payload_pattern(tmp_path):
    trace = tcpsim.run(scenario([act(0.01, "client", "send", bytes=3000)]))
    doc = copy.deepcopy(trace.doc)
    for host in doc["hosts"].values():
        host.pop("addr", None)
    write_pcap(doc, tmp_path / "x.pcap")
    back = read_pcap(tmp_path / "x.pcap").doc
    assert (back["hosts"]["client"]["addr"], back["hosts"]["server"]["addr"]) == \
        ("10.0.0.1", "10.0.0.2")
    stream = b""
    with open(tmp_path / "x.pcap", "rb") as f:
        for _, buf in dpkt.pcap.Reader(f):
            tcp = dpkt.ethernet.Ethernet(buf).data.data
            if tcp.sport == 40000:
                stream += tcp.data
    assert stream == bytes(k % 251 for k in range(3000))


@needs_tshark
@pytest.mark.parametrize("name", ["basic", "loss-sack", "no-timestamps", "abort", "mtu65536"])
def test_tshark_reads_written_pcaps_with_good_checksums(round_trips, name):
    """tshark (an independent decoder) sees valid IP/TCP checksums, no malformed packet,
    no expert info but TCP sequence analysis, and our seq/ack/flags/len/win/options."""
    trace, path = round_trips[name]
    fields = ["tcp.flags", "tcp.seq_raw", "tcp.ack_raw", "tcp.len", "tcp.window_size_value",
              "tcp.checksum.status", "ip.checksum.status", "_ws.malformed",
              "_ws.expert.group", "_ws.expert.severity", "tcp.options.mss_val",
              "tcp.options.wscale.shift", "tcp.options.timestamp.tsval"]
    cmd = [TSHARK, "-r", str(path), "-o", "tcp.check_checksum:TRUE",
           "-o", "ip.check_checksum:TRUE", "-T", "fields"] + [a for f in fields for a in
                                                              ("-e", f)]
    run = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert "damaged" not in run.stderr and "corrupt" not in run.stderr
    rows = [dict(zip(fields, line.split("\t"))) for line in run.stdout.splitlines()]
    sent = sorted(trace.doc["segments"], key=lambda s: s["t"])
    assert len(rows) == len(sent)
    sequence_group = str(0x02000000)              # Wireshark's PI_SEQUENCE
    for row, seg in zip(rows, sent):
        assert row["tcp.checksum.status"] == "1" and row["ip.checksum.status"] == "1"
        assert row["_ws.malformed"] == ""
        assert set(filter(None, row["_ws.expert.group"].split(","))) <= {sequence_group}
        assert int(row["tcp.flags"], 16) & 0xff == _flag_value(seg["flags"])
        assert (int(row["tcp.seq_raw"]), int(row["tcp.len"]),
                int(row["tcp.window_size_value"])) == (seg["seq"], seg["len"], seg["win"])
        if "A" in seg["flags"]:
            assert int(row["tcp.ack_raw"]) == seg["ack"]
        opts = seg["options"]
        assert row["tcp.options.mss_val"] == str(opts.get("mss", ""))
        assert row["tcp.options.wscale.shift"] == str(opts.get("wscale", ""))
        assert row["tcp.options.timestamp.tsval"] == str(opts["ts"][0] if "ts" in opts else "")


def _flag_value(flags):
    return sum(1 << "FSRPAUEC".index(c) for c in flags)


# =========================================================================================
# Bad input: one-line CaptureError, never another exception
# =========================================================================================
SOURCE = RAW / "close-a-mtu1500.pcap"          # 11 packets, pcap, Ethernet


def _records(data):
    """[(offset, caplen)] of a little-endian pcap's records."""
    out, offset = [], 24
    while offset < len(data):
        caplen, = struct.unpack_from("<I", data, offset + 8)
        out.append((offset, caplen))
        offset += 16 + caplen
    return out


def _error(tmp_path, data, name="bad.pcap"):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(CaptureError) as info:
        read_pcap(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message[len(str(path)) + 2:]


def test_truncated_file_names_packet_and_byte(tmp_path):
    data = SOURCE.read_bytes()
    records = _records(data)
    assert _error(tmp_path, data[:10]).startswith("truncated pcap file header")
    for number, (offset, caplen) in enumerate(records, start=1):
        for cut in (offset + 5, offset + 16 + caplen // 2, offset + 16 + caplen - 1):
            assert _error(tmp_path, data[:cut]) == \
                f"packet {number} at byte {offset} is truncated (the file ends inside it)"


def test_truncated_pcapng(tmp_path):
    path = _rewrap(tmp_path, "ng", dpkt.pcap.DLT_EN10MB, bytes, pcapng=True)
    data = path.read_bytes()
    message = _error(tmp_path, data[:-7])
    assert message.startswith("packet 11 at byte ") and message.endswith("is truncated "
                                                                         "(the file ends inside it)")


def test_wrong_magic_and_garbage(tmp_path):
    data = SOURCE.read_bytes()
    assert _error(tmp_path, b"\x0b\xad\xf0\x0d" + data[4:]) == \
        "not a pcap or pcapng file (magic 0x0badf00d)"
    assert _error(tmp_path, b"hello, this is not a capture").startswith(
        "not a pcap or pcapng file (magic 0x68656c6c)")
    assert _error(tmp_path, b"").startswith("not a pcap or pcapng file (0 bytes)")


def test_snaplen_cut_packet(tmp_path):
    data = SOURCE.read_bytes()
    offset, caplen = _records(data)[3]               # the client's 10-byte request
    cut = 54                                          # Ethernet + IP + 20 bytes of TCP
    data = (data[:offset + 8] + struct.pack("<I", cut) + data[offset + 12:offset + 16 + cut]
            + data[offset + 16 + caplen:])
    assert _error(tmp_path, data) == (
        f"packet 4 at byte {offset} is cut short by the snapshot length "
        f"(only 20 of its 42 TCP bytes were captured)")


def test_no_tcp(tmp_path):
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out)
    for k in range(3):
        udp = dpkt.udp.UDP(sport=5353, dport=5353, data=b"hello")
        ip = dpkt.ip.IP(src=b"\x0a\x00\x00\x01", dst=b"\x0a\x00\x00\x02",
                        p=dpkt.ip.IP_PROTO_UDP, data=udp)
        writer.writepkt(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, data=ip),
                        ts=k)
    assert _error(tmp_path, out.getvalue()) == "no TCP packets (3 packets read)"
    assert _error(tmp_path, SOURCE.read_bytes()[:24]) == "no TCP packets (0 packets read)"


def test_missing_file(tmp_path):
    with pytest.raises(CaptureError, match="cannot read"):
        read_pcap(tmp_path / "nope.pcap")
    with pytest.raises(CaptureError, match="cannot read"):
        list_streams(tmp_path)                         # a directory


def test_unsupported_link_type(tmp_path):
    data = bytearray(SOURCE.read_bytes())
    struct.pack_into("<I", data, 20, 147)              # LINKTYPE_USER0
    assert _error(tmp_path, bytes(data)).startswith("link type 147 is not supported")


FUZZ_SOURCES = [RAW / n for n in ("close-a-mtu1500.pcap", "rst-d-mtu1500.pcap",
                                  "synack-drop-mtu1500.pcap", "close-c2-mtu1500.pcap",
                                  "drop-rto-mtu1500.pcap")]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=st.sampled_from(FUZZ_SOURCES),
       edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                      min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.floats(0, 1)))
def test_fuzzed_captures_give_a_trace_or_capture_error(tmp_path_factory, source, edits, cut):
    data = bytearray(source.read_bytes())
    for where, value in edits:
        data[int(where * len(data))] = value
    if cut is not None:
        data = data[:int(cut * len(data))]
    path = tmp_path_factory.getbasetemp() / "fuzz.pcap"
    path.write_bytes(bytes(data))
    for attempt in (lambda: read_pcap(path), lambda: list_streams(path),
                    lambda: read_pcap(path, stream=1)):
        try:
            result = attempt()
        except CaptureError as err:
            assert "\n" not in str(err)
            continue
        if isinstance(result, tcpsim.Trace):
            json.dumps(result.doc)
        else:
            assert all(isinstance(line, str) for line in result)


# =========================================================================================
# The command line and the DataFrames
# =========================================================================================
def _cli(*args):
    return subprocess.run([sys.executable, "-m", "tcpsim", "pcap", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT)


def test_cli_prints_the_trace_json():
    run = _cli(RAW / "close-a-mtu1500.pcap")
    assert run.returncode == 0 and run.stderr == ""
    doc = json.loads(run.stdout)
    assert doc == json.loads(json.dumps(doc_of("close-a-mtu1500.pcap")))


def test_cli_list_and_stream():
    run = _cli(RAW / "isn-ts-mtu1500.pcap", "--list")
    assert run.returncode == 0 and len(run.stdout.splitlines()) == 8
    run = _cli(RAW / "isn-ts-mtu1500.pcap", "--stream", "0")
    assert json.loads(run.stdout)["hosts"]["client"]["port"] == 49774
    run = _cli(RAW / "isn-ts-mtu1500.pcap", "--stream", "127.0.0.1:49786-127.0.0.1:5030")
    assert json.loads(run.stdout)["hosts"]["client"]["port"] == 49786


@pytest.mark.parametrize("content", [b"garbage garbage", None])
def test_cli_bad_file_exits_2_with_one_line(tmp_path, content):
    path = tmp_path / "bad.pcap"
    if content is not None:
        path.write_bytes(content)
    for extra in ((), ("--list",), ("--stream", "0")):
        run = _cli(path, *extra)
        assert run.returncode == 2 and run.stdout == ""
        assert len(run.stderr.splitlines()) == 1 and run.stderr.startswith("error: ")
        assert "Traceback" not in run.stderr


def test_cli_bad_stream_exits_2():
    run = _cli(RAW / "isn-ts-mtu1500.pcap", "--stream", "42")
    assert run.returncode == 2 and "no stream 42" in run.stderr


def test_dataframe_has_the_label_columns():
    trace = read_pcap(RAW / "drop-mid-mtu1500.pcap")
    frame = trace.segments
    for column in (*LABELS, "oversize", "rel_seq", "options"):
        assert column in frame.columns
    assert int(frame["dup_ack"].sum()) == sum(s["dup_ack"] for s in trace.doc["segments"])
    assert list(trace.states["to"])[-1] in ("TIME-WAIT", "CLOSED")


def test_state_inference_uses_the_simulators_transitions():
    """One table decides transitions (tcpsim.endpoint.TRANSITIONS): every state change the
    capture reader infers is a change the endpoint can make, except the capture-only case of
    a SYN+ACK whose SYN was not captured."""
    from tcpsim import pcap
    from tcpsim.endpoint import TRANSITIONS as ENDPOINT
    endpoint_moves = {(state, new) for (state, _event), (new, _rule) in ENDPOINT.items()}
    for (state, event), (new, _cause) in pcap.TRANSITIONS.items():
        if (state, event) == ("LISTEN", "send SYN+ACK"):
            continue
        assert (state, new) in endpoint_moves, (state, event, new)
    assert ("LISTEN", "recv SYN") in pcap.TRANSITIONS
    assert ("FIN-WAIT-2", "recv FIN") in pcap.TRANSITIONS
