"""tcpsim.ports: ephemeral ports as Linux's __inet_hash_connect() / inet_csk_find_open_port().

The same rules are checked against this machine's kernel in tests/test_kernel_connections.py.
"""
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tcpsim.errors import ScenarioError
from tcpsim.keyedhash import keyed_hash, secret_from_seed
from tcpsim.ports import (
    LINUX_DEFAULT_PORT_RANGE,
    EphemeralPorts,
    PortsExhausted,
    validate_port_range,
)

SECRET = secret_from_seed(1, "ports")
A = ("10.0.0.1", "10.0.0.2", 80)
B = ("10.0.0.1", "10.0.0.2", 443)


def connect_all(ports, dest, held, n):
    """Connect n times to dest, each port staying held (a set shared by the caller)."""
    got = []
    for _ in range(n):
        p = ports.connect(*dest, usable=lambda port: (dest, port) not in held)
        held.add((dest, p))
        got.append(p)
    return got


# ------------------------------------------------------------------ port_range validation
@pytest.mark.parametrize("value, message", [
    ([5000, 4000], "hosts.client.options.port_range: lo must be <= hi"),
    ([500, 600], "lo must be between 1024 and 65535"),
    ([40000, 65536], "hi must be between 1024 and 65535"),
    ([40000], "must be [lo, hi]"),
    ("40000-41000", "must be [lo, hi]"),
    ([40000.0, 41000], "lo must be an integer"),
    ([True, 41000], "lo must be an integer"),
    ([40000, None], "hi must be an integer"),
])
def test_bad_port_range_is_one_line_naming_the_field(value, message):
    with pytest.raises(ScenarioError) as e:
        validate_port_range(value, "hosts.client.options.port_range")
    text = str(e.value)
    assert message in text and "\n" not in text
    assert text.startswith("hosts.client.options.port_range: ")


def test_good_port_ranges():
    assert validate_port_range([32768, 60999], "f") == LINUX_DEFAULT_PORT_RANGE
    assert validate_port_range((1024, 1024), "f") == (1024, 1024)
    assert validate_port_range([1024, 65535], "f") == (1024, 65535)


def test_the_constructor_validates_too():
    with pytest.raises(ScenarioError, match="port_range: lo must be <= hi"):
        EphemeralPorts(SECRET, (41000, 40000))


# ------------------------------------------------------------------ connect()
def test_deterministic_from_the_secret():
    runs = [connect_all(EphemeralPorts(SECRET), A, set(), 20) for _ in range(2)]
    assert runs[0] == runs[1]
    other = connect_all(EphemeralPorts(secret_from_seed(2, "ports")), A, set(), 20)
    assert other != runs[0]


def test_first_scan_takes_ports_of_lo_parity_then_the_other():
    for lo in (40000, 40001):
        ports = EphemeralPorts(SECRET, (lo, lo + 19))
        got = connect_all(ports, A, set(), 20)
        assert all((p - lo) % 2 == 0 for p in got[:10]), got
        assert all((p - lo) % 2 == 1 for p in got[10:]), got
        assert sorted(got) == list(range(lo, lo + 20))


def test_consecutive_ports_to_one_destination_rise_by_an_even_step_of_2_to_16():
    ports = EphemeralPorts(SECRET)
    got = connect_all(ports, A, set(), 200)
    remaining = LINUX_DEFAULT_PORT_RANGE[1] - LINUX_DEFAULT_PORT_RANGE[0] + 1
    steps = [(b - a) % remaining for a, b in itertools.pairwise(got)]
    assert set(steps) <= set(range(2, 17, 2))
    assert len(set(steps)) == 8                    # all eight random steps occur
    assert all(LINUX_DEFAULT_PORT_RANGE[0] <= p <= LINUX_DEFAULT_PORT_RANGE[1] for p in got)


def test_the_same_ports_are_free_again_once_released():
    ports = EphemeralPorts(SECRET)
    first = ports.connect(*A, usable=lambda p: True)
    second = ports.connect(*A, usable=lambda p: True)   # nothing held: the next offset
    assert 2 <= (second - first) % 28232 <= 16


