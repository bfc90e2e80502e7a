"""tcpsim.acks: why each ACK was sent, replayed from the wire (real captures and runs)."""
import json

import pytest

import tcpsim
from tcpsim import acks, course
from tcpsim.profiles import TCP_DELACK_MIN, TCP_MAX_QUICKACKS

# (capture, receiver): the captures notebook 05 reads ACK reasons from
USED = [("paced-reader", "server"), ("buffers-every-second", "server"),
        ("buffers-nagle-stall", "server"), ("buffers-nagle-stall", "client"),
        ("buffers-nodelay", "server"), ("reorder", "server"), ("duplicate", "server"),
        ("data-loss-middle", "server"), ("close-four-segments", "server")]


@pytest.mark.parametrize("name,receiver", USED)
def test_the_kernel_and_the_simulator_ack_for_the_same_reasons(name, receiver):
    real = acks.classify_acks(course.capture(name), receiver)
    simulated = acks.classify_acks(course.simulate(name), receiver)
    assert list(real["reason"]) == list(simulated["reason"])
    assert list(real["rel_ack"]) == list(simulated["rel_ack"])


def test_paced_reader_quick_acks_end_sixteen_after_the_windows_last_growth():
    """docs/linux-facts.md §13.1: tcp_grow_window() sets quick |= 1 while rcv_ssthresh grows
    (tcp_info, recorded by the capture tool), then TCP_MAX_QUICKACKS more quick ACKs; every
    later segment is ACKed by the read."""
    recorded = json.loads((course.CAPTURES_DIR / "paced-reader.events.json").read_text())
    server = [row for row in recorded["tcp_info"] if row["host"] == "server"]
    growths = sum(1 for a, b in zip(server, server[1:]) if b["rcv_ssthresh"] > a["rcv_ssthresh"])
    table = acks.classify_acks(course.capture("paced-reader"), "server")
    data_acks = table[table["reason"] != acks.PIGGYBACKED]
    quick = list(data_acks["reason"]).count(acks.QUICK)
    assert quick == growths + TCP_MAX_QUICKACKS
    assert list(data_acks["reason"]) == [acks.QUICK] * quick + [acks.ON_READ] * (40 - quick)
    assert (data_acks["acked_segments"] == 1).all()


def test_pingpong_receiver_acks_every_second_segment_and_the_odd_one_by_its_timer():
    table = acks.classify_acks(course.capture("buffers-every-second"), "server")
    data = table[table["rel_ack"] > 101]
    second = data[data["reason"] == acks.EVERY_SECOND]
    assert len(second) == 10 and (second["acked_bytes"] == 2 * 1448).all()
    last = data[data["reason"] == acks.DELAYED]
    assert len(last) == 1 and last["acked_bytes"].iloc[0] == 1448
    assert TCP_DELACK_MIN * 1000 <= last["delay_ms"].iloc[0] < TCP_DELACK_MIN * 1000 + 8


def test_out_of_order_acks_carry_sack_or_fill_the_hole():
    trace = course.capture("reorder")
    table = acks.classify_acks(trace, "server")
    odd = table[table["reason"] == acks.OUT_OF_ORDER]
    options = trace.segments.set_index("i")["options"]
    with_sack = [bool(options[i].get("sack")) for i in odd["i"]]
    assert with_sack == [True, False, True]        # the dup ACK, the hole filled, the D-SACK
    assert odd["acked_bytes"].iloc[1] > 1448       # the filling ACK covers the queue too


def test_the_nagle_stall_is_the_servers_delayed_ack():
    table = acks.classify_acks(course.capture("buffers-nagle-stall"), "server")
    stall = table[table["reason"] == acks.DELAYED]
    assert list(stall["acked_bytes"]) == [10]
    nodelay = acks.classify_acks(course.capture("buffers-nodelay"), "server")
    assert acks.DELAYED not in set(nodelay["reason"])


def test_rfc9293_profile_acks_every_segment_at_once():
    """The textbook receiver: one ACK per segment, none delayed, none for two (the replay
    names them with Linux's words: quick-ACKs, then ACKs at the read)."""
    table = acks.classify_acks(course.simulate("buffers-every-second", profile="rfc9293"),
                               "server")
    data = table[table["reason"] != acks.PIGGYBACKED]
    assert set(data["reason"]) <= {acks.QUICK, acks.ON_READ}
    assert len(data) == 1 + 21 + 1 and (data["acked_segments"] == 1).all()   # request, 21, FIN
    assert (data["delay_ms"] < 1).all()


def test_ack_reasons_counts_the_table():
    trace = course.capture("buffers-every-second")
    counts = acks.ack_reasons(trace, "server")
    assert counts.sum() == len(acks.classify_acks(trace, "server"))
    assert list(counts.index) == [r for r in acks.REASONS if r in counts.index]


def test_without_events_an_ack_on_read_is_not_guessed():
    doc = dict(course.capture("paced-reader").doc)
    doc["events"] = []
    reasons = acks.ack_reasons(doc, "server")
    assert acks.ON_READ not in reasons.index and reasons[acks.UNKNOWN] == 18


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="receiver: no host 'bob'"):
        acks.classify_acks(course.capture("handshake"), "bob")
    with pytest.raises(TypeError, match="needs a tcpsim Trace"):
        acks.classify_acks([1, 2, 3])


def test_a_trace_without_data_has_no_acks_to_explain():
    trace = tcpsim.run({"tcpsim": 1, "profile": "linux", "hosts": {"c": {}, "s": {"port": 80}},
                        "actions": [{"at": 0, "host": "s", "do": "listen"},
                                    {"at": 0.1, "host": "c", "do": "connect", "to": "s"}],
                        "until": 1.0})
    assert acks.classify_acks(trace, "s").empty
