"""Scenario documents: parse and validate the JSON of ``../shared/tcpsim-json.md``.

``parse_scenario(doc)`` turns a scenario (a dict, JSON text, or a path to a ``.json`` file)
into the frozen dataclasses below, which are what the simulator uses. Anything wrong raises
:class:`~tcpsim.errors.ScenarioError` with ONE line that names the field, e.g.
``actions[3].bytes: must be a positive integer``. The format is documented for students in
``docs/scenario.md``.

Conventions:

* Unknown fields are ignored at every level (outside tools may add their own); unknown
  *values* of enumerated fields (``"do": "jump"``) are errors that list the allowed values.
* ``null`` is the same as leaving a field out.
* Integers: JSON integers, or numbers with no fractional part (``1e6``); never ``true``/``false``.
  Numbers: finite (no NaN, no Infinity).
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from numbers import Integral, Real

from .connoptions import ConnectionOptions, parse_connection_options
from .errors import ScenarioError
from .frozen import fast_init   # the parts below are frozen dataclasses, built faster
from .segment import FLAG_ORDER, SEQ_MASK

__all__ = [
    "Action", "Fault", "Flood", "Host", "HostOptions", "Match", "Scenario", "ScenarioError",
    "parse_scenario", "payload_pattern", "PROFILES", "ACTIONS", "FAULT_KINDS", "FLAG_LETTERS",
    "HANDSHAKES", "ISN_STRATEGIES", "READ_MODES", "MAX_SEND_BYTES", "MAX_SECONDS", "load",
]

PROFILES = ("linux", "rfc9293")
ACTIONS = ("listen", "connect", "send", "read", "shutdown", "close", "abort", "crash")
FAULT_KINDS = ("drop", "loss", "delay", "duplicate", "inject", "flood")
FLAG_LETTERS = FLAG_ORDER           # the trace's order of TCP flag letters
HANDSHAKES = ("three-way", "two-way")
ISN_STRATEGIES = ("zero", "clock", "rfc6528", "random")
READ_MODES = ("auto", "off")
AFTER_CALLS = ("connect", "accept")     # {"after": ...}: actions relative to a connection
MAX_SEND_BYTES = 10**9
MAX_SECONDS = 10**6        # any time or delay: 11.6 days; beyond it float sums overflow to inf
SEED_RANGE = (-2**63, 2**64 - 1)


@fast_init
@dataclass(frozen=True)
class HostOptions:
    """Per-host options. ``None`` everywhere means "as the profile does"."""
    syn_retries: int | None = None          # net.ipv4.tcp_syn_retries / TCP_SYNCNT, 1..127
    synack_retries: int | None = None       # net.ipv4.tcp_synack_retries, 0..255
    syn_linear_timeouts: int | None = None  # net.ipv4.tcp_syn_linear_timeouts, 0..255
    nodelay: bool | None = None             # TCP_NODELAY: Nagle off
    linger0: bool | None = None             # SO_LINGER {1, 0}: close() aborts with RST
    timestamps: bool | None = None          # RFC 7323 timestamps
    sack: bool | None = None                # RFC 2018 SACK
    wscale: bool | int | None = None        # RFC 7323 window scale: false = off, int = shift 0..14
    msl: float | None = None                # seconds; rfc9293 TIME-WAIT = 2*msl
    delayed_ack: bool | None = None         # delay ACKs (linux default true, rfc9293 false)
    handshake: str | None = None            # "three-way" (default) | "two-way" (teaching variant)
    isn_strategy: str | None = None         # "zero" | "clock" | "rfc6528" | "random"
    time_wait: float | None = None          # seconds of TIME-WAIT, 0 = none (teaching variant)
    fin_timeout: float | None = None        # seconds, orphaned FIN-WAIT-2 (net.ipv4.tcp_fin_timeout)
    mss: int | None = None                  # clamp announced MSS (TCP_MAXSEG), 88..65495
    rcvbuf: int | None = None               # SO_RCVBUF-like receive buffer, bytes, 256..2**30
    sndbuf: int | None = None               # SO_SNDBUF-like send buffer, bytes, 256..2**30


@fast_init
@dataclass(frozen=True)
class Host:
    name: str
    port: int | None          # None: an ephemeral port chosen from the seed
    isn: int | None           # None: chosen as the profile / isn_strategy does
    options: HostOptions
    addr: str | None = None   # IPv4 address; None: 10.0.0.1 for the first host, 10.0.0.2 ...
    # the connection-management options (port_range, tw_reuse, rfc1337, reuseaddr, ...):
    # tcpsim/connoptions.py, validated and defaulted to Linux's values
    conn_options: ConnectionOptions = field(default_factory=ConnectionOptions)


@fast_init
@dataclass(frozen=True)
class Action:
    index: int                # position in the "actions" list (for messages)
    host: str
    do: str                   # listen | connect | send | read | shutdown | close | abort | crash
    at: float | None          # seconds; None when on == "eof" or after is set
    on: str | None = None     # "eof" or None
    after: str | None = None  # "connect" | "accept": runs once per such connection
    delay: float = 0.0        # with after: seconds after connect/accept returned
    to: str | None = None     # connect target host
    data: bytes | None = None # send: the payload bytes ("bytes": N becomes payload_pattern(N))
    read_mode: str | None = None   # read: "auto" | "off" | None (a one-off read)
    read_bytes: int | None = None  # read: one read of at most N bytes
    listener: bool = False    # close: the listening socket, not the newest connection
    down: float = 0.0         # crash: seconds the host stays off before it restarts


@fast_init
@dataclass(frozen=True)
class Match:
    """Which segments a fault applies to. Every field narrows; None = any."""
    from_host: str | None = None
    flags: frozenset | None = None       # exact set of flag letters, e.g. frozenset("SA")
    nth: tuple | None = None             # 1-based positions among segments matching the other fields
    data_segment: int | None = None      # k-th payload-carrying segment from from_host, first transmissions only
    between: tuple | None = None         # (t0, t1) seconds, send time inclusive


@fast_init
@dataclass(frozen=True)
class Flood:
    """A SYN flood (an extension, docs/scenario.md): ``count`` SYNs to host ``to``, evenly
    spread over ``between``, each from a different spoofed (address, port) that never
    answers."""
    to: str
    count: int
    between: tuple                       # (t0, t1) seconds
    from_addrs: tuple                    # (first address as an int, number of addresses)
    from_ports: tuple                    # (lo, hi) inclusive
    port: int | None = None              # destination port; None: the host's port


@dataclass(frozen=True)
class Fault:
    """One fault. For ``inject`` the sender is ``match.from_host`` and the other match
    fields are None; ``flags`` is then the segment's flags in ``FLAG_LETTERS`` order."""
    index: int
    kind: str                 # drop | loss | delay | duplicate | inject
    match: Match = field(default_factory=Match)
    p: float | None = None    # loss probability
    extra: float | None = None  # delay/duplicate: seconds
    # inject:
    at: float | None = None
    flags: str | None = None
    seq: int | None = None
    ack: int | None = None
    bytes: int | None = None
    win: int | None = None
    flood: Flood | None = None    # flood: what to send


