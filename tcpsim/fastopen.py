"""TCP Fast Open (RFC 7413) as Linux does it (net/ipv4/tcp_fastopen.c).

What this is
------------
Pure functions for both ends: what a client's SYN carries (:func:`client_syn`), what a
listener does with it (:func:`server_on_syn`, ``tcp_try_fastopen()``), and the cookie
(:func:`make_cookie`, a keyed hash in place of the kernel's siphash of the two addresses
with ``net.ipv4.tcp_fastopen_key``).

The story, as measured on this machine (tests/test_kernel_connections.py):

1. **First connection: a cookie request.** The client has no cookie for this server, so its
   SYN carries an *empty* Fast Open option (kind 34, length 2) and **no data**; ``sendto(...,
   MSG_FASTOPEN)`` on a non-blocking socket returns EINPROGRESS and the data goes after the
   handshake, as usual. The listener (``TCP_FASTOPEN`` set, ``tcp_fastopen`` bit 0x2)
   answers with a SYN-ACK carrying an 8-byte cookie; the client caches it per server
   address (``tcp_fastopen_cache_set()``).
2. **Next connections: data in the SYN.** The SYN carries the cookie and the first bytes
   of data. If the cookie is valid, the listener creates the child socket **at once**
   (``tcp_fastopen_create_child()``, state SYN-RECEIVED), queues the data on it and puts it
   on the accept queue: the server's application can ``accept()`` and ``read()`` the data
   before the handshake completes, one round trip earlier than without TFO. The SYN-ACK
   acknowledges the data (``ack = client ISN + 1 + len``) and carries no cookie.
3. **A bad cookie** (e.g. the server's key changed): the data in the SYN is ignored, the
   SYN-ACK acknowledges only the SYN and carries a fresh cookie; the client sends the data
   again after the handshake.
4. **Too many pending Fast Open requests** (more than the listener's ``TCP_FASTOPEN``
   queue length): an ordinary handshake, no cookie.

``net.ipv4.tcp_fastopen`` bits (Documentation/networking/ip-sysctl.rst): 0x1 client, 0x2
server, 0x4 client sends data without a cookie, 0x200 server accepts data without a cookie,
0x400 server without the socket option. Default 0x1: client only.

Not modelled: the cookie-less modes (0x4, 0x200), the backup key, TFO blackhole detection
(``tcp_fastopen_blackhole_timeout_sec``), TCP_FASTOPEN_CONNECT, the experimental option
(kind 254), and the exact amount of data a SYN may carry (the client limits it to what fits
one MSS after options, ``tcp_send_syn_data()``; the live test only sends small payloads).
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ScenarioError
from .keyedhash import keyed_hash

TCPOPT_FASTOPEN = 34                 # include/net/tcp.h; RFC 7413 §4.1.1
TCP_FASTOPEN_COOKIE_SIZE = 8         # include/linux/tcp.h: what Linux generates
TCP_FASTOPEN_COOKIE_MIN = 4          # RFC 7413 §4.1.1: 4 to 16 bytes, even
TCP_FASTOPEN_COOKIE_MAX = 16
TFO_CLIENT_ENABLE = 0x1              # include/net/tcp.h, net.ipv4.tcp_fastopen bits
TFO_SERVER_ENABLE = 0x2
TFO_CLIENT_NO_COOKIE = 0x4
TFO_SERVER_COOKIE_NOT_REQD = 0x200
TFO_SERVER_WO_SOCKOPT1 = 0x400
TCP_FASTOPEN_SYSCTL_DEFAULT = TFO_CLIENT_ENABLE


def validate_fastopen(value, field: str) -> bool:
    """``options.fastopen``: true or false."""
    if not isinstance(value, bool):
        raise ScenarioError(f"{field}: must be true or false, not {value!r}")
    return value


def make_cookie(secret: bytes, client_addr: str, server_addr: str) -> bytes:
    """The server's cookie for a client (``__tcp_fastopen_cookie_gen_cipher()``): a keyed
    hash of the two addresses, 8 bytes. Not of the ports: it is valid for any connection
    from that client address, until the key changes."""
    return keyed_hash(secret, "tfo", client_addr, server_addr,
                      bits=8 * TCP_FASTOPEN_COOKIE_SIZE).to_bytes(TCP_FASTOPEN_COOKIE_SIZE, "big")


def tfo_option(cookie: bytes | None) -> str:
    """The trace's ``options.tfo`` value: "" for a cookie request, else the cookie as hex."""
    return "" if not cookie else cookie.hex()


def parse_tfo_option(value: str) -> bytes:
    """Read ``options.tfo`` back; errors name the field."""
    if not isinstance(value, str):
        raise ScenarioError(f"options.tfo: must be a string of hex digits, not {value!r}")
    try:
        cookie = bytes.fromhex(value)
    except ValueError:
        raise ScenarioError(f"options.tfo: not hex: {value!r}") from None
    if cookie and not (TCP_FASTOPEN_COOKIE_MIN <= len(cookie) <= TCP_FASTOPEN_COOKIE_MAX):
        raise ScenarioError(f"options.tfo: a cookie is {TCP_FASTOPEN_COOKIE_MIN} to "
                            f"{TCP_FASTOPEN_COOKIE_MAX} bytes, not {len(cookie)}")
    return cookie


def client_syn(cached_cookie: bytes | None, data_len: int, max_syn_data: int) -> dict:
    """What a Fast Open client's SYN carries: ``{"tfo": ..., "data_len": n}``.

    No cookie yet: the empty option (a request) and no data. With a cookie: the cookie and
    up to ``max_syn_data`` bytes of the first send.
    """
    if data_len < 0 or max_syn_data < 0:
        raise ValueError("data_len, max_syn_data: must be >= 0")
    if not cached_cookie:
        return {"tfo": "", "data_len": 0}
    return {"tfo": tfo_option(cached_cookie), "data_len": min(data_len, max_syn_data)}


@dataclass(frozen=True)
class TfoVerdict:
    """``tcp_try_fastopen()`` on a listener."""
    child_now: bool            # a child socket exists from the SYN on (accept() returns it)
    data_accepted: int         # bytes of the SYN's data queued and acknowledged by the SYN-ACK
    synack_cookie: bytes | None   # the cookie the SYN-ACK carries (None: no option)
    reason: str


def server_on_syn(*, tfo: str | None, data_len: int, valid_cookie: bytes,
                  listener_fastopen: bool = True, pending: int = 0, max_pending: int = 16) -> TfoVerdict:
    """What a listener makes of a SYN's Fast Open option (``tfo``: None = no option,
    "" = request, else the cookie's hex) and its ``data_len`` bytes of data.

    ``valid_cookie``: :func:`make_cookie` for this client; ``pending``: Fast Open children
    not yet past the handshake; ``max_pending``: the listener's TCP_FASTOPEN queue length.
    """
    if not listener_fastopen or tfo is None:
        return TfoVerdict(False, 0, None, "no Fast Open: an ordinary handshake; data in the "
                                          "SYN, if any, is not acknowledged")
    if pending >= max_pending:
        return TfoVerdict(False, 0, None, "Fast Open queue full: an ordinary handshake")
    cookie = parse_tfo_option(tfo)
    if not cookie:
        return TfoVerdict(False, 0, valid_cookie, "cookie request: the SYN-ACK carries a cookie")
    if cookie != valid_cookie:
        return TfoVerdict(False, 0, valid_cookie, "invalid cookie: data ignored, a fresh cookie "
                                                  "in the SYN-ACK, the client resends the data")
    return TfoVerdict(True, data_len, None, "valid cookie: child created now, the data is "
                                            "readable before the handshake completes")
