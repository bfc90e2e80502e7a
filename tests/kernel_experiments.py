"""Small real-socket experiments, run *inside* a network namespace by
tests/test_kernel_connections.py (``ip netns exec NS python kernel_experiments.py NAME JSON``).

Each experiment opens real sockets on 127.0.0.1, does one thing the kernel decides, and
prints one JSON object of what the application saw (ports, errno names, times). The test
sets the namespace's sysctls and nftables rules and captures the wire with tcpdump; this
file only drives sockets (standard library; dpkt builds the raw RST).
"""
from __future__ import annotations

import errno
import json
import select
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


# ---------------------------------------------------------------- TIME-WAIT
def _client_time_wait(dport, reuse=False, bind_port=None, daddr=ADDR):
    """A connection whose client closes first, so the client's 4-tuple is in TIME-WAIT."""
    ls = listener(dport, addr="0.0.0.0")
    c = socket.socket()
    if reuse:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if bind_port:
        c.bind((ADDR, bind_port))
    c.connect((daddr, dport))
    s, _ = ls.accept()
    c.sendall(b"hello")
    s.recv(10)
    port = c.getsockname()[1]
    c.close()                          # FIN from the client: it will be the one in TIME-WAIT
    assert s.recv(10) == b""
    s.close()                          # the server's FIN moves the client to TIME-WAIT
    entered = time.monotonic()
    time.sleep(0.005)
    return ls, port, entered


def tw_reuse_connect(dport, until_s, daddr=ADDR, step_s=0.01):
    """The only ephemeral port is in TIME-WAIT: connect() again every step_s until it
    works or until_s passes. Returns [(seconds since TIME-WAIT began, result)]."""
    _ls, port, entered = _client_time_wait(dport, daddr=daddr)   # keep the listener open
    attempts = []
    while True:
        c = socket.socket()
        t = time.monotonic() - entered
        try:
            c.connect((daddr, dport))
            attempts.append((round(t, 4), "ok", c.getsockname()[1]))
            break
        except OSError as e:
            attempts.append((round(t, 4), errname(e), None))
        finally:
            c.close()
        if t > until_s:
            break
        time.sleep(step_s)
    return {"first_port": port, "attempts": attempts}


def tw_bind_connect(dport, bind_port):
    """Client socket with SO_REUSEADDR bound to an explicit port: close first (TIME-WAIT),
    then bind the same port again (SO_REUSEADDR) and connect at once."""
    _ls, _port, _ = _client_time_wait(dport, reuse=True, bind_port=bind_port)
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        c.bind((ADDR, bind_port))
    except OSError as e:
        return {"bind": errname(e), "connect": None}
    try:
        c.connect((ADDR, dport))
        return {"bind": "ok", "connect": "ok"}
    except OSError as e:
        return {"bind": "ok", "connect": errname(e)}


def make_client_time_wait(dport):
    """Leave a client TIME-WAIT socket behind (the kernel keeps it after we exit)."""
    _, port, _ = _client_time_wait(dport)
    return {"port": port}


def server_restart(old_reuse, new_reuse, port, keep_listening=False):
    """A server whose accepted connection closed first (its side is in TIME-WAIT) closes its
    listener and a new socket binds and listens on the same port."""
    ls = listener(port, reuse=old_reuse)
    c = socket.socket()
    c.connect((ADDR, port))
    s, _ = ls.accept()
    s.close()                          # the server closes first: TIME-WAIT on the server side
    assert c.recv(10) == b""
    c.close()
    time.sleep(0.02)
    if not keep_listening:
        ls.close()
    n = socket.socket()
    if new_reuse:
        n.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        n.bind((ADDR, port))
    except OSError as e:
        return {"bind": errname(e), "listen": None}
    try:
        n.listen(8)
    except OSError as e:
        return {"bind": "ok", "listen": errname(e)}
    return {"bind": "ok", "listen": "ok"}


def server_time_wait_then_syn(port, client_port):
    """The server closes first (server-side TIME-WAIT); the client reconnects at once from
    the same port: its SYN meets the TIME-WAIT socket."""
    ls = listener(port)
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind((ADDR, client_port))
    c.connect((ADDR, port))
    s, _ = ls.accept()
    s.sendall(b"bye")
    s.close()
    c.recv(10)
    assert c.recv(10) == b""
    c.close()
    time.sleep(0.05)
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind((ADDR, client_port))
    try:
        c.settimeout(3)
        c.connect((ADDR, port))
        result = "ok"
    except OSError as e:
        result = errname(e)
    return {"connect": result}


def raw_tcp(sport, dport, seq, ack, flags):
    """Send one hand-made TCP segment 127.0.0.1:sport -> 127.0.0.1:dport (a raw socket)."""
    import dpkt
    tcp = dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, win=1000)
    ip = dpkt.ip.IP(src=socket.inet_aton(ADDR), dst=socket.inet_aton(ADDR), p=6, ttl=64, data=tcp)
    ip.len = len(ip)
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    r.sendto(bytes(ip), (ADDR, 0))
    r.close()
    time.sleep(0.05)
    return {}


# ---------------------------------------------------------------- keepalive
def keepalive_idle(idle, intvl, cnt, wait_s):
    """An idle connection whose client turns on keepalive; the client blocks in recv()."""
    ls = listener(5000)
    c = socket.create_connection((ADDR, 5000))
    _s, _ = ls.accept()
    t0 = time.monotonic()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, intvl)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, cnt)
    c.settimeout(wait_s)
    results = []
    for _ in range(2):
        try:
            data = c.recv(10)
            results.append(("eof" if data == b"" else "data", round(time.monotonic() - t0, 3)))
        except OSError as e:         # ETIMEDOUT is a TimeoutError too: tell them by errno
            if e.errno is None:      # settimeout() expired: nothing happened
                results.append(("timeout", round(time.monotonic() - t0, 3)))
                break
            results.append((errname(e), round(time.monotonic() - t0, 3)))
    return {"recv": results}