@fast_init
@dataclass(frozen=True)
class Scenario:
    name: str
    profile: str
    seed: int
    delay_s: float
    mtu: int
    hosts: tuple               # tuple[Host, ...], exactly two, in document order
    actions: tuple             # tuple[Action, ...], in document order
    faults: tuple              # tuple[Fault, ...], in document order
    until: float | None        # None: run until both hosts are CLOSED with no timer (capped at 300 s)


# ---------------------------------------------------------------------------------------
# the send pattern

_BLOCK = bytes(range(251))


def payload_pattern(n: int) -> bytes:
    """The payload of ``{"do": "send", "bytes": n}``: byte i is ``i % 251`` (each send starts
    at 0). 251 is prime, so the pattern never lines up with segment sizes."""
    q, r = divmod(n, 251)
    if r == 0:
        return _BLOCK * q
    return (_BLOCK * (q + 1))[:n]


# ---------------------------------------------------------------------------------------
# small validators: each takes (value, path, ...); value None means "absent"

def _fail(path: str, text: str):
    raise ScenarioError(f"{path}: {text}")


def _show(value) -> str:
    """A short one-line rendering of a bad value for messages."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _quoted(values) -> str:
    return ", ".join(json.dumps(v) for v in values)


def _absent(path, required, default, text):
    if required:
        _fail(path, f"missing; {text}")
    return default


def _range_text(kind: str, lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"must be {kind} from {lo} to {hi}"
    if lo is not None:
        return f"must be {kind} >= {lo}"
    return f"must be {kind}"


def _int(value, path, lo=None, hi=None, *, required=False, default=None, text=None):
    """An integer in [lo, hi]: bools refused, integral floats (1e6) accepted."""
    if value is None:
        if not required:
            return default
        _fail(path, "missing; " + (text or _range_text("an integer", lo, hi)))
    if type(value) is not int:
        if isinstance(value, bool):
            value = None
        elif isinstance(value, Integral) or (isinstance(value, Real) and math.isfinite(value)
                                             and float(value).is_integer()):
            value = int(value)
        else:
            value = None
    if value is None or (lo is not None and value < lo) or (hi is not None and value > hi):
        _fail(path, text or _range_text("an integer", lo, hi))
    return value


def _positive(value, path, hi=None, *, required=False, default=None):
    """A positive integer; above ``hi`` gets its own message."""
    value = _int(value, path, 1, None, required=required, default=default,
                 text="must be a positive integer")
    if hi is not None and value is not None and value > hi:
        _fail(path, f"must be at most {hi}")
    return value


def _number_text(lo, hi, above):
    """The message of a bad number (built only when one is bad)."""
    return f"must be a number > {lo}" if above else _range_text("a number", lo, hi)


def _number(value, path, lo=None, hi=None, *, above=False, required=False, default=None,
            at_most=None):
    """A finite number >= lo (> lo with ``above``), <= hi; returned as a float. Above
    ``at_most`` (a sanity cap, such as MAX_SECONDS) it gets a message of its own."""
    if value is None:
        if not required:
            return default
        _fail(path, "missing; " + _number_text(lo, hi, above))
    t = type(value)
    if t is float or t is int:
        try:
            x = float(value)
        except OverflowError:
            _fail(path, _number_text(lo, hi, above))
    elif isinstance(value, Real) and not isinstance(value, bool):
        x = float(value)
    else:
        _fail(path, _number_text(lo, hi, above))
    if (x != x or x in (math.inf, -math.inf)
            or (lo is not None and (x <= lo if above else x < lo))
            or (hi is not None and x > hi)):
        _fail(path, _number_text(lo, hi, above))
    if at_most is not None and x > at_most:
        _fail(path, f"must be at most {at_most} (seconds)")
    return x


def _bool(value, path):
    if value is None or value is True or value is False:
        return value
    _fail(path, "must be true or false")


def _str(value, path, *, default=None):
    if value is None:
        return default
    if not isinstance(value, str):
        _fail(path, "must be a string")
    return value


def _choice(value, path, allowed, *, required=False, default=None):
    """One of ``allowed`` (a tuple of strings)."""
    if value is None:
        if not required:
            return default
        _fail(path, f"missing; must be one of {_quoted(allowed)}")
    if isinstance(value, str):
        if value in allowed:
            return value
        _fail(path, f"unknown value {_show(value)} (use one of {_quoted(allowed)})")
    _fail(path, f"must be one of {_quoted(allowed)}")


def _obj(value, path, text="must be an object"):
    """An object (dict); absent -> {}."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        _fail(path, text)
    return value


