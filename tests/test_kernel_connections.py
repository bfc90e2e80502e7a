"""The connection-management models checked against THIS machine's Linux kernel.

Root only (skipped cleanly otherwise, or without ``ip``/``tcpdump``/``nft``). Each test makes
its own network namespace, sets sysctls there, runs a real-socket experiment from
tests/kernel_experiments.py inside it, captures ``lo`` with tcpdump where the wire matters,
parses the capture with dpkt, and compares with the pure models in tcpsim (ports,
syncookies, timewait, backlog, keepalive, fastopen). Each test takes a few seconds at most.
docs/linux-connections.md says what each one measured.
"""
from __future__ import annotations

import inspect
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
        r = subprocess.run(["ip", "netns", "exec", self.name, sys.executable, str(EXPERIMENTS),
                            name, json.dumps(args)], capture_output=True, text=True,
                           timeout=timeout, check=False)
        assert r.returncode == 0, f"experiment {name} failed: {r.stderr.strip()[-2000:]}"
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
                                      "--immediate-mode", "-Z", "root", "-n", "-s", "256", "-w", str(path), "tcp"],
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
                if kind not in (0, 1):                  # EOL, NOP
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


# ====================================================================== SYN cookies
def _cookie_run(ns, tmp_path, mss_list, name, **kw):
    cap = Capture(ns, tmp_path / f"{name}.pcap")
    out = ns.experiment("cookie_connections", mss_list=mss_list, **kw)
    segs = cap.stop()
    syns = [r for r in segs if is_syn(r) and r["sport"] == 41000]
    synacks = [r for r in segs if is_synack(r) and r["dport"] == 41000]
    assert len(syns) == len(synacks) == len(mss_list)          # no SYN was retransmitted
    return out, syns, synacks, segs


def test_cookie_isn_carries_the_msstab_index(ns, tmp_path):
    """secure_tcp_syn_cookie(): ISN - client ISN differs between two cookies of one 4-tuple
    (within a minute) by exactly the difference of their msstab indices."""
    from tcpsim import syncookies as sc
    ns.sysctl(**{"ipv4.tcp_syncookies": 2, "ipv4.tcp_timestamps": 2, "ipv4.tcp_ecn": 1})
    mss_list = [1460, 536, 1300, 1440, 1400, 1000, 4000]
    for _attempt in range(2):                                  # a minute tick may fall between
        out, syns, synacks, _ = _cookie_run(ns, tmp_path, mss_list, f"cookies{_attempt}")
        d = [(a["seq"] - s["seq"]) % 2**32 for s, a in zip(syns, synacks)]
        if all(abs(((x - d[0] + 2**31) % 2**32) - 2**31) < 8 for x in d):
            break
    expected_index = [sc.mss_index(m) for m in mss_list]
    assert expected_index == [3, 0, 1, 2, 1, 0, 3]
    for di, ii in zip(d, expected_index):
        assert (di - d[0]) % 2**32 == (ii - expected_index[0]) % 2**32
    # the SYN-ACK still announces the listener's own MSS, but the accepted socket uses the
    # table value (minus 12 bytes of timestamp option)
    assert all(OPT_MSS in a["opts"] for a in synacks)
    assert out["server_maxseg"] == [sc.MSSTAB[i] - 12 for i in expected_index]


def test_cookie_tsval_carries_wscale_sack_ecn(ns, tmp_path):
    """cookie_init_timestamp(): TSval's low 6 bits = client wscale | SACK<<4 | ECN<<5, the rest
    the ms clock rounded down to 64 (tcp_timestamps=2: no per-host TS offset)."""
    from tcpsim import syncookies as sc
    for sack, ecn, rcvbuf in ((1, 1, None), (0, 0, 4096)):
        ns.sysctl(**{"ipv4.tcp_syncookies": 2, "ipv4.tcp_timestamps": 2, "ipv4.tcp_ecn": ecn,
                     "ipv4.tcp_sack": sack})
        _, syns, synacks, segs = _cookie_run(ns, tmp_path, [1460], f"ts{sack}", rcvbuf=rcvbuf)
        syn, synack = syns[0], synacks[0]
        wscale = syn["opts"][OPT_WSCALE][0]
        syn_ecn = bool(syn["flags"] & dpkt.tcp.TH_ECE and syn["flags"] & dpkt.tcp.TH_CWR)
        assert syn_ecn == bool(ecn) and (OPT_SACKOK in syn["opts"]) == bool(sack)
        ts = tsval(synack)
        assert ts & 0x3F == sc.cookie_tsval(ts, wscale, bool(sack), syn_ecn) & 0x3F
        decoded = sc.decode_cookie_tsecr(ts)
        assert (decoded.wscale, decoded.sack, decoded.ecn) == (wscale, bool(sack), syn_ecn)
        later = next(r for r in segs if r["sport"] == 5000 and r["len"] > 0)
        elapsed_ms = (later["t"] - synack["t"]) * 1000
        assert 0 <= tsval(later) - ts <= 64 + elapsed_ms + 2    # the clock, rounded down to 64
    assert wscale < 7                                           # the small SO_RCVBUF showed


