"""The small parts pulled out of the endpoint: the range set, the SACK scoreboard and the
RTT estimator, each on its own (the endpoint's tests cover them in use)."""
from __future__ import annotations

import pytest

from tcpsim.profiles import PROFILES
from tcpsim.rangeset import RangeSet
from tcpsim.rtt import RttEstimator, backed_off
from tcpsim.sack import Scoreboard

TOP = 2**32


# ------------------------------------------------------------------------- range set
def test_add_merges_overlapping_and_touching_ranges_in_order_from_base():
    rs = RangeSet()
    rs.add(300, 400, base=100)
    rs.add(100, 200, base=100)
    assert list(rs) == [(100, 200), (300, 400)]
    rs.add(200, 250, base=100)              # touches the first
    assert list(rs) == [(100, 250), (300, 400)]
    rs.add(240, 310, base=100)              # bridges both
    assert list(rs) == [(100, 400)] and rs.size() == 300


def test_ranges_wrap_around_2_to_the_32():
    rs = RangeSet()
    rs.add(TOP - 100, 50, base=TOP - 200)   # crosses zero
    rs.add(50, 80, base=TOP - 200)
    assert list(rs) == [(TOP - 100, 80)] and rs.size() == 180
    assert rs.containing(10) == (TOP - 100, 80) and rs.containing(80) is None
    rs.drop_below(0)
    assert list(rs) == [(TOP - 100, 80)]    # ends after 0: kept
    rs.drop_below(80)
    assert not rs


def test_from_sorted_is_the_one_pass_union():
    pairs = [(10, 20), (15, 30), (30, 40), (50, 60), (55, 58)]
    assert list(RangeSet.from_sorted(pairs)) == [(10, 40), (50, 60)]


@pytest.mark.parametrize("base", [1000, 2**32 - 25])        # and across the wrap
def test_from_spans_is_from_sorted_given_distances_from_a_base(base):
    """Ranges handed over as (distance ahead of base, length), in any order: the same union
    as from_sorted of the absolute ranges, sorted from base (the receiver's SACK blocks)."""
    spans = [(40, 10), (0, 5), (5, 5), (70, 3), (45, 20), (100, 0)]
    absolute = sorted(((base + d) % 2**32, (base + d + n) % 2**32) for d, n in spans)
    absolute.sort(key=lambda r: (r[0] - base) % 2**32)
    assert list(RangeSet.from_spans(base, spans)) == list(RangeSet.from_sorted(absolute))
    assert list(RangeSet.from_spans(base, spans))[0] == (base % 2**32, (base + 10) % 2**32)


def test_subtract_cuts_and_says_whether_inside_one_range():
    rs = RangeSet([(100, 200)])
    assert rs.subtract(120, 130) is True
    assert list(rs) == [(100, 120), (130, 200)]
    assert rs.subtract(110, 140) is False   # spans the cut
    assert list(rs) == [(100, 110), (140, 200)]
    assert rs.subtract(TOP - 5, 5) is False and rs.size() == 70


# ------------------------------------------------------------------------ scoreboard
def test_scoreboard_keeps_blocks_above_snd_una_and_skips_them():
    sb = Scoreboard()
    sb.update([[2000, 3000], [500, 900], [9000, 9500]], snd_una=1000, snd_max=5000)
    assert list(sb) == [(2000, 3000)]       # a D-SACK below SND.UNA, a block beyond SND.MAX
    sb.update([[3000, 3500], [4000, 4500]], snd_una=1000, snd_max=5000)
    assert list(sb) == [(2000, 3500), (4000, 4500)] and sb.total() == 2000
    assert sb.skip(2500) == 3500 and sb.skip(1500) == 1500
    assert sb.bytes_below(4000) == 1500 and sb.highest() == 4500
    sb.ack(3500)
    assert list(sb) == [(4000, 4500)]


# ----------------------------------------------------------------------- estimator
def test_rfc6298_estimator():
    est = RttEstimator(PROFILES["rfc9293"])
    assert est.rto == 1.0 and est.srtt is None          # §2.1
    est.sample(0.1)                                    # §2.2: SRTT = R, RTTVAR = R/2
    assert (est.srtt, est.rttvar) == (0.1, 0.05)
    assert est.rto == 1.0                              # §2.4: at least 1 s
    est.sample(0.3)                                    # §2.3
    assert est.rttvar == pytest.approx(0.75 * 0.05 + 0.25 * 0.2)
    assert est.srtt == pytest.approx(0.875 * 0.1 + 0.125 * 0.3)
    est.sample(100.0)
    assert est.rto == 60.0                             # §2.5: the maximum


def test_linux_estimator_floors_the_variance_at_rto_min():
    est = RttEstimator(PROFILES["linux"])
    est.sample(0.001)
    assert est.rto == pytest.approx(0.001 + 0.2)       # SRTT + max(4·RTTVAR, 200 ms)


def test_back_off_doubles_up_to_the_maximum():
    assert [backed_off(1.0, n, 60.0) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_scoreboard_ranges_stay_the_range_sets_list():
    """The endpoint reads Scoreboard.ranges directly in its send loop."""
    sb = Scoreboard()
    sb.update([[2000, 3000]], snd_una=1000, snd_max=5000)
    sb.ack(2500)
    sb.update([[4000, 4500]], snd_una=2500, snd_max=5000)
    assert sb.ranges is sb.sacked.ranges
    assert sb.ranges == [(2000, 3000), (4000, 4500)]
    sb.ack(3000)
    assert sb.ranges is sb.sacked.ranges and sb.ranges == [(4000, 4500)]


# ------------------------------------------------------------------ frozen.fast_init
def test_fast_init_builds_the_same_frozen_dataclass():
    """Same signature, defaults and default_factory; equal to the dataclass's own objects;
    still frozen; for slots classes too. Classes it cannot serve are refused."""
    import dataclasses

    from tcpsim.frozen import fast_init

    def make(slots):
        @dataclasses.dataclass(frozen=True, slots=slots)
        class Part:
            a: int
            b: str = "b"
            c: list = dataclasses.field(default_factory=list)
        return Part

    for slots in (False, True):
        plain, fast = make(slots), fast_init(make(slots))
        for args, kw in (((1,), {}), ((1, "x"), {}), ((1,), {"c": [2]}), ((), {"a": 3, "b": "y"})):
            one, other = plain(*args, **kw), fast(*args, **kw)
            assert dataclasses.astuple(one) == dataclasses.astuple(other)
            assert repr(one).split("(", 1)[1] == repr(other).split("(", 1)[1]
            with pytest.raises(dataclasses.FrozenInstanceError):
                other.a = 5
        assert fast(1).c is not fast(1).c                  # a new list each time
        with pytest.raises(TypeError):
            fast()                                          # a is required
    with pytest.raises(TypeError, match="not a frozen dataclass"):
        fast_init(dataclasses.dataclass(type("Open", (), {"__annotations__": {"a": int}})))
