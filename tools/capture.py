#!/usr/bin/env python3
"""Run a tcpsim scenario on the real Linux kernel and capture it.

    sudo .venv/bin/python tools/capture.py SCENARIO.json [-o OUTDIR]
    .venv/bin/python tools/capture.py --compare SCENARIO.json CAPTURE.pcap   (no root needed)
    .venv/bin/python tools/capture.py --summary CAPTURE.pcap [STREAM]       (no root needed)

Writes ``OUTDIR/NAME.pcap`` (tcpdump on ``lo``) and ``OUTDIR/NAME.json`` (application events,
socket states polled with ``ss``, and the scenario parts that could not be applied), where
NAME is the scenario file's stem. If ``OUTDIR/NAME.json`` is the scenario file itself, the
result goes to ``OUTDIR/NAME.events.json`` instead. Root only. ``--compare`` prints the
capture and ``tcpsim.run`` of the scenario side by side, segment by segment (the full
comparison, with states and timers, is tests/test_fidelity.py). ``--summary`` prints one
line per segment (relative seq/ack, length, the raw window field, timestamps, SACK blocks,
Wireshark-style labels), the listing docs/linux-facts.md quotes.

How it works
------------
* A fresh network namespace (``tcpsim-cap-<pid>-<random>``) is created and always deleted at
  the end. ``lo`` is brought up; when ``link.mtu`` is not 65536, ``lo`` gets that MTU and
  ``ethtool -K lo tso off gso off gro off`` (as in docs/linux-facts.md).
* Both hosts are real sockets on **127.0.0.1** (``addr`` is ignored), each bound to its
  scenario port; the two ports must differ (nftables rules and ``ss`` tell the hosts apart by
  port). A host without ``port`` that only connects gets a kernel-chosen ephemeral port.
* Options: ``timestamps``/``sack``/``wscale`` (true/false), ``synack_retries``,
  ``fin_timeout``, ``syn_linear_timeouts`` become sysctls of the namespace (so they apply
  to *both* hosts; the output's ``notes`` say so); ``syn_retries`` → TCP_SYNCNT,
  ``nodelay`` → TCP_NODELAY, ``linger0`` → SO_LINGER {1,0}, ``rcvbuf``/``sndbuf`` →
  SO_RCVBUF/SO_SNDBUF, ``mss`` → TCP_MAXSEG. Everything else (``isn``, ``msl``,
  ``time_wait``, ``delayed_ack: false``, ``isn_strategy``, ``handshake: two-way``, integer
  ``wscale``, the rfc9293 profile, ``link.delay`` above loopback's) is listed under
  ``not_applied``.
* TIME-WAIT and port options, when a host sets them off their default: ``port_range`` →
  ``net.ipv4.ip_local_port_range``, ``tw_reuse`` → ``tcp_tw_reuse``, ``tw_reuse_delay`` →
  ``tcp_tw_reuse_delay``, ``rfc1337`` → ``tcp_rfc1337`` (netns sysctls, both hosts). Every
  socket gets SO_REUSEADDR (a reconnect from a fixed port needs it) unless the scenario says
  ``"reuseaddr": false`` for its host. A host with ``"port": null`` calls ``connect()``
  without ``bind()`` every time, so the kernel picks each port as ``inet_hash_connect()``
  does (what tcpsim/ports.py models); EADDRNOTAVAIL is then a ``connect`` event with no
  connection. Closing a listener (``close`` with no connection) shuts it down first, which
  wakes the thread blocked in ``accept()``: otherwise the socket would stay in LISTEN.
* Connection options: ``syn_cookies`` becomes the namespace's ``net.ipv4.tcp_syncookies``,
  ``keepalive`` SO_KEEPALIVE with TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT (set on the
  listener too, so accepted sockets inherit it), ``backlog`` the ``listen()`` backlog
  (default 16), ``fastopen`` the sysctl ``net.ipv4.tcp_fastopen=3`` with TCP_FASTOPEN (16) and
  TCP_FASTOPEN_CONNECT (connect() with a cached cookie returns at once and the SYN leaves
  with the first send, as the simulator does). A read that fails with ETIMEDOUT is followed by one more recv() (EOF), as
  the simulator reports. ``flood`` is refused (no spoofed sources here).
* Faults, way 1: when every fault is a ``drop`` by ``from``/``flags``/``nth``/``data_segment``
    (at most one ``data_segment`` per host), nftables rules on the namespace's INPUT hook (on
  the output hook the sender would see the drop and retry at once, silently). An nftables rule is a chain of expressions read left to right; a
  packet that fails one stops there, so a ``numgen inc`` counter only advances for packets
  that passed the expressions before it:

  * ``from``: ``tcp sport <from's port>``;
  * ``flags``: ``tcp flags == <exact flags>``;
  * ``nth``: ``numgen inc mod 1000000000 { n-1, ... }`` after the other expressions, so it
    counts the packets that match everything else, as the simulator does;
  * ``data_segment: k`` (``from`` required, no ``nth``): ``@ih,0,8 >= 0`` keeps only packets
    that carry payload (``@ih`` is the payload after the TCP header and its options; on a
    packet without payload the load fails and the rule does not match), then
    ``numgen inc mod 1000000000 { k-1 }`` drops the k-th of them, then ``flags`` if given
    (the simulator counts data segments before it looks at the flags, and so does the rule).
    The ISN is unknown in advance, so the rule cannot name a sequence number; counting
    payload packets is what the simulator's definition says, with one difference: the
    kernel rule also counts *retransmissions*, the simulator first transmissions only. They
    agree as long as nothing the host sent was lost before its k-th data segment, which is
    why two ``data_segment`` faults on the same host go to the queue stage; and after the run the tool
    checks in the pcap that the packet the rule dropped was the host's k-th first
    transmission, and says so in ``notes`` (and on stderr) when it was not.

* Faults, way 2, for everything else (``loss``, ``delay``, ``duplicate``, ``between``, the
  ``data_segment`` cases above): the **queue stage** (``QueueStage``, ``QueueDecisions``). One
  iptables-nft rule ``-A INPUT -p tcp -j NFQUEUE --queue-num 7`` (nft's own ``queue``
  statement is not in this kernel) hands every TCP packet to the driver, which asks the
  simulator's own fault model (``tcpsim.faults.Faults`` with the scenario's ``seed``) and
  drops, holds or duplicates it. Python binding: fnfqueue (tools/requirements-capture.txt; a
  manylinux wheel that speaks nfnetlink itself, so no libnetfilter_queue is needed, where
  NetfilterQueue needs it and a C build). ``inject`` is refused (exit 2).
  tcpdump on lo records a packet when it is transmitted, so dropped
  packets still appear in the pcap (as in the simulator's trace, where they are marked
  ``dropped``).
* Applications: the whole driver runs inside the namespace (``ip netns exec NS python
  capture.py --driver ...``). Actions run in (``at``, document order); each host has a
  worker thread so that ``connect`` blocks only its own host (the simulator's blocking
  application model: later calls of that host wait for the handshake; a listening host's
  send/read/shutdown wait for ``accept``). ``read`` ``auto`` (the default) is a reader thread
  that recv()s whatever arrives; ``off`` stops it; ``{"bytes": N}`` is one non-blocking
  recv(N). When recv returns b'' the host's ``on: eof`` actions run.
* Receive side: each host's ``TCP_INFO`` (rcv_ssthresh, rcv_wnd, rcv_space, rcv_mss, ato,
  snd_wnd) and ``SO_MEMINFO`` (rmem_alloc, rcvbuf, backlog, drops), polled with the states and
  after every read, become ``tcp_info`` rows whenever they change.
* Socket states: ``ss -tanoH state all`` is polled every ``SS_INTERVAL_S`` (plus the time
  ``ss`` takes: ``ss_poll_max_s`` in the output is the longest gap between two polls); each
  change is a ``states`` row with the socket's ``ss -o`` timer when it has one (``timer``:
  the raw text, e.g. ``timewait,59sec,0``; ``timer_left_s``: the time left in seconds).
  Transitions shorter than a poll are missed. With ``until`` past TIME-WAIT (60 s) the end
  of TIME-WAIT shows as a ``TIME-WAIT -> CLOSED`` row.
* The run ends at ``until``, or by default 2 s after the last action has been carried out
  (at most 300 s). tcpdump is stopped (SIGINT) *before* the driver exits, so the kernel's
  clean-up of still-open sockets is not captured. A TIME-WAIT socket still present at the
  end is reported: it would take 60 s more.

Event times ``t`` are seconds since the driver's start of the scenario (``t0_epoch`` in the
output is that moment in Unix time, so they can be lined up with the pcap's timestamps).
"""
from __future__ import annotations

