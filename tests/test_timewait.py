"""tcpsim.timewait: tcp_twsk_unique(), tcp_timewait_state_process(), the bind() rule.

Checked against this machine's kernel in tests/test_kernel_connections.py.
"""
import pytest

from tcpsim import timewait as tw_mod
from tcpsim.errors import ScenarioError
from tcpsim.timewait import (
    TimeWait,
    bind_conflict,
    connect_may_take_over,
    segment_in_time_wait,
)

LOOP = TimeWait("127.0.0.1", "127.0.0.1", snd_nxt=1000, rcv_nxt=5000, ts_recent=777,
                ts_recent_stamp_ms=10_000)
REMOTE = TimeWait("10.0.0.1", "10.0.0.2", snd_nxt=1000, rcv_nxt=5000, ts_recent=777,
                  ts_recent_stamp_ms=10_000)
NO_TS = TimeWait("127.0.0.1", "127.0.0.1", snd_nxt=1000, rcv_nxt=5000)


# ---------------------------------------------------------------- tcp_twsk_unique()
@pytest.mark.parametrize("tw, reuse, now_ms, expected", [
    (LOOP, 0, 99_999, False),          # 0: never for an ephemeral port
    (LOOP, 1, 11_000, False),          # not yet: exactly stamp + 1000 is not "after"
    (LOOP, 1, 11_001, True),
    (LOOP, 2, 11_001, True),           # 2: loopback -> as 1
    (REMOTE, 2, 99_999, False),        # 2: not loopback -> as 0
    (REMOTE, 1, 11_001, True),
    (NO_TS, 1, 99_999, False),         # no timestamps: never
])
def test_tw_reuse_rule(tw, reuse, now_ms, expected):
    assert connect_may_take_over(tw, tw_reuse=reuse, now_ms=now_ms) is expected


def test_tw_reuse_delay_is_configurable():
    assert not connect_may_take_over(LOOP, tw_reuse=1, now_ms=10_050, reuse_delay_ms=50)
    assert connect_may_take_over(LOOP, tw_reuse=1, now_ms=10_051, reuse_delay_ms=50)


def test_an_explicitly_bound_port_takes_over_at_once_if_timestamps_were_on():
    assert connect_may_take_over(REMOTE, tw_reuse=0, now_ms=10_000, port_was_bound=True)
    assert not connect_may_take_over(NO_TS, tw_reuse=1, now_ms=10**9, port_was_bound=True)


def test_takeover_starts_beyond_the_old_sequence_space_and_keeps_ts_recent():
    assert tw_mod.takeover_start(LOOP) == {"iss": 1000 + 65537, "ts_recent": 777,
                                           "ts_recent_stamp_ms": 10_000}
    wrap = TimeWait("127.0.0.1", "127.0.0.1", snd_nxt=0xFFFFFFFF - 65536, rcv_nxt=0)
    assert tw_mod.takeover_start(wrap)["iss"] == 1           # 0 is never used


# ---------------------------------------------------------------- tcp_timewait_state_process()
def test_in_window_rst_kills_unless_rfc1337():
    kill = segment_in_time_wait(LOOP, seq=5000, length=0, flags="R")
    assert kill.action == "kill" and not kill.restart_timer
    kept = segment_in_time_wait(LOOP, seq=5000, length=0, flags="R", rfc1337=True)
    assert kept.action == "ignore" and kept.restart_timer and "RFC 1337" in kept.reason


def test_out_of_window_rst_is_dropped_either_way():
    for rfc1337 in (False, True):
        v = segment_in_time_wait(LOOP, seq=6000, length=0, flags="R", rfc1337=rfc1337)
        assert v.action == "ignore" and not v.restart_timer


def test_bare_ack_in_window_restarts_the_timer():
    v = segment_in_time_wait(LOOP, seq=5000, length=0, flags="A", tsval=800)
    assert v.action == "ignore" and v.restart_timer


def test_retransmitted_fin_is_acked_and_restarts_the_timer():
    v = segment_in_time_wait(LOOP, seq=4999, length=0, flags="FA", tsval=800)
    assert v.action == "ack" and v.restart_timer


