"""Tests for tcpsim.scenario: parsing and validating scenario documents."""
from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcpsim.errors import ScenarioError
from tcpsim.scenario import (
    Action, Fault, Host, HostOptions, Match, Scenario, parse_scenario, payload_pattern,
)

# The example of ../shared/tcpsim-json.md, "Scenario (input)".
EXAMPLE = {
    "tcpsim": 1,
    "name": "client closes first",
    "profile": "linux",
    "seed": 7,
    "link": {"delay": 0.00001, "mtu": 1500},
    "hosts": {
        "client": {"port": 36556, "isn": None, "options": {"syn_retries": 2}},
        "server": {"port": 5001},
    },
    "actions": [
        {"at": 0.0, "host": "server", "do": "listen"},
        {"at": 0.0, "host": "client", "do": "connect", "to": "server"},
        {"at": 0.25, "host": "client", "do": "send", "bytes": 100},
        {"at": 0.25, "host": "server", "do": "send", "bytes": 50},
        {"at": 0.5, "host": "client", "do": "close"},
        {"at": 1.0, "host": "server", "do": "close"},
    ],
    "faults": [
        {"drop": {"from": "server", "flags": "SA", "nth": [1, 2]}},
    ],
    "until": 200.0,
}

# Every kind of action, fault and option at least once (a base for the fuzz test too).
KITCHEN_SINK = {
    "tcpsim": 1,
    "name": "everything",
    "profile": "rfc9293",
    "seed": 3,
    "link": {"delay": 0.01, "mtu": 1500},
    "hosts": {
        "a": {"port": 40000, "isn": 1000, "addr": "192.168.1.1", "options": {
            "syn_retries": 3, "synack_retries": 2, "syn_linear_timeouts": 0, "nodelay": True,
            "linger0": False, "timestamps": True, "sack": False, "wscale": 7, "msl": 30,
            "delayed_ack": True, "handshake": "two-way", "isn_strategy": "zero",
            "time_wait": 0, "fin_timeout": 5.5, "mss": 536, "rcvbuf": 4096, "sndbuf": 8192}},
        "b": {"port": 80, "isn": None, "addr": "192.168.1.2", "options": {"wscale": False}},
    },
    "actions": [
        {"at": 0, "host": "b", "do": "listen"},
        {"at": 0, "host": "a", "do": "connect", "to": "b"},
        {"at": 0.1, "host": "b", "do": "read", "mode": "off"},
        {"at": 0.2, "host": "a", "do": "send", "data": "hé"},
        {"at": 0.3, "host": "b", "do": "read", "bytes": 1},
        {"at": 0.4, "host": "b", "do": "read", "mode": "auto"},
        {"at": 0.5, "host": "a", "do": "shutdown"},
        {"on": "eof", "host": "b", "do": "close"},
        {"at": 9, "host": "a", "do": "abort"},
    ],
    "faults": [
        {"drop": {"from": "a", "flags": "AF", "nth": 2, "data_segment": 1, "between": [0, 5]}},
        {"loss": {"p": 0.25, "from": "b", "between": [1, 2]}},
        {"delay": {"flags": "PA", "extra": 2.0}},
        {"duplicate": {"from": "a", "nth": [3, 1, 3], "extra": 3}},
        {"inject": {"at": 2.5, "from": "b", "flags": "AR", "seq": 5, "ack": 6, "bytes": 10,
                    "win": 0}},
    ],
    "until": 60,
}


def minimal(**extra):
    doc = {"hosts": {"client": {}, "server": {}}}
    doc.update(extra)
    return doc


DELETE = object()


def mutated(base, path, value):
    """A deep copy of ``base`` with the node at ``path`` replaced by ``value`` (or deleted)."""
    doc = copy.deepcopy(base)
    node = doc
    for key in path[:-1]:
        node = node[key]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


def error_of(doc) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(doc)
    return str(info.value)


# ---------------------------------------------------------------------------------------
# valid documents


def test_contract_example():
    expected = Scenario(
        name="client closes first", profile="linux", seed=7, delay_s=0.00001, mtu=1500,
        hosts=(
            Host("client", 36556, None, HostOptions(syn_retries=2)),
            Host("server", 5001, None, HostOptions()),
        ),
        actions=(
            Action(0, "server", "listen", 0.0),
            Action(1, "client", "connect", 0.0, to="server"),
            Action(2, "client", "send", 0.25, data=payload_pattern(100)),
            Action(3, "server", "send", 0.25, data=payload_pattern(50)),
            Action(4, "client", "close", 0.5),
            Action(5, "server", "close", 1.0),
        ),
        faults=(
            Fault(0, "drop", Match(from_host="server", flags=frozenset("SA"), nth=(1, 2))),
        ),
        until=200.0,
    )
    assert parse_scenario(EXAMPLE) == expected


