"""tcpsim.fastopen: RFC 7413 as Linux's tcp_try_fastopen() (live check: test_kernel_connections)."""
import pytest

from tcpsim import fastopen as tfo
from tcpsim.errors import ScenarioError
from tcpsim.keyedhash import secret_from_seed

KEY = secret_from_seed(1, "tfo")
COOKIE = tfo.make_cookie(KEY, "10.0.0.1", "10.0.0.2")


def test_cookie_is_8_bytes_and_depends_on_addresses_and_key():
    assert len(COOKIE) == tfo.TCP_FASTOPEN_COOKIE_SIZE == 8
    assert COOKIE == tfo.make_cookie(KEY, "10.0.0.1", "10.0.0.2")
    assert COOKIE != tfo.make_cookie(KEY, "10.0.0.3", "10.0.0.2")
    assert COOKIE != tfo.make_cookie(secret_from_seed(2, "tfo"), "10.0.0.1", "10.0.0.2")


def test_first_syn_requests_a_cookie_without_data():
    assert tfo.client_syn(None, data_len=100, max_syn_data=1000) == {"tfo": "", "data_len": 0}


def test_later_syns_carry_the_cookie_and_data():
    assert tfo.client_syn(COOKIE, 100, 1000) == {"tfo": COOKIE.hex(), "data_len": 100}
    assert tfo.client_syn(COOKIE, 5000, 1000)["data_len"] == 1000


def test_server_answers_a_request_with_a_cookie():
    v = tfo.server_on_syn(tfo="", data_len=0, valid_cookie=COOKIE)
    assert (v.child_now, v.data_accepted, v.synack_cookie) == (False, 0, COOKIE)


def test_valid_cookie_creates_the_child_at_once_and_acks_the_data():
    v = tfo.server_on_syn(tfo=COOKIE.hex(), data_len=6, valid_cookie=COOKIE)
    assert (v.child_now, v.data_accepted, v.synack_cookie) == (True, 6, None)


def test_invalid_cookie_ignores_data_and_sends_a_fresh_cookie():
    other = tfo.make_cookie(secret_from_seed(9, "tfo"), "10.0.0.1", "10.0.0.2")
    v = tfo.server_on_syn(tfo=other.hex(), data_len=6, valid_cookie=COOKIE)
    assert (v.child_now, v.data_accepted, v.synack_cookie) == (False, 0, COOKIE)


def test_full_fastopen_queue_and_disabled_listener_fall_back():
    full = tfo.server_on_syn(tfo=COOKIE.hex(), data_len=6, valid_cookie=COOKIE, pending=16)
    off = tfo.server_on_syn(tfo=COOKIE.hex(), data_len=6, valid_cookie=COOKIE,
                            listener_fastopen=False)
    none = tfo.server_on_syn(tfo=None, data_len=6, valid_cookie=COOKIE)
    assert all((v.child_now, v.data_accepted, v.synack_cookie) == (False, 0, None)
               for v in (full, off, none))


@pytest.mark.parametrize("value, text", [
    ("zz", "options.tfo: not hex"),
    ("0102", "options.tfo: a cookie is 4 to 16 bytes, not 2"),
    ("00" * 17, "not 17"),
    (12, "options.tfo: must be a string"),
])
def test_bad_tfo_option(value, text):
    with pytest.raises(ScenarioError, match=text):
        tfo.parse_tfo_option(value)


def test_tfo_option_round_trip():
    assert tfo.parse_tfo_option(tfo.tfo_option(COOKIE)) == COOKIE
    assert tfo.tfo_option(None) == "" and tfo.parse_tfo_option("") == b""


@pytest.mark.parametrize("bad", [1, "yes", None])
def test_fastopen_option_validation(bad):
    with pytest.raises(ScenarioError) as e:
        tfo.validate_fastopen(bad, "hosts.client.options.fastopen")
    assert str(e.value).startswith("hosts.client.options.fastopen: must be true or false")


def test_client_syn_refuses_negative_sizes():
    with pytest.raises(ValueError):
        tfo.client_syn(COOKIE, -1, 10)