def test_new_syn_beyond_rcv_nxt_opens_a_new_connection():
    v = segment_in_time_wait(NO_TS, seq=9000, length=0, flags="S")
    assert v.action == "new_connection" and v.iss == 1000 + 65537
    v = segment_in_time_wait(NO_TS, seq=9000, length=0, flags="S", listener=False)
    assert v.action == "ack"


def test_old_syn_without_timestamps_gets_the_time_wait_ack():
    v = segment_in_time_wait(NO_TS, seq=4000, length=0, flags="S")
    assert v.action == "ack" and not v.restart_timer          # ACK-less SYN: no restart


def test_rfc6191_an_old_seq_is_fine_when_the_timestamp_is_newer():
    v = segment_in_time_wait(LOOP, seq=4000, length=0, flags="S", tsval=778)
    assert v.action == "new_connection"
    old_ts = segment_in_time_wait(LOOP, seq=9000, length=0, flags="S", tsval=700)
    assert old_ts.action == "ack" and old_ts.restart_timer and "PAWS" in old_ts.reason


def test_paws_spares_an_rst_when_ts_recent_is_stale():
    # an RST with an old TSval: rejected by PAWS while ts_recent is fresh, accepted after 60 s
    fresh = segment_in_time_wait(LOOP, seq=5000, length=0, flags="R", tsval=100, now_ms=20_000)
    stale = segment_in_time_wait(LOOP, seq=5000, length=0, flags="R", tsval=100, now_ms=70_000)
    assert fresh.action == "ignore" and stale.action == "kill"


def test_syn_ack_is_not_a_new_syn():
    assert segment_in_time_wait(NO_TS, seq=9000, length=0, flags="SA").action == "ack"


# ---------------------------------------------------------------- bind()
@pytest.mark.parametrize("new, holders, conflict", [
    (False, [("TIME-WAIT", False)], True),
    (True, [("TIME-WAIT", False)], True),     # the old listener did not set SO_REUSEADDR
    (False, [("TIME-WAIT", True)], True),
    (True, [("TIME-WAIT", True)], False),     # both did: allowed
    (True, [("TIME-WAIT", True), ("LISTEN", True)], True),   # a listener always conflicts
    (True, [], False),
])
def test_bind_rule(new, holders, conflict):
    assert bind_conflict(new, holders) is conflict


# ---------------------------------------------------------------- option validation
@pytest.mark.parametrize("func, value, text", [
    (tw_mod.validate_tw_reuse, 3, "hosts.client.options.tw_reuse: must be 0"),
    (tw_mod.validate_tw_reuse, True, "hosts.client.options.tw_reuse: must be 0"),
    (tw_mod.validate_rfc1337, 1, "hosts.client.options.rfc1337: must be true or false"),
    (tw_mod.validate_tw_reuse_delay_ms, 0, "hosts.client.options.tw_reuse_delay: must be an integer from 1"),
    (tw_mod.validate_tw_reuse_delay_ms, 600_001, "must be an integer from 1 to 600000"),
])
def test_bad_options_name_the_field(func, value, text):
    field = "hosts.client.options." + {"validate_tw_reuse": "tw_reuse", "validate_rfc1337": "rfc1337",
                                       "validate_tw_reuse_delay_ms": "tw_reuse_delay"}[func.__name__]
    with pytest.raises(ScenarioError) as e:
        func(value, field)
    assert text in str(e.value) and "\n" not in str(e.value)


def test_good_options():
    assert tw_mod.validate_tw_reuse(2, "f") == 2
    assert tw_mod.validate_rfc1337(True, "f") is True
    assert tw_mod.validate_tw_reuse_delay_ms(1000, "f") == 1000


def test_tsval_is_older_is_a_signed_32_bit_comparison():
    assert not tw_mod.tsval_is_older(777, LOOP)              # equal: not older
    assert tw_mod.tsval_is_older(776, LOOP)
    assert not tw_mod.tsval_is_older(778, LOOP)
    wrapped = TimeWait("a", "b", 0, 0, ts_recent=5, ts_recent_stamp_ms=0)
    assert tw_mod.tsval_is_older(0xFFFFFFF0, wrapped)        # just before the wrap
    assert not tw_mod.tsval_is_older(None, LOOP) and not tw_mod.tsval_is_older(1, NO_TS)