def test_kitchen_sink():
    s = parse_scenario(KITCHEN_SINK)
    a, b = s.hosts
    assert (a.name, a.port, a.isn, a.addr) == ("a", 40000, 1000, "192.168.1.1")
    assert a.options == HostOptions(
        syn_retries=3, synack_retries=2, syn_linear_timeouts=0, nodelay=True, linger0=False,
        timestamps=True, sack=False, wscale=7, msl=30.0, delayed_ack=True,
        handshake="two-way", isn_strategy="zero", time_wait=0.0, fin_timeout=5.5, mss=536,
        rcvbuf=4096, sndbuf=8192)
    assert b.options.wscale is False and b.isn is None
    assert s.profile == "rfc9293" and s.until == 60.0 and isinstance(s.until, float)
    acts = s.actions
    assert [x.do for x in acts] == ["listen", "connect", "read", "send", "read", "read",
                                    "shutdown", "close", "abort"]
    assert [x.index for x in acts] == list(range(9))
    assert acts[2].read_mode == "off" and acts[2].read_bytes is None
    assert acts[3].data == "hé".encode() and len(acts[3].data) == 3
    assert acts[4].read_bytes == 1 and acts[4].read_mode is None
    assert acts[5].read_mode == "auto"
    assert acts[7].on == "eof" and acts[7].at is None
    drop, loss, delay, dup, inject = s.faults
    assert drop == Fault(0, "drop", Match("a", frozenset("FA"), (2,), 1, (0.0, 5.0)))
    assert loss == Fault(1, "loss", Match(from_host="b", between=(1.0, 2.0)), p=0.25)
    assert delay == Fault(2, "delay", Match(flags=frozenset("PA")), extra=2.0)
    assert dup == Fault(3, "duplicate", Match(from_host="a", nth=(1, 3)), extra=3.0)
    assert inject == Fault(4, "inject", Match(from_host="b"), at=2.5, flags="RA", seq=5,
                           ack=6, bytes=10, win=0)


def test_defaults():
    s = parse_scenario(minimal())
    assert s == Scenario(
        name="scenario", profile="linux", seed=0, delay_s=0.00001, mtu=65536,
        hosts=(Host("client", None, None, HostOptions()), Host("server", None, None, HostOptions())),
        actions=(), faults=(), until=None)
    assert s.hosts[0].addr is None


def test_inject_defaults():
    s = parse_scenario(minimal(faults=[{"inject": {"at": 1, "from": "server", "flags": ""}}]))
    assert s.faults[0] == Fault(0, "inject", Match(from_host="server"), at=1.0, flags="",
                                seq=0, ack=0, bytes=0, win=None)


def test_null_is_absent():
    doc = {"tcpsim": None, "name": None, "profile": None, "seed": None, "link": None,
           "hosts": {"client": {"port": None, "isn": None, "addr": None,
                                "options": {"mss": None, "wscale": None}},
                     "server": {"options": None}},
           "actions": None, "faults": None, "until": None}
    assert parse_scenario(doc) == parse_scenario(minimal())


def test_unknown_fields_ignored():
    doc = copy.deepcopy(EXAMPLE)
    doc["foo"] = {"anything": [1, 2]}
    doc["link"]["jitter"] = 0.5
    doc["hosts"]["client"]["colour"] = "red"
    doc["hosts"]["client"]["options"]["congestion"] = "cubic"
    doc["actions"][0]["comment"] = "first"
    doc["actions"][4]["bytes"] = "ignored: close takes no bytes"
    doc["faults"][0]["note"] = "lose the SYN-ACK twice"
    doc["faults"][0]["drop"]["why"] = None
    assert parse_scenario(doc) == parse_scenario(EXAMPLE)


def test_wscale_values_and_integral_floats():
    for value, expected in [(True, True), (False, False), (0, 0), (14, 14), (7.0, 7)]:
        doc = minimal(hosts={"c": {"options": {"wscale": value}}, "s": {}})
        got = parse_scenario(doc).hosts[0].options.wscale
        assert got == expected and type(got) is type(expected)
    s = parse_scenario(mutated(EXAMPLE, ("actions", 2, "bytes"), 1e3))
    assert s.actions[2].data == payload_pattern(1000)


