"""The send buffer (``options.sndbuf``): a blocking send, as SO_SNDBUF gives a blocking socket.

docs/scenario.md: unsent and unacknowledged data together are at most ``sndbuf`` bytes; a
larger ``send`` blocks until ACKs make room, its event comes when its last byte is queued,
and the calls after it wait until then (as after a blocking connect()).
"""
from __future__ import annotations

from conftest import act, events, fmt, payload_pattern, run, scenario

DELAY = 0.01   # a 20 ms round trip, so that each ACK takes visible time


def transfer(sndbuf=None, size=5000, profile="rfc9293"):
    client = {"sndbuf": sndbuf} if sndbuf else {}
    return run(scenario([act(0.1, "client", "send", bytes=size),
                         act(0.1, "client", "send", data="tail"),
                         act(0.1, "client", "close"), act("eof", "server", "close")],
                        client=client, delay=DELAY, profile=profile, mtu=1040))


def test_without_sndbuf_send_returns_at_once():
    t = transfer()
    sends = events(t, host="client", call="send")
    assert [(e["t"], e["result"]) for e in sends] == [(0.1, 5000), (0.1, 4)], fmt(t)


def test_a_send_larger_than_sndbuf_blocks_until_acks_make_room():
    t = transfer(sndbuf=1000)
    first, second = events(t, host="client", call="send")
    assert first["result"] == 5000 and second["result"] == 4
    # 5000 bytes through a 1000-byte buffer: four more round trips before the last byte fits
    assert first["t"] >= 0.1 + 4 * 2 * DELAY - 1e-9, fmt(t)
    assert second["t"] >= first["t"], fmt(t)
    close = events(t, host="client", call="close")[0]
    assert close["t"] >= second["t"], fmt(t)
    # never more than sndbuf bytes unacknowledged, and the data arrives whole, in order
    assert t.tcb[t.tcb["host"] == "client"]["snd_buffered"].max() <= 1000
    acked = 0
    for s in t.doc["segments"]:
        if s["src"] == "server" and "A" in s["flags"] and s["rel_ack"] is not None:
            acked = max(acked, s["rel_ack"])
        if s["src"] == "client" and s["len"]:
            assert s["rel_seq"] + s["len"] - acked <= 1000 + 1, fmt(t)
    assert t.delivered["server"] == payload_pattern(5000) + b"tail"


def test_psh_only_where_a_send_ends():
    """A write cut into buffer-sized pieces still ends (PSH) only where the call's data ends."""
    t = transfer(sndbuf=1000)
    data = [s for s in t.doc["segments"] if s["src"] == "client" and s["len"]]
    pushed = [s["rel_seq"] + s["len"] - 1 for s in data if "P" in s["flags"]]
    assert pushed == [5000, 5004], fmt(t)


def test_a_reset_ends_a_blocked_send_with_what_it_queued():
    """A blocking write(2) interrupted by an error returns the bytes it queued."""
    t = run(scenario([act(0.1, "client", "send", bytes=5000), act(0.13, "server", "abort")],
                     client={"sndbuf": 1000}, delay=DELAY, profile="rfc9293", mtu=1040))
    (send,) = events(t, host="client", call="send")
    assert 1000 <= send["result"] < 5000, fmt(t)
