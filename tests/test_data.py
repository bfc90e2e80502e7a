"""Data transfer: segmentation, PSH, ACK policy, Nagle, windows, reordering, SACK, loss
recovery.

Sources: RFC 9293 §3.7 (segmentation, Nagle §3.7.4), §3.8 (windows, SWS §3.8.6.2, persist
§3.8.6.1, delayed ACK §3.8.6.3); RFC 5681 (§3.2 fast retransmit, §4.2 ACK generation);
RFC 6298 (RTO); RFC 2018 / RFC 2883 (SACK, D-SACK); RFC 7323 (window scale); RFC 8985 §7
(tail loss probe); docs/linux-facts.md §3, §4, §7 for the ``linux`` profile.
"""
from __future__ import annotations

import pytest

from conftest import (act, events, fmt, path, payload_pattern, run, scenario, sdiff, segs,
                      window_violations)


def data_of(trace, src, first_only=True):
    return [s for s in segs(trace, src=src, data=True)
            if not (first_only and s["retransmission"])]


def pure_acks(trace, src, t0=0.0, t1=1e9):
    return [s for s in segs(trace, src=src, flags="A", data=False) if t0 <= s["t"] <= t1]


# ----------------------------------------------------------------- segmentation and PSH
@pytest.mark.parametrize("opts,profile,size", [
    ({}, "linux", 1448),                                     # facts §3.1: 1460 - 12 (TS)
    ({"timestamps": False}, "linux", 1460),                  # facts §1.2: no TS -> 1460
    ({}, "rfc9293", 1460),                                   # RFC 9293 §3.7.1: MSS = MTU - 40
])
def test_segmentation_by_mss(opts, profile, size):
    """RFC 9293 §3.7.1 / RFC 7323 §3.2 (TS takes 12 bytes): a 10000-byte write leaves as
    full segments of the effective MSS plus one remainder, contiguous, delivered intact."""
    n = 10000
    t = run(scenario([act(0.5, "client", "send", bytes=n)], profile=profile,
                     client=opts, server=opts))
    d = data_of(t, "client")
    full, rest = divmod(n, size)
    assert [s["len"] for s in d] == [size] * full + [rest], fmt(t)
    expect = 1
    for s in d:
        assert s["rel_seq"] == expect
        expect += s["len"]
    assert t.delivered["server"] == payload_pattern(n)


def test_segmentation_mtu65536_linux():
    """linux-facts §10: on lo (MTU 65536) the effective MSS is 65483 (65495 - 12); the kernel
    even clamps it to half the peer's max window (32741). Either way no segment exceeds the
    announced MSS minus the TS option."""
    t = run(scenario([act(0.5, "client", "send", bytes=200000)], mtu=65536))
    d = data_of(t, "client")
    assert max(s["len"] for s in d) <= 65483, fmt(t)
    assert t.delivered["server"] == payload_pattern(200000)


@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_psh_on_last_segment_of_each_write(profile):
    """linux-facts §3.1: PSH is set on the last segment of each sendmsg() (RFC 9293 §3.9.1:
    the PUSH of a SEND); two writes far apart each end with a `P.` segment."""
    t = run(scenario([act(0.5, "client", "send", bytes=5000),
                      act(1.5, "client", "send", bytes=3000)], profile=profile))
    d = data_of(t, "client")
    ends = {5001, 8001}
    for s in d:
        end = s["rel_seq"] + s["len"]
        if end in ends:
            assert "P" in s["flags"], fmt(t)
    assert {s["rel_seq"] + s["len"] for s in d if "P" in s["flags"]} >= ends
    first_write = [s for s in d if s["t"] < 1.0]
    assert "P" not in first_write[0]["flags"], fmt(t)    # a full segment in mid-write


# ----------------------------------------------------------------- ACKs
@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_cumulative_acks(profile):
    """RFC 9293 §3.4 / §3.10.7.4: ACKs are cumulative: the receiver's ack numbers never
    decrease, each acknowledges only received bytes, and the last one covers everything."""
    n = 30000
    t = run(scenario([act(0.5, "client", "send", bytes=n)], profile=profile))
    acks = [s for s in segs(t, src="server") if "A" in s["flags"] and s["t"] >= 0.5]
    vals = [s["rel_ack"] for s in acks]
    assert vals == sorted(vals), fmt(t)
    assert vals[-1] == n + 1
    d = data_of(t, "client")
    for a in acks:
        arrived = [s for s in d if s["arrival"] is not None and s["arrival"] <= a["t"]]
        assert a["rel_ack"] <= max(s["rel_seq"] + s["len"] for s in arrived)


