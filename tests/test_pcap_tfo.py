"""The Fast Open option (TCP option kind 34, RFC 7413 §4.1.1) in captures: the trace's
``options.tfo`` ("" = a cookie request, else the cookie in hex) written and read back."""
from __future__ import annotations

import copy

import dpkt
import pytest

import tcpsim
from tcpsim.pcap import read_pcap, write_pcap

SCENARIO = {"tcpsim": 1, "seed": 1, "link": {"mtu": 1500},
            "hosts": {"client": {"port": 40001}, "server": {"port": 5201}},
            "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                        {"at": 0.1, "host": "client", "do": "connect", "to": "server"}]}


@pytest.fixture(scope="module")
def handshake():
    return tcpsim.run(SCENARIO).doc


def tcp_options_on_the_wire(path):
    with open(path, "rb") as f:
        for _, frame in dpkt.pcap.Reader(f):
            yield bytes(dpkt.ethernet.Ethernet(frame).data.data.opts)


@pytest.mark.parametrize("request_tfo, answer_tfo", [("", "0011223344556677"),
                                                      ("a1b2c3d4e5f60718", "")])
def test_tfo_round_trips_and_is_laid_out_as_linux(tmp_path, handshake, request_tfo, answer_tfo):
    doc = copy.deepcopy(handshake)
    syn, synack = doc["segments"][:2]
    syn["options"]["tfo"] = request_tfo
    synack["options"]["tfo"] = answer_tfo
    path = tmp_path / "tfo.pcap"
    write_pcap(doc, path)
    back = read_pcap(path).doc["segments"]
    assert back[0]["options"] == syn["options"] and back[1]["options"] == synack["options"]
    assert "tfo" not in back[2]["options"]
    raw = list(tcp_options_on_the_wire(path))[0]
    cookie = bytes.fromhex(request_tfo)
    tail = bytes([34, 2 + len(cookie)]) + cookie + b"\x01\x01"     # then NOP NOP (len % 4 == 2)
    assert raw.endswith(tail) and len(raw) % 4 == 0 and len(raw) <= 40
