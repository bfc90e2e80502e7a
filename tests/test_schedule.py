"""plots.schedule: the SYN retransmission schedules, as drawn, are the traces' send times."""
import math

import tcpsim
from tcpsim import course, plots

EVERY_SYN_LOST = {
    "hosts": {"client": {}, "server": {}},
    "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                {"at": 0.5, "host": "client", "do": "connect", "to": "server"}],
    "faults": [{"drop": {"from": "client", "flags": "S"}}],
}


def test_schedule_draws_the_send_times_of_each_trace():
    linux = tcpsim.run(EVERY_SYN_LOST)
    textbook = tcpsim.run({**EVERY_SYN_LOST, "profile": "rfc9293"})
    fig = plots.schedule({"linux": linux, "rfc9293": textbook}, flags="S")
    rows = fig.axes[0].tcpsim["rows"]
    syn_times = linux.segments.loc[linux.segments["flags"] == "S", "t"] - 0.5
    assert rows["linux"]["times"] == list(syn_times)
    # RFC 6298 §5.5 doubling from 1 s (capped at 60 s, §2.5) against Linux's 4 linear timeouts
    assert [round(t) for t in rows["rfc9293"]["times"]] == [0, 1, 3, 7, 15, 31, 63]
    assert [round(t) for t in rows["linux"]["times"]][:7] == [0, 1, 2, 3, 4, 5, 7]
    failed = linux.events[linux.events["call"] == "connect"].iloc[0]
    assert rows["linux"]["error"] == "ETIMEDOUT"
    assert math.isclose(rows["linux"]["failed_at"], failed["t"] - 0.5)
    drawn = [line for line in fig.axes[0].lines if line.get_marker() == "o"]
    assert [list(line.get_xdata()) for line in drawn] == [rows["linux"]["times"],
                                                          rows["rfc9293"]["times"]]


def test_schedule_of_a_real_capture_has_no_failure_mark():
    real = course.capture("raw/syn-drop-default-mtu1500")
    data = plots.schedule_data(real, flags="S")
    assert len(data["times"]) == 11 and data["failed_at"] is None
    assert 67 < data["times"][-1] < 69           # docs/linux-facts.md §7a: 68.171 s


def test_schedule_needs_traces():
    import pytest
    with pytest.raises(ValueError, match="at least one trace"):
        plots.schedule({})