def test_same_ports_allowed_and_host_order_kept():
    s = parse_scenario({"hosts": {"z": {"port": 80, "addr": "10.0.0.9"}, "y": {"port": 80}}})
    assert [h.name for h in s.hosts] == ["z", "y"] and s.hosts[1].port == 80


def test_actions_keep_document_order():
    doc = minimal(actions=[{"at": 5, "host": "client", "do": "close"},
                           {"at": 1, "host": "server", "do": "listen"}])
    assert [(a.index, a.at) for a in parse_scenario(doc).actions] == [(0, 5.0), (1, 1.0)]


def test_odd_host_names_in_messages():
    doc = {"hosts": {"my host": {"port": 0}, "b": {}}}
    assert error_of(doc) == 'hosts["my host"].port: must be an integer from 1 to 65535'
    assert error_of({"hosts": {"": {}, "b": {}}}) == "hosts: host names must be non-empty strings"


def test_scenario_passes_through():
    s = parse_scenario(EXAMPLE)
    assert parse_scenario(s) is s


# ---------------------------------------------------------------------------------------
# inputs: dict, JSON text, path


def test_json_text_and_paths(tmp_path):
    text = json.dumps(EXAMPLE, indent=2)
    expected = parse_scenario(EXAMPLE)
    assert parse_scenario(text) == expected
    assert parse_scenario("\n  \t" + text) == expected
    f = tmp_path / "s.json"
    f.write_text(text, encoding="utf-8")
    assert parse_scenario(f) == expected
    assert parse_scenario(str(f)) == expected
    g = tmp_path / "bom.json"
    g.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert parse_scenario(g) == expected


def test_missing_file(tmp_path):
    p = tmp_path / "nope.json"
    assert error_of(p) == f"{p}: no such file"
    assert error_of(str(p)) == f"{p}: no such file"


def test_unreadable_inputs(tmp_path):
    assert error_of(tmp_path).startswith(f"{tmp_path}: cannot read (")
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"name": "\xe9"}')
    assert error_of(bad) == f"{bad}: not UTF-8 text (byte 10)"
    lst = tmp_path / "list.json"
    lst.write_text("[1, 2]")
    assert error_of(lst) == "(top level): must be an object"
    for doc in (5, None, [EXAMPLE], b"{}"):
        assert error_of(doc) == ("(top level): must be an object "
                                 "(a dict, JSON text, or a path to a .json file)")


def test_invalid_json(tmp_path):
    assert error_of('{\n  "name": "x",\n  "seed": 1,,\n}') == (
        "(JSON text): invalid JSON at line 3 column 13: Expecting property name enclosed "
        "in double quotes")
    f = tmp_path / "broken.json"
    f.write_text('{"hosts": {"a": {}, "b": {}}\n')
    assert error_of(f) == (f"{f}: invalid JSON at line 2 column 1: "
                           "Expecting ',' delimiter")
    huge = '{"seed": ' + "9" * 5000 + "}"
    assert error_of(huge).startswith("(JSON text): invalid JSON: ")


def test_nan_in_json_text_rejected():
    text = json.dumps(mutated(EXAMPLE, ("link", "delay"), float("nan")))
    assert "NaN" in text
    assert error_of(text) == "link.delay: must be a number >= 0"


# ---------------------------------------------------------------------------------------
# the bytes pattern


@pytest.mark.parametrize("n", [0, 1, 2, 250, 251, 252, 502, 1000, 4096])
def test_payload_pattern(n):
    assert payload_pattern(n) == bytes(i % 251 for i in range(n))


def test_payload_pattern_large_and_per_send():
    n = 10**7 + 3
    data = payload_pattern(n)
    assert len(data) == n
    for i in (0, 250, 251, 123456, n - 1):
        assert data[i] == i % 251
    doc = minimal(actions=[{"at": 0, "host": "client", "do": "send", "bytes": 300},
                           {"at": 1, "host": "client", "do": "send", "bytes": 5}])
    first, second = parse_scenario(doc).actions
    assert first.data == payload_pattern(300) and second.data == bytes(range(5))


# ---------------------------------------------------------------------------------------
# error messages: (mutation of EXAMPLE) -> exact message