import argparse
import errno as errno_mod
import heapq
import json
import os
import queue
import re
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import namedtuple
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ADDR = "127.0.0.1"
MAX_DEFAULT_RUN_S = 300.0
TAIL_S = 2.0
SS_INTERVAL_S = 0.005
TOOLS = ("ip", "nft", "tcpdump", "ss")
FAKE_NONROOT_ENV = "TCPSIM_CAPTURE_FAKE_NONROOT"  # tests: behave as if not root
# nftables: true for every packet with at least one byte of TCP payload. @ih is the payload
# after the TCP header and options; loading its first byte from a packet without payload
# fails, and a failed load ends the rule (no match).
HAS_PAYLOAD = "@ih,0,8 >= 0"
SEQ_SPACE = 2 ** 32
TCP_FASTOPEN_CONNECT = 30   # include/uapi/linux/tcp.h (not in Python's socket module)

FLAG_NAMES = {"F": "fin", "S": "syn", "R": "rst", "P": "psh", "A": "ack", "U": "urg",
              "E": "ecn", "C": "cwr"}
SS_STATES = {"ESTAB": "ESTABLISHED", "SYN-SENT": "SYN-SENT", "SYN-RECV": "SYN-RECEIVED",
             "FIN-WAIT-1": "FIN-WAIT-1", "FIN-WAIT-2": "FIN-WAIT-2", "TIME-WAIT": "TIME-WAIT",
             "CLOSE-WAIT": "CLOSE-WAIT", "LAST-ACK": "LAST-ACK", "LISTEN": "LISTEN",
             "CLOSING": "CLOSING", "UNCONN": "CLOSED", "CLOSE": "CLOSED"}


class CaptureRefused(Exception):
    """The scenario asks for something this tool cannot do faithfully."""


def check_environment(euid=None, which=shutil.which):
    """None when the tool can run, else the one-line reason."""
    if euid is None:
        euid = 1 if os.environ.get(FAKE_NONROOT_ENV) else os.geteuid()
    if euid != 0:
        return "capture.py: must run as root (it creates a network namespace, nftables rules and runs tcpdump)"
    missing = [t for t in TOOLS if which(t) is None]
    if missing:
        return "capture.py: missing required tool(s): " + ", ".join(missing)
    return None


def queue_binding_problem(which=shutil.which):
    """None when the queue stage can run (iptables-nft on PATH, the Python binding fnfqueue
    imports), else the one-line reason."""
    if which("iptables-nft") is None:
        return "capture.py: these faults need the queue stage, and iptables-nft is missing (apt-get install iptables)"
    try:
        import fnfqueue  # noqa: F401
    except ImportError as e:
        return (f"capture.py: these faults need the queue stage, and its binding does not import ({e}): "
                "pip install -r tools/requirements-capture.txt")
    return None


# --------------------------------------------------------------------------- planning
Plan = namedtuple("Plan", "ports sysctls ruleset sockopts not_applied notes queue_rule")


