"""plots.flow and widgets.flow_explorer (notebook 05): the flow-control picture, from the wire
and the programs' calls, for captures and runs alike."""
import pytest

import tcpsim
from tcpsim import course, plots
from tcpsim.widgets import flow as flow_widget


def test_flow_data_of_the_noread_capture():
    d = plots.flow_data(course.capture("paced-noread"))
    scenario = course.scenario("paced-noread")
    written = sum(a["bytes"] for a in scenario["actions"] if a.get("do") == "send")
    assert d["written"][-1][1] == written
    assert d["sent"][-1][1] == written and d["acked"][-1][1] == written
    assert len(d["zero_windows"]) >= 2            # the 1024-B probe's ACK, the probe's answer
    assert max(n for _, n in d["unread"]) >= written - 30000   # the buffer held most of it
    assert all(a[1] <= b[1] for a, b in zip(d["acked"], d["acked"][1:]))
    assert [t for t, _ in d["written"]] == sorted(t for t, _ in d["written"])


def test_flow_data_real_and_simulated_zero_windows_agree():
    real = plots.flow_data(course.capture("paced-noread"))
    simulated = plots.flow_data(course.simulate("paced-noread"))
    assert len(real["zero_windows"]) == len(simulated["zero_windows"])


def test_flow_draws_two_panels_and_keeps_its_numbers():
    fig = plots.flow(course.simulate("paced-reader"))
    assert len(fig.axes) == 2 and fig.tcpsim["numbers"]["receiver"] == "server"
    assert fig.tcpsim["tlim"][0] < 0.3 < fig.tcpsim["tlim"][1]
    assert fig._repr_png_().startswith(b"\x89PNG")


def test_flow_names_a_wrong_host():
    with pytest.raises(ValueError, match="receiver: no host 'bob'"):
        plots.flow_data(course.capture("handshake"), receiver="bob")


def test_flow_scenario_checks_its_numbers():
    with pytest.raises(ValueError, match="buffer_kb"):
        flow_widget.flow_scenario(buffer_kb=0)
    with pytest.raises(ValueError, match="write_bytes"):
        flow_widget.flow_scenario(write_bytes=True)


def test_a_slow_reader_sets_the_pace_and_no_reader_closes_the_window():
    slow = tcpsim.run(flow_widget.flow_scenario(4000, 50, 16))
    d = plots.flow_data(slow)
    start, end = d["written"][0][0], d["acked"][-1][0]
    assert d["acked"][-1][1] == 200000
    assert 200000 / 50000 * 0.85 < end - start < 200000 / 50000 * 1.1   # about bytes / rate
    closed = tcpsim.run(flow_widget.flow_scenario(1448, 0, 32))
    assert plots.flow_data(closed)["zero_windows"]
    assert flow_widget._probes(closed) >= 1
    assert "zero-window probes" in flow_widget.flow_summary(closed)


def test_flow_explorer_redraws_on_a_slider():
    w = flow_widget.flow_explorer(1448, 0, 32)
    first = w.image.value
    assert "window of 0" in w.summary.value
    w.read.value = 200
    assert w.image.value != first and "acknowledged" in w.summary.value
    bundle = w._repr_mimebundle_()
    assert bundle["image/png"].startswith(b"\x89PNG") and "200 kB/s" in bundle["text/plain"]