def _list(value, path):
    """A list (or tuple, from Python); absent -> ()."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        _fail(path, "must be a list")
    return value


def _flags(value, path, *, required=False):
    """A string of distinct flag letters; returned in ``FLAG_LETTERS`` order."""
    text = 'must be a string of flag letters like "SA"'
    if value is None:
        return _absent(path, required, None, text)
    if not isinstance(value, str):
        _fail(path, text)
    for i, letter in enumerate(value):
        if letter not in FLAG_LETTERS:
            _fail(path, f"unknown flag {_show(letter)} (use letters {' '.join(FLAG_LETTERS)})")
        if letter in value[:i]:
            _fail(path, f"repeated flag {_show(letter)}")
    return "".join(letter for letter in FLAG_LETTERS if letter in value)


_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
                   r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])")


def _ipv4(value, path):
    if value is None:
        return None
    if not isinstance(value, str) or _IPV4.fullmatch(value) is None:
        _fail(path, 'must be a dotted IPv4 address like "10.0.0.1"')
    return value


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-]+")


def _key(parent: str, name: str) -> str:
    """``hosts.client``, or ``hosts["odd name"]`` when the name is not plain."""
    if _PLAIN_NAME.fullmatch(name):
        return f"{parent}.{name}"
    return f"{parent}[{json.dumps(name)}]"


# ---------------------------------------------------------------------------------------
# the parts of a scenario

_BOOL_OPTIONS = ("nodelay", "linger0", "timestamps", "sack", "delayed_ack")

_OPTIONS = {
    "syn_retries": lambda v, p: _int(v, p, 1, 127),
    "synack_retries": lambda v, p: _int(v, p, 0, 255),
    "syn_linear_timeouts": lambda v, p: _int(v, p, 0, 255),
    **{name: _bool for name in _BOOL_OPTIONS},
    "wscale": lambda v, p: v if v is True or v is False else _int(
        v, p, 0, 14, text="must be true, false or an integer from 0 to 14"),
    "msl": lambda v, p: _number(v, p, 0, at_most=MAX_SECONDS),
    "delayed_ack": _bool,
    "handshake": lambda v, p: _choice(v, p, HANDSHAKES),
    "isn_strategy": lambda v, p: _choice(v, p, ISN_STRATEGIES),
    "time_wait": lambda v, p: _number(v, p, 0, at_most=MAX_SECONDS),
    "fin_timeout": lambda v, p: _number(v, p, 0, at_most=MAX_SECONDS),
    "mss": lambda v, p: _int(v, p, 88, 65495),
    "rcvbuf": lambda v, p: _int(v, p, 256, 2**30),
    "sndbuf": lambda v, p: _int(v, p, 256, 2**30),
}

_NO_OPTIONS = HostOptions()


def _options(value, path) -> HostOptions:
    value = _obj(value, path)
    given = {}
    for key, item in value.items():
        check = _OPTIONS.get(key) if isinstance(key, str) else None
        if check is not None and item is not None:
            given[key] = check(item, f"{path}.{key}")
    return HostOptions(**given) if given else _NO_OPTIONS


_DEFAULT_CONN_OPTIONS = ConnectionOptions()


def _conn_options(value, path) -> ConnectionOptions:
    """The options of "Additions for the rest of the course" (tcpsim/connoptions.py); null
    is the same as leaving an option out, as everywhere in a scenario."""
    if not isinstance(value, dict) or not value:
        return _DEFAULT_CONN_OPTIONS
    given = {key: item for key, item in value.items() if item is not None}
    return parse_connection_options(given, path) if given else _DEFAULT_CONN_OPTIONS


def _hosts(value) -> tuple:
    text = "must be an object with exactly two hosts"
    if value is None:
        _fail("hosts", "missing; " + text)
    if not isinstance(value, dict) or len(value) != 2:
        _fail("hosts", text)
    hosts = []
    for name, spec in value.items():
        if not isinstance(name, str) or not name:
            _fail("hosts", "host names must be non-empty strings")
        path = _key("hosts", name)
        if not isinstance(spec, dict):
            _fail(path, "must be an object")
        options = spec.get("options")
        hosts.append(Host(
            name=name,
            port=_int(spec.get("port"), path + ".port", 1, 65535),
            isn=_int(spec.get("isn"), path + ".isn", 0, SEQ_MASK),
            options=_options(options, path + ".options"),
            addr=_ipv4(spec.get("addr"), path + ".addr"),
            conn_options=_conn_options(options, path + ".options"),
        ))
    return tuple(hosts)


def _action(index: int, spec, names: tuple) -> Action:
    path = f"actions[{index}]"
    if not isinstance(spec, dict):
        _fail(path, "must be an object")
    get = spec.get
    host = _choice(get("host"), path + ".host", names, required=True)
    do = _choice(get("do"), path + ".do", ACTIONS, required=True)
    at, on, after = get("at"), get("on"), get("after")
    if (at is None) + (on is None) + (after is None) != 2:       # exactly one of the three
        given = [key for key, value in (("at", at), ("on", on), ("after", after))
                 if value is not None]
        if not given:
            _fail(path, 'needs "at" (seconds) or "on": "eof"'
                        ' (or "after": "connect" / "accept")')
        _fail(path, f'has both "{given[0]}" and "{given[1]}"; use one')
    at = _number(at, path + ".at", 0, at_most=MAX_SECONDS)
    on = _choice(on, path + ".on", ("eof",))
    delay = 0.0
    if after is not None:
        after = _choice(after, path + ".after", AFTER_CALLS)
        delay = _number(get("delay"), path + ".delay", 0, default=0.0, at_most=MAX_SECONDS)
    elif get("delay") is not None:
        _fail(path + ".delay", 'goes with "after": "connect" or "accept"')
    to = data = read_mode = read_bytes = None
    listener = False
    down = 0.0
    if get("down") is not None and do != "crash":
        _fail(path + ".down", 'goes with "do": "crash"')
    if do == "crash":
        if at is None:
            _fail(path + ".at", 'a crash needs "at" (seconds), not "on" or "after"')
        down = _number(get("down"), path + ".down", 0, default=0.0, at_most=MAX_SECONDS)
    if do == "connect":
        other = names[1] if host == names[0] else names[0]
        to = get("to")
        if to is None:
            _fail(path + ".to", f"missing; must be {json.dumps(other)} (the other host)")
        if to != other or not isinstance(to, str):
            _fail(path + ".to", f"must be {json.dumps(other)} (the other host)")
    elif do == "send":
        count, text = get("bytes"), get("data")
        if (count is None) == (text is None):
            _fail(path, "send needs bytes or data" if count is None
                  else "send takes bytes or data, not both")
        if count is not None:
            data = payload_pattern(_positive(count, path + ".bytes", MAX_SEND_BYTES))
        else:
            if not isinstance(text, str) or not text:
                _fail(path + ".data", "must be a non-empty string")
            try:
                data = text.encode("utf-8")
            except UnicodeEncodeError:
                _fail(path + ".data", "must be valid Unicode text (no lone surrogates)")
    elif do == "close" and get("listener") is not None:
        if _bool(get("listener"), path + ".listener"):
            listener = True
    elif do == "read":
        mode, count = get("mode"), get("bytes")
        if (mode is None) == (count is None):
            _fail(path, "read needs mode or bytes" if mode is None
                  else "read takes mode or bytes, not both")
        read_mode = _choice(mode, path + ".mode", READ_MODES)
        read_bytes = _positive(count, path + ".bytes")
    return Action(index=index, host=host, do=do, at=at, on=on, after=after, delay=delay,
                  to=to, data=data, read_mode=read_mode, read_bytes=read_bytes,
                  listener=listener, down=down)


def _check_crashes(actions: tuple) -> None:
    """A crashed host runs no application until it restarts: a timed action of that host
    while it is down is refused, naming both actions."""
    for crash in actions:
        if crash.do != "crash" or crash.down <= 0:
            continue
        end = crash.at + crash.down
        for action in actions:
            if action.host == crash.host and action.at is not None and \
                    crash.at < action.at < end:
                _fail(f"actions[{action.index}].at",
                      f"{crash.host!r} is down from {crash.at:g} s to {end:g} s "
                      f"(actions[{crash.index}], crash); act at {end:g} s or later")


def _item(value):
    """A list element: null there is a wrong value, not an absent one (NaN fails every check)."""
    return math.nan if value is None else value


def _between(value, path):
    if value is None:
        return None
    text = "must be a list [t0, t1] of numbers with 0 <= t0 <= t1"
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        _fail(path, text)
    t0 = _number(_item(value[0]), path + "[0]", 0)
    t1 = _number(_item(value[1]), path + "[1]", 0)
    if t0 > t1:
        _fail(path, text)
    return (t0, t1)


def _nth(value, path):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        if not value:
            _fail(path, "must be a positive integer or a non-empty list of positive integers")
        return tuple(sorted({_positive(_item(n), f"{path}[{i}]") for i, n in enumerate(value)}))
    return (_int(value, path, 1, None,
                 text="must be a positive integer or a non-empty list of positive integers"),)


def _fault(index: int, spec, names: tuple) -> Fault:
    path = f"faults[{index}]"
    if not isinstance(spec, dict):
        _fail(path, "must be an object")
    kinds = [k for k in FAULT_KINDS if k in spec]
    if not kinds:
        found = ", ".join(_show(k) for k in list(spec)[:5])
        _fail(path, f"needs one of the keys {_quoted(FAULT_KINDS)}"
              + (f" (found {found})" if found else ""))
    if len(kinds) > 1:
        _fail(path, f"has both {json.dumps(kinds[0])} and {json.dumps(kinds[1])}; "
                    "use one kind per fault")
    kind = kinds[0]
    path = f"{path}.{kind}"
    body = spec[kind]
    if not isinstance(body, dict):
        _fail(path, "must be an object")
    get = body.get
    if kind == "flood":
        return Fault(index=index, kind=kind, flood=_flood(body, path, names))
    from_host = _choice(get("from"), path + ".from", names, required=(kind == "inject"))
    if kind == "inject":
        return Fault(
            index=index, kind=kind, match=Match(from_host=from_host),
            at=_number(get("at"), path + ".at", 0, required=True, at_most=MAX_SECONDS),
            flags=_flags(get("flags"), path + ".flags", required=True),
            seq=_int(get("seq"), path + ".seq", 0, SEQ_MASK, default=0),
            ack=_int(get("ack"), path + ".ack", 0, SEQ_MASK, default=0),
            bytes=_int(get("bytes"), path + ".bytes", 0, 65535, default=0),
            win=_int(get("win"), path + ".win", 0, 65535),
        )
    between = _between(get("between"), path + ".between")
    if kind == "loss":
        for key in ("flags", "nth", "data_segment"):
            if get(key) is not None:
                _fail(f"{path}.{key}", 'loss takes only "p", "from" and "between"')
        return Fault(index=index, kind=kind, match=Match(from_host=from_host, between=between),
                     p=_number(get("p"), path + ".p", 0, 1, required=True))
    flags = _flags(get("flags"), path + ".flags")
    match = Match(
        from_host=from_host,
        flags=None if flags is None else frozenset(flags),
        nth=_nth(get("nth"), path + ".nth"),
        data_segment=_positive(get("data_segment"), path + ".data_segment"),
        between=between,
    )
    extra = None
    if kind != "drop":
        extra = _number(get("extra"), path + ".extra", 0, above=True, required=True, at_most=MAX_SECONDS)
    return Fault(index=index, kind=kind, match=match, extra=extra)


FLOOD_ADDRS_DEFAULT = "198.51.100.0/24"   # TEST-NET-2 (RFC 5737): addresses nobody holds
FLOOD_PORTS_DEFAULT = (1024, 65535)
MAX_FLOOD_SYNS = 100_000


def _cidr(value, path):
    """``"198.51.100.0/24"``: (first address as an int, number of addresses)."""
    text = 'must be an IPv4 network like "198.51.100.0/24" (prefix 8 to 32)'
    if not isinstance(value, str) or value.count("/") != 1:
        _fail(path, text)
    addr, prefix = value.split("/")
    if _IPV4.fullmatch(addr) is None or not prefix.isdigit() or not 8 <= int(prefix) <= 32:
        _fail(path, text)
    size = 1 << (32 - int(prefix))
    first = int.from_bytes(bytes(int(part) for part in addr.split(".")), "big") & -size
    return (first, size)


def _flood(body, path, names):
    get = body.get
    known = ("to", "count", "between", "from_addrs", "from_ports", "port")
    for key in body:
        if key not in known:
            _fail(f"{path}.{key}", f"unknown field (use {', '.join(known)})")
    to = _choice(get("to"), path + ".to", names, required=True)
    count = _positive(get("count"), path + ".count", MAX_FLOOD_SYNS, required=True)
    between = _between(get("between"), path + ".between")
    if between is None:
        _fail(path + ".between", "missing; must be a list [t0, t1] of numbers with 0 <= t0 <= t1")
    if between[1] > MAX_SECONDS:
        _fail(path + ".between", f"must end by {MAX_SECONDS} s")
    addrs = _cidr(get("from_addrs", FLOOD_ADDRS_DEFAULT), path + ".from_addrs")
    ports = get("from_ports")
    if ports is None:
        ports = FLOOD_PORTS_DEFAULT
    else:
        if not isinstance(ports, (list, tuple)) or len(ports) != 2:
            _fail(path + ".from_ports", "must be a list [lo, hi] of ports 1 to 65535")
        lo = _int(_item(ports[0]), path + ".from_ports[0]", 1, 65535)
        hi = _int(_item(ports[1]), path + ".from_ports[1]", 1, 65535)
        if lo > hi:
            _fail(path + ".from_ports", "lo must be <= hi")
        ports = (lo, hi)
    pairs = addrs[1] * (ports[1] - ports[0] + 1)
    if count > pairs:
        _fail(path + ".count", f"must be at most {pairs}, the (address, port) pairs of "
                               "from_addrs and from_ports (each SYN has its own)")
    return Flood(to=to, count=count, between=between, from_addrs=addrs, from_ports=ports,
                 port=_int(get("port"), path + ".port", 1, 65535))


# ---------------------------------------------------------------------------------------
# reading the document

def load(doc) -> dict:
    """The scenario document from a dict, JSON text, or a path to a JSON file, unchecked.

    Raises ScenarioError (one line) for a missing or unreadable file and for invalid JSON;
    ``parse_scenario`` then checks the fields. JSON text may start with a byte-order mark."""
    if isinstance(doc, dict):
        return doc
    if isinstance(doc, str) and doc.lstrip(_BOM_AND_SPACE).startswith("{"):
        return _decode(doc.lstrip(_BOM_AND_SPACE), "(JSON text)")
    if isinstance(doc, (str, os.PathLike)):
        try:
            name = os.fspath(doc)
        except TypeError:
            name = None
        if isinstance(name, str):
            shown = name if name.isprintable() else repr(name)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            try:
                with open(name, "rb") as f:
                    raw = f.read()
            except FileNotFoundError:
                raise ScenarioError(f"{shown}: no such file") from None
            except (OSError, ValueError) as e:
                reason = getattr(e, "strerror", None) or str(e)
                raise ScenarioError(f"{shown}: cannot read ({reason})") from None
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as e:
                raise ScenarioError(f"{shown}: not UTF-8 text (byte {e.start})") from None
            return _decode(text, shown)
    _fail("(top level)", "must be an object (a dict, JSON text, or a path to a .json file)")


_BOM_AND_SPACE = "\ufeff \t\r\n"


def _decode(text: str, where: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ScenarioError(
            f"{where}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except (ValueError, RecursionError) as e:   # e.g. an integer with > 4300 digits
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ScenarioError(f"{where}: invalid JSON: {first}") from None


def parse_scenario(doc) -> Scenario:
    """Parse and validate a scenario: a dict, JSON text (a string starting with ``{``), or a
    path (str or ``pathlib.Path``) to a JSON file. Raises ScenarioError (one line, naming
    the field) when anything is wrong; unknown fields are ignored."""
    if isinstance(doc, Scenario):
        return doc
    d = load(doc)
    if not isinstance(d, dict):
        _fail("(top level)", "must be an object")
    get = d.get
    _int(get("tcpsim"), "tcpsim", 1, 1, text="must be 1")
    name = _str(get("name"), "name", default="scenario")
    profile = _choice(get("profile"), "profile", PROFILES, default="linux")
    seed = _int(get("seed"), "seed", default=0)
    if not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:     # str(seed) seeds the generator
        _fail("seed", "must be an integer from -2**63 to 2**64 - 1")
    link = _obj(get("link"), "link")
    delay_s = _number(link.get("delay"), "link.delay", 0, default=0.00001, at_most=MAX_SECONDS)
    mtu = _int(link.get("mtu"), "link.mtu", 68, 65536, default=65536)
    hosts = _hosts(get("hosts"))
    names = (hosts[0].name, hosts[1].name)
    actions = tuple(_action(i, a, names) for i, a in enumerate(_list(get("actions"), "actions")))
    _check_crashes(actions)
    faults = _list(get("faults"), "faults")
    return Scenario(
        name=name, profile=profile, seed=seed, delay_s=delay_s, mtu=mtu, hosts=hosts,
        actions=actions,
        faults=tuple(_fault(i, f, names) for i, f in enumerate(faults)),
        until=_number(get("until"), "until", 0, above=True, at_most=MAX_SECONDS),
    )