def test_rfc9293_acks_every_segment_immediately():
    """rfc9293 profile (no delayed ACK): every data segment is ACKed at once with
    ack = its end (RFC 9293 §3.8.6.3 makes delaying optional; the profile does not)."""
    t = run(scenario([act(0.5, "client", "send", bytes=20000)], profile="rfc9293"))
    d = data_of(t, "client")
    acks = pure_acks(t, "server", 0.5)
    assert len(acks) == len(d), fmt(t)
    for s, a in zip(d, acks):
        assert a["rel_ack"] == s["rel_seq"] + s["len"] and a["t"] == pytest.approx(s["arrival"])


def test_linux_quickack_at_start():
    """linux-facts §3.2 / §4 rule 1: a fresh connection is in quickack mode: the first request
    is ACKed at once (6-16 µs on loopback), before the application's reply."""
    t = run(scenario([act(0.5, "client", "send", bytes=100), act(0.6, "server", "send", bytes=50)]))
    req = data_of(t, "client")[0]
    ack = pure_acks(t, "server", 0.5)
    assert ack and ack[0]["rel_ack"] == 101 and ack[0]["t"] == pytest.approx(req["arrival"]), fmt(t)


def test_linux_quickack_bulk_fresh_connection():
    """linux-facts §3.2 (bulk-paced-noreq): on a fresh connection with no reply yet, the first
    16 data segments (TCP_MAX_QUICKACKS) are each ACKed immediately."""
    t = run(scenario([act(0.5, "client", "send", bytes=30 * 1448)]))
    d = data_of(t, "client")[:16]
    acks = pure_acks(t, "server", 0.5)
    for s in d:
        end = s["rel_seq"] + s["len"]
        assert any(a["rel_ack"] == end and a["t"] == pytest.approx(s["arrival"]) for a in acks), \
            (end, fmt(t))


def interactive(extra, **kw):
    """A request/response already exchanged quickly, so the server is in pingpong mode:
    request at 0.1, reply 100 µs later (< 40 ms, linux-facts §4 rule 2)."""
    return scenario([act(0.1, "client", "send", bytes=10), act(0.1001, "server", "send", bytes=10)]
                    + extra, **kw)


def test_linux_delayed_ack_40ms_in_pingpong():
    """linux-facts §4 phase C: the server (pingpong after a quick reply) gets a request it
    answers only 1 s later: its pure ACK leaves 40 ms after the request (TCP_DELACK_MIN)."""
    t = run(interactive([act(0.5, "client", "send", bytes=10), act(1.5, "server", "send", bytes=10)]))
    req = [s for s in data_of(t, "client") if s["t"] >= 0.5][0]
    acks = pure_acks(t, "server", 0.5, 1.4)
    assert len(acks) == 1, fmt(t)
    assert acks[0]["rel_ack"] == req["rel_seq"] + 10
    assert acks[0]["t"] - req["arrival"] == pytest.approx(0.040, abs=0.004)


def test_linux_pingpong_left_when_delack_timer_fires():
    """linux-facts §4 rule 3 (delack-repeat pcap): the server is pingpong; a request it answers
    300 ms later gets a 40 ms delayed ACK, whose timer ends pingpong mode; the next request,
    100 µs after the reply, is ACKed immediately and the reply (100 ms later) is separate."""
    t = run(interactive([act(0.5, "client", "send", bytes=10), act(0.8, "server", "send", bytes=10),
                         act(0.8001, "client", "send", bytes=10), act(0.9, "server", "send", bytes=10)]))
    reqs = [s for s in data_of(t, "client") if s["t"] >= 0.5]
    first_ack = pure_acks(t, "server", 0.5, 0.79)
    assert len(first_ack) == 1 and first_ack[0]["t"] - reqs[0]["arrival"] == \
        pytest.approx(0.040, abs=0.004), fmt(t)
    second_ack = [a for a in pure_acks(t, "server", 0.8, 0.89) if a["rel_ack"] == reqs[1]["rel_seq"] + 10]
    assert second_ack and second_ack[0]["t"] == pytest.approx(reqs[1]["arrival"]), fmt(t)