# ---------------------------------------------------------------- listener queues
def fill_listener(backlog, n_clients, settle_s=0.3, first_port=42000):
    """listen(backlog), never accept(); n_clients non-blocking connect()s from ports
    first_port, first_port+1, ... Returns the listener's queue as ss shows it."""
    import subprocess
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((ADDR, 5000))
    ls.listen(backlog)
    clients = []
    for i in range(n_clients):
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        c.bind((ADDR, first_port + i))
        c.setblocking(False)
        c.connect_ex((ADDR, 5000))
        clients.append(c)
        time.sleep(0.01)
    time.sleep(settle_s)
    ss = subprocess.run(["ss", "-tanH", "state", "listening", "sport", "= :5000"],
                        capture_output=True, text=True, check=True).stdout.split()
    states = subprocess.run(["ss", "-tanH", "dport", "= :5000"], capture_output=True, text=True,
                            check=True).stdout.splitlines()
    syn_recv = subprocess.run(["ss", "-tanH", "state", "syn-recv", "sport", "= :5000"],
                              capture_output=True, text=True, check=True).stdout.splitlines()
    per_client = {}
    for line in states:
        f = line.split()
        per_client[int(f[3].rsplit(":", 1)[1])] = f[0]
    return {"accept_queue": int(ss[0]), "max_backlog": int(ss[1]), "clients": per_client,
            "syn_recv": len(syn_recv)}


def overflow_at_final_ack(first_port=42000, wait_s=1.6):
    """listen(1): client C (first_port) connects while the test's nftables rule drops its
    final ACK; A and B then fill the accept queue. The test lifts the rule and writes a line
    to our stdin; C's next ACK meets a full accept queue."""
    ls = socket.socket()
    ls.bind((ADDR, 5000))
    ls.listen(1)
    socks = [ls]
    for i in range(3):
        c = socket.socket()
        c.bind((ADDR, first_port + i))
        c.setblocking(False)
        c.connect_ex((ADDR, 5000))
        socks.append(c)
        time.sleep(0.05)
    print("filled", flush=True)
    sys.stdin.readline()
    time.sleep(wait_s)
    return {}


# ---------------------------------------------------------------- TCP Fast Open
def fastopen(payloads, sync_before_last=False):
    """A TFO listener (TCP_FASTOPEN qlen 16) and one sendto(MSG_FASTOPEN) client connection
    per payload. With sync_before_last, print "cached" and wait for a stdin line before the
    last connection (the test then drops SYN-ACKs: that handshake never completes).
    Returns what the server's application got, and when, for each connection."""
    import subprocess
    ls = listener(5000)
    ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
    ls.settimeout(2)
    got = []
    keep = []
    for i, payload in enumerate(payloads):
        last = i == len(payloads) - 1
        if last and sync_before_last:
            print("cached", flush=True)
            sys.stdin.readline()
        c = socket.socket()
        c.setblocking(False)
        t0 = time.monotonic()
        try:
            sent = c.sendto(payload.encode(), socket.MSG_FASTOPEN, (ADDR, 5000))
        except BlockingIOError:      # no cookie yet: a plain SYN (with a cookie request) went
            sent = "EINPROGRESS"     # out; the data waits for the handshake
            select.select([], [c], [], 2)
            c.send(payload.encode())
        keep.append(c)
        s, _ = ls.accept()
        t_accept = time.monotonic() - t0
        s.settimeout(2)
        data = s.recv(100).decode()
        t_data = time.monotonic() - t0
        state = subprocess.run(["ss", "-tanH", "sport", "= :5000", "dport", f"= :{c.getsockname()[1]}"],
                               capture_output=True, text=True, check=True).stdout.split()
        got.append({"sent": sent, "accept_s": round(t_accept, 4), "data": data,
                    "data_s": round(t_data, 4), "server_state": state[0] if state else None,
                    "client_port": c.getsockname()[1]})
        keep.append(s)
        if not (last and sync_before_last):
            time.sleep(0.05)
    return {"connections": got}


# ---------------------------------------------------------------- helpers for the test
def listen_until_told(ports, cookie_connection_to=None):
    """Listen on each port (and, optionally, make one connection to cookie_connection_to so
    that listener has sent a SYN cookie); print "ready"; exit when stdin gets a line."""
    keep = [listener(p) for p in ports]
    if cookie_connection_to:
        c = socket.create_connection((ADDR, cookie_connection_to))
        keep.append(c)
    print("ready", flush=True)
    sys.stdin.readline()
    return {}


def two_connections(gap_s=0.05):
    """Two connections to one listener from two ephemeral ports, gap_s apart."""
    ls = listener(5000)
    keep = [ls]
    for _ in range(2):
        keep.append(socket.create_connection((ADDR, 5000)))
        keep.append(ls.accept()[0])
        time.sleep(gap_s)
    return {"ports": [keep[1].getsockname()[1], keep[3].getsockname()[1]]}


EXPERIMENTS = {name: obj for name, obj in globals().items()
               if callable(obj) and not name.startswith("_")
               and name not in ("errname", "listener", "linger0")}

if __name__ == "__main__":
    name, args = sys.argv[1], json.loads(sys.argv[2])
    started = time.monotonic()
    out = EXPERIMENTS[name](**args)
    out["elapsed_s"] = round(time.monotonic() - started, 3)
    print(json.dumps(out))
