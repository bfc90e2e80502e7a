"""The State enum, the transition table's named error, and the explicit timer dispatch.

States are ``State`` members whose values are the RFC 9293 names: a trace's JSON is the same
as with plain strings, and code that compares with "ESTABLISHED" keeps working.
"""
from __future__ import annotations

import json

import pytest

import tcpsim
from tcpsim.endpoint import TIMER_EXPIRY, TRANSITIONS, Endpoint
from tcpsim.profiles import PROFILES
from tcpsim.state import IllegalTransition, State

from conftest import act, scenario

RFC_NAMES = ["CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
             "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT"]


def test_states_are_the_rfc_names_as_str():
    assert [s.value for s in State] == RFC_NAMES
    for state in State:
        assert isinstance(state, str)
        assert state == state.value and hash(state) == hash(state.value)
        assert str(state) == f"{state}" == state.value
        assert json.dumps(state) == json.dumps(state.value)
        assert State(state.value) is state


def test_every_table_row_names_states_of_the_enum():
    for (state, _event), (new_state, rule) in TRANSITIONS.items():
        assert isinstance(state, State) and isinstance(new_state, State)
        assert rule


def test_trace_states_are_plain_rfc_names():
    t = tcpsim.run(scenario([act(0.1, "client", "close"), act("eof", "server", "close")]))
    for row in t.doc["states"]:
        assert type(row["from"]) is str and type(row["to"]) is str
        assert row["from"] in RFC_NAMES and row["to"] in RFC_NAMES


def test_a_transition_the_table_lacks_raises_a_named_error():
    ep = Endpoint("a", "a", "b", 1, 2, PROFILES["linux"], 1460, 0, 0, 0, 0.0)
    with pytest.raises(IllegalTransition) as err:
        ep.give_up_time_wait(0.0)       # only a TIME-WAIT socket can be taken over
    assert str(err.value) == "no transition from CLOSED on 'connect() reuses the port' in TRANSITIONS"


def test_every_timer_the_endpoint_arms_has_an_expiry():
    """Explicit timer dispatch: TIMER_EXPIRY names what each timer's expiry does."""
    runs = [
        scenario([act(0.1, "client", "send", bytes=20000), act(0.5, "client", "close"),
                  act("eof", "server", "close")],
                 faults=[{"drop": {"from": "client", "data_segment": 2}}]),
        scenario([act(0.1, "client", "send", bytes=100000), act(0.0, "server", "read", mode="off")],
                 server={"rcvbuf": 4096}, until=10),
        scenario([act(0.1, "client", "close")], until=200),
    ]
    seen = set()
    for sc in runs:
        for timers in tcpsim.run(sc).tcb["timers"]:
            seen |= set(timers)
    assert seen <= set(TIMER_EXPIRY)
    assert {"rto", "delack", "persist", "time_wait", "fin_wait_2"} <= seen
    assert all(callable(f) for f in TIMER_EXPIRY.values())
