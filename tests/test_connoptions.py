"""tcpsim.connoptions: the contract's new host options, validated and defaulted in one call."""
import pytest

from tcpsim.connoptions import ConnectionOptions, parse_connection_options
from tcpsim.errors import ScenarioError
from tcpsim.keepalive import KeepaliveConfig

PATH = "hosts.client.options"


def test_linux_defaults():
    o = parse_connection_options({}, PATH)
    assert o == ConnectionOptions() == parse_connection_options(None, PATH)
    assert (o.port_range, o.tw_reuse, o.rfc1337, o.syn_cookies, o.backlog, o.keepalive,
            o.fastopen) == ((32768, 60999), 2, False, 1, 4096, None, False)
    assert o.tw_reuse_delay_ms == 1000


def test_every_option_is_read():
    o = parse_connection_options({"port_range": [40000, 40009], "tw_reuse": 1,
                                  "tw_reuse_delay": 50, "rfc1337": True, "syn_cookies": 2,
                                  "backlog": 8, "keepalive": {"time": 1}, "fastopen": True,
                                  "reuseaddr": True, "abort_on_overflow": True,
                                  "mss": 1000}, PATH)      # other options are left alone
    assert o == ConnectionOptions((40000, 40009), 1, 50, True, 2, 8, KeepaliveConfig(1, 75, 9),
                                  True, True, True)


def test_backlog_is_capped_by_somaxconn():
    assert parse_connection_options({"backlog": 100_000}, PATH).backlog == 4096


@pytest.mark.parametrize("options, message", [
    ({"port_range": [5000, 4000]}, "hosts.client.options.port_range: lo must be <= hi"),
    ({"tw_reuse": 5}, "hosts.client.options.tw_reuse: must be 0"),
    ({"tw_reuse_delay": 0}, "hosts.client.options.tw_reuse_delay: must be an integer from 1"),
    ({"rfc1337": "yes"}, "hosts.client.options.rfc1337: must be true or false"),
    ({"syn_cookies": 3}, "hosts.client.options.syn_cookies: must be 0"),
    ({"backlog": 0}, "hosts.client.options.backlog: must be a positive integer"),
    ({"keepalive": {"probes": 0}}, "hosts.client.options.keepalive.probes: must be an integer"),
    ({"fastopen": 1}, "hosts.client.options.fastopen: must be true or false"),
    ({"reuseaddr": None}, "hosts.client.options.reuseaddr: must be true or false"),
    ({"abort_on_overflow": 0}, "hosts.client.options.abort_on_overflow: must be true or false"),
])
def test_each_bad_option_names_its_field(options, message):
    with pytest.raises(ScenarioError) as e:
        parse_connection_options(options, PATH)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_options_must_be_an_object():
    with pytest.raises(ScenarioError, match="hosts.client.options: must be an object"):
        parse_connection_options([1], PATH)