def plan(scenario):
    """From a parsed scenario, a ``Plan``: ports, sysctls, the nftables ruleset (or None),
    socket options, not_applied, notes, and the iptables rule that sends TCP input to the
    queue stage (None when nftables rules express every fault).

    Raises CaptureRefused for faults or set-ups that cannot be reproduced."""
    not_applied, notes = [], []
    hosts = {h.name: h for h in scenario.hosts}
    ports = {h.name: h.port for h in scenario.hosts}
    if ports[scenario.hosts[0].name] is not None and ports[scenario.hosts[0].name] == ports[scenario.hosts[1].name]:
        raise CaptureRefused("both hosts use port %d: on 127.0.0.1 they must differ" % ports[scenario.hosts[0].name])
    for a in scenario.actions:
        if a.do == "listen" and ports[a.host] is None:
            raise CaptureRefused(f"actions[{a.index}]: host {a.host!r} listens but has no port")
    if scenario.profile != "linux":
        not_applied.append(f"profile: {scenario.profile} (the capture is always the real Linux kernel)")
    if scenario.delay_s > 0.0001:
        not_applied.append(f"link.delay: {scenario.delay_s} (no netem on this kernel; loopback RTT)")
    for h in scenario.hosts:
        if h.isn is not None:
            not_applied.append(f"hosts.{h.name}.isn (the kernel chooses the ISN)")
        if h.addr is not None and h.addr != ADDR:
            not_applied.append(f"hosts.{h.name}.addr (both hosts use {ADDR})")

    sysctls = {}
    sockopts = {name: {} for name in hosts}
    netns_wide = {"timestamps": "net.ipv4.tcp_timestamps", "sack": "net.ipv4.tcp_sack",
                  "wscale": "net.ipv4.tcp_window_scaling",
                  "synack_retries": "net.ipv4.tcp_synack_retries",
                  "fin_timeout": "net.ipv4.tcp_fin_timeout",
                  "syn_linear_timeouts": "net.ipv4.tcp_syn_linear_timeouts"}
    for opt, key in netns_wide.items():
        values = {}
        for h in scenario.hosts:
            v = getattr(h.options, opt)
            if v is None:
                continue
            if opt == "wscale" and not isinstance(v, bool):
                not_applied.append(f"hosts.{h.name}.options.wscale: {v} (the kernel picks the shift from the buffer size)")
                continue
            if opt == "fin_timeout" and float(v) != int(v):
                not_applied.append(f"hosts.{h.name}.options.fin_timeout: {v} (whole seconds only)")
                continue
            values[h.name] = int(v) if not isinstance(v, bool) else int(v)
        if not values:
            continue
        if len(set(values.values())) > 1:
            not_applied.append(f"options.{opt}: hosts differ {values} (a netns-wide sysctl)")
            continue
        sysctls[key] = next(iter(values.values()))
        if len(values) < len(scenario.hosts):
            notes.append(f"options.{opt} of {', '.join(values)} applied as netns sysctl {key}={sysctls[key]}: "
                         "it affects both hosts")
    for h in scenario.hosts:
        o = h.options
        so = sockopts[h.name]
        if o.syn_retries is not None:
            so["syn_retries"] = o.syn_retries
        if o.nodelay is not None:
            so["nodelay"] = bool(o.nodelay)
        if o.linger0:
            so["linger0"] = True
        if o.rcvbuf is not None:
            so["rcvbuf"] = o.rcvbuf
            notes.append(f"hosts.{h.name}.options.rcvbuf: SO_RCVBUF={o.rcvbuf} (the kernel doubles it)")
        if o.sndbuf is not None:
            so["sndbuf"] = o.sndbuf
        if o.mss is not None:
            so["mss"] = o.mss
        for opt in ("msl", "time_wait", "isn_strategy"):
            if getattr(o, opt) is not None:
                not_applied.append(f"hosts.{h.name}.options.{opt}: {getattr(o, opt)}")
        if o.delayed_ack is False:
            not_applied.append(f"hosts.{h.name}.options.delayed_ack: false (Linux always delays ACKs)")
        if o.handshake not in (None, "three-way"):
            not_applied.append(f"hosts.{h.name}.options.handshake: {o.handshake}")

    from tcpsim.connoptions import ConnectionOptions
    for h in scenario.hosts:
        c = h.conn_options      # the connection options (connoptions.ConnectionOptions)
        if c.keepalive is not None:
            sockopts[h.name]["keepalive"] = [c.keepalive.time_s, c.keepalive.intvl_s,
                                             c.keepalive.probes]
        if c.backlog != ConnectionOptions().backlog:
            sockopts[h.name]["backlog"] = c.backlog
        if c.fastopen:
            sockopts[h.name]["fastopen"] = True
    if any(h.conn_options.fastopen for h in scenario.hosts):
        sysctls["net.ipv4.tcp_fastopen"] = 3      # TFO_CLIENT_ENABLE | TFO_SERVER_ENABLE
        notes.append("options.fastopen: netns sysctl net.ipv4.tcp_fastopen=3, TCP_FASTOPEN 16 "
                     "on the listener, TCP_FASTOPEN_CONNECT on connecting sockets")
    # the TIME-WAIT and port options: netns sysctls, when a host sets them off the default
    for opt, key in (("port_range", "net.ipv4.ip_local_port_range"),
                     ("tw_reuse", "net.ipv4.tcp_tw_reuse"),
                     ("tw_reuse_delay_ms", "net.ipv4.tcp_tw_reuse_delay"),
                     ("rfc1337", "net.ipv4.tcp_rfc1337")):
        values = {h.name: getattr(h.conn_options, opt) for h in scenario.hosts
                  if getattr(h.conn_options, opt) != getattr(ConnectionOptions(), opt)}
        if len(set(values.values())) > 1:
            not_applied.append(f"options.{opt}: hosts differ {values} (a netns-wide sysctl)")
        elif values:
            value = next(iter(values.values()))
            sysctls[key] = " ".join(map(str, value)) if opt == "port_range" else int(value)
            notes.append(f"options.{opt} of {', '.join(values)} applied as netns sysctl "
                         f"{key}={sysctls[key]}" + ("" if len(values) == len(scenario.hosts)
                                                    else ": it affects both hosts"))
    cookies = {h.name: h.conn_options.syn_cookies for h in scenario.hosts
               if h.conn_options.syn_cookies != ConnectionOptions().syn_cookies}
    if len(set(cookies.values())) == 1:
        sysctls["net.ipv4.tcp_syncookies"] = next(iter(cookies.values()))
        notes.append(f"options.syn_cookies of {', '.join(cookies)} applied as netns sysctl "
                     f"net.ipv4.tcp_syncookies={sysctls['net.ipv4.tcp_syncookies']}")
    for f in scenario.faults:
        if f.kind == "inject":
            raise CaptureRefused(f"faults[{f.index}]: inject (crafted segments) is not supported")
        if f.kind == "flood":
            raise CaptureRefused(f"faults[{f.index}]: flood (spoofed SYNs) is not supported")
    ruleset, queue_rule = None, None
    try:
        ruleset = nft_ruleset(scenario, ports, notes)
    except NeedsQueue as why:
        queue_rule = ["INPUT", "-p", "tcp", "-j", "NFQUEUE", "--queue-num", str(QUEUE_NUM)]
        notes.append(f"faults applied by the user-space queue stage ({why}): NFQUEUE on the input "
                     f"hook, random choices from seed {scenario.seed}; its decisions are under \"queue\"")
    return Plan(ports, sysctls, ruleset, sockopts, not_applied, notes, queue_rule)


def kernel_sysctls(doc):
    """The scenario's ``kernel_sysctls`` extension: ``{"net.ipv4.tcp_ecn": 1}``, sysctls of the
    capture namespace for what the scenario format cannot say (tcpsim ignores the field;
    docs/captures.md). Only ``net.ipv4.tcp_*`` keys with integer values; anything else is
    refused with the key named."""
    wanted = doc.get("kernel_sysctls") or {}
    if not isinstance(wanted, dict):
        raise CaptureRefused("kernel_sysctls: must be an object {sysctl: integer}")
    for key, value in wanted.items():
        if not re.fullmatch(r"net\.ipv4\.tcp_[a-z0-9_]+", str(key)):
            raise CaptureRefused(f"kernel_sysctls.{key}: only net.ipv4.tcp_* sysctls")
        if isinstance(value, bool) or not isinstance(value, int):
            raise CaptureRefused(f"kernel_sysctls.{key}: must be an integer, not {value!r}")
    return dict(wanted)


class NeedsQueue(Exception):
    """The faults need the user-space queue stage: nftables rules cannot express them."""


