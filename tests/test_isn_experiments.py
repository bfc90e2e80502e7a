"""tcpsim.isn_experiments (notebook 03): its ISNs are the simulator's, the attack is the
simulator's run, and the Monte Carlo's rules are the endpoint's (checked by whole runs)."""
import numpy as np
import pytest

import tcpsim
from tcpsim import isn_experiments as isnx, plots
from tcpsim.syncookies import MSSTAB


def reconnects(strategy, times, port=40000, seed=3):
    """A client on a fixed port that connects at each of ``times`` and aborts 0.5 s later."""
    actions = [{"at": 0.0, "host": "server", "do": "listen"}]
    for t in times:
        actions += [{"at": t, "host": "client", "do": "connect", "to": "server"},
                    {"at": t + 0.5, "host": "client", "do": "abort"}]
    return {"seed": seed, "hosts": {"client": {"port": port,
                                               "options": {"isn_strategy": strategy}},
                                    "server": {"port": 80}},
            "actions": actions, "until": times[-1] + 2}


@pytest.mark.parametrize("strategy", ["clock", "rfc6528", "random", "zero"])
def test_isn_at_is_what_a_simulated_host_chooses(strategy):
    times = [1.0, 3.0, 250.0, 400.0]
    trace = tcpsim.run(reconnects(strategy, times))
    syns = trace.segments[trace.segments["flags"] == "S"]
    assert list(syns["seq"]) == [isnx.isn_at(strategy, t, 40000, seed=3) for t in times]


def test_generator_table_clock_and_hash_slopes():
    """The 4 µs clock rises 250 000 a second whatever the port; RFC 6528 on one 4-tuple
    rises 15 625 000 a second (mod 2^32); across ports it jumps."""
    table = isnx.generator_table(duration_s=100, every_s=5, seed=1)
    clock = table[table["strategy"] == "clock"]
    steps = np.diff(clock["isn"].to_numpy()) % 2 ** 32
    assert set(steps) == {5 * 250_000}
    fixed = table[table["series"] == "one 4-tuple"]
    steps = np.diff(fixed["isn"].to_numpy()) % 2 ** 32
    assert set(steps) == {5 * 15_625_000}
    ports = table[(table["strategy"] == "rfc6528") & (table["series"] != "one 4-tuple")]
    assert len(set(np.diff(ports["isn"].to_numpy()) % 2 ** 32)) > 10
    assert isnx.WRAP_S["clock"] == pytest.approx(17179.869184)
    assert isnx.WRAP_S["rfc6528"] == pytest.approx(274.877906944)


def test_the_real_kernels_isn_clock_ticks_every_64_ns():
    table = isnx.real_isn_table()
    same = table.dropna(subset=["per_s"])
    assert list(same["sport"]) == [40000] * 3 and len(table) == 8
    for rate in same["per_s"]:
        assert rate == pytest.approx(1 / 64e-9, rel=1e-3)
    assert table["sport"].iloc[:4].nunique() == 4


@pytest.mark.parametrize("seed", [1985, 1, 2, 3])
def test_blind_spoofing_works_against_the_clock_and_not_against_rfc6528(seed):
    clock = isnx.blind_spoof("clock", seed)
    assert clock.accepted and clock.predicted_isn == clock.actual_isn
    for strategy in ("rfc6528", "random"):
        other = isnx.blind_spoof(strategy, seed)
        assert not other.accepted and other.predicted_isn != other.actual_isn
        ignored = other.trace.ignored
        assert ignored["reason"].str.contains("does not acknowledge our SYN").any()


def test_spoof_without_the_ack_is_a_half_open_request():
    trace = tcpsim.run(isnx.spoof_scenario("clock"))
    assert not isnx.spoof_accepted(trace)
    assert isnx.spoofed_synack(trace) is not None
    with pytest.raises(ValueError, match="strategy"):
        isnx.blind_spoof("bsd")


@pytest.mark.parametrize("strategy,k,received", [
    ("zero", 5, 5 * 1448), ("zero", 5, 0), ("zero", 3, 10 * 1448), ("zero", 0, 0),
    ("zero", 19, 100), ("clock", 5, 5 * 1448), ("clock", 0, 0), ("random", 4, 1448),
    ("rfc6528", 2, 0)])
