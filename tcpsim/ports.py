"""Ephemeral ports: which local port a host takes for ``connect()`` or ``bind(port 0)``.

What this is
------------
A sans-IO model of how Linux chooses a local port, deterministic from a seed. It knows
nothing of sockets: the caller passes a function ``usable(port) -> bool`` that says whether
*this* port may be taken (the simulator answers it from its connection table and the
TIME-WAIT rules in :mod:`tcpsim.timewait`).

connect() with no port bound: ``__inet_hash_connect()`` (net/ipv4/inet_hashtables.c)
    RFC 6056 §3.3.4, "Algorithm 4: double-hash port selection":

    * ``port_offset = secure_ipv4_port_ephemeral(saddr, daddr, dport)``, a 64-bit keyed
      hash of the *destination* (and our address; not our port). Its low 16 bits pick a slot
      of ``table_perturb`` (2**16 counters, random at boot); its high 32 bits are added to
      that counter: ``offset = (table_perturb[index] + (port_offset >> 32)) % remaining``.
    * ``remaining = hi - lo + 1`` rounded down to even, and ``offset`` rounded down to even:
      the first scan tries the ports of **lo's parity** (lo, lo+2, ...), stepping by 2 and
      wrapping; if none is usable a second scan tries the other parity. (``bind(0)`` does
      the opposite, so servers' ports and clients' ports rarely collide.)
    * A port is taken if no socket has it, or if only ``connect()``-ed sockets have it and
      the 4-tuple is unique (``__inet_check_established()``: a TIME-WAIT holder of the same
      4-tuple may be taken over when ``tcp_twsk_unique()`` agrees). A port held by a
      ``bind()`` (a listener, an explicit bind) is skipped. So one port can serve many
      destinations at once, and exhaustion is **per destination**.
    * After success ``table_perturb[index] += max(i, random(0..7) * 2) + 2`` (``i``: how far
      the scan went), so consecutive connections to one destination get ports that rise by
      an even step of 2 to 16 when nothing is in the way.
    * Nothing usable: ``connect()`` fails with ``EADDRNOTAVAIL``.

bind() to port 0: ``inet_csk_find_open_port()`` (net/ipv4/inet_connection_sock.c)
    A random offset made **odd**: the first scan tries the ports of the parity opposite to
    lo's, then the other parity. With SO_REUSEADDR the lower half of the range is tried
    first, then the upper half. Nothing usable: ``EADDRINUSE``.

:meth:`EphemeralPorts.connect` is the reference, port by port as the kernel scans;
:meth:`EphemeralPorts.connect_held` makes the same choices from a :class:`HeldPorts` in a
few C-speed searches (the scan is quadratic when a range fills up).

Not modelled: ``ip_local_reserved_ports`` beyond a set of ports to skip, the per-socket
``IP_LOCAL_PORT_RANGE`` option (which scans with step 1), ``ip_autobind_reuse``, and IPv6.
"""
from __future__ import annotations

from collections.abc import Callable

from .errors import ScenarioError
from .keyedhash import keyed_hash

LINUX_DEFAULT_PORT_RANGE = (32768, 60999)  # net.ipv4.ip_local_port_range default
LINUX_MIN_PORT_RANGE_LO = 1024   # the sysctl refuses lo < net.ipv4.ip_unprivileged_port_start
MAX_PORT = 65535
PERTURB_TABLE_SIZE = 1 << 16     # INET_TABLE_PERTURB_SIZE, CONFIG_INET_TABLE_PERTURB_ORDER=16
PERTURB_RANDOM_STEPS = 8         # get_random_u32_below(8) in __inet_hash_connect()
U32 = 0xFFFFFFFF


class PortsExhausted(Exception):
    """No local port is usable. ``errno_name`` is what the application sees."""

    def __init__(self, errno_name: str, text: str):
        super().__init__(f"{errno_name}: {text}")
        self.errno_name = errno_name


def validate_port_range(value, field: str) -> tuple[int, int]:
    """Check a scenario's ``port_range`` ``[lo, hi]`` as Linux's sysctl does; return (lo, hi).

    Errors are one line naming ``field``, e.g. ``hosts.client.options.port_range: lo must
    be <= hi``. The bounds are the sysctl's: ``ipv4_local_port_range()`` (net/ipv4/
    sysctl_net_ipv4.c) refuses lo > hi and lo below ip_unprivileged_port_start (1024).
    """
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ScenarioError(f"{field}: must be [lo, hi], two port numbers")
    for name, port in zip(("lo", "hi"), value):
        if isinstance(port, bool) or not isinstance(port, int):
            raise ScenarioError(f"{field}: {name} must be an integer, not {port!r}")
        if not LINUX_MIN_PORT_RANGE_LO <= port <= MAX_PORT:
            raise ScenarioError(f"{field}: {name} must be between {LINUX_MIN_PORT_RANGE_LO} "
                                f"and {MAX_PORT} (linux refuses ports below "
                                f"ip_unprivileged_port_start), not {port}")
    lo, hi = value
    if lo > hi:
        raise ScenarioError(f"{field}: lo must be <= hi (got [{lo}, {hi}])")
    return lo, hi