def nft_ruleset(scenario, ports, notes):
    """The nftables ruleset for faults that are all plain drops by from/flags/nth/data_segment
    (None without faults). Raises NeedsQueue, naming the first fault it cannot express."""
    rules = []
    data_segment_hosts = set()
    for f in scenario.faults:
        where = f"faults[{f.index}]"
        if f.kind != "drop":
            raise NeedsQueue(f"{where}: {f.kind}")
        m = f.match
        if m.between is not None:
            raise NeedsQueue(f"{where}.drop.between")
        if m.data_segment is not None:
            if m.from_host is None:
                raise NeedsQueue(f"{where}.drop.data_segment without from")
            if m.nth is not None:
                raise NeedsQueue(f"{where}.drop: data_segment with nth")
            if m.from_host in data_segment_hosts:
                # the kernel rule would count the first drop's retransmission
                raise NeedsQueue(f"{where}.drop.data_segment: a second data_segment fault on {m.from_host!r}")
            data_segment_hosts.add(m.from_host)
        parts = []
        if m.from_host is not None:
            port = ports[m.from_host]
            if port is None:
                raise NeedsQueue(f"{where}.drop.from: host {m.from_host!r} has no fixed port")
            parts.append(f"tcp sport {port}")
        else:
            parts.append("meta l4proto tcp")
        if m.data_segment is not None:
            parts.append(HAS_PAYLOAD)
            parts.append("numgen inc mod 1000000000 { %d }" % (m.data_segment - 1))
        if m.flags is not None:
            names = [FLAG_NAMES[c] for c in "FSRPAUEC" if c in m.flags]
            parts.append("tcp flags == " + ("|".join(names) if names else "0x0"))
        if m.nth is not None:
            parts.append("numgen inc mod 1000000000 { %s }" % ", ".join(str(n - 1) for n in sorted(m.nth)))
        rules.append(" ".join(parts) + " counter drop")
    if not rules:
        return None
    if len(rules) > 1:
        notes.append("several drop faults: a packet dropped by an earlier rule is not counted by later ones")
    return ("table inet tcpsim_capture {\n chain input {\n  type filter hook input priority 0; policy accept;\n"
            + "".join(f"  {r}\n" for r in rules) + " }\n}\n")


# --------------------------------------------------------------------------- outer process
def run_capture(scenario_path, outdir):
    import tcpsim
    scenario = tcpsim.parse_scenario(Path(scenario_path).read_text())
    ports, sysctls, ruleset, sockopts, not_applied, notes, queue_rule = plan(scenario)
    raw = json.loads(Path(scenario_path).read_text())
    for name, host in (raw.get("hosts") or {}).items():
        # SO_REUSEADDR is on for every socket (a reconnect from a fixed port needs it) unless
        # the scenario says "reuseaddr": false, as a server restart that must meet EADDRINUSE
        if ((host or {}).get("options") or {}).get("reuseaddr") is False:
            sockopts[name]["no_reuseaddr"] = True
            notes.append(f"hosts.{name}.options.reuseaddr: false: no SO_REUSEADDR on its sockets")
    for key, value in kernel_sysctls(raw).items():
        sysctls[key] = value
        notes.append(f"kernel_sysctls: netns sysctl {key}={value} (both hosts; tcpsim ignores it)")
    if queue_rule and queue_binding_problem():
        raise CaptureRefused(queue_binding_problem().removeprefix("capture.py: "))
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    stem = Path(scenario_path).stem
    pcap = outdir / f"{stem}.pcap"
    out_json = outdir / f"{stem}.json"
    if out_json.resolve() == Path(scenario_path).resolve():
        out_json = outdir / f"{stem}.events.json"
    ns = f"tcpsim-cap-{os.getpid()}-{secrets.token_hex(3)}"
    driver = None
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        if scenario.mtu != 65536:
            subprocess.run(["ip", "-n", ns, "link", "set", "lo", "mtu", str(scenario.mtu)], check=True)
            r = subprocess.run(["ip", "netns", "exec", ns, "ethtool", "-K", "lo", "tso", "off", "gso", "off",
                                "gro", "off"], capture_output=True, text=True)
            if r.returncode != 0:
                notes.append("ethtool -K lo tso/gso/gro off failed: " + r.stderr.strip())
        for key, value in sysctls.items():
            subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", f"{key}={value}"], check=True)
        if ruleset:
            subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=ruleset, text=True, check=True)
        if queue_rule:
            subprocess.run(["ip", "netns", "exec", ns, "iptables-nft", "-A"] + queue_rule, check=True)
        config = {"scenario": str(Path(scenario_path).resolve()), "pcap": str(pcap.resolve()),
                  "out": str(out_json.resolve()), "ports": ports, "sockopts": sockopts,
                  "not_applied": not_applied, "notes": notes, "sysctls": sysctls, "nft": ruleset,
                  "queue_rule": queue_rule, "netns": ns}
        driver = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, str(Path(__file__).resolve()),
                                   "--driver", json.dumps(config)], start_new_session=True)
        rc = driver.wait()
        if rc != 0:
            raise RuntimeError(f"driver failed (exit {rc})")
        if ruleset:
            r = subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "table", "inet", "tcpsim_capture"],
                               capture_output=True, text=True)
            doc = json.loads(out_json.read_text())
            doc["nft_after"] = r.stdout
            for problem in check_data_segment_drops(scenario, pcap, doc["ports"]):
                print("note:", problem, file=sys.stderr)
                doc["notes"].append(problem)
            out_json.write_text(json.dumps(doc, indent=1) + "\n")
    finally:
        if driver is not None and driver.poll() is None:
            os.killpg(driver.pid, signal.SIGTERM)
            driver.wait(5)
        # anything still running in our own namespace was started by this run
        r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        for pid in r.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
    print(f"wrote {pcap} and {out_json}")
    return out_json


def check_data_segment_drops(scenario, pcap, ports):
    """Problems with the ``data_segment`` drops of a finished run (an empty list when none).

    The nftables rule dropped the k-th packet with payload that the host sent; the simulator
    drops its k-th *first transmission*. Both are the same packet unless a retransmission
    from that host came earlier, which the capture shows. Only the capture's first
    connection is looked at."""
    import tcpsim
    faults = [f for f in scenario.faults if f.kind == "drop" and f.match.data_segment is not None]
    if not faults:
        return []
    doc = tcpsim.read_pcap(str(pcap)).doc
    role_of_port = {info["port"]: role for role, info in doc["hosts"].items()}
    problems = []
    for f in faults:
        k, host = f.match.data_segment, f.match.from_host
        role = role_of_port.get(ports.get(host))
        sent = [s for s in doc["segments"] if s["src"] == role and s["len"] > 0]
        where = f"faults[{f.index}].drop.data_segment {k} from {host}"
        if len(sent) < k:
            problems.append(f"{where}: the host sent only {len(sent)} data segments in the first connection")
        elif any(s["retransmission"] for s in sent[:k]):
            problems.append(f"{where}: a retransmission came first, so the kernel rule dropped another "
                            "packet than the simulator would (it counts first transmissions only)")
    return problems


# --------------------------------------------------------------------------- queue stage (in the netns)
QUEUE_NUM = 7              # the NFQUEUE number the input rule sends TCP packets to
COPY_TTL = 63              # duplicates are re-sent with this TTL (loopback's own packets have 64):
#                            the stage lets them through, and tcpdump's filter leaves them out
TCPDUMP_FILTER = f"tcp and ip[8] != {COPY_TTL}"
TCP_FLAG_BITS = (("F", 0x01), ("S", 0x02), ("R", 0x04), ("P", 0x08), ("A", 0x10), ("U", 0x20),
                 ("E", 0x40), ("C", 0x80))


def parse_tcp(packet):
    """(sport, dport, seq, flags letters, payload length) of an IPv4 TCP packet's bytes."""
    ihl = (packet[0] & 0x0F) * 4
    total = struct.unpack_from("!H", packet, 2)[0]
    sport, dport, seq, _ack, offset, bits = struct.unpack_from("!HHIIBB", packet, ihl)
    data_offset = (offset >> 4) * 4
    flags = "".join(letter for letter, bit in TCP_FLAG_BITS if bits & bit)
    return sport, dport, seq, flags, total - ihl - data_offset