H = '"client", "server"'
DOS = '"listen", "connect", "send", "read", "shutdown", "close", "abort", "crash"'
KINDS = '"drop", "loss", "delay", "duplicate", "inject", "flood"'
FLAGS_TEXT = 'must be a string of flag letters like "SA"'
NTH_TEXT = "must be a positive integer or a non-empty list of positive integers"
BETWEEN_TEXT = "must be a list [t0, t1] of numbers with 0 <= t0 <= t1"
NAN, INF = float("nan"), float("inf")
OPT = ("hosts", "client", "options")
DROP = ("faults", 0, "drop")

ERRORS = [
    # top level
    (("tcpsim",), 2, "tcpsim: must be 1"),
    (("tcpsim",), "1", "tcpsim: must be 1"),
    (("name",), 5, "name: must be a string"),
    (("profile",), "bsd", 'profile: unknown value \'bsd\' (use one of "linux", "rfc9293")'),
    (("profile",), 1, 'profile: must be one of "linux", "rfc9293"'),
    (("seed",), True, "seed: must be an integer"),
    (("seed",), 1.5, "seed: must be an integer"),
    (("seed",), "7", "seed: must be an integer"),
    (("until",), 0, "until: must be a number > 0"),
    (("until",), -3, "until: must be a number > 0"),
    (("until",), INF, "until: must be a number > 0"),
    (("until",), "200", "until: must be a number > 0"),
    # link
    (("link",), [], "link: must be an object"),
    (("link", "delay"), -1, "link.delay: must be a number >= 0"),
    (("link", "delay"), NAN, "link.delay: must be a number >= 0"),
    (("link", "delay"), INF, "link.delay: must be a number >= 0"),
    (("link", "delay"), "0.1", "link.delay: must be a number >= 0"),
    (("link", "delay"), False, "link.delay: must be a number >= 0"),
    (("link", "delay"), 10**400, "link.delay: must be a number >= 0"),
    (("link", "mtu"), 67, "link.mtu: must be an integer from 68 to 65536"),
    (("link", "mtu"), 65537, "link.mtu: must be an integer from 68 to 65536"),
    (("link", "mtu"), 1500.5, "link.mtu: must be an integer from 68 to 65536"),
    # hosts
    (("hosts",), DELETE, "hosts: missing; must be an object with exactly two hosts"),
    (("hosts",), [], "hosts: must be an object with exactly two hosts"),
    (("hosts", "third"), {}, "hosts: must be an object with exactly two hosts"),
    (("hosts", "server"), DELETE, "hosts: must be an object with exactly two hosts"),
    (("hosts", "server"), 5, "hosts.server: must be an object"),
    (("hosts", "server"), None, "hosts.server: must be an object"),
    (("hosts", "server", "port"), 0, "hosts.server.port: must be an integer from 1 to 65535"),
    (("hosts", "server", "port"), 65536,
     "hosts.server.port: must be an integer from 1 to 65535"),
    (("hosts", "server", "port"), "80", "hosts.server.port: must be an integer from 1 to 65535"),
    (("hosts", "server", "port"), True, "hosts.server.port: must be an integer from 1 to 65535"),
    (("hosts", "client", "isn"), -1,
     "hosts.client.isn: must be an integer from 0 to 4294967295"),
    (("hosts", "client", "isn"), 2**32,
     "hosts.client.isn: must be an integer from 0 to 4294967295"),
    (("hosts", "client", "addr"), "10.0.0.256",
     'hosts.client.addr: must be a dotted IPv4 address like "10.0.0.1"'),
    (("hosts", "client", "addr"), "10.0.1",
     'hosts.client.addr: must be a dotted IPv4 address like "10.0.0.1"'),
    (("hosts", "client", "addr"), "010.0.0.1",
     'hosts.client.addr: must be a dotted IPv4 address like "10.0.0.1"'),
    (("hosts", "client", "addr"), 167772161,
     'hosts.client.addr: must be a dotted IPv4 address like "10.0.0.1"'),
    # options
    (OPT, [], "hosts.client.options: must be an object"),
    (OPT + ("syn_retries",), 0,
     "hosts.client.options.syn_retries: must be an integer from 1 to 127"),
    (OPT + ("syn_retries",), 128,
     "hosts.client.options.syn_retries: must be an integer from 1 to 127"),
    (OPT + ("syn_retries",), True,
     "hosts.client.options.syn_retries: must be an integer from 1 to 127"),
    (OPT + ("synack_retries",), 256,
     "hosts.client.options.synack_retries: must be an integer from 0 to 255"),
    (OPT + ("syn_linear_timeouts",), -1,
     "hosts.client.options.syn_linear_timeouts: must be an integer from 0 to 255"),
    (OPT + ("nodelay",), 1, "hosts.client.options.nodelay: must be true or false"),
    (OPT + ("linger0",), "yes", "hosts.client.options.linger0: must be true or false"),
    (OPT + ("timestamps",), 0, "hosts.client.options.timestamps: must be true or false"),
    (OPT + ("sack",), "true", "hosts.client.options.sack: must be true or false"),
    (OPT + ("delayed_ack",), [], "hosts.client.options.delayed_ack: must be true or false"),
    (OPT + ("wscale",), 15,
     "hosts.client.options.wscale: must be true, false or an integer from 0 to 14"),
    (OPT + ("wscale",), "7",
     "hosts.client.options.wscale: must be true, false or an integer from 0 to 14"),
    (OPT + ("msl",), -1, "hosts.client.options.msl: must be a number >= 0"),
    (OPT + ("time_wait",), NAN, "hosts.client.options.time_wait: must be a number >= 0"),
    (OPT + ("fin_timeout",), "60", "hosts.client.options.fin_timeout: must be a number >= 0"),
    (OPT + ("handshake",), "four-way", ("hosts.client.options.handshake: unknown value "
      "'four-way' (use one of \"three-way\", \"two-way\")")),
    (OPT + ("isn_strategy",), "bsd", ("hosts.client.options.isn_strategy: unknown value "
      "'bsd' (use one of \"zero\", \"clock\", \"rfc6528\", \"random\")")),
    (OPT + ("isn_strategy",), 0, ("hosts.client.options.isn_strategy: must be one of "
      "\"zero\", \"clock\", \"rfc6528\", \"random\"")),
    (OPT + ("mss",), 87, "hosts.client.options.mss: must be an integer from 88 to 65495"),
    (OPT + ("mss",), 65496, "hosts.client.options.mss: must be an integer from 88 to 65495"),
    (OPT + ("rcvbuf",), 255,
     "hosts.client.options.rcvbuf: must be an integer from 256 to 1073741824"),
    (OPT + ("sndbuf",), 2**30 + 1,
     "hosts.client.options.sndbuf: must be an integer from 256 to 1073741824"),
    # actions
    (("actions",), {}, "actions: must be a list"),
    (("actions", 2), 5, "actions[2]: must be an object"),
    (("actions", 0, "host"), DELETE, f"actions[0].host: missing; must be one of {H}"),
    (("actions", 0, "host"), "nobody",
     f"actions[0].host: unknown value 'nobody' (use one of {H})"),
    (("actions", 0, "host"), 1, f"actions[0].host: must be one of {H}"),
    (("actions", 0, "do"), "jump", f"actions[0].do: unknown value 'jump' (use one of {DOS})"),
    (("actions", 0, "do"), DELETE, f"actions[0].do: missing; must be one of {DOS}"),
    (("actions", 0, "at"), DELETE,
     'actions[0]: needs "at" (seconds) or "on": "eof" (or "after": "connect" / "accept")'),
    (("actions", 0, "on"), "eof", 'actions[0]: has both "at" and "on"; use one'),
    (("actions", 0, "at"), -1, "actions[0].at: must be a number >= 0"),
    (("actions", 0, "at"), NAN, "actions[0].at: must be a number >= 0"),
    (("actions", 0), {"on": "close", "host": "server", "do": "listen"},
     "actions[0].on: unknown value 'close' (use one of \"eof\")"),
    (("actions", 1, "to"), DELETE, 'actions[1].to: missing; must be "server" (the other host)'),
    (("actions", 1, "to"), "client", 'actions[1].to: must be "server" (the other host)'),
    (("actions", 1, "to"), ["server"], 'actions[1].to: must be "server" (the other host)'),
    (("actions", 3, "bytes"), 0, "actions[3].bytes: must be a positive integer"),
    (("actions", 3, "bytes"), -5, "actions[3].bytes: must be a positive integer"),
    (("actions", 3, "bytes"), "100", "actions[3].bytes: must be a positive integer"),
    (("actions", 3, "bytes"), True, "actions[3].bytes: must be a positive integer"),
    (("actions", 3, "bytes"), 1.5, "actions[3].bytes: must be a positive integer"),
    (("actions", 3, "bytes"), 10**9 + 1, "actions[3].bytes: must be at most 1000000000"),
    (("actions", 2, "bytes"), DELETE, "actions[2]: send needs bytes or data"),
    (("actions", 2, "data"), "hi", "actions[2]: send takes bytes or data, not both"),
    (("actions", 2), {"at": 0, "host": "client", "do": "send", "data": ""},
     "actions[2].data: must be a non-empty string"),
    (("actions", 2), {"at": 0, "host": "client", "do": "send", "data": 5},
     "actions[2].data: must be a non-empty string"),
    (("actions", 2), {"at": 0, "host": "client", "do": "send", "data": "\ud800"},
     "actions[2].data: must be valid Unicode text (no lone surrogates)"),
    (("actions", 4), {"at": 0, "host": "client", "do": "read"},
     "actions[4]: read needs mode or bytes"),
    (("actions", 4), {"at": 0, "host": "client", "do": "read", "mode": "auto", "bytes": 5},
     "actions[4]: read takes mode or bytes, not both"),
    (("actions", 4), {"at": 0, "host": "client", "do": "read", "mode": "on"},
     "actions[4].mode: unknown value 'on' (use one of \"auto\", \"off\")"),
    (("actions", 4), {"at": 0, "host": "client", "do": "read", "bytes": 0},
     "actions[4].bytes: must be a positive integer"),
    # faults
    (("faults",), {}, "faults: must be a list"),
    (("faults", 0), [], "faults[0]: must be an object"),
    (("faults", 0), {"jump": {}}, f"faults[0]: needs one of the keys {KINDS} (found 'jump')"),
    (("faults", 0), {}, f"faults[0]: needs one of the keys {KINDS}"),
    (("faults", 0, "delay"), {"extra": 1},
     'faults[0]: has both "drop" and "delay"; use one kind per fault'),
    (DROP, "x", "faults[0].drop: must be an object"),
    (DROP + ("from",), "nobody", f"faults[0].drop.from: unknown value 'nobody' (use one of {H})"),
    (DROP + ("flags",), "SX",
     "faults[0].drop.flags: unknown flag 'X' (use letters F S R P A U E C)"),
    (DROP + ("flags",), "sa",
     "faults[0].drop.flags: unknown flag 's' (use letters F S R P A U E C)"),
    (DROP + ("flags",), "SAS", "faults[0].drop.flags: repeated flag 'S'"),
    (DROP + ("flags",), 5, f"faults[0].drop.flags: {FLAGS_TEXT}"),
    (DROP + ("nth",), 0, f"faults[0].drop.nth: {NTH_TEXT}"),
    (DROP + ("nth",), [], f"faults[0].drop.nth: {NTH_TEXT}"),
    (DROP + ("nth",), "1", f"faults[0].drop.nth: {NTH_TEXT}"),
    (DROP + ("nth",), [1, 0], "faults[0].drop.nth[1]: must be a positive integer"),
    (DROP + ("nth",), [None], "faults[0].drop.nth[0]: must be a positive integer"),
    (DROP + ("data_segment",), 0, "faults[0].drop.data_segment: must be a positive integer"),
    (DROP + ("between",), [2, 1], f"faults[0].drop.between: {BETWEEN_TEXT}"),
    (DROP + ("between",), [1], f"faults[0].drop.between: {BETWEEN_TEXT}"),
    (DROP + ("between",), 1, f"faults[0].drop.between: {BETWEEN_TEXT}"),
    (DROP + ("between",), [-1, 2], "faults[0].drop.between[0]: must be a number >= 0"),
    (DROP + ("between",), [0, "x"], "faults[0].drop.between[1]: must be a number >= 0"),
    (DROP + ("between",), [None, 1], "faults[0].drop.between[0]: must be a number >= 0"),
    (("faults", 0), {"loss": {"p": 1.5}}, "faults[0].loss.p: must be a number from 0 to 1"),
    (("faults", 0), {"loss": {}}, "faults[0].loss.p: missing; must be a number from 0 to 1"),
    (("faults", 0), {"loss": {"p": 0.5, "flags": "S"}},
     'faults[0].loss.flags: loss takes only "p", "from" and "between"'),
    (("faults", 0), {"delay": {"extra": 0}}, "faults[0].delay.extra: must be a number > 0"),
    (("faults", 0), {"duplicate": {"from": "client"}},
     "faults[0].duplicate.extra: missing; must be a number > 0"),
    (("faults", 0), {"inject": {"from": "client", "flags": "S"}},
     "faults[0].inject.at: missing; must be a number >= 0"),
    (("faults", 0), {"inject": {"at": 1, "flags": "S"}},
     f"faults[0].inject.from: missing; must be one of {H}"),
    (("faults", 0), {"inject": {"at": 1, "from": "client"}},
     f"faults[0].inject.flags: missing; {FLAGS_TEXT}"),
    (("faults", 0), {"inject": {"at": 1, "from": "client", "flags": "R", "seq": 2**32}},
     "faults[0].inject.seq: must be an integer from 0 to 4294967295"),
    (("faults", 0), {"inject": {"at": 1, "from": "client", "flags": "R", "ack": -1}},
     "faults[0].inject.ack: must be an integer from 0 to 4294967295"),
    (("faults", 0), {"inject": {"at": 1, "from": "client", "flags": "R", "bytes": -1}},
     "faults[0].inject.bytes: must be an integer from 0 to 65535"),
    (("faults", 0), {"inject": {"at": 1, "from": "client", "flags": "R", "win": 65536}},
     "faults[0].inject.win: must be an integer from 0 to 65535"),
]


