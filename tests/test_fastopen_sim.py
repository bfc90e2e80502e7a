"""TCP Fast Open (RFC 7413) in the endpoint, the listener and the simulator (the decisions:
tcpsim/fastopen.py; the kernel: data/captures/fastopen.pcap in tests/test_fidelity.py).

The story, as this machine's kernel tells it (docs/linux-connections.md §6): a first
connection asks for a cookie (an empty option 34, no data); the SYN-ACK carries it; the next
connect from the host (TCP_FASTOPEN_CONNECT) returns at once and its SYN carries the cookie
and the first send's data, which the server's application reads before the handshake is
over; the SYN-ACK acknowledges it.
"""
from __future__ import annotations

import pytest

from tcpsim import fastopen
from tcpsim.connoptions import ConnectionOptions
from tcpsim.keyedhash import secret_from_seed
from tcpsim.listener import Listener
from tcpsim.simulator import run

from endpoint_pair import endpoint

ACTIONS = [{"at": 0.0, "host": "server", "do": "listen"},
           {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
           {"at": 0.3, "host": "client", "do": "send", "data": "hello0"},
           {"at": 0.5, "host": "client", "do": "close"},
           {"on": "eof", "host": "server", "do": "close"},
           {"at": 1.0, "host": "client", "do": "connect", "to": "server"},
           {"at": 1.0, "host": "client", "do": "send", "data": "hello1"},
           {"at": 1.5, "host": "client", "do": "close"}]


def scenario(client=True, server=True):
    return {"tcpsim": 1, "seed": 1, "link": {"mtu": 1500, "delay": 0.001},
            "hosts": {"client": {"port": 40001, "options": {"fastopen": client}},
                      "server": {"port": 5201, "options": {"fastopen": server}}},
            "actions": ACTIONS}


@pytest.fixture(scope="module")
def tfo():
    return run(scenario())


def conn_segments(trace, conn):
    return [r for r in trace.doc["segments"] if r["conn"] == conn]


def test_the_first_connection_requests_a_cookie_and_gets_one(tfo):
    syn, synack, *_ = conn_segments(tfo, 0)
    assert syn["options"]["tfo"] == "" and syn["len"] == 0
    cookie = fastopen.make_cookie(secret_from_seed(1, "tfo:server"), "10.0.0.1", "10.0.0.2")
    assert synack["options"]["tfo"] == cookie.hex()
    data = [r for r in conn_segments(tfo, 0) if r["len"]]
    assert [(r["src"], r["len"]) for r in data] == [("client", 6)]   # after the handshake


def test_the_next_connect_returns_at_once_and_its_syn_carries_the_data(tfo):
    syn, synack, ack, *_ = conn_segments(tfo, 1)
    first_synack = conn_segments(tfo, 0)[1]
    assert (syn["flags"], syn["len"], syn["options"]["tfo"]) == (
        "S", 6, first_synack["options"]["tfo"])
    assert synack["rel_ack"] == 7 and "tfo" not in synack["options"]
    assert (ack["flags"], ack["rel_seq"], ack["len"]) == ("A", 7, 0)
    connect = next(e for e in tfo.doc["events"] if e["call"] == "connect" and e["conn"] == 1)
    assert connect["t"] == 1.0 and connect["result"] == "ok"       # before any segment
    assert not any(r["src"] == "client" and r["len"] for r in conn_segments(tfo, 1)[1:])


def test_the_server_reads_the_data_in_syn_received(tfo):
    up = next(s["t"] for s in tfo.doc["states"] if s["host"] == "server" and s["conn"] == 1
              and s["to"] == "ESTABLISHED")
    opened = next(s for s in tfo.doc["states"] if s["host"] == "server" and s["conn"] == 1)
    assert opened["cause"] == "SYN with a valid Fast Open cookie"
    calls = [(e["call"], e["result"], e["t"]) for e in tfo.doc["events"]
             if e["host"] == "server" and e["conn"] == 1]
    assert calls[:2] == [("accept", "ok", opened["t"]), ("read", 6, opened["t"])]
    assert opened["t"] < up                       # one round trip before the final ACK
    assert tfo.delivered["server"] == b"hello0hello1"


@pytest.mark.parametrize("client, server", [(True, False), (False, True)])
def test_without_both_ends_no_data_rides_in_a_syn(client, server):
    trace = run(scenario(client, server))
    syns = [r for r in trace.doc["segments"] if r["flags"] == "S"]
    assert len(syns) == 2 and all(r["len"] == 0 for r in syns)
    assert all(("tfo" in r["options"]) == client for r in syns)    # a request each time
    assert not any("tfo" in r["options"] for r in trace.doc["segments"] if r["flags"] == "SA")
    assert trace.delivered["server"] == b"hello0hello1"


def test_a_bad_cookie_gets_a_fresh_one_and_the_data_is_sent_again():
    """The server's key changed: the SYN's data is not acknowledged, the SYN-ACK carries a
    new cookie, and the client sends the data again at once, the ACK riding on it."""
    lst = Listener("server", 5201, options=ConnectionOptions(fastopen=True),
                   tfo_secret=secret_from_seed(2, "tfo"))
    lst.listen(0.0)
    client = endpoint("client", "server", 40001, 5201, iss=1000)
    client.fastopen, client.tfo_cache = True, {"server": b"\x01" * 8}
    assert client.connect(0.0) == [] and client.tfo_deferred
    _, (syn,) = client.send(b"hello", 0.0)
    assert syn.data == b"hello" and syn.options["tfo"] == "01" * 8

    def make_child(seg, iss=None, keep=True):
        return endpoint("server", seg.src, 5201, seg.sport, iss=5000)

    child, (synack,) = lst.on_segment(syn, 0.0, make_child)
    fresh = fastopen.make_cookie(lst.tfo_secret, "client", "server")
    assert child.state == "SYN-RECEIVED" and not child.rcv_buf
    assert synack.ack == 1001 and synack.options["tfo"] == fresh.hex()
    (again,) = client.on_segment(synack, 0.01)
    assert (again.flags, again.seq, again.data, again.retransmission) == ("PA", 1001, b"hello", True)
    assert client.tfo_cache["server"] == fresh


def test_a_full_fast_open_queue_falls_back_to_an_ordinary_handshake():
    lst = Listener("server", 5201, options=ConnectionOptions(fastopen=True))
    lst.listen(0.0)
    cookie = fastopen.make_cookie(lst.tfo_secret, "client", "server")
    children = []
    for i in range(18):
        client = endpoint("client", "server", 40000 + i, 5201, iss=1000)
        client.fastopen, client.tfo_cache = True, {"server": cookie}
        client.connect(0.0)
        _, (syn,) = client.send(b"x", 0.0)
        child, _ = lst.on_segment(syn, 0.0, lambda seg, iss=None, keep=True: endpoint(
            "server", seg.src, 5201, seg.sport, iss=5000))
        children.append(child)
    assert [c.tfo_child for c in children] == [True] * 16 + [False] * 2
    assert [len(c.rcv_buf) for c in children] == [1] * 16 + [0] * 2
