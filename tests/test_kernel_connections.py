"""The connection-management models checked against THIS machine's Linux kernel.

Root only (skipped cleanly otherwise, or without ``ip``/``tcpdump``/``nft``). Each test makes
its own network namespace, sets sysctls there, runs a real-socket experiment from
tests/kernel_experiments.py inside it, captures ``lo`` with tcpdump where the wire matters,
parses the capture with dpkt, and compares with the pure models in tcpsim (ports,
syncookies, timewait, backlog, keepalive, fastopen). Each test takes a few seconds at most.
docs/linux-connections.md says what each one measured.
"""
from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dpkt
import pytest

HERE = Path(__file__).resolve().parent
EXPERIMENTS = HERE / "kernel_experiments.py"


def _skip_reason():
    if os.geteuid() != 0:
        return "needs root (network namespaces, sysctls, tcpdump)"
    for tool in ("ip", "tcpdump", "nft"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    return None


pytestmark = [pytest.mark.root,
              pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))]


class Netns:
    """A throwaway network namespace with ``lo`` up."""

    def __init__(self):
        self.name = f"tcpsim-conn-{os.getpid()}-{secrets.token_hex(3)}"
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.run("ip", "link", "set", "lo", "up")

    def run(self, *cmd, **kw):
        return subprocess.run(["ip", "netns", "exec", self.name, *cmd], check=True,
                              capture_output=True, text=True, **kw)

    def sysctl(self, **values):
        for key, value in values.items():
            self.run("sysctl", "-q", "-w", f"net.{key}={value}")

    def nft(self, ruleset):
        self.run("nft", "-f", "-", input=ruleset)

    def experiment(self, name, timeout=30, **args):
        r = self.run(sys.executable, str(EXPERIMENTS), name, json.dumps(args), timeout=timeout)
        return json.loads(r.stdout)

    def close(self):
        pids = subprocess.run(["ip", "netns", "pids", self.name], check=False, capture_output=True, text=True)
        for pid in pids.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", self.name], check=False, stderr=subprocess.DEVNULL)


@pytest.fixture
def ns():
    n = Netns()
    try:
        yield n
    finally:
        n.close()


class Capture:
    """tcpdump on the namespace's lo; ``stop()`` returns the TCP segments, parsed."""

    def __init__(self, ns, path):
        self.path = path
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns.name, "tcpdump", "-i", "lo", "-U",
                                      "-n", "-s", "256", "-w", str(path), "tcp"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()          # "listening on lo, ..." once it is ready
        assert "listening" in line, line
        time.sleep(0.05)

    def stop(self):
        time.sleep(0.1)
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=10)
        return read_segments(self.path)


def read_segments(path):
    rows = []
    with open(path, "rb") as f:
        reader = dpkt.pcap.Reader(f)
        for ts, buf in reader:
            eth = dpkt.ethernet.Ethernet(buf)
            ip = eth.data
            if not isinstance(ip, dpkt.ip.IP) or not isinstance(ip.data, dpkt.tcp.TCP):
                continue
            tcp = ip.data
            opts = {}
            for kind, data in dpkt.tcp.parse_opts(tcp.opts):
                opts[kind] = data
            rows.append({"t": ts, "sport": tcp.sport, "dport": tcp.dport, "seq": tcp.seq,
                         "ack": tcp.ack, "flags": tcp.flags, "win": tcp.win,
                         "len": len(tcp.data), "data": bytes(tcp.data), "opts": opts,
                         "ecn": ip.tos & 3})
    return rows


SYN, ACK, RST, FIN = dpkt.tcp.TH_SYN, dpkt.tcp.TH_ACK, dpkt.tcp.TH_RST, dpkt.tcp.TH_FIN
OPT_MSS, OPT_WSCALE, OPT_SACKOK, OPT_TS, OPT_TFO = 2, 3, 4, 8, 34


def is_syn(r):
    return r["flags"] & (SYN | ACK) == SYN


def is_synack(r):
    return r["flags"] & (SYN | ACK) == SYN | ACK


def tsval(r):
    return int.from_bytes(r["opts"][OPT_TS][:4], "big")


# ====================================================================== ephemeral ports
def test_connect_ports_parity_steps_and_exhaustion(ns):
    """__inet_hash_connect(): lo's parity first, even steps of 2..16, EADDRNOTAVAIL per destination."""
    from tcpsim.ports import PERTURB_RANDOM_STEPS
    ns.sysctl(**{"ipv4.ip_local_port_range": "40000 40009"})
    out = ns.experiment("connect_ports", dport=5000, dport2=5001)
    ports = out["ports"]
    assert sorted(ports) == list(range(40000, 40010))        # every port of the range, once
    assert all(p % 2 == 0 for p in ports[:5])                  # lo's parity first...
    assert all(p % 2 == 1 for p in ports[5:])                  # ...then the other
    assert out["error"] == "EADDRNOTAVAIL"
    assert 40000 <= out["other_destination_port"] <= 40009     # exhaustion is per 4-tuple

    ns.sysctl(**{"ipv4.ip_local_port_range": "40001 40010"})   # lo odd: odd ports first
    out = ns.experiment("connect_ports", dport=5000, dport2=5001)
    assert all(p % 2 == 1 for p in out["ports"][:5]) and out["error"] == "EADDRNOTAVAIL"

    # a wide range: consecutive connections rise by an even step of 2 .. 2*8
    ns.sysctl(**{"ipv4.ip_local_port_range": "32768 60999"})
    out = ns.experiment("connect_then_bind", dport=5000, n_connect=60, n_bind=20)
    steps = [(b - a) % 28232 for a, b in itertools.pairwise(out["connect"])]
    assert set(steps) <= set(range(2, 2 * PERTURB_RANDOM_STEPS + 1, 2)), steps
    assert len(set(steps)) >= 5                                # the random part is there
    assert all(p % 2 == 0 for p in out["connect"])
    # inet_csk_find_open_port(): bind(0) takes the other parity (odd here)
    assert all(p % 2 == 1 for p in out["bind"]), out["bind"]


def test_odd_sized_range_uses_every_port_and_model_agrees(ns):
    """11 ports: each scan sees an even window of 10, but the window moves, so all 11 are used."""
    from tcpsim.keyedhash import secret_from_seed
    from tcpsim.ports import EphemeralPorts, PortsExhausted
    ns.sysctl(**{"ipv4.ip_local_port_range": "40000 40010"})
    out = ns.experiment("connect_ports", dport=5000, dport2=5001)
    assert len(out["ports"]) in (10, 11) and out["error"] == "EADDRNOTAVAIL"
    assert all(p % 2 == 0 for p in out["ports"][:5])
    model = EphemeralPorts(secret_from_seed(3, "ports"), (40000, 40010))
    held = set()
    with pytest.raises(PortsExhausted):
        for _ in range(12):
            held.add(model.connect("127.0.0.1", "127.0.0.1", 5000, lambda p: p not in held))
    assert len(held) in (10, 11)