@pytest.mark.parametrize("path, value, message", ERRORS,
                         ids=[f"{'.'.join(map(str, p))}={v!r:.20}" if v is not DELETE
                              else f"{'.'.join(map(str, p))}-deleted" for p, v, _ in ERRORS])
def test_error_message(path, value, message):
    assert error_of(mutated(EXAMPLE, path, value)) == message


def test_first_error_in_document_order():
    doc = mutated(EXAMPLE, ("seed",), "x")
    doc["actions"][0]["do"] = "jump"
    assert error_of(doc) == "seed: must be an integer"


# ---------------------------------------------------------------------------------------
# fuzz: anything in -> a Scenario or a ScenarioError out, never another exception

KNOWN_KEYS = ["tcpsim", "name", "profile", "seed", "link", "delay", "mtu", "hosts", "client",
              "server", "port", "isn", "addr", "options", "wscale", "mss", "actions", "at",
              "on", "host", "do", "to", "bytes", "data", "mode", "faults", "drop", "loss",
              "inject", "from", "flags", "nth", "between", "p", "extra", "until"]

leaves = (st.none() | st.booleans()
          | st.integers(-10**6, 10**6) | st.sampled_from([2**32, 2**64, -2**63, 10**12])
          | st.floats(-1e6, 1e6) | st.sampled_from([NAN, INF, -INF, 1e300, -0.0, 0.5])
          | st.text(max_size=10) | st.sampled_from(KNOWN_KEYS + ["eof", "linux", "SA", "send"]))