def test_stale_rule_is_the_endpoints_verdict(strategy, k, received):
    """The Monte Carlo's rule (stale_rule) agrees with a whole simulated run."""
    trace, (seq, ack) = isnx.stale_trace(strategy, 5.0, k, received)
    segs = trace.segments
    new = segs[segs["conn"] == 1]
    c_new = int(new[new["flags"] == "S"]["seq"].iloc[0])
    s_new = int(new[new["flags"] == "SA"]["seq"].iloc[0])
    rule = bool(isnx.stale_rule(seq, isnx.SEGMENT_BYTES, ack, (c_new + 1 + received) % 2**32,
                                isnx.RFC9293_WINDOW, (s_new + 1) % 2**32))
    stale_row = int(segs.index[segs["injected"].fillna(False).astype(bool)][0])
    ignored = trace.ignored
    dropped = not ignored.empty and (ignored["segment"] == stale_row).any()
    assert rule == (not dropped)


def test_stale_acceptance_shape():
    result = isnx.stale_acceptance([2.0, 50.0, 100.0], runs=20_000, progress=False)
    frac = result.set_index(["strategy", "gap_s"])["fraction"]
    assert frac["zero", 50.0] > 0.05 and frac["zero", 2.0] > 0.05
    assert frac["clock", 2.0] > 0.05          # 1 MB sent faster than the clock's 250 000/s
    assert frac["clock", 50.0] == frac["clock", 100.0] == 0
    assert frac["rfc6528", 50.0] == frac["rfc6528", 100.0] == 0
    assert frac["random", 50.0] < 1e-3
    with pytest.raises(ValueError, match="runs"):
        isnx.stale_acceptance([1.0], runs=0)
    with pytest.raises(ValueError, match="gaps_s"):
        isnx.stale_acceptance([], progress=False)
    with pytest.raises(ValueError, match="strategy"):
        isnx.stale_acceptance([1.0], strategies=("bsd",), progress=False)


def test_flood_fills_the_queue_and_cookies_take_over():
    backlog, count = 8, 40
    trace = tcpsim.run(isnx.flood_scenario(backlog, count))
    queue = isnx.flood_queue(trace)
    assert queue["syn_queue"].max() == backlog + 1
    assert queue["cookies"].iloc[-1] == count - (backlog + 1) + 1   # + the real client's
    events = trace.events
    assert (events[(events["host"] == "client") & (events["call"] == "connect")]["result"]
            == "ok").all()
    cookies = isnx.cookie_table(trace, seed=4987)
    assert len(cookies) == count - backlog
    real = cookies[cookies["dst"] == "client"]
    assert list(real["mss"]) == [1460] and list(real["mss_index"]) == [3]
    assert set(cookies[cookies["dst"] != "client"]["mss"]) == {MSSTAB[0]}   # no MSS option


def test_plots_draw(tmp_path):
    table = isnx.generator_table(duration_s=600, every_s=20)
    fig = plots.isn_generators(table)
    assert len(fig.axes) == 3
    result = isnx.stale_acceptance([1.0, 10.0], runs=1000, progress=False)
    assert plots.stale_acceptance(result, expected={"x": 1e-5}, wraps=isnx.WRAP_S)
    trace = tcpsim.run(isnx.flood_scenario())
    assert plots.flood_queue(isnx.flood_queue(trace), backlog=8)


def test_strategy_explorer_switches_the_servers_isns():
    """The explorer's "server's ISNs" switch sets the server's isn_strategy: with the clock
    the spoofed data is read, with RFC 6528 it is not."""
    predicted = isnx.blind_spoof("clock").predicted_isn
    e = isnx.strategy_explorer(predicted + 1)
    switch = e.controls["server's ISNs"]
    assert list(switch.options) == ["clock", "rfc6528", "random", "zero"]
    assert isnx.spoof_accepted(e.trace)
    switch.value = "rfc6528"
    assert not isnx.spoof_accepted(e.trace)


def test_cookie_handshake_options_shows_what_the_cookie_keeps():
    table = isnx.cookie_handshake_options()
    assert list(table["segment"]) == ["SYN", "SYN-ACK"] * 2
    no_ts = table[table["capture"] == "syncookies-no-ts"].set_index("segment")["options"]
    assert set(no_ts["SYN"]) >= {"mss", "sack_perm", "wscale"}
    assert set(no_ts["SYN-ACK"]) == {"mss"}           # without timestamps only the MSS survives
    with_ts = table[table["capture"] == "syncookies-always"].set_index("segment")["options"]
    assert {"ts", "sack_perm", "wscale"} <= set(with_ts["SYN-ACK"])