def test_destinations_have_independent_offsets():
    offsets = {EphemeralPorts(SECRET).port_offset(*d) for d in (A, B, ("10.0.0.1", "10.0.0.3", 80))}
    assert len(offsets) == 3
    assert all(0 <= o < 2**64 for o in offsets)


def test_exhaustion_is_eaddrnotavail_and_per_destination():
    ports = EphemeralPorts(SECRET, (40000, 40009))
    held = set()
    got = connect_all(ports, A, held, 10)
    assert sorted(got) == list(range(40000, 40010))
    with pytest.raises(PortsExhausted) as e:
        connect_all(ports, A, held, 1)
    assert e.value.errno_name == "EADDRNOTAVAIL" and "10.0.0.2:80" in str(e.value)
    assert 40000 <= connect_all(ports, B, held, 1)[0] <= 40009   # another 4-tuple: fine


def test_odd_sized_range_scans_an_even_window():
    # remaining = hi - lo + 1 is rounded down to even: each scan sees 10 of the 11 ports
    # (which 10 depends on the offset), so the last free port may be out of sight.
    ports = EphemeralPorts(SECRET, (40000, 40010))
    held = set()
    got = []
    with pytest.raises(PortsExhausted):
        for _ in range(12):
            got += connect_all(ports, A, held, 1)
    assert len(got) in (10, 11) and len(set(got)) == len(got)
    assert all(p % 2 == 0 for p in got[:5])


def test_single_port_range():
    ports = EphemeralPorts(SECRET, (40000, 40000))
    held = set()
    assert connect_all(ports, A, held, 1) == [40000]
    with pytest.raises(PortsExhausted):
        connect_all(ports, A, held, 1)


def test_unusable_and_reserved_ports_are_skipped():
    bound = {40000, 40002, 40004}
    ports = EphemeralPorts(SECRET, (40000, 40009), reserved={40006})
    held = set()
    got = []
    for _ in range(6):
        p = ports.connect(*A, usable=lambda port: port not in bound and (A, port) not in held)
        held.add((A, p))
        got.append(p)
    assert not set(got) & (bound | {40006})
    assert sorted(got) == [40001, 40003, 40005, 40007, 40008, 40009]
    with pytest.raises(PortsExhausted):
        ports.connect(*A, usable=lambda port: port not in bound and (A, port) not in held)


def test_keyed_hash_rejects_a_bad_secret():
    with pytest.raises(ValueError, match="secret"):
        keyed_hash(b"", 1)
    with pytest.raises(ValueError, match="bits"):
        keyed_hash(b"k", 1, bits=12)


# ------------------------------------------------------------------ bind(port 0)
def test_bind_any_takes_the_other_parity_first():
    for lo in (40000, 40001):
        ports = EphemeralPorts(SECRET, (lo, lo + 19))
        taken = set()
        got = []
        for _ in range(20):
            p = ports.bind_any(usable=lambda port, taken=taken: port not in taken)
            taken.add(p)
            got.append(p)
        assert all((p - lo) % 2 == 1 for p in got[:10]), got
        assert all((p - lo) % 2 == 0 for p in got[10:]), got
        with pytest.raises(PortsExhausted) as e:
            ports.bind_any(usable=lambda port, taken=taken: port not in taken)
        assert e.value.errno_name == "EADDRINUSE"


def test_bind_any_with_reuseaddr_tries_the_lower_half_first():
    ports = EphemeralPorts(SECRET, (40000, 40019))   # half = 40000 + (20 >> 2 << 1) = 40010
    taken = set()
    got = []
    for _ in range(20):
        p = ports.bind_any(usable=lambda port: port not in taken, reuseaddr=True)
        taken.add(p)
        got.append(p)
    assert set(got[:10]) == set(range(40000, 40010))
    assert set(got[10:]) == set(range(40010, 40020))


# ------------------------------------------------------------------ properties


@settings(max_examples=150, deadline=None)
@given(lo=st.integers(1024, 65000), size=st.integers(1, 40), seed=st.integers(0, 2**32),
       mask=st.integers(0, 2**40 - 1), dport=st.integers(1, 65535))
