"""Keepalive in the endpoint and the simulator (the timer's decisions: tcpsim/keepalive.py,
checked against the kernel in tests/test_kernel_connections.py::test_keepalive_*).

The measured story (docs/linux-connections.md §5): TCP_KEEPIDLE 1, TCP_KEEPINTVL 1,
TCP_KEEPCNT 2 and a peer that vanishes after the handshake: probes 1 s and 2 s after the
connection was established, each an ACK with seq = SND.UNA - 1 and no data; an RST 1 s
after the second; the blocked recv() returns ETIMEDOUT, the next one EOF.
"""
from __future__ import annotations

import pytest

from tcpsim.errors import ScenarioError
from tcpsim.scenario import parse_scenario
from tcpsim.simulator import run

KEEPALIVE = {"time": 1, "intvl": 1, "probes": 2}


def scenario(client=None, faults=(), until=10, server=None):
    return {"tcpsim": 1, "seed": 3, "link": {"mtu": 1500, "delay": 0.001}, "until": until,
            "hosts": {"client": {"port": 40001, "options": client or {}},
                      "server": {"port": 5201, "options": server or {}}},
            "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                        {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                        {"on": "eof", "host": "client", "do": "close"}],
            "faults": list(faults)}


VANISHED = [{"drop": {"from": "server", "between": [0.5, 100]}}]


@pytest.fixture(scope="module")
def vanished():
    return run(scenario({"keepalive": KEEPALIVE}, VANISHED))


@pytest.fixture(scope="module")
def answered():
    return run(scenario({"keepalive": {"time": 1, "intvl": 2, "probes": 2}}, until=8))


def client_segments(trace):
    return [r for r in trace.doc["segments"] if r["src"] == "client"]


def established_at(trace, host="client"):
    return next(s["t"] for s in trace.doc["states"]
                if s["host"] == host and s["to"] == "ESTABLISHED")


def test_probes_are_acks_one_below_snd_una_without_data(vanished):
    up = established_at(vanished)
    probes = client_segments(vanished)[2:4]
    assert [round(r["t"] - up, 6) for r in probes] == [1.0, 2.0]
    for r in probes:
        assert r["flags"] == "A" and r["len"] == 0
        assert r["rel_seq"] == 0 and r["rel_ack"] == 1        # snd_una - 1 = the ISN
        assert r["seq"] == client_segments(vanished)[0]["seq"]


def test_unanswered_probes_end_in_rst_etimedout_then_eof(vanished):
    up = established_at(vanished)
    rst = client_segments(vanished)[4]
    assert rst["flags"] == "RA" and round(rst["t"] - up, 6) == 3.0 and rst["rel_seq"] == 1
    reads = [e for e in vanished.doc["events"] if e["host"] == "client" and e["call"] == "read"]
    assert [(e["result"], round(e["t"] - up, 6)) for e in reads] == [("ETIMEDOUT", 3.0),
                                                                     (0, 3.0)]
    closed = [s for s in vanished.doc["states"] if s["host"] == "client"][-1]
    assert (closed["from"], closed["to"], closed["cause"]) == (
        "ESTABLISHED", "CLOSED", "2 keepalive probes unanswered")
    # the on-eof close of a connection that is gone: ENOTCONN-free, nothing more is sent
    assert len(client_segments(vanished)) == 5


def test_an_answering_peer_is_probed_every_max_time_intvl(answered):
    up = established_at(answered)
    probes = [r for r in client_segments(answered) if r["rel_seq"] == 0 and r["flags"] == "A"]
    assert [round(r["t"] - up, 6) for r in probes] == [1.0, 3.0, 5.0, 7.0]
    answers = [r for r in answered.doc["segments"] if r["src"] == "server"][1:]
    assert all(r["flags"] == "A" and r["rel_ack"] == 1 for r in answers)
    assert all(s["to"] != "CLOSED" for s in answered.doc["states"])


def test_without_keepalive_an_idle_connection_sends_nothing():
    trace = run(scenario(faults=VANISHED))
    assert len(client_segments(trace)) == 2            # SYN and the handshake's ACK
    assert not [e for e in trace.doc["events"] if e["call"] == "read"]


def test_traffic_postpones_the_probes():
    doc = scenario({"keepalive": KEEPALIVE}, until=4)
    doc["actions"].insert(2, {"at": 0.9, "host": "server", "do": "send", "bytes": 10})
    trace = run(doc)
    data_at = next(r["arrival"] for r in trace.doc["segments"] if r["len"])
    probes = [r for r in client_segments(trace) if r["flags"] == "A" and r["rel_seq"] == 0]
    assert probes and round(probes[0]["t"] - data_at, 6) == 1.0     # idle from the last arrival


def test_the_server_side_inherits_keepalive_and_probes_too():
    trace = run(scenario(server={"keepalive": KEEPALIVE},
                         faults=[{"drop": {"from": "client", "between": [0.5, 100]}}]))
    up = established_at(trace, "server")
    server = [r for r in trace.doc["segments"] if r["src"] == "server"]
    assert [(r["flags"], round(r["t"] - up, 6)) for r in server[1:]] == [
        ("A", 1.0), ("A", 2.0), ("RA", 3.0)]


@pytest.mark.parametrize("value, message", [
    ({"time": 0}, "hosts.client.options.keepalive.time: must be an integer from 1 to 32767"),
    ({"probes": 200}, "hosts.client.options.keepalive.probes: must be an integer from 1 to 127"),
    ({"idle": 5}, "hosts.client.options.keepalive.idle: unknown field"),
    (7, "hosts.client.options.keepalive: must be null or an object"),
])
def test_keepalive_option_errors_name_the_field(value, message):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(scenario({"keepalive": value}))
    assert str(info.value).startswith(message)
