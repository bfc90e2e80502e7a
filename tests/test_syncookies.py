"""tcpsim.syncookies: Linux SYN cookies (net/ipv4/syncookies.c) as pure functions.

The same layout is checked on real cookie SYN-ACKs in tests/test_kernel_connections.py.
"""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tcpsim import syncookies as sc
from tcpsim.errors import ScenarioError
from tcpsim.keyedhash import secret_from_seed

SECRET = secret_from_seed(7, "syncookies")
TUPLE = ("10.0.0.1", "10.0.0.2", 41000, 80)
CLIENT_ISN = 0x12345678


@pytest.mark.parametrize("mss, index", [(1460, 3), (9000, 3), (1459, 2), (1440, 2), (1400, 1),
                                        (1300, 1), (1299, 0), (536, 0), (100, 0)])
def test_mss_rounds_down_to_msstab(mss, index):
    assert sc.mss_index(mss) == index
    isn, encoded = sc.make_cookie(SECRET, TUPLE, CLIENT_ISN, mss, now_s=10.0)
    assert encoded == sc.MSSTAB[index]
    assert sc.cookie_mss_index(SECRET, TUPLE, CLIENT_ISN, isn, now_s=10.0) == (index, 0)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, None])
def test_bad_mss_is_refused(bad):
    with pytest.raises(ValueError, match="mss: must be a positive integer"):
        sc.mss_index(bad)


def test_cookie_layout_count_in_the_top_byte_and_additive_client_isn():
    isn, _ = sc.make_cookie(SECRET, TUPLE, CLIENT_ISN, 1460, now_s=125.0)
    isn2, _ = sc.make_cookie(SECRET, TUPLE, CLIENT_ISN + 1000, 1460, now_s=126.0)
    assert (isn2 - isn) & sc.U32 == 1000            # same minute: ISN moves with the client's
    isn3, _ = sc.make_cookie(SECRET, TUPLE, CLIENT_ISN, 536, now_s=130.0)
    assert (isn - isn3) & sc.U32 == 3               # index 3 vs 0 in the low 24 bits
    other, _ = sc.make_cookie(SECRET, ("10.0.0.1", "10.0.0.2", 41001, 80), CLIENT_ISN, 1460, 125.0)
    assert other != isn                              # keyed on the 4-tuple


def test_valid_for_this_minute_and_the_next_only():
    isn, _ = sc.make_cookie(SECRET, TUPLE, CLIENT_ISN, 1440, now_s=60.0)   # count 1
    ack = {"ack_seq": CLIENT_ISN + 1, "ack_ack": isn + 1}
    assert sc.check_cookie(SECRET, TUPLE, now_s=119.9, **ack) == sc.CookieCheck(True, 1440, 2, 0)
    assert sc.check_cookie(SECRET, TUPLE, now_s=179.9, **ack) == sc.CookieCheck(True, 1440, 2, 1)
    late = sc.check_cookie(SECRET, TUPLE, now_s=180.0, **ack)
    assert not late.valid and late.age_counts == 2 and "too old" in late.reason


def test_forged_or_mismatched_acks_fail():
    isn, _ = sc.make_cookie(SECRET, TUPLE, CLIENT_ISN, 1460, now_s=5.0)
    wrong_port = sc.check_cookie(SECRET, ("10.0.0.1", "10.0.0.2", 41001, 80),
                                 CLIENT_ISN + 1, isn + 1, now_s=5.0)
    wrong_seq = sc.check_cookie(SECRET, TUPLE, CLIENT_ISN + 1001, isn + 1, now_s=5.0)
    other_secret = sc.check_cookie(secret_from_seed(8, "syncookies"), TUPLE, CLIENT_ISN + 1,
                                   isn + 1, now_s=5.0)
    assert not any(c.valid for c in (wrong_port, wrong_seq, other_secret))
    assert "not a cookie" in wrong_seq.reason


def test_the_client_isn_is_added_not_hashed_so_a_seq_off_by_one_shifts_the_mss():
    # The kernel's layout: sseq is *added* to the cookie, so an ACK whose seq is 1 too high
    # still passes, with the next smaller MSS index. (The hash guards the 4-tuple and count.)
    isn, _ = sc.make_cookie(SECRET, TUPLE, CLIENT_ISN, 1460, now_s=5.0)
    off_by_one = sc.check_cookie(SECRET, TUPLE, CLIENT_ISN + 2, isn + 1, now_s=5.0)
    assert off_by_one.valid and off_by_one.mss == 1440