class EphemeralPorts:
    """One host's ephemeral-port state: its ``table_perturb`` and its random draws.

    ``secret`` stands in for the kernel's boot-time secrets (use
    ``keyedhash.secret_from_seed(seed, "ports")``); ``reserved`` for
    ``ip_local_reserved_ports``.
    """

    def __init__(self, secret: bytes, port_range=LINUX_DEFAULT_PORT_RANGE, reserved=()):
        self.lo, self.hi = validate_port_range(list(port_range), "port_range")
        self.secret = secret
        self.reserved = frozenset(reserved)
        self._perturb: dict[int, int] = {}
        self._offsets: dict[tuple, int] = {}
        self._rng = _Draws(int.from_bytes(bytes(secret[:8]).ljust(8, b"\0"), "big"))

    # ------------------------------------------------------------------ connect()
    def port_offset(self, saddr: str, daddr: str, dport: int) -> int:
        """``secure_ipv4_port_ephemeral()``: a 64-bit keyed hash of (saddr, daddr, dport),
        remembered per destination (the same for every connect to it)."""
        key = (saddr, daddr, dport)
        offset = self._offsets.get(key)
        if offset is None:
            offset = self._offsets[key] = keyed_hash(self.secret, "port_offset", saddr, daddr,
                                                     dport, bits=64)
        return offset

    def _perturb_value(self, index: int) -> int:
        # table_perturb starts random (get_random_sleepable_once()); drawn lazily, keyed.
        if index not in self._perturb:
            self._perturb[index] = keyed_hash(self.secret, "table_perturb", index)
        return self._perturb[index]

    def connect(self, saddr: str, daddr: str, dport: int,
                usable: Callable[[int], bool]) -> int:
        """The port ``connect()`` takes for (saddr -> daddr:dport), or ``PortsExhausted``.

        ``usable(port)``: False when a ``bind()`` holds the port, or a connection that may
        not be taken over holds the 4-tuple (saddr, port, daddr, dport).
        """
        low, high = self.lo, self.hi + 1         # [32768, 60999] -> [32768, 61000[
        remaining = high - low
        if remaining > 1:
            remaining &= ~1
        port_offset = self.port_offset(saddr, daddr, dport)
        index = port_offset & (PERTURB_TABLE_SIZE - 1)
        offset = ((self._perturb_value(index) + (port_offset >> 32)) & U32) % remaining
        offset &= ~1                             # first pass: ports of lo's parity
        while True:
            port, i = self._scan(low, high, remaining, offset, usable)
            if port is not None:
                step = max(i, self._rng.randrange(PERTURB_RANDOM_STEPS) * 2)
                self._perturb[index] = (self._perturb[index] + step + 2) & U32
                return port
            offset += 1
            if not ((offset & 1) and remaining > 1):
                break                            # both parities scanned
        raise PortsExhausted("EADDRNOTAVAIL", f"no free local port in [{self.lo}, {self.hi}] "
                                              f"for {daddr}:{dport}")

    def _scan(self, low, high, remaining, offset, usable):
        """One pass of the kernel's loop: ports low+offset, +2, +4, ... wrapping at high
        (``if (port >= high) port -= remaining``); reserved ports are passed over. Returns
        (port, i) for the first usable one, i being how far the scan went, or (None, None)."""
        for i in range(0, remaining, 2):
            port = low + offset + i
            if port >= high:
                port -= remaining
            if port not in self.reserved and usable(port):
                return port, i
        return None, None

    def held_ports(self) -> HeldPorts:
        """An empty :class:`HeldPorts` for one destination (reserved ports already held)."""
        return HeldPorts(self.lo, self.hi, self.reserved)

    def connect_held(self, saddr: str, daddr: str, dport: int, held: HeldPorts) -> int:
        """Exactly :meth:`connect` with ``usable(p) = p not in held``, without the
        port-by-port scan.

        Near exhaustion :meth:`connect` calls ``usable`` for every port it passes, as the
        kernel's loop does: filling the default range for one destination makes 2e8 calls
        (170 s here). This finds the same port with at most four ``bytearray.find`` calls on
        the :class:`HeldPorts` that the caller keeps per destination (``hold()`` a port when
        its 4-tuple is taken, ``release()`` it when the connection is gone or a TIME-WAIT
        holder may be taken over). It does not hold the port it returns.
        """
        low, high = self.lo, self.hi + 1
        size = high - low
        remaining = size & ~1 if size > 1 else size
        last_i = ((remaining - 1) // 2) * 2                  # the scan's largest i
        port_offset = self.port_offset(saddr, daddr, dport)
        index = port_offset & (PERTURB_TABLE_SIZE - 1)
        offset = ((self._perturb_value(index) + (port_offset >> 32)) & U32) % remaining
        offset &= ~1
        while True:
            # The scan visits positions offset + i (i = 0, 2, ..., last_i) while they are
            # below size, then offset + i - remaining (the kernel's "port -= remaining").
            i = None
            pos = held.first_free(offset, min(size - 1, offset + last_i))
            if pos is not None:
                i = pos - offset
            else:
                i_wrap = max(0, size - offset)
                i_wrap += i_wrap & 1
                if i_wrap <= last_i:
                    pos = held.first_free(offset + i_wrap - remaining, offset + last_i - remaining)
                    if pos is not None:
                        i = pos + remaining - offset
            if i is not None:
                step = max(i, self._rng.randrange(PERTURB_RANDOM_STEPS) * 2)
                self._perturb[index] = (self._perturb[index] + step + 2) & U32
                return low + pos
            offset += 1
            if not ((offset & 1) and remaining > 1):
                break
        raise PortsExhausted("EADDRNOTAVAIL", f"no free local port in [{self.lo}, {self.hi}] "
                                              f"for {daddr}:{dport}")

    # ------------------------------------------------------------------ bind(port 0)
    def bind_any(self, usable: Callable[[int], bool], reuseaddr: bool = False) -> int:
        """The port ``bind(addr, 0)`` takes (``inet_csk_find_open_port()``), or ``PortsExhausted``.

        ``usable(port)``: False when binding that port would conflict
        (:func:`tcpsim.timewait.bind_conflict`).
        """
        attempt_half = 1 if reuseaddr else 0
        while True:
            low, high = self.lo, self.hi + 1
            if high - low < 4:
                attempt_half = 0
            if attempt_half:
                half = low + (((high - low) >> 2) << 1)
                if attempt_half == 1:
                    high = half
                else:
                    low = half
            remaining = high - low
            if remaining > 1:
                remaining &= ~1
            offset = self._rng.getrandbits(32) % remaining
            offset |= 1                          # the parity connect() does not favour
            while True:
                port, _ = self._scan(low, high, remaining, offset, usable)
                if port is not None:
                    return port
                offset -= 1
                if offset & 1:
                    break
            if attempt_half != 1:
                break
            attempt_half = 2                     # now the upper half of the range
        raise PortsExhausted("EADDRINUSE", f"no free local port in [{self.lo}, {self.hi}] to bind")



class _Draws:
    """The kernel's ``get_random_u32_below()`` draws, reproducible from the secret: a 64-bit
    linear congruential generator (Knuth's MMIX constants), high bits first. Seeding
    ``random.Random`` cost 14 us, a third of a short scenario's port set-up."""

    __slots__ = ("state",)
    MULTIPLIER = 6364136223846793005
    INCREMENT = 1442695040888963407
    MASK = (1 << 64) - 1

    def __init__(self, seed: int):
        self.state = seed & self.MASK

    def getrandbits(self, k: int) -> int:
        self.state = (self.state * self.MULTIPLIER + self.INCREMENT) & self.MASK
        return self.state >> (64 - k)

    def randrange(self, n: int) -> int:
        return (self.getrandbits(32) * n) >> 32


class HeldPorts:
    """The ports of [lo, hi] that one destination cannot use, for :meth:`connect_held`.

    Kept as two bytearrays, one per parity of the position ``port - lo`` (position
    ``2 * j + c`` is ``classes[c][j]``; nonzero = held), because the kernel's scan steps by 2:
    the next free port of a parity is then one ``bytearray.find(0, ...)``, a C loop.
    """

    def __init__(self, lo: int, hi: int, reserved=()):
        size = hi - lo + 1
        self.lo, self.hi = lo, hi
        self.classes = (bytearray((size + 1) // 2), bytearray(size // 2))
        self.reserved = frozenset(p for p in reserved if lo <= p <= hi)
        for port in self.reserved:
            self._set(port, 1)

    def _set(self, port: int, value: int):
        if not self.lo <= port <= self.hi:
            raise ValueError(f"port: {port} is outside [{self.lo}, {self.hi}]")
        pos = port - self.lo
        self.classes[pos & 1][pos >> 1] = value

    def hold(self, port: int):
        self._set(port, 1)

    def release(self, port: int):
        if port not in self.reserved:
            self._set(port, 0)

    def __contains__(self, port: int) -> bool:
        pos = port - self.lo
        return self.lo <= port <= self.hi and bool(self.classes[pos & 1][pos >> 1])

    def first_free(self, first: int, last: int) -> int | None:
        """The first free position p in [first, last] with p's parity = first's, or None."""
        if first < 0 or last < first:
            return None
        c = first & 1
        j = self.classes[c].find(0, first >> 1, ((last - c) >> 1) + 1)
        return None if j < 0 else 2 * j + c