def test_linux_pingpong_reply_carries_the_ack():
    """linux-facts §4 phase B1/B2: in pingpong mode a reply sent within 40 ms carries the
    ACK: no separate pure ACK from the server."""
    t = run(interactive([act(0.5, "client", "send", bytes=10), act(0.51, "server", "send", bytes=10)]))
    req = [s for s in data_of(t, "client") if s["t"] >= 0.5][0]
    assert not pure_acks(t, "server", 0.5, 0.6), fmt(t)
    reply = [s for s in data_of(t, "server") if s["t"] >= 0.5][0]
    assert reply["rel_ack"] == req["rel_seq"] + 10


def test_linux_ack_every_second_full_segment_in_pingpong():
    """linux-facts §3.2 (pingpong bulk, ack 2997, 5893, 8789 ...) / RFC 5681 §4.2 / RFC 9293
    §3.8.6.3 (an ACK at least every second full-sized segment): after a quick exchange the
    receiver ACKs every 2 x 1448 bytes."""
    n = 20 * 1448
    t = run(interactive([act(0.5, "client", "send", bytes=n)]))
    base = 11   # rel_seq of the first bulk byte
    acks = [a["rel_ack"] for a in pure_acks(t, "server", 0.5)]
    assert acks[-1] == base + n, fmt(t)
    middle = acks[:-1]
    assert middle, fmt(t)
    for a in middle:
        assert (a - base) % (2 * 1448) == 0, (acks, fmt(t))


def test_rfc9293_optional_delayed_ack():
    """RFC 9293 §3.8.6.3 with `delayed_ack: true` on the textbook profile: a lone segment is
    ACKed after the delay (< 0.5 s) and an ACK is sent at least every second full segment."""
    t = run(scenario([act(0.5, "client", "send", bytes=10), act(1.5, "client", "send", bytes=10 * 1460)],
                     profile="rfc9293", server={"delayed_ack": True}))
    first = [a for a in pure_acks(t, "server", 0.5, 1.4)]
    assert len(first) == 1, fmt(t)
    assert 0 < first[0]["t"] - 0.5 < 0.5
    bulk = [a["rel_ack"] for a in pure_acks(t, "server", 1.5)]
    gaps = [b - a for a, b in zip([11] + bulk, bulk)]
    assert max(gaps) <= 2 * 1460, (bulk, fmt(t))


# ----------------------------------------------------------------- Nagle
def test_nagle_holds_small_write_until_delayed_ack():
    """linux-facts §4 (nagle-stall pcap) / RFC 9293 §3.7.4 (Nagle): the server is in pingpong
    mode; 10 ms later the client writes 10 B twice; the 2nd write waits for the server's
    delayed ACK (~40 ms) and leaves right after it."""
    t = run(interactive([act(0.11, "client", "send", bytes=10), act(0.11, "client", "send", bytes=10)]))
    d = [s for s in data_of(t, "client") if s["t"] >= 0.11]
    assert [s["len"] for s in d] == [10, 10], fmt(t)
    assert d[0]["t"] == pytest.approx(0.11)
    ack = [a for a in pure_acks(t, "server", 0.11) if a["rel_ack"] == d[0]["rel_seq"] + 10]
    assert ack and ack[0]["t"] - d[0]["arrival"] == pytest.approx(0.040, abs=0.004), fmt(t)
    assert d[1]["t"] == pytest.approx(ack[0]["arrival"]), fmt(t)


def test_nodelay_sends_small_write_at_once():
    """linux-facts §4 phase F (TCP_NODELAY): both small writes leave back-to-back."""
    t = run(interactive([act(0.11, "client", "send", bytes=10), act(0.11, "client", "send", bytes=10)],
                        client={"nodelay": True}))
    d = [s for s in data_of(t, "client") if s["t"] >= 0.11]
    assert [s["len"] for s in d] == [10, 10] and all(s["t"] == pytest.approx(0.11) for s in d), fmt(t)


