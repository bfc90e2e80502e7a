"""tcpsim.keepalive: tcp_keepalive_timer() as a pure function (live check: test_kernel_connections)."""
import pytest

from tcpsim.errors import ScenarioError
from tcpsim.keepalive import (
    KeepaliveConfig,
    keepalive_timeline,
    keepalive_timer,
    parse_keepalive,
    probe_segment,
)

FAST = KeepaliveConfig(time_s=1, intvl_s=1, probes=2)


def test_defaults_give_up_after_two_hours_eleven_minutes():
    cfg = parse_keepalive({}, "f")
    assert cfg == KeepaliveConfig(7200, 75, 9)
    assert cfg.give_up_after_s == 7200 + 9 * 75


def test_probe_is_snd_una_minus_one_without_data():
    assert probe_segment(snd_una=1000, rcv_nxt=555) == {"seq": 999, "ack": 555, "flags": "A", "len": 0}
    assert probe_segment(snd_una=0, rcv_nxt=0)["seq"] == 0xFFFFFFFF


def test_unanswered_probes_then_give_up():
    assert keepalive_timeline(FAST, answer_delay_s=None, horizon_s=10) == [
        (1, "probe"), (2, "probe"), (3, "give_up")]
    cfg = KeepaliveConfig(time_s=10, intvl_s=3, probes=3)
    events = keepalive_timeline(cfg, answer_delay_s=None, horizon_s=100, start=5)
    assert events == [(15, "probe"), (18, "probe"), (21, "probe"), (24, "give_up")]
    assert events[-1][0] - 5 == cfg.give_up_after_s


def test_answered_probes_come_every_max_of_time_and_intvl():
    short_intvl = keepalive_timeline(KeepaliveConfig(2, 1, 5), answer_delay_s=0.001, horizon_s=7)
    assert [t for t, e in short_intvl if e == "probe"] == pytest.approx([2, 4.001, 6.002])
    long_intvl = keepalive_timeline(KeepaliveConfig(1, 3, 5), answer_delay_s=0.001, horizon_s=8)
    assert [t for t, e in long_intvl if e == "probe"] == [1, 4, 7]
    assert not any(e == "give_up" for _, e in short_intvl + long_intvl)


def test_idle_is_measured_from_the_last_received_segment():
    v = keepalive_timer(FAST, now=5.0, last_received=4.5, probes_out=0)
    assert v.action == "wait" and v.rearm_in_s == pytest.approx(0.5)
    assert keepalive_timer(FAST, now=5.0, last_received=4.0, probes_out=0).action == "probe"


def test_outstanding_data_leaves_it_to_the_retransmission_timer():
    v = keepalive_timer(FAST, now=100, last_received=0, probes_out=5, outstanding=True)
    assert v.action == "wait" and v.rearm_in_s == 1


@pytest.mark.parametrize("state", ["SYN-SENT", "CLOSED", "LISTEN"])
def test_no_keepalive_before_established(state):
    assert keepalive_timer(FAST, now=9, last_received=0, probes_out=0, state=state).action == "off"


@pytest.mark.parametrize("value, text", [
    ("on", "hosts.client.options.keepalive: must be null or an object"),
    ({"idle": 5}, "hosts.client.options.keepalive.idle: unknown field"),
    ({"time": 0}, "hosts.client.options.keepalive.time: must be an integer from 1 to 32767"),
    ({"intvl": 1.5}, "hosts.client.options.keepalive.intvl: must be an integer from 1 to 32767"),
    ({"probes": 128}, "hosts.client.options.keepalive.probes: must be an integer from 1 to 127"),
    ({"probes": True}, "hosts.client.options.keepalive.probes: must be an integer"),
])
def test_bad_keepalive_names_the_field(value, text):
    with pytest.raises(ScenarioError) as e:
        parse_keepalive(value, "hosts.client.options.keepalive")
    assert text in str(e.value) and "\n" not in str(e.value)


def test_keepalive_off_and_partial():
    assert parse_keepalive(None, "f") is None
    assert parse_keepalive({"time": 30}, "f") == KeepaliveConfig(30, 75, 9)