class QueuedSegment:
    """What tcpsim.faults.Faults.fate() looks at in a segment, read from a queued packet."""
    __slots__ = ("src", "flags", "data", "retransmission")

    def __init__(self, src, flags, length, retransmission):
        self.src, self.flags, self.data, self.retransmission = src, flags, length, retransmission


class QueueDecisions:
    """The queue stage's choice for each packet, without any I/O (tests feed it bytes).

    ``decide(packet, now)`` asks the simulator's own fault model,
    ``tcpsim.faults.Faults(scenario.faults, scenario.seed).fate()``, about the packet, with
    the time since the scenario's t = 0 as ``now``, and returns (dropped, extra delay, copies'
    extra delays). So ``nth``, ``data_segment`` (first transmissions only: a packet that
    ends at or below the highest sequence number its direction has sent is a
    retransmission), ``between`` and random ``loss`` mean exactly what they mean in a
    simulation, and the random draws come from the same seeded generator, one per matching
    packet, in arrival order: while the kernel sends what the simulator sends, the same
    packets are lost. Every decision other than a plain accept is appended to ``log``."""

    def __init__(self, scenario, host_of_port):
        from tcpsim.faults import Faults
        self.faults = Faults(scenario.faults, scenario.seed)
        self.host_of_port = host_of_port
        self.highest_end = {}             # (sport, dport) -> end of the highest sequence sent
        self.log, self.packets = [], 0

    def is_retransmission(self, sport, dport, seq, flags, length):
        end = (seq + length + ("S" in flags) + ("F" in flags)) % SEQ_SPACE
        key = (sport, dport)
        top = self.highest_end.get(key)
        if "S" in flags and "A" not in flags and top != end:
            top = None                               # a new connection on these ports
        if top is not None and ((end - top) % SEQ_SPACE >= SEQ_SPACE // 2 or end == top):
            return length > 0 or "S" in flags or "F" in flags
        self.highest_end[key] = end
        return False

    def decide(self, packet, now):
        self.packets += 1
        sport, dport, seq, flags, length = parse_tcp(packet)
        rtx = self.is_retransmission(sport, dport, seq, flags, length)
        host = self.host_of_port(sport) or f"port {sport}"
        dropped, extra, copies = self.faults.fate(QueuedSegment(host, flags, length, rtx), now)
        entry = {"t": round(now, 6), "from": host, "flags": flags, "seq": seq, "len": length}
        if dropped:
            self.log.append(dict(entry, verdict="drop"))
            return True, 0.0, []
        if extra > 0:
            self.log.append(dict(entry, verdict="delay", extra=round(extra, 6)))
        for c in copies:
            self.log.append(dict(entry, verdict="duplicate", extra=round(extra + c, 6)))
        return False, extra, [extra + c for c in copies]


class QueueStage:
    """The scenario's faults, applied in user space to every TCP packet on the input hook.

    The input hook's iptables-nft rule ``-p tcp -j NFQUEUE --queue-num QUEUE_NUM`` (no
    ``--queue-bypass``: if this stage is not running, packets are lost, not silently passed)
    hands each packet to this stage (the fnfqueue binding), and ``QueueDecisions`` (the
    simulator's own fault model) says what to do with it:

    * drop: the verdict is NF_DROP;
    * delay ``extra``: the packet is held and accepted ``extra`` seconds later (a scheduler
      thread; late by about 0.1 ms at most, the ``late_max_s`` of the log);
    * duplicate ``extra``: accepted now, and a copy of its bytes is sent ``extra`` later
      through a raw socket (IP_HDRINCL) with TTL ``COPY_TTL``; the copy comes back through
      the queue, where the TTL marks it to pass untouched. tcpdump's filter leaves the copies
      out, as ``write_pcap`` leaves out a simulated duplicate's copy (it exists only on the way).

    tcpdump on ``lo`` records a packet when it is sent, before the input hook: dropped and
    delayed packets appear at their send time, as in a simulated trace written as a pcap.
    """

    def __init__(self, scenario, host_of_port, now):
        import fnfqueue
        self.decisions = QueueDecisions(scenario, host_of_port)
        self.now = now
        self.late_max_s = 0.0
        self.lock = threading.Lock()      # verdicts come from two threads
        self.wake = threading.Condition()
        self.timed = []                   # heap of (due, k, action, argument)
        self.counter = 0
        self.stopped = False
        self.raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.conn = fnfqueue.Connection()
        queue = self.conn.bind(QUEUE_NUM)
        queue.set_mode(fnfqueue.MAX_PAYLOAD, fnfqueue.COPY_PACKET)
        queue.set_maxlen(4096)
        self.threads = [threading.Thread(target=self.receive, daemon=True),
                        threading.Thread(target=self.release, daemon=True)]
        for t in self.threads:
            t.start()

    def receive(self):
        for packet in self.conn:
            data = packet.payload
            if data[8] == COPY_TTL:                   # one of our copies
                with self.lock:
                    packet.accept()
                continue
            now = self.now()
            dropped, extra, copies = self.decisions.decide(data, now)
            if dropped:
                with self.lock:
                    packet.drop()
                continue
            if extra > 0:
                self.schedule(now + extra, "accept", packet)
            else:
                with self.lock:
                    packet.accept()
            for c in copies:
                self.schedule(now + c, "copy", data)

    def schedule(self, due, action, argument):
        with self.wake:
            self.counter += 1
            heapq.heappush(self.timed, (due, self.counter, action, argument))
            self.wake.notify()

    def release(self):
        while True:
            with self.wake:
                while not self.stopped and (not self.timed or self.timed[0][0] > self.now()):
                    self.wake.wait(None if not self.timed else max(0.0, self.timed[0][0] - self.now()))
                if self.stopped:
                    return
                due, _, action, argument = heapq.heappop(self.timed)
            self.late_max_s = max(self.late_max_s, self.now() - due)
            if action == "accept":
                with self.lock:
                    argument.accept()
            else:
                copy = bytearray(argument)
                copy[8] = COPY_TTL
                self.raw.sendto(bytes(copy), (ADDR, 0))

    def stop(self):
        """Let every packet still held through (the run is over), then stop."""
        with self.wake:
            held = [a for _, _, action, a in self.timed if action == "accept"]
            self.timed.clear()
            self.stopped = True
            self.wake.notify()
        with self.lock:
            for packet in held:
                packet.accept()
        self.conn.close()
        return {"packets": self.decisions.packets, "late_max_s": round(self.late_max_s, 6),
                "held_at_end": len(held), "log": self.decisions.log}


# --------------------------------------------------------------------------- driver (in the netns)
def errname(e):
    return errno_mod.errorcode.get(e.errno, str(e.errno)) if getattr(e, "errno", None) else type(e).__name__


def ss_timer_seconds(timer):
    """Time left on an ``ss -o`` timer, in seconds: ``timewait,59sec,0`` -> 59.0.

    iproute2's print_ms_timer() writes minutes as ``Nmin``, seconds as ``Nsec`` or, with
    milliseconds, ``N.MMMms`` (``1.804ms`` is 1.804 s) and milliseconds alone as ``MMMms``;
    it leaves out the milliseconds from 10 s on and the seconds from 10 min on."""
    text = timer.split(",")[1]
    seconds = 0.0
    if "min" in text:
        minutes, text = text.split("min", 1)
        seconds += 60 * int(minutes)
    if text.endswith("sec"):
        seconds += int(text[:-3])
    elif text.endswith("ms"):
        whole, _, millis = text[:-2].rpartition(".")
        seconds += (int(whole) if whole else 0) + int(millis) / 1000
    return round(seconds, 3)


# struct tcp_info (include/uapi/linux/tcp.h): byte offset of each u32 field recorded
TCP_INFO_FIELDS = {"ato_us": 12, "rcv_mss": 20, "rcv_ssthresh": 64, "rcv_space": 96,
                   "snd_wnd": 228, "rcv_wnd": 232}
TCP_INFO_LEN = 236
SO_MEMINFO = 55                # include/uapi/asm-generic/socket.h
SK_MEMINFO = {"rmem_alloc": 0, "rcvbuf": 1, "backlog": 7, "drops": 8}   # include/uapi/linux/sock_diag.h


def receive_side_info(s):
    """The socket's receive-side state: TCP_INFO's ato, rcv_mss, rcv_ssthresh, rcv_space,
    snd_wnd, rcv_wnd (the window last advertised, unscaled) and SO_MEMINFO's rmem_alloc,
    rcvbuf, backlog, drops; None once the socket is gone."""
    try:
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_LEN)
        mem = s.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 9 * 4)
    except OSError:
        return None
    if len(info) < TCP_INFO_LEN or len(mem) < 36:
        return None
    out = {name: struct.unpack_from("I", info, off)[0] for name, off in TCP_INFO_FIELDS.items()}
    out.update({name: struct.unpack_from("I", mem, 4 * k)[0] for name, k in SK_MEMINFO.items()})
    return out