def test_nagle_does_not_delay_full_segments():
    """RFC 9293 §3.7.4: Nagle only holds a segment smaller than the MSS; a second large write
    still sends its full segments at once."""
    t = run(interactive([act(0.11, "client", "send", bytes=10),
                         act(0.11, "client", "send", bytes=3 * 1448)]))
    d = [s for s in data_of(t, "client") if s["t"] >= 0.11]
    early = [s for s in d if s["t"] == pytest.approx(0.11)]
    assert sum(1 for s in early if s["len"] == 1448) >= 2, fmt(t)


# ----------------------------------------------------------------- windows
def test_window_scaling_raw_field():
    """RFC 7323 §2.2-2.3: after the SYNs, the 16-bit window field is the window >> wscale;
    the sender never sends beyond ack + (win << 10). Linux-facts §1: raw 63/64 at MTU 1500."""
    t = run(scenario([act(0.5, "client", "send", bytes=200000)]))
    server_wins = [s["win"] for s in segs(t, src="server") if "S" not in s["flags"]]
    assert all(w < 1024 for w in server_wins), fmt(t)           # scaled: small raw values
    # facts §3.2 (bulk-paced-noreq): the first bulk segment is ACKed with `ack 1449 win 67`
    assert server_wins[0] == 67, server_wins[:5]
    assert not window_violations(t)
    assert t.delivered["server"] == payload_pattern(200000)


def test_window_scale_off_when_one_side_refuses():
    """RFC 7323 §1.3 / §2.2: scaling is used only if both SYNs carry the option; with the
    client's wscale off, the server's windows are plain byte counts (facts §1.2: 64240)."""
    t = run(scenario([act(0.5, "client", "send", bytes=5000)], client={"wscale": False}))
    synack = segs(t, src="server", flags="SA")[0]
    assert "wscale" not in synack["options"], fmt(t)
    wins = [s["win"] for s in segs(t, src="server") if "S" not in s["flags"]]
    assert min(wins) > 10000, fmt(t)


def test_custom_wscale_shift():
    """RFC 7323 §2.3: with `wscale: 2` the server announces shift 2 and its raw window is its
    byte window >> 2 (a receive buffer of 100000 B -> raw values well above 1024)."""
    t = run(scenario([act(0.5, "client", "send", bytes=30000)], server={"wscale": 2}))
    synack = segs(t, src="server", flags="SA")[0]
    assert synack["options"]["wscale"] == 2
    wins = [s["win"] for s in segs(t, src="server") if "S" not in s["flags"]]
    assert all(1024 < w <= 65535 for w in wins), fmt(t)
    assert not window_violations(t)


@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_zero_window_and_reopen(profile):
    """RFC 9293 §3.8.6 / §3.8.6.1: the server application stops reading (`read: off`) with a
    20000-byte receive buffer; its advertised window falls to 0, the sender stops at the
    window edge and probes (persist timer, segments of at most 1 byte, growing intervals);
    when the application reads again the window reopens and everything is delivered."""
    n = 60000
    t = run(scenario([act(0.0, "server", "read", mode="off"),
                      act(0.5, "client", "send", bytes=n),
                      act(10.0, "server", "read", mode="auto")],
                     profile=profile, server={"rcvbuf": 20000}, until=100))
    assert t.delivered["server"] == payload_pattern(n), fmt(t)
    zero = [s for s in segs(t, src="server") if s["win"] == 0 and "R" not in s["flags"]
            and s["t"] < 10.0]
    assert zero, fmt(t)
    assert not window_violations(t), window_violations(t)[:3]
    # bytes the client got into the receiver before the reopen: at most the buffer
    before = [s for s in segs(t, src="client", data=True) if s["t"] < 10.0 and not s["dropped"]]
    accepted = max(s["rel_seq"] + s["len"] for s in before) - 1
    if profile == "rfc9293":            # unscaled windows: exactly the buffer (+ 1 probe byte)
        assert accepted <= 20000 + 1, accepted
    else:
        # linux tcp_select_window() never shrinks the offered window: it re-announces
        # ALIGN(cur_win, 1 << wscale), so the right edge may creep by < 1024 B per ACK while
        # the window closes (facts §3.3: raw 76, 75, 74, 73, 72, -1 per 1448 B received).
        n_acks = len([s for s in segs(t, src="server") if 0.5 <= s["t"] < 10.0])
        assert accepted <= 20000 + 1 + n_acks * 1023, accepted
    probes = [s for s in segs(t, src="client") if zero[0]["arrival"] < s["t"] < 10.0]
    assert len(probes) >= 2, fmt(t)
    assert all(s["len"] <= 1 for s in probes), fmt(t)
    gaps = [b["t"] - a["t"] for a, b in zip(probes, probes[1:])]
    assert all(b >= a * 0.99 for a, b in zip(gaps, gaps[1:])), gaps     # backing off
    # after the reopen: a window update from the server, then the rest of the data
    update = [s for s in segs(t, src="server") if s["t"] >= 10.0 and s["win"] > 0]
    assert update and update[0]["t"] == pytest.approx(10.0), fmt(t)