def test_cookie_without_timestamps_keeps_only_the_mss(ns, tmp_path):
    """tcp_conn_request(): want_cookie && !saw_tstamp -> tcp_clear_options(): the cookie
    SYN-ACK has the MSS option only (no wscale, SACK, ECN); a normal one has them all."""
    from tcpsim import syncookies as sc
    seen = {}
    for cookies in (2, 0):
        ns.sysctl(**{"ipv4.tcp_syncookies": cookies, "ipv4.tcp_timestamps": 0, "ipv4.tcp_ecn": 1})
        out, syns, synacks, _ = _cookie_run(ns, tmp_path, [1400], f"nots{cookies}")
        assert {OPT_MSS, OPT_WSCALE, OPT_SACKOK} <= set(syns[0]["opts"])
        seen[cookies] = (set(synacks[0]["opts"]), bool(synacks[0]["flags"] & dpkt.tcp.TH_ECE),
                         out["server_maxseg"][0])
    assert seen[2] == ({OPT_MSS}, False, sc.MSSTAB[sc.mss_index(1400)])   # 1300: rounded down
    assert seen[0] == ({OPT_MSS, OPT_WSCALE, OPT_SACKOK}, True, 1400)
    assert sc.cookie_synack_options(False, 7, True, True) == {
        "timestamps": False, "wscale": None, "sack": False, "ecn": False}


