"""PAWS (RFC 7323 §5.3 R1) in the endpoint: data whose timestamp is older than the
connection's ts_recent is dropped and answered with a duplicate ACK (linux
tcp_validate_incoming(): tcp_paws_discard(), tcp_send_dupack()).

The old duplicate here is a copy of the client's second write that the network holds back
until the client has written again: its TSval is older than the one the server last took.
"""
import tcpsim


def late_copy(timestamps=True, extra=0.5):
    options = {} if timestamps else {"timestamps": False}
    return {"profile": "linux", "seed": 3, "link": {"mtu": 1500},
            "hosts": {"client": {"port": 40200, "options": options},
                      "server": {"port": 5200, "options": options}},
            "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                        {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                        {"at": 0.3, "host": "client", "do": "send", "bytes": 100},
                        {"at": 0.31, "host": "client", "do": "send", "bytes": 100},
                        {"at": 0.5, "host": "client", "do": "send", "bytes": 100}],
            "faults": [{"duplicate": {"from": "client", "data_segment": 2, "extra": extra}}],
            "until": 2.0}


def copy_and_answer(trace):
    seg = trace.segments
    copy = seg[seg["copies"].apply(lambda c: isinstance(c, list) and len(c) > 0)].iloc[0]
    at = copy["copies"][0]
    answer = seg[(seg["src"] == "server") & (seg["t"] >= at)].iloc[0]
    return copy, at, answer


def test_an_older_timestamp_is_dropped_with_a_dsack():
    trace = tcpsim.run(late_copy())
    copy, at, answer = copy_and_answer(trace)
    ignored = trace.ignored[trace.ignored["segment"] == copy["i"]]
    assert len(ignored) == 1 and "PAWS" in ignored["reason"].iloc[0]
    assert answer["t"] - at < 0.001 and answer["flags"] == "A"          # at once
    assert answer["options"]["sack"][0] == [copy["seq"], copy["seq"] + copy["len"]]  # D-SACK
    assert len(trace.delivered["server"]) == 300       # the copy delivered nothing


def test_without_timestamps_the_same_copy_is_an_ordinary_duplicate():
    trace = tcpsim.run(late_copy(timestamps=False))
    copy, _, _ = copy_and_answer(trace)
    ignored = trace.ignored[trace.ignored["segment"] == copy["i"]]
    assert len(ignored) == 1 and "PAWS" not in ignored["reason"].iloc[0]
    assert len(trace.delivered["server"]) == 300


def test_a_copy_with_the_current_timestamp_passes_paws():
    """A copy that arrives before any newer segment has the connection's own ts_recent:
    PAWS lets it through to the sequence check (the duplicate capture's D-SACK)."""
    trace = tcpsim.run(late_copy(extra=0.01))
    copy, _, _ = copy_and_answer(trace)
    reasons = trace.ignored[trace.ignored["segment"] == copy["i"]]["reason"]
    assert not reasons.str.contains("PAWS").any()