def test_receiver_never_shrinks_right_edge():
    """RFC 9293 §3.8.6 (and RFC 7323 §2.4): the right edge ack + (win << shift) that a
    receiver advertises should not move left."""
    t = run(scenario([act(0.0, "server", "read", mode="off"),
                      act(0.5, "client", "send", bytes=60000),
                      act(5.0, "server", "read", bytes=5000),
                      act(6.0, "server", "read", mode="auto")],
                     server={"rcvbuf": 20000}, until=60))
    edge = None
    for s in segs(t, src="server"):
        if "S" in s["flags"] or "R" in s["flags"]:
            continue
        e = (s["ack"] + (s["win"] << 10)) % 2 ** 32
        if edge is not None:
            assert sdiff(e, edge) >= 0, fmt(t)
        edge = e
    assert t.delivered["server"] == payload_pattern(60000)


# ----------------------------------------------------------------- reordering and SACK
def test_reordering_out_of_order_queue_and_sack():
    """RFC 5681 §4.2 (an out-of-order segment gets an immediate duplicate ACK), RFC 2018 §4
    (SACK blocks, the most recent first): data segment 2 of 4 is held back 2 ms; segments 3
    and 4 each get a dup ACK (ack = start of segment 2) with a SACK block covering what
    arrived above the hole; segment 2 then fills the hole and is ACKed at once up to the end."""
    n = 4 * 1448
    t = run(scenario([act(0.5, "client", "send", bytes=n)],
                     faults=[{"delay": {"from": "client", "data_segment": 2, "extra": 0.002}}]))
    d = data_of(t, "client")
    s1, s2, s3, s4 = d[:4]
    assert s2["arrival"] > s4["arrival"], fmt(t)
    acks = pure_acks(t, "server", 0.5)
    # in order: ACK of segment 1, dup ACK for segment 3, dup ACK for segment 4, ACK of all
    assert len(acks) == 4, fmt(t)
    first, dup3, dup4, fill = acks
    assert first["ack"] == s2["seq"] and "sack" not in first["options"]
    assert dup3["t"] == pytest.approx(s3["arrival"]) and dup4["t"] == pytest.approx(s4["arrival"])
    assert dup3["ack"] == s2["seq"] and dup4["ack"] == s2["seq"]
    assert dup3["options"]["sack"][0] == [s3["seq"], (s3["seq"] + s3["len"]) % 2 ** 32]
    assert dup4["options"]["sack"][0] == [s3["seq"], (s4["seq"] + s4["len"]) % 2 ** 32]
    assert fill["t"] == pytest.approx(s2["arrival"])
    assert fill["rel_ack"] == n + 1 and "sack" not in fill["options"], fmt(t)
    assert t.delivered["server"] == payload_pattern(n)
    assert not [s for s in segs(t, src="client") if s["retransmission"]], fmt(t)


def test_reordering_without_sack_rfc9293():
    """RFC 9293 §3.10.7.4 (out-of-order segments are queued) / RFC 5681 §4.2: without SACK the
    dup ACKs carry no options and the data is still delivered in order."""
    n = 4 * 1460
    t = run(scenario([act(0.5, "client", "send", bytes=n)], profile="rfc9293",
                     faults=[{"delay": {"from": "client", "data_segment": 2, "extra": 0.002}}]))
    d = data_of(t, "client")
    acks = pure_acks(t, "server", 0.5)
    dups = [a for a in acks if a["ack"] == d[1]["seq"]]
    assert len(dups) >= 3 - 1 and all("sack" not in a["options"] for a in acks), fmt(t)
    assert t.delivered["server"] == payload_pattern(n)


