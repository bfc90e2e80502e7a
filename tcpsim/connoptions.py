"""The host options of "Additions for the rest of the course" (../shared/tcpsim-json.md), parsed.

What this is
------------
One call for the scenario parser: ``parse_connection_options(options, path)`` reads the
connection-management options out of a host's ``options`` object, checks each with the
validator of the module that implements it, fills in Linux's defaults, and returns a frozen
:class:`ConnectionOptions`. Errors are one line naming the field
(``hosts.client.options.port_range: lo must be <= hi``). Keys it does not know are left
alone: the rest of ``options`` belongs to the scenario parser.

``tw_reuse_delay`` (ms), ``reuseaddr`` (SO_REUSEADDR) and ``abort_on_overflow``
(tcp_abort_on_overflow) are extensions beside the contract's names.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import backlog, fastopen, keepalive, ports, syncookies, timewait
from .errors import ScenarioError


@dataclass(frozen=True)
class ConnectionOptions:
    port_range: tuple[int, int] = ports.LINUX_DEFAULT_PORT_RANGE
    tw_reuse: int = timewait.TW_REUSE_DEFAULT
    tw_reuse_delay_ms: int = timewait.TW_REUSE_DELAY_MS_DEFAULT
    rfc1337: bool = False                       # net.ipv4.tcp_rfc1337 default
    syn_cookies: int = 1                        # net.ipv4.tcp_syncookies default
    backlog: int = backlog.SOMAXCONN_DEFAULT    # the contract's default: somaxconn
    keepalive: keepalive.KeepaliveConfig | None = None
    fastopen: bool = False
    reuseaddr: bool = False
    abort_on_overflow: bool = False             # net.ipv4.tcp_abort_on_overflow default


def _bool(value, field):
    if not isinstance(value, bool):
        raise ScenarioError(f"{field}: must be true or false, not {value!r}")
    return value


_PARSERS = {
    "port_range": ports.validate_port_range,
    "tw_reuse": timewait.validate_tw_reuse,
    "tw_reuse_delay": timewait.validate_tw_reuse_delay_ms,
    "rfc1337": timewait.validate_rfc1337,
    "syn_cookies": syncookies.validate_syn_cookies,
    "backlog": backlog.validate_backlog,
    "keepalive": keepalive.parse_keepalive,
    "fastopen": fastopen.validate_fastopen,
    "reuseaddr": _bool,
    "abort_on_overflow": _bool,
}
_FIELD_NAMES = {"tw_reuse_delay": "tw_reuse_delay_ms"}


def parse_connection_options(options, path: str) -> ConnectionOptions:
    """Validate and default the connection options of one host; ``path`` is e.g.
    ``hosts.client.options``."""
    if options is None:
        return ConnectionOptions()
    if not isinstance(options, dict):
        raise ScenarioError(f"{path}: must be an object")
    values = {}
    for key, parse in _PARSERS.items():
        if key in options:
            values[_FIELD_NAMES.get(key, key)] = parse(options[key], f"{path}.{key}")
    if "backlog" in values:
        values["backlog"] = backlog.max_ack_backlog(values["backlog"])
    return ConnectionOptions(**values)