def test_sequence_wraparound():
    isn, _ = sc.make_cookie(SECRET, TUPLE, 0xFFFFFFFF, 1300, now_s=1.0)
    assert 0 <= isn <= sc.U32
    assert sc.check_cookie(SECRET, TUPLE, 0, (isn + 1) & sc.U32, now_s=1.0).mss == 1300


# ---------------------------------------------------------------------- timestamps
def test_tsval_low_bits_carry_wscale_sack_ecn():
    ts = sc.cookie_tsval(1_000_000, wscale=7, sack=True, ecn=False)
    assert ts & 0x3F == 7 | sc.TS_OPT_SACK
    assert 1_000_000 - 64 < ts <= 1_000_000                  # never in the future
    assert sc.cookie_tsval(1_000_000, None, False, True) & 0x3F == 0xF | sc.TS_OPT_ECN
    assert sc.cookie_tsval(1_000_000 - 1_000_000 % 64, 0, False, False) == 1_000_000 - 1_000_000 % 64


def test_tsval_minus_64_when_rounding_would_be_in_the_future():
    now = 64 * 1000 + 3                                      # low bits 3 < options 0x1f
    ts = sc.cookie_tsval(now, wscale=14, sack=True, ecn=False)
    assert ts == 64 * 999 + (14 | sc.TS_OPT_SACK)


def test_bad_wscale_is_refused():
    with pytest.raises(ValueError, match="wscale"):
        sc.cookie_tsval(0, 15, False, False)


@pytest.mark.parametrize("wscale, sack, ecn", [(7, True, True), (None, True, False), (0, False, False),
                                               (14, False, True)])
def test_decode_round_trip(wscale, sack, ecn):
    tsecr = sc.cookie_tsval(123456789, wscale, sack, ecn)
    assert sc.decode_cookie_tsecr(tsecr) == sc.CookieOptions(True, True, wscale, sack, ecn)


def test_decode_without_timestamps_loses_everything_but_mss():
    assert sc.decode_cookie_tsecr(None) == sc.CookieOptions(True, False, None, False, False)
    assert sc.cookie_synack_options(False, 7, True, True) == {
        "timestamps": False, "wscale": None, "sack": False, "ecn": False}
    assert sc.cookie_synack_options(True, 7, True, False) == {
        "timestamps": True, "wscale": 7, "sack": True, "ecn": False}


def test_decode_refuses_options_this_host_turned_off():
    tsecr = sc.cookie_tsval(5000, 7, True, False)
    assert not sc.decode_cookie_tsecr(tsecr, timestamps=False).ok
    assert not sc.decode_cookie_tsecr(tsecr, sack=False).ok
    assert not sc.decode_cookie_tsecr(tsecr, window_scaling=False).ok
    assert not sc.decode_cookie_tsecr(sc.cookie_tsval(5000, 7, False, True), ecn=False).ecn


@pytest.mark.parametrize("bad", [3, -1, True, "2", None])
def test_syn_cookies_option_validation(bad):
    with pytest.raises(ScenarioError) as e:
        sc.validate_syn_cookies(bad, "hosts.server.options.syn_cookies")
    assert str(e.value).startswith("hosts.server.options.syn_cookies: must be 0")
    assert "\n" not in str(e.value)


def test_syn_cookies_option_good_values():
    assert [sc.validate_syn_cookies(v, "f") for v in (0, 1, 2)] == [0, 1, 2]


# ---------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(sport=st.integers(1, 65535), isn=st.integers(0, 2**32 - 1), mss=st.integers(1, 65535),
       now=st.floats(0, 1e7), later=st.floats(0, 300), seed=st.integers(0, 1000))
def test_cookie_round_trip_within_its_age(sport, isn, mss, now, later, seed):
    secret = secret_from_seed(seed, "syncookies")
    four_tuple = ("10.0.0.1", "10.0.0.2", sport, 80)
    cookie, encoded = sc.make_cookie(secret, four_tuple, isn, mss, now)
    check = sc.check_cookie(secret, four_tuple, (isn + 1) % 2**32, (cookie + 1) % 2**32, now + later)
    young = sc.cookie_count(now + later) - sc.cookie_count(now) < sc.MAX_SYNCOOKIE_AGE
    assert check.valid == young
    if young:
        assert check.mss == encoded == sc.MSSTAB[sc.mss_index(mss)]