def test_dsack_on_duplicate_segment():
    """RFC 2883 §4 (D-SACK: the first SACK block reports the duplicate, below the ack) /
    linux tcp_dsack = 1: a copy of data segment 1 arrives 0.5 s later; the receiver ACKs it at
    once with that range as first SACK block. The application gets each byte once."""
    t = run(scenario([act(0.5, "client", "send", bytes=3000)],
                     faults=[{"duplicate": {"from": "client", "data_segment": 1, "extra": 0.5}}]))
    s1 = data_of(t, "client")[0]
    copies = [s for s in segs(t) if s.get("copies")]
    assert copies and copies[0]["i"] == s1["i"], fmt(t)
    copy_at = copies[0]["copies"][0]
    ack = [a for a in pure_acks(t, "server", 0.9) if a["t"] == pytest.approx(copy_at)]
    assert ack, fmt(t)
    assert ack[0]["options"]["sack"][0] == [s1["seq"], (s1["seq"] + s1["len"]) % 2 ** 32]
    assert ack[0]["rel_ack"] == 3001
    assert t.delivered["server"] == payload_pattern(3000)


# ----------------------------------------------------------------- loss recovery
def test_fast_retransmit_single_mid_loss_linux():
    """linux-facts §7c: the 20th of 40 segments is lost once: every later segment gets an
    immediate SACK dup ACK (ack = hole), the sender retransmits the hole exactly once, soon
    after the 3rd dup ACK and long before any RTO; no other retransmission; nothing lost."""
    n = 40 * 1448
    t = run(scenario([act(0.5, "client", "send", bytes=n)],
                     faults=[{"drop": {"from": "client", "data_segment": 20}}]))
    lost = data_of(t, "client")[19]
    assert lost["dropped"], fmt(t)
    rtx = [s for s in segs(t, src="client") if s["retransmission"]]
    assert len(rtx) == 1 and rtx[0]["seq"] == lost["seq"] and rtx[0]["len"] == lost["len"], fmt(t)
    dups = [a for a in pure_acks(t, "server", 0.5) if a["ack"] == lost["seq"]]
    assert len(dups) >= 3 and all("sack" in a["options"] for a in dups[1:]), fmt(t)
    assert rtx[0]["t"] >= dups[2]["arrival"] - 1e-9
    assert rtx[0]["t"] - lost["t"] < 0.05                           # not an RTO (>= 200 ms)
    assert t.delivered["server"] == payload_pattern(n)


def test_fast_retransmit_three_dupacks_rfc9293():
    """RFC 5681 §3.2: without SACK, the third duplicate ACK triggers the retransmission of the
    missing segment (long before the 1 s RTO)."""
    n = 20 * 1460
    t = run(scenario([act(0.5, "client", "send", bytes=n)], profile="rfc9293",
                     faults=[{"drop": {"from": "client", "data_segment": 5}}]))
    lost = data_of(t, "client")[4]
    rtx = [s for s in segs(t, src="client") if s["retransmission"]]
    assert rtx and rtx[0]["seq"] == lost["seq"], fmt(t)
    dups = [a for a in pure_acks(t, "server", 0.5) if a["ack"] == lost["seq"]]
    assert len(dups) >= 4       # the original ACK + 3 duplicates
    assert rtx[0]["t"] == pytest.approx(dups[3]["arrival"]), fmt(t)
    assert t.delivered["server"] == payload_pattern(n)


def rtx_times(t, first):
    return [s["t"] for s in segs(t, src="client", data=True) if s["seq"] == first["seq"]]


def test_rto_backoff_linux():
    """linux-facts §7e/§7f/§7h: a lone segment lost repeatedly is re-sent after ~0.2 s (probe or
    RTO at rto_min 200 ms), then the RTO doubles: ~0.205, 0.208, 0.416, 0.832 s."""
    t = run(scenario([act(1.0, "client", "send", bytes=100)],
                     faults=[{"drop": {"from": "client", "flags": "PA", "nth": [1, 2, 3, 4]}}]))
    first = data_of(t, "client")[0]
    times = rtx_times(t, first)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) == 4, fmt(t)
    for got, want in zip(gaps, [0.205, 0.208, 0.416, 0.832]):
        assert got == pytest.approx(want, rel=0.1, abs=0.01), gaps
    assert t.delivered["server"] == payload_pattern(100)


