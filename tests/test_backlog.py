"""tcpsim.backlog: the listener's SYN and accept queues (live check: test_kernel_connections)."""
import pytest

from tcpsim.backlog import (
    accept_queue_full,
    max_ack_backlog,
    on_final_ack,
    on_syn,
    syn_queue_full,
    validate_backlog,
)
from tcpsim.backlog import feed_syns as fill
from tcpsim.errors import ScenarioError


def test_backlog_is_capped_by_somaxconn():
    assert max_ack_backlog(128) == 128
    assert max_ack_backlog(100_000) == 4096
    assert max_ack_backlog(-1) == 4096
    assert max_ack_backlog(50, somaxconn=10) == 10


def test_each_queue_holds_backlog_plus_one():
    assert not accept_queue_full(3, 3) and accept_queue_full(4, 3)
    assert not syn_queue_full(3, 3) and syn_queue_full(4, 3)


def test_syn_queue_overflow_with_and_without_cookies():
    assert fill(8, 3, syncookies=1) == ["queue"] * 4 + ["cookie"] * 4
    assert fill(8, 3, syncookies=0) == ["queue"] * 4 + ["drop"] * 4
    assert fill(3, 3, syncookies=2) == ["cookie"] * 3


def test_full_accept_queue_drops_syns_even_with_cookies():
    assert fill(8, 3, syncookies=1, complete=True) == ["queue"] * 4 + ["drop"] * 4
    v = on_syn(syn_queue_len=0, accept_queue_len=4, max_backlog=3, syncookies=2)
    assert v.action == "drop" and "accept queue" in v.reason


def test_a_syn_reopening_time_wait_bypasses_the_syn_queue_check():
    v = on_syn(syn_queue_len=10, accept_queue_len=0, max_backlog=3, syncookies=0,
               reopens_time_wait=True)
    assert v.action == "queue"


def test_without_cookies_the_last_quarter_of_max_syn_backlog_is_for_proven_peers():
    kw = {"syn_queue_len": 1537, "accept_queue_len": 0, "max_backlog": 4096, "syncookies": 0,
          "max_syn_backlog": 2048}
    assert on_syn(**kw).action == "drop"
    assert on_syn(**kw, peer_proven=True).action == "queue"
    assert on_syn(**{**kw, "syn_queue_len": 1536}).action == "queue"


def test_final_ack_on_a_full_accept_queue():
    assert on_final_ack(accept_queue_len=3, max_backlog=3).action == "accept"
    assert on_final_ack(accept_queue_len=4, max_backlog=3).action == "drop"
    assert on_final_ack(accept_queue_len=4, max_backlog=3, abort_on_overflow=True).action == "rst"


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "8", None])
def test_bad_backlog_names_the_field(bad):
    with pytest.raises(ScenarioError) as e:
        validate_backlog(bad, "hosts.server.options.backlog")
    assert str(e.value).startswith("hosts.server.options.backlog: must be a positive integer")
    assert "\n" not in str(e.value)


def test_good_backlog():
    assert validate_backlog(1, "f") == 1 and validate_backlog(4096, "f") == 4096
