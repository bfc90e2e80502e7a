"""course.capture(name, stream=k) and course.capture_streams(name): every connection of a
shipped capture, on the scenario's clock, with that connection's calls and drops."""
from tcpsim import course


def test_every_connection_of_a_capture_in_order():
    first, second = course.capture_streams("interview-syn-established")
    assert first.segments["t"].iloc[0] < 0.2 and 0.9 < second.segments["t"].iloc[0] < 1.1
    assert list(second.segments["flags"][:4]) == ["S", "A", "R", "S"]
    assert set(first.events["conn"].dropna()) == {0} and set(second.events["conn"].dropna()) == {1}
    assert "connection 1" in second.doc["name"]
    # the dropped abort RST is in the first connection, and only there
    assert list(first.segments[first.segments["dropped"]]["flags"]) == ["RA"]
    assert not second.segments["dropped"].any()


def test_a_one_connection_capture_is_one_stream_and_the_same_as_capture():
    (only,) = course.capture_streams("handshake")
    assert only.doc["segments"] == course.capture("handshake").doc["segments"]


def test_drops_are_counted_over_the_whole_capture():
    """fastopen has no drops; interview-last-ack-loss drops the client's 2nd pure ACK."""
    assert not any(s.segments["dropped"].any() for s in course.capture_streams("fastopen"))
    lost = course.capture("interview-last-ack-loss").segments
    assert list(lost[lost["dropped"]]["flags"]) == ["A"]