def test_rto_backoff_rfc9293():
    """RFC 6298 §2.4 (RTO rounded up to 1 s) and §5.5 (back off by doubling): 1, 2, 4, 8 s."""
    t = run(scenario([act(1.0, "client", "send", bytes=100)], profile="rfc9293",
                     faults=[{"drop": {"from": "client", "flags": "PA", "nth": [1, 2, 3, 4]}}],
                     until=100))
    first = data_of(t, "client")[0]
    times = rtx_times(t, first)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps == pytest.approx([1, 2, 4, 8], abs=0.01), fmt(t)
    assert t.delivered["server"] == payload_pattern(100)


@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_retransmission_gives_up_with_etimedout(profile):
    """RFC 9293 §3.8.3 (R2) / linux tcp_retries2 = 15: when every retransmission is lost the
    connection is eventually aborted: ETIMEDOUT to the application, state CLOSED."""
    t = run(scenario([act(1.0, "client", "send", bytes=100)], profile=profile,
                     faults=[{"drop": {"from": "client", "flags": "PA"}}], until=3000))
    assert "ETIMEDOUT" in [e["result"] for e in events(t, host="client")], fmt(t)
    assert path(t, "client")[-1] == "CLOSED"
    n_rtx = len([s for s in segs(t, src="client", data=True) if s["retransmission"]])
    assert n_rtx == 15 or (profile == "linux" and 15 <= n_rtx <= 16), n_rtx


def test_tail_loss_probe_linux():
    """linux-facts §7g / RFC 8985 §7: all the server's pure ACKs are dropped; the client sends
    exactly the initial window (10 segments), then after PTO = 2*srtt + 2 jiffies (measured
    7.2 ms) the tail loss probe sends ONE new segment, and only ~200 ms later the RTO
    retransmits the first segment."""
    t = run(scenario([act(1.0, "client", "send", bytes=20000)],
                     faults=[{"drop": {"from": "server", "flags": "A", "between": [0.5, 5.0]}}],
                     until=10))
    d = segs(t, src="client", data=True)
    burst = [s for s in d if s["t"] == pytest.approx(1.0)]
    assert len(burst) == 10 and sum(s["len"] for s in burst) == 10 * 1448, fmt(t)
    probe = d[10]
    assert not probe["retransmission"] and probe["rel_seq"] == 10 * 1448 + 1, fmt(t)
    assert 0.004 <= probe["t"] - 1.0 <= 0.012, fmt(t)
    rto = d[11]
    assert rto["retransmission"] and rto["rel_seq"] == 1, fmt(t)
    assert 0.19 <= rto["t"] - probe["t"] <= 0.26, fmt(t)


def test_tail_loss_recovered_before_rfc_rto_linux():
    """linux-facts §7d: the last segment of a transfer is lost once; linux recovers it with a
    probe ~0.2 s later (the rfc9293 profile would wait its 1 s RTO), exactly one retransmission."""
    n = 5 * 1448 + 88
    t = run(scenario([act(1.0, "client", "send", bytes=n)],
                     faults=[{"drop": {"from": "client", "data_segment": 6}}]))
    d = data_of(t, "client")
    last = d[5]
    assert last["dropped"] and last["len"] == 88, fmt(t)
    rtx = [s for s in segs(t, src="client") if s["retransmission"]]
    assert len(rtx) == 1 and rtx[0]["seq"] == last["seq"], fmt(t)
    assert 0.005 <= rtx[0]["t"] - last["t"] <= 0.26, fmt(t)
    assert t.delivered["server"] == payload_pattern(n)