def _listening(ns, ports, cookie_connection_to=None):
    proc = subprocess.Popen(["ip", "netns", "exec", ns.name, sys.executable, str(EXPERIMENTS),
                             "listen_until_told", json.dumps({"ports": ports,
                             "cookie_connection_to": cookie_connection_to})],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_a_forged_ack_is_checked_as_a_cookie_only_after_a_recent_cookie(ns, tmp_path):
    """cookie_v4_check(): an ACK that matches no connection is checked as a cookie only if the
    listener sent one in the last 2 minutes (tcp_synq_no_recent_overflow()); a forged one
    fails (SyncookiesFailed) and, like any stray ACK to a listener, is answered by an RST."""
    from tcpsim import syncookies as sc
    from tcpsim.keyedhash import secret_from_seed
    ns.sysctl(**{"ipv4.tcp_syncookies": 1})
    proc = _listening(ns, [5000, 5001])
    ns.sysctl(**{"ipv4.tcp_syncookies": 2})
    proc2 = _listening(ns, [5002], cookie_connection_to=5002)   # 5002 has sent a cookie
    cap = Capture(ns, tmp_path / "forged.pcap")
    before = nstat(ns, "TcpExtSyncookiesFailed")["TcpExtSyncookiesFailed"]
    ns.experiment("raw_tcp", sport=43000, dport=5000, seq=1000, ack=123456, flags=ACK)
    after_quiet = nstat(ns, "TcpExtSyncookiesFailed")["TcpExtSyncookiesFailed"]
    ns.experiment("raw_tcp", sport=43001, dport=5002, seq=1000, ack=123456, flags=ACK)
    after_recent = nstat(ns, "TcpExtSyncookiesFailed")["TcpExtSyncookiesFailed"]
    segs = cap.stop()
    for p in (proc, proc2):
        p.communicate("go\n", timeout=10)
    assert after_quiet == before and after_recent == before + 1
    for port in (43000, 43001):
        rst = next(r for r in segs if r["dport"] == port)
        assert rst["flags"] & RST and rst["seq"] == 123456
    forged = sc.check_cookie(secret_from_seed(1, "syncookies"), ("127.0.0.1", "127.0.0.1", 43001, 5002),
                             1000, 123456, now_s=0.0)
    assert not forged.valid


# ====================================================================== TIME-WAIT
def _first_ok(out):
    oks = [a for a in out["attempts"] if a[1] == "ok"]
    return oks[0][0] if oks else None


def test_tw_reuse_rule_and_delay(ns, tmp_path):
    """tcp_twsk_unique(): the only ephemeral port is in TIME-WAIT; connect() fails with
    EADDRNOTAVAIL until tcp_tw_reuse_delay has passed (tw_reuse 1, or 2 on loopback), and
    for ever with 0, with 2 off loopback, or without timestamps."""
    from tcpsim.timewait import TimeWait, connect_may_take_over, takeover_start
    delay_ms = 200
    ns.run("ip", "addr", "add", "10.9.0.1/32", "dev", "lo")
    ns.sysctl(**{"ipv4.ip_local_port_range": "40000 40000", "ipv4.tcp_tw_reuse_delay": delay_ms})
    cap = Capture(ns, tmp_path / "twreuse.pcap")
    first = {}
    for reuse, daddr, ts, port in ((1, "127.0.0.1", 1, 5000), (2, "127.0.0.1", 1, 5001),
                                   (0, "127.0.0.1", 1, 5002), (2, "10.9.0.1", 1, 5003),
                                   (1, "10.9.0.1", 1, 5004), (1, "127.0.0.1", 0, 5005)):
        ns.sysctl(**{"ipv4.tcp_tw_reuse": reuse, "ipv4.tcp_timestamps": ts})
        out = ns.experiment("tw_reuse_connect", dport=port, until_s=0.45, daddr=daddr)
        assert out["first_port"] == 40000
        assert all(a[1] == "EADDRNOTAVAIL" for a in out["attempts"] if a[1] != "ok")
        first[(reuse, daddr, ts)] = _first_ok(out)
        model = TimeWait(daddr, daddr, 0, 0, ts_recent=1 if ts else None,
                         ts_recent_stamp_ms=0 if ts else None)
        allowed = connect_may_take_over(model, tw_reuse=reuse, now_ms=450, reuse_delay_ms=delay_ms)
        assert allowed == (first[(reuse, daddr, ts)] is not None)
    segs = cap.stop()
    for key in ((1, "127.0.0.1", 1), (2, "127.0.0.1", 1), (1, "10.9.0.1", 1)):
        # never before the delay; soon after it (the loop tries every 10 ms, on a busy machine)
        assert delay_ms / 1000 <= first[key] <= delay_ms / 1000 + 0.15, (key, first[key])
    assert first[(0, "127.0.0.1", 1)] is None
    assert first[(2, "10.9.0.1", 1)] is None                  # 2 = loopback only
    assert first[(1, "127.0.0.1", 0)] is None                 # no timestamps: never
    # the new SYN starts 65537 beyond the old incarnation's snd_nxt (its FIN + 1), and PAWS
    # continues: its TSval is newer than anything the old one sent
    old = [r for r in segs if r["sport"] == 40000 and r["dport"] == 5000]
    fin = next(r for r in old if r["flags"] & FIN)
    syns = [r for r in old if is_syn(r)]
    assert len(syns) == 2
    model = TimeWait("127.0.0.1", "127.0.0.1", snd_nxt=(fin["seq"] + 1) % 2**32, rcv_nxt=0)
    assert syns[1]["seq"] == takeover_start(model)["iss"]
    assert tsval(syns[1]) > tsval(fin)


def test_tw_reuse_default_delay_is_one_second(ns):
    """tcp_tw_reuse_delay defaults to 1000 ms: the "1 s rule" of tcp_twsk_unique()."""
    from tcpsim.timewait import TW_REUSE_DELAY_MS_DEFAULT
    assert ns.run("sysctl", "-n", "net.ipv4.tcp_tw_reuse_delay").stdout.strip() == \
        str(TW_REUSE_DELAY_MS_DEFAULT)
    ns.sysctl(**{"ipv4.ip_local_port_range": "40000 40000", "ipv4.tcp_tw_reuse": 1})
    out = ns.experiment("tw_reuse_connect", dport=5000, until_s=1.3, step_s=0.02)
    assert 1.0 <= _first_ok(out) <= 1.15
    assert all(a[1] == "EADDRNOTAVAIL" for a in out["attempts"][:-1])


def test_explicit_bind_takes_over_time_wait_at_once(ns):
    """tcp_twsk_unique() with twp == NULL: bind()+connect() over a TIME-WAIT 4-tuple works at
    once whatever tcp_tw_reuse says, if timestamps were on (both sockets SO_REUSEADDR)."""
    from tcpsim.timewait import TimeWait, connect_may_take_over
    ns.sysctl(**{"ipv4.tcp_tw_reuse": 0})
    assert ns.experiment("tw_bind_connect", dport=5000, bind_port=41000)["connect"] == "ok"
    ns.sysctl(**{"ipv4.tcp_timestamps": 0})
    out = ns.experiment("tw_bind_connect", dport=5001, bind_port=41001)
    assert out == {"bind": "ok", "connect": "EADDRNOTAVAIL", "elapsed_s": out["elapsed_s"]}
    with_ts = TimeWait("127.0.0.1", "127.0.0.1", 0, 0, ts_recent=5, ts_recent_stamp_ms=0)
    no_ts = TimeWait("127.0.0.1", "127.0.0.1", 0, 0)
    assert connect_may_take_over(with_ts, tw_reuse=0, now_ms=0, port_was_bound=True)
    assert not connect_may_take_over(no_ts, tw_reuse=0, now_ms=0, port_was_bound=True)


def test_server_restart_bind_rule(ns):
    """inet_csk_bind_conflict(): a restarted server's bind() meets its old connections in
    TIME-WAIT; only SO_REUSEADDR on the old listener AND the new socket avoids EADDRINUSE,
    and a listener still listening always conflicts."""
    from tcpsim.timewait import bind_conflict
    for i, (old, new) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        out = ns.experiment("server_restart", old_reuse=old, new_reuse=new, port=5100 + i)
        expected = "EADDRINUSE" if bind_conflict(bool(new), [("TIME-WAIT", bool(old))]) else "ok"
        assert out["bind"] == expected, (old, new, out)
        assert out["listen"] == (None if expected != "ok" else "ok")
    assert [ns.experiment("server_restart", old_reuse=o, new_reuse=n, port=5200 + o * 2 + n)["bind"]
            for o, n in ((0, 0), (0, 1), (1, 0), (1, 1))] == ["EADDRINUSE"] * 3 + ["ok"]
    out = ns.experiment("server_restart", old_reuse=1, new_reuse=1, port=5300, keep_listening=True)
    assert out["bind"] == "EADDRINUSE"
    assert bind_conflict(True, [("TIME-WAIT", True), ("LISTEN", True)])
    tw = ns.run("ss", "-tanH", "state", "time-wait").stdout
    assert "127.0.0.1:5103 " in tw            # the TIME-WAIT connection is still there


def test_new_syn_reopens_a_server_time_wait(ns, tmp_path):
    """tcp_timewait_state_process(): a SYN beyond the old sequence space on a TIME-WAIT
    4-tuple with a listener opens a new connection whose ISN is tw_snd_nxt + 65537."""
    from tcpsim.timewait import TimeWait, segment_in_time_wait
    cap = Capture(ns, tmp_path / "twsyn.pcap")
    out = ns.experiment("server_time_wait_then_syn", port=5000, client_port=41000)
    segs = cap.stop()
    assert out["connect"] == "ok"
    server = [r for r in segs if r["sport"] == 5000 and r["dport"] == 41000]
    fin = next(r for r in server if r["flags"] & FIN)
    synacks = [r for r in server if is_synack(r)]
    syn2 = [r for r in segs if is_syn(r) and r["sport"] == 41000][1]
    assert len(synacks) == 2
    client_fin = next(r for r in segs if r["sport"] == 41000 and r["flags"] & FIN)
    tw = TimeWait("127.0.0.1", "127.0.0.1", snd_nxt=(fin["seq"] + 1) % 2**32,
                  rcv_nxt=(client_fin["seq"] + 1) % 2**32, ts_recent=tsval(client_fin),
                  ts_recent_stamp_ms=0)
    verdict = segment_in_time_wait(tw, seq=syn2["seq"], length=0, flags="S", tsval=tsval(syn2))
    assert verdict.action == "new_connection"
    assert synacks[1]["seq"] == verdict.iss == (fin["seq"] + 1 + 65537) % 2**32


@pytest.mark.parametrize("rfc1337", [0, 1])
def test_rst_in_time_wait_and_rfc1337(ns, tmp_path, rfc1337):
    """tcp_timewait_state_process(): an in-window RST (seq == rcv_nxt) ends TIME-WAIT unless
    tcp_rfc1337=1; an out-of-window RST never does."""
    from tcpsim.timewait import TimeWait, segment_in_time_wait
    ns.sysctl(**{"ipv4.tcp_rfc1337": rfc1337})
    cap = Capture(ns, tmp_path / "tw.pcap")
    port = ns.experiment("make_client_time_wait", dport=5000)["port"]
    segs = cap.stop()
    fin = next(r for r in segs if r["sport"] == 5000 and r["flags"] & FIN)
    rcv_nxt = (fin["seq"] + 1) % 2**32

    def in_time_wait():
        return f"127.0.0.1:{port} " in ns.run("ss", "-tanH", "state", "time-wait").stdout

    model = TimeWait("127.0.0.1", "127.0.0.1", snd_nxt=0, rcv_nxt=rcv_nxt)
    assert in_time_wait()
    ns.experiment("raw_tcp", sport=5000, dport=port, seq=(rcv_nxt + 5000) % 2**32, ack=0, flags=RST)
    assert in_time_wait()                                       # out of window: ignored
    assert segment_in_time_wait(model, seq=(rcv_nxt + 5000) % 2**32, length=0, flags="R",
                                rfc1337=bool(rfc1337)).action == "ignore"
    ns.experiment("raw_tcp", sport=5000, dport=port, seq=rcv_nxt, ack=0, flags=RST)
    verdict = segment_in_time_wait(model, seq=rcv_nxt, length=0, flags="R", rfc1337=bool(rfc1337))
    assert in_time_wait() == bool(rfc1337) == (verdict.action == "ignore")


# ====================================================================== keepalive
DROP_SERVER_AFTER_HANDSHAKE = """
table inet tcpsim_conn {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp sport 5000 tcp flags & syn == 0 drop
  }
}
"""


# Timers never fire early; the timer wheel may fire a 1-2 s timer up to 8 jiffies (32 ms at
# HZ=250) late, and each keepalive timer is armed from the previous expiry. So compare the
# gaps between consecutive events, not absolute times.
TIMER_LATE_S = 0.045


def assert_gaps(real_times, model_times):
    """Each gap between consecutive real events matches the model's, never shorter."""
    assert len(real_times) == len(model_times)
    for (r0, r1), (m0, m1) in zip(itertools.pairwise(real_times), itertools.pairwise(model_times)):
        assert (m1 - m0) - 0.005 <= r1 - r0 <= (m1 - m0) + TIMER_LATE_S, (r1 - r0, m1 - m0)


def _keepalive_run(ns, tmp_path, name, cfg, wait_s):
    cap = Capture(ns, tmp_path / f"{name}.pcap")
    out = ns.experiment("keepalive_idle", idle=cfg.time_s, intvl=cfg.intvl_s, cnt=cfg.probes,
                        wait_s=wait_s)
    segs = cap.stop()
    syn = next(r for r in segs if is_syn(r))
    synack = next(r for r in segs if is_synack(r))
    client = syn["sport"]
    end = next((r["t"] for r in segs if r["flags"] & (FIN | RST)), float("inf"))
    probes = [r for r in segs if r["sport"] == client and r["flags"] == ACK and r["len"] == 0
              and synack["t"] + 0.5 < r["t"] < end]        # not the handshake's ACK nor the close
    return out, segs, syn, synack, probes


def test_keepalive_probes_unanswered_then_rst_and_etimedout(ns, tmp_path):
    """tcp_keepalive_timer(): probes at idle, idle+intvl, ... after the last received segment;
    each is seq = snd_una - 1 with no data; after `probes` unanswered, RST and ETIMEDOUT."""
    from tcpsim.keepalive import KeepaliveConfig, keepalive_timeline, probe_segment
    ns.nft(DROP_SERVER_AFTER_HANDSHAKE)                   # the peer "vanishes" after the handshake
    cfg = KeepaliveConfig(time_s=1, intvl_s=1, probes=2)
    out, segs, syn, synack, probes = _keepalive_run(ns, tmp_path, "ka_dead", cfg, wait_s=5)
    expected = keepalive_timeline(cfg, answer_delay_s=None, horizon_s=synack["t"] + 10,
                                  start=synack["t"])
    want_probes = [t for t, e in expected if e == "probe"]
    give_up = next(t for t, e in expected if e == "give_up")
    assert len(probes) == len(want_probes) == 2
    form = probe_segment(snd_una=(syn["seq"] + 1) % 2**32, rcv_nxt=(synack["seq"] + 1) % 2**32)
    for got in probes:
        assert (got["seq"], got["ack"], got["len"]) == (form["seq"], form["ack"], 0)
    rst = next(r for r in segs if r["sport"] == syn["sport"] and r["flags"] & RST)
    assert_gaps([synack["t"]] + [p["t"] for p in probes] + [rst["t"]],
                [synack["t"], *want_probes, give_up])
    # the application: recv() blocked since the start returns ETIMEDOUT then, then EOF
    (first, t_first), (second, _) = out["recv"]
    assert first == "ETIMEDOUT" and second == "eof"
    assert cfg.give_up_after_s - 0.05 <= t_first <= cfg.give_up_after_s + 0.1


def test_keepalive_answered_probes_every_max_time_intvl(ns, tmp_path):
    """An answering peer resets probes_out; the next probe waits for the timer (intvl) and
    for `time` of idleness: probes at 1 s and 3 s with time=1, intvl=2."""
    from tcpsim.keepalive import KeepaliveConfig, keepalive_timeline
    cfg = KeepaliveConfig(time_s=1, intvl_s=2, probes=5)
    out, segs, _syn, synack, probes = _keepalive_run(ns, tmp_path, "ka_alive", cfg, wait_s=3.5)
    expected = keepalive_timeline(cfg, answer_delay_s=0.0001, horizon_s=synack["t"] + 3.5,
                                  start=synack["t"])
    want = [t for t, e in expected if e == "probe"]
    assert len(probes) == len(want) == 2
    assert_gaps([synack["t"]] + [p["t"] for p in probes], [synack["t"], *want])
    for got in probes:
        answer = next(r for r in segs if r["sport"] == 5000 and r["t"] >= got["t"])
        assert answer["flags"] == ACK and answer["ack"] == (got["seq"] + 1) % 2**32
    assert out["recv"][0][0] == "timeout"
    assert not any(r["flags"] & RST for r in segs)


# ====================================================================== listener queues
DROP_SYNACKS = """
table inet tcpsim_conn {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp sport 5000 tcp flags & (syn|ack) == syn|ack drop
  }
}
"""


def nstat(ns, *names):
    out = ns.run("nstat", "-az", *names).stdout
    return {f[0]: int(f[1]) for f in (line.split() for line in out.splitlines())
            if f and not f[0].startswith("#")}


@pytest.mark.parametrize("syncookies", [1, 0])
def test_syn_queue_holds_backlog_plus_one_then_cookies_or_drops(ns, tmp_path, syncookies):
    """tcp_conn_request(): requests that never complete fill the SYN queue (backlog + 1 of
    them); then tcp_syncookies=1 answers with cookies (MSS-only SYN-ACKs without
    timestamps), tcp_syncookies=0 drops the SYNs."""
    from tcpsim.backlog import feed_syns as fill
    ns.sysctl(**{"ipv4.tcp_syncookies": syncookies, "ipv4.tcp_timestamps": 0})
    ns.nft(DROP_SYNACKS)                             # no handshake completes
    cap = Capture(ns, tmp_path / "synq.pcap")
    out = ns.experiment("fill_listener", backlog=3, n_clients=8)
    segs = cap.stop()
    expected = fill(8, out["max_backlog"], syncookies)
    counters = nstat(ns, "TcpExtSyncookiesSent", "TcpExtTCPReqQFullDrop")
    assert counters["TcpExtSyncookiesSent"] == expected.count("cookie")
    assert counters["TcpExtTCPReqQFullDrop"] == expected.count("drop")
    first_synack = {}
    for r in segs:
        if is_synack(r):
            first_synack.setdefault(r["dport"], r)
    kinds = ["cookie" if set(first_synack[42000 + i]["opts"]) == {OPT_MSS} else "queue"
             for i in range(8) if 42000 + i in first_synack]
    assert kinds == [a for a in expected if a != "drop"]


def test_cookies_keep_no_state_and_retransmit_no_syn_ack(ns, tmp_path):
    """With tcp_syncookies=2 the listener keeps no request: no SYN-RECEIVED socket, and no
    SYN-ACK of its own accord; each SYN (the client's retransmission included) gets exactly
    one cookie SYN-ACK. Without cookies the requests sit in SYN-RECEIVED."""
    seen = {}
    for cookies in (2, 0):
        ns.sysctl(**{"ipv4.tcp_syncookies": cookies})
        ns.run("nft", "flush", "ruleset")
        ns.nft(DROP_SYNACKS)                         # the clients never see a SYN-ACK
        cap = Capture(ns, tmp_path / f"state{cookies}.pcap")
        out = ns.experiment("fill_listener", backlog=8, n_clients=2, settle_s=1.4,
                            first_port=42000 + 10 * cookies)
        segs = cap.stop()
        port = 42000 + 10 * cookies
        syns = [r for r in segs if is_syn(r) and r["sport"] == port]
        synacks = [r for r in segs if is_synack(r) and r["dport"] == port]
        seen[cookies] = (out["syn_recv"], len(syns), len(synacks),
                         nstat(ns, "TcpExtSyncookiesSent")["TcpExtSyncookiesSent"])
        if cookies == 2:                             # each SYN-ACK follows a SYN at once
            assert len(synacks) == len(syns) == 2
            assert all(0 <= a["t"] - s["t"] < 0.01 for s, a in zip(syns, synacks))
    assert seen[2][0] == 0 and seen[2][3] == 4       # no request kept; 2 clients x 2 SYNs
    assert seen[0][0] == 2 and seen[0][3] == 4       # SYN-RECEIVED requests; no new cookies


def test_accept_queue_holds_backlog_plus_one_then_syns_are_dropped(ns):
    """sk_acceptq_is_full(): a listener that never accept()s holds backlog + 1 established
    connections; later SYNs are dropped (ListenOverflows) and those clients stay SYN-SENT."""
    from tcpsim.backlog import feed_syns as fill
    out = ns.experiment("fill_listener", backlog=3, n_clients=8)
    expected = fill(8, out["max_backlog"], syncookies=1, complete=True)
    assert out["accept_queue"] == expected.count("queue") == 4
    states = [out["clients"][str(42000 + i)] for i in range(8)]
    assert states == ["ESTAB" if a == "queue" else "SYN-SENT" for a in expected]
    assert nstat(ns, "TcpExtListenOverflows")["TcpExtListenOverflows"] == expected.count("drop")


@pytest.mark.parametrize("abort", [0, 1])
def test_final_ack_on_a_full_accept_queue(ns, tmp_path, abort):
    """tcp_check_req(): the final ACK meets a full accept queue: dropped (the SYN-ACK is
    retransmitted) or, with tcp_abort_on_overflow=1, answered with an RST."""
    from tcpsim.backlog import on_final_ack
    ns.sysctl(**{"ipv4.tcp_abort_on_overflow": abort})
    ns.nft(DROP_SYNACKS.replace("tcp sport 5000 tcp flags & (syn|ack) == syn|ack drop",
                                "tcp sport 42000 tcp dport 5000 tcp flags == ack drop"))
    cap = Capture(ns, tmp_path / "overflow.pcap")
    proc = subprocess.Popen(["ip", "netns", "exec", ns.name, sys.executable, str(EXPERIMENTS),
                             "overflow_at_final_ack", "{}"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "filled"
    ns.run("nft", "flush", "ruleset")                 # C's next ACK gets through
    proc.stdin.write("go\n")
    proc.stdin.flush()
    proc.communicate(timeout=10)
    segs = cap.stop()
    to_c = [r for r in segs if r["sport"] == 5000 and r["dport"] == 42000]
    synacks = [r for r in to_c if is_synack(r)]
    rsts = [r for r in to_c if r["flags"] & RST]
    verdict = on_final_ack(accept_queue_len=2, max_backlog=1, abort_on_overflow=bool(abort))
    assert len(synacks) >= 2                          # the SYN-ACK was retransmitted (~1 s)
    c_acks = [r for r in segs if r["sport"] == 42000 and r["flags"] == ACK and r["t"] > synacks[1]["t"]]
    assert c_acks                                     # C answered the retransmission
    if verdict.action == "rst":
        assert rsts and rsts[0]["t"] >= c_acks[0]["t"]
    else:
        assert verdict.action == "drop" and not rsts


# ====================================================================== TCP Fast Open
def _fastopen_run(ns, tmp_path, name, payloads, at_sync=None):
    """Run the fastopen experiment; at_sync() runs when the client has its cookie, before
    the last connection."""
    cap = Capture(ns, tmp_path / f"{name}.pcap")
    args = {"payloads": payloads, "sync_before_last": at_sync is not None}
    proc = subprocess.Popen(["ip", "netns", "exec", ns.name, sys.executable, str(EXPERIMENTS),
                             "fastopen", json.dumps(args)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    if at_sync is not None:
        assert proc.stdout.readline().strip() == "cached"
        at_sync()
        proc.stdin.write("go\n")
        proc.stdin.flush()
    stdout, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    segs = cap.stop()
    conns = json.loads(stdout)["connections"]
    for c in conns:
        c["segs"] = [r for r in segs if c["client_port"] in (r["sport"], r["dport"])]
        c["syn"] = next(r for r in c["segs"] if is_syn(r))
        c["synack"] = next((r for r in c["segs"] if is_synack(r)), None)
    return conns


def test_fastopen_cookie_request_then_data_in_syn(ns, tmp_path):
    """RFC 7413 / tcp_try_fastopen(): the first SYN asks for a cookie (empty option, no data);
    the SYN-ACK gives one; the next SYNs carry it and their data, which the SYN-ACK acks."""
    from tcpsim import fastopen as tfo
    ns.sysctl(**{"ipv4.tcp_fastopen": tfo.TFO_CLIENT_ENABLE | tfo.TFO_SERVER_ENABLE})
    first, second = _fastopen_run(ns, tmp_path, "tfo", ["hello0", "hello1"])
    assert tfo.client_syn(None, 6, 1000) == {"tfo": "", "data_len": 0}
    assert first["sent"] == "EINPROGRESS"
    assert first["syn"]["opts"][OPT_TFO] == b"" and first["syn"]["len"] == 0
    cookie = first["synack"]["opts"][OPT_TFO]
    assert len(cookie) == tfo.TCP_FASTOPEN_COOKIE_SIZE
    assert first["synack"]["ack"] == (first["syn"]["seq"] + 1) % 2**32
    want = tfo.client_syn(cookie, 6, 1000)
    assert second["syn"]["opts"][OPT_TFO].hex() == want["tfo"]
    assert second["syn"]["data"] == b"hello1" and second["sent"] == want["data_len"] == 6
    verdict = tfo.server_on_syn(tfo=want["tfo"], data_len=6, valid_cookie=cookie)
    assert second["synack"]["ack"] == (second["syn"]["seq"] + 1 + verdict.data_accepted) % 2**32
    assert OPT_TFO not in second["synack"]["opts"] and verdict.synack_cookie is None
    assert [c["data"] for c in (first, second)] == ["hello0", "hello1"]


def test_fastopen_server_reads_the_data_before_the_handshake_completes(ns, tmp_path):
    """tcp_fastopen_create_child(): with a valid cookie the child exists from the SYN on:
    accept() and recv() return the data while the connection is still SYN-RECEIVED (here
    the SYN-ACK never reaches the client, so the final ACK never comes)."""
    from tcpsim import fastopen as tfo
    ns.sysctl(**{"ipv4.tcp_fastopen": 3})
    conns = _fastopen_run(ns, tmp_path, "tfo_early", ["a", "early data"],
                          at_sync=lambda: ns.nft(DROP_SYNACKS))
    last = conns[-1]
    assert last["data"] == "early data" and last["server_state"] == "SYN-RECV"
    assert not [r for r in last["segs"] if r["sport"] == last["client_port"] and r["flags"] == ACK
                and r["len"] == 0 and r["t"] < last["synack"]["t"] + 0.1]   # no final ACK
    assert tfo.server_on_syn(tfo=last["syn"]["opts"][OPT_TFO].hex(), data_len=10,
                             valid_cookie=last["syn"]["opts"][OPT_TFO]).child_now


def test_fastopen_bad_cookie_falls_back_and_resends_the_data(ns, tmp_path):
    """A changed server key makes the cached cookie invalid: the SYN-ACK acks only the SYN and
    carries a fresh cookie; the client sends the data again after the handshake."""
    from tcpsim import fastopen as tfo
    ns.sysctl(**{"ipv4.tcp_fastopen": 3})
    new_key = "00000000-00000000-00000000-0000beef"
    conns = _fastopen_run(ns, tmp_path, "tfo_bad", ["a", "hello"],
                          at_sync=lambda: ns.sysctl(**{"ipv4.tcp_fastopen_key": new_key}))
    old_cookie = conns[0]["synack"]["opts"][OPT_TFO]
    last = conns[-1]
    assert last["syn"]["opts"][OPT_TFO] == old_cookie and last["syn"]["data"] == b"hello"
    fresh = last["synack"]["opts"][OPT_TFO]
    verdict = tfo.server_on_syn(tfo=old_cookie.hex(), data_len=5, valid_cookie=fresh)
    assert fresh != old_cookie and verdict.synack_cookie == fresh and verdict.data_accepted == 0
    assert last["synack"]["ack"] == (last["syn"]["seq"] + 1) % 2**32
    resent = [r for r in last["segs"] if r["sport"] == last["client_port"] and r["len"] == 5
              and r["t"] > last["synack"]["t"]]
    assert resent and resent[0]["data"] == b"hello" and last["data"] == "hello"


def test_fastopen_cookie_depends_on_addresses_not_ports(ns, tmp_path):
    """__tcp_fastopen_cookie_gen_cipher(): siphash of (saddr, daddr) with the server key: after
    the client forgets its cookie (tcp_metrics flush) a request from another port gets the
    same cookie."""
    from tcpsim import fastopen as tfo
    ns.sysctl(**{"ipv4.tcp_fastopen": 3})
    first, second = _fastopen_run(ns, tmp_path, "tfo_ports", ["a", "b"],
                                  at_sync=lambda: ns.run("ip", "tcp_metrics", "flush", "all"))
    assert first["client_port"] != second["client_port"]
    assert first["syn"]["opts"][OPT_TFO] == second["syn"]["opts"][OPT_TFO] == b""   # requests
    assert first["synack"]["opts"][OPT_TFO] == second["synack"]["opts"][OPT_TFO]
    # the model's cookie, likewise, is a function of the two addresses and the key only
    assert list(inspect.signature(tfo.make_cookie).parameters) == ["secret", "client_addr",
                                                                   "server_addr"]


# ====================================================================== timestamps across connections
def test_ts_offset_is_keyed_on_the_4_tuple(ns, tmp_path):
    """*measured*: on this kernel the TSval offset differs between two connections from
    different ports (unrelated TSvals), while a new incarnation of the same 4-tuple (bind +
    connect over TIME-WAIT) continues the old one's clock, as PAWS needs (RFC 7323 §5.4).
    tcpsim.isn.ts_offset (keyed on the 4-tuple) does the same."""
    from tcpsim.isn import ts_offset
    cap = Capture(ns, tmp_path / "tsoff.pcap")
    out = ns.experiment("two_connections", gap_s=0.05)
    assert ns.experiment("tw_bind_connect", dport=5001, bind_port=41000)["connect"] == "ok"
    segs = cap.stop()

    def clock_gap(a, b):             # TSval advance minus elapsed ms: ~0 on one clock
        return ((tsval(b) - tsval(a)) % 2**32) - (b["t"] - a["t"]) * 1000

    a, b = (next(r for r in segs if is_syn(r) and r["sport"] == port) for port in out["ports"])
    first, again = [r for r in segs if is_syn(r) and r["sport"] == 41000]
    assert abs(clock_gap(first, again)) <= 2                  # same 4-tuple: one clock
    assert abs(clock_gap(a, b)) > 1000                        # other port: another offset
    secret = b"k" * 16
    t1 = ("127.0.0.1", 41000, "127.0.0.1", 5001)
    assert ts_offset("linux", t1, secret) == ts_offset("linux", t1, secret)
    assert ts_offset("linux", t1, secret) != ts_offset("linux", ("127.0.0.1", 41001, "127.0.0.1", 5001), secret)
