"""tcpsim.course: the shipped captures by name, on the scenario's clock, drops marked."""
import pytest

from tcpsim import course, read_pcap


def test_names_lists_the_shipped_captures():
    names = course.names()
    assert {"handshake", "refused", "syn-loss", "synack-loss"} <= set(names)


def test_unknown_name_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="no shipped capture 'handshak'.*handshake"):
        course.capture("handshak")


def test_capture_is_on_the_scenarios_clock_with_the_programs_events():
    real = course.capture("handshake")
    raw = read_pcap(course.capture_path("handshake"))
    connect_at = next(a["at"] for a in course.scenario("handshake")["actions"]
                      if a["do"] == "connect")
    assert raw.segments["t"].iloc[0] == 0.0                    # pcap clock: first packet
    assert connect_at <= real.segments["t"].iloc[0] < connect_at + 0.01
    shift = real.segments["t"].iloc[0] - raw.segments["t"].iloc[0]
    assert (real.segments["t"] - raw.segments["t"] - shift).abs().max() < 1e-6
    assert list(real.events["call"]) == list(course.events("handshake")["call"])
    assert real.doc["clock"] == "scenario"
    assert real.name == "real Linux capture: handshake.pcap"     # the pictures' titles


@pytest.mark.parametrize("name", ["synack-loss", "syn-loss", "data-loss-middle",
                                  "data-loss-tail", "fin-loss", "handshake"])
def test_capture_marks_what_the_scenarios_drops_dropped(name):
    """The same segments (flags, length, position among the sender's) as the simulator."""
    def dropped(trace):
        s = trace.segments
        return [(r.src, r.flags, r.len, int((s.loc[:i, "src"] == r.src).sum()))
                for i, r in s[s["dropped"] == True].iterrows()]  # noqa: E712
    real = course.capture(name)
    assert dropped(real) == dropped(course.simulate(name))
    assert real.segments.loc[real.segments["dropped"] == True, "arrival"].isna().all()  # noqa: E712


def test_raw_captures_are_read_as_they_are():
    raw = course.capture("raw/syn-drop-default-mtu1500")
    assert raw.segments["t"].iloc[0] == 0.0 and "clock" not in raw.doc