def test_duplicate_fault_delivers_once():
    """A duplicated segment (`duplicate` fault, an old duplicate arriving 3 s later) is
    recognised by its sequence number: each byte reaches the application once
    (RFC 9293 §3.4, §3.10.7.4 first check)."""
    t = run(scenario([act(0.5, "client", "send", bytes=5000), act(1.0, "server", "send", bytes=2000)],
                     faults=[{"duplicate": {"from": "client", "data_segment": 2, "extra": 3.0}},
                             {"duplicate": {"from": "server", "data_segment": 1, "extra": 0.0001}}]))
    assert t.delivered["server"] == payload_pattern(5000), fmt(t)
    assert t.delivered["client"] == payload_pattern(2000)
    assert sum(e["result"] for e in events(t, host="server", call="read")
               if isinstance(e["result"], int)) == 5000


@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_never_beyond_advertised_window(profile):
    """RFC 9293 §3.8.6: a sender never sends data beyond the window the receiver offered:
    a bulk transfer both ways into small, slowly-read receive buffers."""
    t = run(scenario([act(0.0, "server", "read", mode="off"), act(0.0, "client", "read", mode="off"),
                      act(0.5, "client", "send", bytes=50000), act(0.5, "server", "send", bytes=30000),
                      act(2.0, "server", "read", bytes=7000), act(3.0, "client", "read", bytes=7000),
                      act(4.0, "server", "read", mode="auto"), act(4.5, "client", "read", mode="auto")],
                     profile=profile, server={"rcvbuf": 10000}, client={"rcvbuf": 8000}, until=120))
    assert not window_violations(t), window_violations(t)[:3]
    assert t.delivered["server"] == payload_pattern(50000), fmt(t)
    assert t.delivered["client"] == payload_pattern(30000), fmt(t)


@pytest.mark.parametrize("profile,rcvbuf,small", [
    ("linux", 20000, 100), ("linux", 3000, 1000), ("rfc9293", 20000, 100), ("rfc9293", 3000, 1000)])
def test_receiver_sws_avoidance_small_read(profile, rcvbuf, small):
    """RFC 9293 §3.8.6.2.2 (receiver SWS avoidance: do not move the right edge until it can
    move by min(RCV.BUFF / 2, MSS)) / linux __tcp_select_window() (free space < MSS -> announce
    a zero window): after the window closed, a read smaller than the MSS does not reopen it
    (the receiver keeps announcing 0 while the probes go on); a 10000-byte read sends a
    window update at once."""
    t = run(scenario([act(0.0, "server", "read", mode="off"),
                      act(0.5, "client", "send", bytes=60000),
                      act(3.0, "server", "read", bytes=small),
                      act(20.0, "server", "read", bytes=10000)],
                     profile=profile, server={"rcvbuf": rcvbuf}, until=40))
    zero_at = min(s["t"] for s in segs(t, src="server") if s["win"] == 0 and s["t"] > 0.5)
    between = [s for s in segs(t, src="server") if zero_at < s["t"] < 20.0]
    assert between, fmt(t)                                   # probes were answered
    assert all(s["win"] == 0 for s in between), fmt(t)
    assert not [s for s in segs(t, src="client") if zero_at < s["t"] < 20.0 and s["len"] > 1], fmt(t)
    update = [s for s in segs(t, src="server") if s["t"] >= 20.0]
    assert update and update[0]["t"] == pytest.approx(20.0) and update[0]["win"] > 0, fmt(t)


def test_timestamps_echo_and_clock():
    """RFC 7323 §4.3 / linux-facts §2: TSval ticks once per millisecond; a segment's TSecr is
    the TSval of the latest in-order segment received from the peer (TS.Recent)."""
    t = run(scenario([act(0.1, "client", "send", bytes=10), act(0.3, "server", "send", bytes=10),
                      act(0.6, "client", "send", bytes=10), act(1.0, "server", "send", bytes=10)]))
    rows = segs(t)
    for host in ("client", "server"):
        mine = [s for s in rows if s["src"] == host]
        base_t, base_v = mine[0]["t"], mine[0]["options"]["ts"][0]
        for s in mine:
            assert s["options"]["ts"][0] == (base_v + round((s["t"] - base_t) * 1000)) % 2 ** 32 \
                or abs(s["options"]["ts"][0] - base_v - (s["t"] - base_t) * 1000) <= 1, fmt(t)
    for s in rows[2:]:
        received = [p for p in rows if p["src"] != s["src"] and p["arrival"] is not None
                    and p["arrival"] <= s["t"]]
        assert s["options"]["ts"][1] == received[-1]["options"]["ts"][0], fmt(t)