class HostApp:
    def __init__(self, drv, name, port, opts):
        self.drv, self.name, self.port, self.opts = drv, name, port, opts
        self.q = queue.Queue()
        self.busy = False
        self.listener = None
        self.conn = None          # the connected socket
        self.conn_index = -1
        self.connected = threading.Event()
        self.read_mode = "auto"
        self.reader = None
        self.lock = threading.Lock()
        self.closed_app = False
        self.eof_actions = []
        # wakes the reader before close(): while a thread sits in select() on the fd, close()
        # does not release the socket (no FIN) until select returns
        self.wake_r, self.wake_w = os.pipe()
        threading.Thread(target=self.work, daemon=True).start()

    # socket set-up ---------------------------------------------------------
    def _apply(self, s, before_connect=True):
        o = self.opts
        if not o.get("no_reuseaddr"):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if "rcvbuf" in o and before_connect:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, o["rcvbuf"])
        if "sndbuf" in o and before_connect:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, o["sndbuf"])
        if "mss" in o and before_connect:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, o["mss"])
        if "syn_retries" in o:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, o["syn_retries"])
        if "nodelay" in o:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(o["nodelay"]))
        if o.get("linger0"):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if o.get("fastopen") and before_connect:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)      # listener queue
            s.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1)       # connect defers
        if "keepalive" in o and before_connect:   # accepted sockets inherit it
            idle, intvl, count = o["keepalive"]
            s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, intvl)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, count)

    def event(self, call, result, conn=True):
        self.drv.event(self.name, call, result, self.conn_index if conn else None)

    # worker ------------------------------------------------------------------
    def submit(self, action, started):
        self.q.put((action, started))

    def work(self):
        while True:
            action, started = self.q.get()
            self.busy = True
            try:
                self.do(action, started)
            except Exception as e:  # noqa: BLE001 - recorded, the run goes on
                self.drv.note(f"{self.name}: {action.do} raised {e!r}")
            finally:
                started.set()
                self.busy = False

    def do(self, a, started):
        do = a.do
        if do in ("send", "read", "shutdown") and a.read_mode is None and self.conn is None \
                and self.listener is not None:
            started.set()                  # do not hold up the other host's actions
            self.connected.wait()          # blocking model: the call waits for accept()
        if do == "listen":
            if self.listener is None:
                ls = socket.socket()
                self._apply(ls)
                try:
                    ls.bind((ADDR, self.port))
                except OSError as e:         # EADDRINUSE: TIME-WAIT holds the port
                    ls.close()
                    self.event("listen", errname(e), conn=False)
                    return
                ls.listen(self.opts.get("backlog", 16))
                self.listener = ls
                threading.Thread(target=self.accept_loop, daemon=True).start()
            self.event("listen", "ok", conn=False)
        elif do == "connect":
            s = socket.socket()
            self._apply(s)
            port = self.drv.ports[self.name]
            if not self.drv.ephemeral[self.name]:
                s.bind((ADDR, port or 0))
            # "port": null: connect() chooses a port each time (inet_hash_connect(), the
            # choice tcpsim/ports.py models; bind(0) would choose another way)
            self.conn_index += 1
            self.closed_app = False
            started.set()
            try:
                s.connect((ADDR, self.drv.ports[a.to]))
            except OSError as e:
                if e.errno == errno_mod.EADDRNOTAVAIL:    # no port: no connection at all
                    self.conn_index -= 1
                self.event("connect", errname(e), conn=e.errno != errno_mod.EADDRNOTAVAIL)
                s.close()
                return
            self.drv.own_port(self.name, s.getsockname()[1])
            self.event("connect", "ok")
            self.set_conn(s)
        elif do == "read" and a.read_mode is not None:
            self.read_mode = a.read_mode    # takes effect now or when the connection opens
            if a.read_mode == "auto":
                self.start_reader()
            else:
                self.stop_reader()
        elif self.conn is None:
            if do == "close" and self.listener is not None:
                try:    # wakes the accept() thread: without it the socket stays LISTEN
                    self.listener.shutdown(socket.SHUT_RDWR)   # (its blocked call holds it)
                except OSError:
                    pass
                self.listener.close()
                self.listener = None
                self.event("close", "ok", conn=False)
            else:
                self.event(do, "ENOTCONN", conn=False)
        elif do == "send":
            try:
                self.conn.sendall(a.data)
                self.event("send", len(a.data))
            except OSError as e:
                self.event("send", errname(e))
        elif do == "read":
            with self.lock:
                try:
                    d = self.conn.recv(a.read_bytes, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    return
                except OSError as e:
                    self.event("read", errname(e))
                    return
            self.got(d)
        elif do == "shutdown":
            try:
                self.conn.shutdown(socket.SHUT_WR)
                self.event("shutdown", "ok")
            except OSError as e:
                self.event("shutdown", errname(e))
        elif do in ("close", "abort"):
            self.closed_app = True
            self.stop_reader()
            with self.lock:
                if do == "abort":
                    self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.closed_app = True
                self.drv.keep.append(self.conn)   # fd closed below; keep the object for the reader
                self.conn.close()
            self.event(do, "ok")
            self.conn = None

    def accept_loop(self):
        ls = self.listener
        while True:
            try:
                s, _ = ls.accept()
            except OSError:
                return
            self._apply(s, before_connect=False)
            self.conn_index += 1
            self.closed_app = False
            self.event("accept", "ok")
            self.set_conn(s)

    def set_conn(self, s):
        self.conn = s
        self.connected.set()
        self.start_reader()

    def start_reader(self):
        if self.read_mode == "auto" and self.conn is not None and (self.reader is None or not self.reader.is_alive()):
            self.reader = threading.Thread(target=self.read_loop, args=(self.conn,), daemon=True)
            self.reader.start()

    def stop_reader(self):
        r = self.reader
        if r is not None and r.is_alive() and r is not threading.current_thread():
            os.write(self.wake_w, b"x")
            r.join(1.0)
            while select.select([self.wake_r], [], [], 0)[0]:
                os.read(self.wake_r, 64)

    def read_loop(self, s):
        while self.read_mode == "auto" and not self.closed_app and self.conn is s:
            try:
                r, _, _ = select.select([s, self.wake_r], [], [], 0.5)
            except (OSError, ValueError):
                return
            if self.wake_r in r:
                return
            if not r:
                continue
            with self.lock:
                if self.closed_app or self.conn is not s:
                    return
                try:
                    d = s.recv(1 << 20, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    continue
                except OSError as e:
                    self.event("read", errname(e))
                    if errname(e) == "ETIMEDOUT":      # keepalive gave up: the next recv is EOF
                        try:
                            self.got(s.recv(1 << 20, socket.MSG_DONTWAIT))
                        except OSError as again:
                            self.event("read", errname(again))
                    return
            if not self.got(d):
                return

    def got(self, d):
        """Record one read (and the receive side's state right after it); False at EOF."""
        self.event("read", len(d))
        if d and self.conn is not None:
            self.drv.record_info(self.name, self.conn, "read")
        if d:
            return True
        for a in self.eof_actions:
            self.submit(a, threading.Event())
        return False


class Driver:
    def __init__(self, config):
        import tcpsim
        self.cfg = config
        self.scenario = tcpsim.parse_scenario(Path(config["scenario"]).read_text())
        self.ports = dict(config["ports"])
        self.ephemeral = {h: p is None for h, p in self.ports.items()}
        self.ephemeral_ports = {h: set() for h in self.ports}
        self.events, self.notes, self.keep = [], list(config["notes"]), []
        self.tcp_info, self.last_info = [], {}
        self.elock = threading.Lock()
        self.t0 = None
        self.apps = {h.name: HostApp(self, h.name, self.ports[h.name], config["sockopts"][h.name])
                     for h in self.scenario.hosts}
        for a in self.scenario.actions:
            if a.on == "eof":
                self.apps[a.host].eof_actions.append(a)

    def now(self):
        return round(time.monotonic() - self.t0, 6)

    def event(self, host, call, result, conn):
        with self.elock:
            self.events.append({"t": self.now(), "host": host, "call": call, "result": result, "conn": conn})

    def note(self, text):
        with self.elock:
            self.notes.append(text)

    def record_info(self, host, s, when):
        """A ``tcp_info`` row when the host's receive-side state changed since its last row."""
        info = receive_side_info(s)
        if info is None:
            return
        with self.elock:
            if self.last_info.get(host) != info:
                self.last_info[host] = info
                self.tcp_info.append(dict({"t": self.now(), "host": host, "when": when}, **info))

    def host_of_port(self, port):
        for h, p in self.ports.items():
            if p == port:
                return h
        for h, ports in self.ephemeral_ports.items():
            if port in ports:
                return h
        return None

    def own_port(self, host, port):
        """An ephemeral host's connect() took ``port``: its sockets are the host's, for ss
        and the queue stage (the first one is also the host's port in the output)."""
        if self.ports[host] is None:
            self.ports[host] = port
        self.ephemeral_ports[host].add(port)

    def poll_states(self, stop):
        last, rows = {}, []
        previous_poll, longest_gap = None, 0.0
        while not stop.is_set():
            t = self.now()
            if previous_poll is not None:
                longest_gap = max(longest_gap, t - previous_poll)
            previous_poll = t
            out = subprocess.run(["ss", "-tanoH", "state", "all"], capture_output=True, text=True).stdout
            seen = {}
            for line in out.splitlines():
                f = line.split()
                if len(f) < 5:
                    continue
                state = SS_STATES.get(f[0], f[0])
                local, peer = f[3], f[4]
                try:
                    lport = int(local.rsplit(":", 1)[1])
                except ValueError:
                    continue
                host = self.host_of_port(lport)
                if host is None or state == "CLOSED":
                    continue
                sock = host + ":listen" if state == "LISTEN" else host
                timer = next((x[len("timer:("):-1] for x in f[5:] if x.startswith("timer:(")), None)
                seen[(local, peer)] = (host, sock, state, timer)
            for key, (host, sock, state, timer) in seen.items():
                old = last.get(key, (host, sock, "CLOSED", None))[2]
                if old != state:
                    row = {"t": t, "host": host, "socket": sock, "from": old, "to": state,
                           "local": key[0], "peer": key[1]}
                    if timer is not None:
                        row["timer"] = timer
                        row["timer_left_s"] = ss_timer_seconds(timer)
                    rows.append(row)
            for key, (host, sock, state, _timer) in last.items():
                if key not in seen:
                    rows.append({"t": t, "host": host, "socket": sock, "from": state, "to": "CLOSED",
                                 "local": key[0], "peer": key[1]})
            last = seen
            for name, app in self.apps.items():
                if app.conn is not None:
                    self.record_info(name, app.conn, "poll")
            time.sleep(SS_INTERVAL_S)
        self.states, self.final, self.ss_poll_max_s = rows, last, round(longest_gap, 6)

    def run(self):
        sc = self.scenario
        self.t0 = time.monotonic()         # reset below, at the scenario's t = 0
        stage = QueueStage(sc, self.host_of_port, self.now) if self.cfg.get("queue_rule") else None
        td = subprocess.Popen(["tcpdump", "-i", "lo", "-w", self.cfg["pcap"], "-Z", "root", "-s", "0", "-U",
                               "--immediate-mode", TCPDUMP_FILTER], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        ready = td.stderr.readline()        # "listening on lo, ..."
        if "listening" not in ready:
            raise RuntimeError("tcpdump did not start: " + ready.strip())
        time.sleep(0.2)
        self.t0 = time.monotonic()
        t0_epoch = time.time()
        stop = threading.Event()
        poller = threading.Thread(target=self.poll_states, args=(stop,), daemon=True)
        poller.start()
        timed = sorted((a for a in sc.actions if a.at is not None), key=lambda a: (a.at, a.index))
        for a in timed:
            delay = a.at - (time.monotonic() - self.t0)
            if delay > 0:
                time.sleep(delay)
            app = self.apps[a.host]
            idle = not app.busy and app.q.empty()
            started = threading.Event()
            app.submit(a, started)
            if idle:
                started.wait(0.5)   # keep document order among simultaneous actions
        last_at = timed[-1].at if timed else 0.0
        if sc.until is not None:
            end = sc.until
        else:
            # wait until every host has carried out its actions (a blocking connect may take long)
            cap = MAX_DEFAULT_RUN_S
            while time.monotonic() - self.t0 < cap and any(app.busy or not app.q.empty() for app in self.apps.values()):
                time.sleep(0.01)
            end = min(max(last_at, time.monotonic() - self.t0) + TAIL_S, cap)
        delay = end - (time.monotonic() - self.t0)
        if delay > 0:
            time.sleep(delay)
        stop.set()
        poller.join()
        td.send_signal(signal.SIGINT)
        _, err = td.communicate(timeout=10)
        queue_report = stage.stop() if stage else None
        stats = [line.strip() for line in err.splitlines() if "packets" in line]
        tw = [k for k, v in self.final.items() if v[2] == "TIME-WAIT"]
        if tw:
            self.note("a socket was still in TIME-WAIT at the end: it would take up to 60 s more "
                      "(set \"until\" to capture its end)")
        doc = {"tcpsim": 1, "name": sc.name, "scenario": self.cfg["scenario"], "addr": ADDR,
               "ports": self.ports, "mtu": sc.mtu, "netns": self.cfg["netns"], "t0_epoch": t0_epoch,
               "until": round(end, 6), "events": sorted(self.events, key=lambda e: e["t"]),
               "states": self.states, "ss_poll_max_s": self.ss_poll_max_s,
               "tcp_info": sorted(self.tcp_info, key=lambda r: r["t"]),
               "final_states": [{"host": v[0], "socket": v[1], "state": v[2], "local": k[0], "peer": k[1]}
                                for k, v in self.final.items()],
               "not_applied": self.cfg["not_applied"], "notes": self.notes,
               "sysctls": self.cfg["sysctls"], "nft": self.cfg["nft"], "tcpdump": stats}
        if stage:
            doc["queue_rule"] = "iptables-nft -A " + " ".join(self.cfg["queue_rule"])
            doc["queue"] = queue_report
        Path(self.cfg["out"]).write_text(json.dumps(doc, indent=1) + "\n")
        for n in self.notes:
            print("note:", n, flush=True)
        if doc["not_applied"]:
            print("not applied:", "; ".join(doc["not_applied"]), flush=True)


# --------------------------------------------------------------------------- comparison
def segment_sequences(scenario_path, pcap_path):
    """(rows of the capture, rows of tcpsim.run of the scenario): per segment the tuple
    (t, direction, flags, rel_seq, rel_ack, len), t from the first SYN.

    The simulated trace is written as a pcap and read back, so both go through read_pcap
    (same relative numbering). Direction is "client>server" style with the scenario's host
    names (the capture's hosts are matched by port)."""
    import tempfile

    import tcpsim
    from tcpsim.pcap import write_pcap
    text = Path(scenario_path).read_text()
    sc = tcpsim.parse_scenario(text)
    by_port = {h.port: h.name for h in sc.hosts}

    def rows(doc):
        names = {role: by_port.get(info.get("port"), role) for role, info in doc["hosts"].items()}
        return [(s["t"], f"{names[s['src']]}>{names[s['dst']]}", s["flags"], s["rel_seq"],
                 s["rel_ack"], s["len"]) for s in doc["segments"]]
    with tempfile.TemporaryDirectory() as tmp:
        write_pcap(tcpsim.run(text).doc, Path(tmp) / "sim.pcap")
        sim = rows(tcpsim.read_pcap(str(Path(tmp) / "sim.pcap")).doc)
    return rows(tcpsim.read_pcap(str(pcap_path)).doc), sim


def flag_sequences(scenario_path, pcap_path):
    """((direction, flags) per captured segment, the same for tcpsim.run of the scenario)."""
    cap, sim = segment_sequences(scenario_path, pcap_path)
    return [r[1:3] for r in cap], [r[1:3] for r in sim]


def summary_lines(pcap_path, stream=0):
    """One line per segment of a capture: time, ports, flags, relative seq and ack, length,
    the raw 16-bit window field (unscaled), TSval/TSecr and SACK blocks (relative), and the
    analysis labels that are set. (What tools/experiments/summarize.sh printed with tshark.)"""
    import tcpsim
    doc = tcpsim.read_pcap(str(pcap_path), stream=stream).doc
    port = {role: info["port"] for role, info in doc["hosts"].items()}
    isn = {role: info["isn"] or 0 for role, info in doc["hosts"].items()}
    labels = ("retransmission", "out_of_order", "dup_ack", "window_update", "zero_window", "keep_alive")
    lines = []
    for s in doc["segments"]:
        o = s["options"]
        ts = " ts=%d/%d" % tuple(o["ts"]) if "ts" in o else ""
        sack = "".join(f" sack={(a - isn[s['dst']]) % SEQ_SPACE}-{(b - isn[s['dst']]) % SEQ_SPACE}"
                       for a, b in o.get("sack", ()))
        tags = "".join(f" [{name}]" for name in labels if s.get(name))
        ack = "-" if s["rel_ack"] is None else s["rel_ack"]
        lines.append(f"{s['t']:10.6f} {port[s['src']]:>5}>{port[s['dst']]:<5} {s['flags']:4s} "
                     f"seq={s['rel_seq']:<7} ack={ack!s:<7} len={s['len']:<5} win={s['win']:<5}{ts}{sack}{tags}")
    return lines


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--summary":
        for line in summary_lines(argv[1], int(argv[2]) if len(argv) > 2 else 0):
            print(line)
        return 0
    if argv and argv[0] == "--compare":
        cap, sim = segment_sequences(argv[1], argv[2])

        def text(row):
            t, direction, flags, rel_seq, rel_ack, length = row
            return f"{t:10.6f} {direction:14s} {flags:4s} {rel_seq:>7} {str(rel_ack):>7} {length:>5}"
        print(f"{'':3s}  {'capture: t, direction, flags, rel seq, rel ack, len':52s} simulated")
        for i in range(max(len(cap), len(sim))):
            c = text(cap[i]) if i < len(cap) else "-"
            m = text(sim[i]) if i < len(sim) else "-"
            same = i < len(cap) and i < len(sim) and cap[i][1:] == sim[i][1:]
            print(f"{i:3d}  {c:52s} {m:52s} {'' if same else '<>'}")
        print("match (t aside)" if [r[1:] for r in cap] == [r[1:] for r in sim] else "DIFFER")
        print("tests/test_fidelity.py compares directions, states and timers too")
        return 0
    if argv and argv[0] == "--driver":
        Driver(json.loads(argv[1])).run()
        sys.stdout.flush()
        os._exit(0)    # threads may still block in connect(); tcpdump is already stopped
    ap = argparse.ArgumentParser(description="Run a tcpsim scenario on the real kernel (root) and capture it.")
    ap.add_argument("scenario")
    ap.add_argument("-o", "--outdir", default=".")
    args = ap.parse_args(argv)
    problem = check_environment()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        import tcpsim
        run_capture(args.scenario, args.outdir)
    except (CaptureRefused, tcpsim.ScenarioError) as e:
        print(f"capture.py: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"capture.py: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
