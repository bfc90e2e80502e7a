"""Small real-socket experiments, run *inside* a network namespace by
tests/test_kernel_connections.py (``ip netns exec NS python kernel_experiments.py NAME JSON``).

Each experiment opens real sockets on 127.0.0.1, does one thing the kernel decides, and
prints one JSON object of what the application saw (ports, errno names, times). The test
sets the namespace's sysctls and nftables rules and captures the wire with tcpdump; this
file only drives sockets. Standard library only.
"""
from __future__ import annotations

import errno
import json
import socket
import struct
import sys
import time

ADDR = "127.0.0.1"
TCP_FASTOPEN_CONNECT = getattr(socket, "TCP_FASTOPEN_CONNECT", 30)


def errname(e: OSError) -> str:
    return errno.errorcode.get(e.errno, str(e.errno))


def listener(port, backlog=128, reuse=True, addr=ADDR):
    s = socket.socket()
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(backlog)
    return s


def linger0(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


# ---------------------------------------------------------------- ephemeral ports
def connect_ports(dport, dport2, limit=100):
    """connect() to dport until it fails, then once to dport2; then bind(0) a few times."""
    keep = [listener(dport), listener(dport2)]
    ports, error = [], None
    for _ in range(limit):
        c = socket.socket()
        try:
            c.connect((ADDR, dport))
        except OSError as e:
            error = errname(e)
            c.close()
            break
        keep.append(c)
        ports.append(c.getsockname()[1])
    c = socket.socket()
    try:
        c.connect((ADDR, dport2))
        other = c.getsockname()[1]
    except OSError as e:
        other = errname(e)
    keep.append(c)
    return {"ports": ports, "error": error, "other_destination_port": other}


def connect_then_bind(dport, n_connect, n_bind):
    """n_connect connect()s (all kept open) to dport, then n_bind bind(0)s: which ports."""
    keep = [listener(dport)]
    connect_ports_, bind_ports = [], []
    for _ in range(n_connect):
        c = socket.socket()
        c.connect((ADDR, dport))
        keep.append(c)
        connect_ports_.append(c.getsockname()[1])
    for _ in range(n_bind):
        s = socket.socket()
        s.bind((ADDR, 0))
        keep.append(s)
        bind_ports.append(s.getsockname()[1])
    return {"connect": connect_ports_, "bind": bind_ports}


# ---------------------------------------------------------------- SYN cookies
def cookie_connections(mss_list, port=41000, rcvbuf=None):
    """One connection per client MSS, all from the same 4-tuple (closed with RST between),
    so that their SYN cookies differ only by the client ISN and the MSS index. Returns the
    MSS the server's accepted socket uses (TCP_MAXSEG)."""
    ls = listener(5000)
    server_maxseg = []
    for mss in mss_list:
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
        c.bind((ADDR, port))
        c.connect((ADDR, 5000))
        s, _ = ls.accept()
        s.sendall(b"x")
        c.recv(10)
        server_maxseg.append(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
        linger0(c)
        c.close()
        s.close()
        time.sleep(0.02)
    return {"server_maxseg": server_maxseg}


EXPERIMENTS = {name: obj for name, obj in globals().items()
               if callable(obj) and not name.startswith("_")
               and name not in ("errname", "listener", "linger0")}

if __name__ == "__main__":
    name, args = sys.argv[1], json.loads(sys.argv[2])
    started = time.monotonic()
    out = EXPERIMENTS[name](**args)
    out["elapsed_s"] = round(time.monotonic() - started, 3)
    print(json.dumps(out))
