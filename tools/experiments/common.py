"""Shared helpers for the Linux wire-behaviour experiments (need root).

Every experiment script is run either inside the MTU-1500 namespace

    ip netns add t1; ip -n t1 link set lo up; ip -n t1 link set lo mtu 1500
    ip netns exec t1 ethtool -K lo tso off gso off gro off
    ip netns exec t1 python3 tools/experiments/<script>.py data/captures/raw/<name>.pcap

or directly on the default loopback (MTU 65536) without `ip netns exec`.
The helpers here start/stop tcpdump, load/unload nftables rulesets and
poll `ss`.
"""
import contextlib
import re
import os
import signal
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"


@contextlib.contextmanager
def capture(pcap, bpf="tcp", iface="lo"):
    """Run tcpdump on `iface` writing `pcap` for the duration of the block."""
    if pcap is None:
        yield
        return
    p = subprocess.Popen(["tcpdump", "-i", iface, "-w", pcap, "-s", "0", "-U", "--immediate-mode", bpf],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    try:
        yield
    finally:
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=5)
        print("tcpdump:", " | ".join(l for l in err.splitlines() if "packets" in l), flush=True)


@contextlib.contextmanager
def nft(ruleset):
    """Load an nftables ruleset (text) for the block; the table must be `inet f`."""
    subprocess.run(["nft", "-f", "-"], input=ruleset, text=True, check=True)
    try:
        yield
    finally:
        subprocess.run(["nft", "delete", "table", "inet", "f"], check=False)


def ss(filter_expr=""):
    """Return `ss -tanoi state all` output (optionally with a filter expression)."""
    cmd = "ss -tanoi state all " + filter_expr
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout


class SSPoller(threading.Thread):
    """Poll `ss` every `interval` s, printing only lines that changed."""

    def __init__(self, filter_expr, interval=0.05, duration=5.0):
        super().__init__(daemon=True)
        self.filter_expr, self.interval, self.duration = filter_expr, interval, duration
        self.stop = False

    def run(self):
        t0, last = time.time(), None
        while not self.stop and time.time() - t0 < self.duration:
            out = ss(self.filter_expr)
            # keep state lines only (drop the indented 'ts sack ...' info lines)
            lines = [l for l in out.splitlines()[1:] if l.strip() and not l.startswith("\t")
                     and not l.lstrip().startswith(("bbr", "cubic", "reno"))]
            # report only when a state changes or a timer kind/backoff changes
            key = "\n".join(re.sub(r"timer:\((\w+),[^,]*,", r"timer:(\1,", l) for l in lines)
            if key != last:
                print(f"[ss +{time.time() - t0:.3f}s]")
                for l in lines:
                    print("   ", l.strip()[:200])
                last = key
            time.sleep(self.interval)


def pcap_arg(default=None):
    return sys.argv[1] if len(sys.argv) > 1 else default


def log(msg):
    print(f"{time.time():.6f} {msg}", flush=True)