json_values = st.recursive(
    leaves,
    lambda inner: (st.lists(inner, max_size=4)
                   | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=6),
                                     inner, max_size=5)),
    max_leaves=20)

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def outcome(doc):
    """The Scenario, or the ScenarioError message; any other exception fails the test."""
    try:
        return parse_scenario(doc)
    except ScenarioError as e:
        message = str(e)
        assert message and "\n" not in message and ": " in message
        return message


@FUZZ
@given(json_values)
def test_fuzz_arbitrary_values(value):
    outcome(value)
    if isinstance(value, dict):
        outcome(json.dumps(value))


def node_paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, child in node.items():
            yield from node_paths(child, path + (key,))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from node_paths(child, path + (i,))


@FUZZ
@given(st.data())
def test_fuzz_mutated_examples(data):
    base = data.draw(st.sampled_from([EXAMPLE, KITCHEN_SINK]))
    doc = copy.deepcopy(base)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = list(node_paths(doc))
        path = data.draw(st.sampled_from(paths))
        if path and data.draw(st.booleans()):
            doc = mutated(doc, path, DELETE)
        elif path:
            doc = mutated(doc, path, data.draw(json_values))
        else:
            doc = data.draw(json_values)
        if not isinstance(doc, dict):
            break
    direct = outcome(doc)
    if isinstance(doc, dict):
        # the same document as JSON text gives the same answer
        assert outcome(json.dumps(doc)) == direct


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30))
def test_fuzz_text_inputs(text):
    # text is JSON (if it starts with "{") or a path; both must fail cleanly here
    outcome(text)
    outcome("{" + text)