def test_connect_finds_a_usable_port_whenever_its_scans_can_see_one(lo, size, seed, mask, dport):
    hi = min(lo + size - 1, 65535)
    usable = {p for i, p in enumerate(range(lo, hi + 1)) if mask >> i & 1}
    ports = EphemeralPorts(secret_from_seed(seed, "ports"), (lo, hi))
    try:
        port = ports.connect("10.0.0.1", "10.0.0.2", dport, lambda p: p in usable)
    except PortsExhausted:
        # both parity scans cover an even-sized range; an odd-sized one minus one port
        assert not usable if (hi - lo + 1) % 2 == 0 or hi == lo else len(usable) <= 1
    else:
        assert port in usable and lo <= port <= hi


@settings(max_examples=150, deadline=None)
@given(lo=st.integers(1024, 65000), size=st.integers(1, 40), seed=st.integers(0, 2**32),
       mask=st.integers(0, 2**40 - 1))
def test_bind_any_finds_a_usable_port_in_an_even_range(lo, size, seed, mask):
    hi = min(lo + size - 1, 65535)
    usable = {p for i, p in enumerate(range(lo, hi + 1)) if mask >> i & 1}
    ports = EphemeralPorts(secret_from_seed(seed, "ports"), (lo, hi))
    try:
        port = ports.bind_any(lambda p: p in usable)
    except PortsExhausted:
        assert not usable if (hi - lo + 1) % 2 == 0 or hi == lo else len(usable) <= 1
    else:
        assert port in usable and lo <= port <= hi


@settings(max_examples=200, deadline=None)
@given(lo=st.integers(1024, 65000), size=st.integers(1, 40), seed=st.integers(0, 2**32),
       mask=st.integers(0, 2**40 - 1), reserved_mask=st.integers(0, 2**40 - 1),
       dport=st.integers(1, 65535), n=st.integers(1, 12))
def test_connect_held_chooses_exactly_what_connect_chooses(lo, size, seed, mask, reserved_mask,
                                                           dport, n):
    hi = min(lo + size - 1, 65535)
    blocked = {p for i, p in enumerate(range(lo, hi + 1)) if mask >> i & 1}
    reserved = {p for i, p in enumerate(range(lo, hi + 1)) if reserved_mask >> i & 3 == 3}
    ref = EphemeralPorts(secret_from_seed(seed, "ports"), (lo, hi), reserved=reserved)
    fast = EphemeralPorts(secret_from_seed(seed, "ports"), (lo, hi), reserved=reserved)
    ref_held, held = set(blocked), fast.held_ports()
    for port in blocked:
        held.hold(port)
    for _ in range(n):
        try:
            want = ref.connect("10.0.0.1", "10.0.0.2", dport, lambda p: p not in ref_held)
        except PortsExhausted:
            with pytest.raises(PortsExhausted):
                fast.connect_held("10.0.0.1", "10.0.0.2", dport, held)
            break
        assert fast.connect_held("10.0.0.1", "10.0.0.2", dport, held) == want
        ref_held.add(want)
        held.hold(want)


def test_connect_held_fills_the_default_range_exactly():
    # (the port-by-port scan needs 2e8 usable() calls for this: benchmarks/bench_ports.py)
    ports = EphemeralPorts(SECRET)
    held, n = ports.held_ports(), 0
    with pytest.raises(PortsExhausted):
        while True:
            held.hold(ports.connect_held("10.0.0.1", "10.0.0.2", 80, held))
            n += 1
    assert n == 28232 and all(p in held for p in range(32768, 61000))


def test_held_ports_hold_release_and_reserved():
    held = EphemeralPorts(SECRET, (40000, 40009), reserved={40003}).held_ports()
    assert 40003 in held and 40000 not in held and 39999 not in held
    held.hold(40000)
    assert 40000 in held
    held.release(40000)
    held.release(40003)                    # reserved ports stay held
    assert 40000 not in held and 40003 in held
    assert held.first_free(0, 9) == 0 and held.first_free(3, 9) == 5
    assert held.first_free(5, 4) is None
    with pytest.raises(ValueError, match="port: 40010 is outside"):
        held.hold(40010)
