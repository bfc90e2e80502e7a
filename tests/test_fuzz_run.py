"""Fuzzing the whole pipeline: any scenario the parser accepts runs to a trace.

Hypothesis builds scenarios from the contract's building blocks (every action, every
fault, options, both profiles), with random values; the run must end with a trace
whose rows are well formed, or, for inputs the parser refuses, with ScenarioError.
Never another exception, never a hang (``until`` keeps each run short).
"""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tcpsim

HOSTS = ["client", "server"]
FLAGS = st.sampled_from(["S", "SA", "A", "PA", "FA", "R", "RA", "FPA"])
TIME = st.floats(min_value=0, max_value=3, allow_nan=False)

action = st.one_of(
    st.fixed_dictionaries({"at": TIME, "host": st.sampled_from(HOSTS), "do": st.just("listen")}),
    st.fixed_dictionaries({"at": TIME, "host": st.sampled_from(HOSTS), "do": st.just("connect")}),
    st.fixed_dictionaries({"at": TIME, "host": st.sampled_from(HOSTS), "do": st.just("send"),
                           "bytes": st.integers(1, 20000)}),
    st.fixed_dictionaries({"at": TIME, "host": st.sampled_from(HOSTS), "do": st.just("read"),
                           "mode": st.sampled_from(["auto", "off"])}),
    st.fixed_dictionaries({"at": TIME, "host": st.sampled_from(HOSTS), "do": st.just("read"),
                           "bytes": st.integers(1, 5000)}),
    st.fixed_dictionaries({"at": TIME, "host": st.sampled_from(HOSTS),
                           "do": st.sampled_from(["shutdown", "close", "abort"])}),
    st.fixed_dictionaries({"on": st.just("eof"), "host": st.sampled_from(HOSTS),
                           "do": st.sampled_from(["close", "shutdown"])}),
)
match = st.fixed_dictionaries({}, optional={
    "from": st.sampled_from(HOSTS), "flags": FLAGS, "nth": st.lists(st.integers(1, 6), min_size=1, max_size=3),
    "data_segment": st.integers(1, 5), "between": st.tuples(TIME, TIME).map(sorted)})
fault = st.one_of(
    match.map(lambda m: {"drop": m}),
    st.floats(0, 0.6).map(lambda p: {"loss": {"p": p}}),
    st.tuples(match, st.floats(0.001, 2)).map(lambda me: {"delay": {**me[0], "extra": me[1]}}),
    st.tuples(match, st.floats(0.001, 2)).map(lambda me: {"duplicate": {**me[0], "extra": me[1]}}),
    st.fixed_dictionaries({"at": TIME, "from": st.sampled_from(HOSTS), "flags": FLAGS,
                           "seq": st.integers(0, 2**32 - 1), "ack": st.integers(0, 2**32 - 1),
                           "bytes": st.integers(0, 100)}).map(lambda i: {"inject": i}),
)
options = st.fixed_dictionaries({}, optional={
    "nodelay": st.booleans(), "linger0": st.booleans(), "timestamps": st.booleans(),
    "sack": st.booleans(), "wscale": st.one_of(st.booleans(), st.integers(0, 14)),
    "delayed_ack": st.booleans(), "handshake": st.sampled_from(["three-way", "two-way"]),
    "isn_strategy": st.sampled_from(["zero", "clock", "rfc6528", "random"]),
    "time_wait": st.floats(0, 5), "syn_retries": st.integers(1, 3), "rcvbuf": st.integers(256, 70000),
    "mss": st.integers(88, 1460)})
scenario = st.fixed_dictionaries({
    "profile": st.sampled_from(["linux", "rfc9293"]),
    "seed": st.integers(0, 2**31),
    "link": st.fixed_dictionaries({"delay": st.floats(0, 0.05), "mtu": st.integers(576, 9000)}),
    "hosts": st.fixed_dictionaries({
        "client": st.fixed_dictionaries({"port": st.integers(1024, 65535), "options": options},
                                        optional={"isn": st.integers(0, 2**32 - 1)}),
        "server": st.fixed_dictionaries({"port": st.just(5001), "options": options})}),
    "actions": st.lists(action, max_size=10),
    "faults": st.lists(fault, max_size=3),
    "until": st.floats(1, 70),
})


OPENING = [{"at": 0.0, "host": "server", "do": "listen"},
           {"at": 0.0, "host": "client", "do": "connect", "to": "server"}]


def _fill_connect_targets(doc):
    """Most runs should get somewhere: open a connection first, then the random calls."""
    doc["actions"] = OPENING + doc["actions"]
    for a in doc["actions"]:
        if a["do"] == "connect":
            a["to"] = "server" if a["host"] == "client" else "client"
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario.map(_fill_connect_targets))
def test_any_valid_scenario_runs_to_a_well_formed_trace(doc):
    try:
        trace = tcpsim.run(doc)
    except tcpsim.ScenarioError:
        return  # e.g. a random match the parser refuses: the documented error
    out = json.loads(trace.to_json())
    for row in out["segments"]:
        assert row["src"] in HOSTS and row["dst"] in HOSTS and row["src"] != row["dst"]
        assert 0 <= row["seq"] < 2**32 and 0 <= row["ack"] < 2**32
        assert row["dropped"] == (row["arrival"] is None)
        assert set(row["flags"]) <= set("FSRPAUEC")
        assert 0 <= row["win"] <= 0xFFFF
    states = {"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
              "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT"}
    for row in out["states"]:
        assert row["from"] in states and row["to"] in states
    assert all(row["t"] <= doc["until"] + 1e-9 for row in out["segments"])
