"""What notebook 08 (TIME-WAIT) tells students, checked against the simulator and the real
captures.

Each test quotes the claim it checks (the notebook's sentence, or the course's source text
that the notebook quotes). Expected numbers are derived from the traces, the profiles'
constants or the RFCs, never copied from an output; where the notebook prints a measured
number (208.6 ms, 60.6 s), the test measures it again from the capture.
"""
import ast
import json
from pathlib import Path

import pytest

import tcpsim
from tcpsim import course, exercises, exhaustion
from tcpsim.profiles import LINUX, MSL_RFC9293, RFC9293, TCP_RTO_MIN, TCP_TIMEWAIT_LEN

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "instructors" / "source" / "08-time-wait.ipynb"
SOURCES = ("simulated", "real")
TW_ISN_GAP = 65535 + 2          # tcp_twsk_unique(), tcp_timewait_state_process()
JIFFY_S = 0.004                 # CONFIG_HZ=250 on the capture machine
# kernel/time/timer.c: a 60 s timer sits on wheel level 3 (granularity 512 jiffies)
LONG_TIMER_LATENESS_S = 512 * JIFFY_S + 2 * JIFFY_S


def load(name, source, profile="linux"):
    return course.simulate(name, profile) if source == "simulated" else course.capture(name)


def text():
    return "\n".join("".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"])


def test_the_notebook_says_what_these_tests_check():
    """The sentences quoted below are the notebook's (a rewording must update the tests)."""
    words = " ".join(text().split())
    for sentence in ["208.6 ms after the first", "left it at 61.40 s: 60.6 s later",
                     "the 11th, 12th and 13th fail at once with EADDRNOTAVAIL",
                     "28 232 / 60 s ≈ **470 connections per second**",
                     "at 6 per second, 320 of 720 failed", "FIN's + 1 + 65537",
                     "The `rfc9293` profile waits 240 s (2 × 120 s) after the re-ACK",
                     "Whoever closes first holds every connection of the last minute: 3000"]:
        assert sentence in words, sentence


# ---------------------------------------------------------------- section 1
@pytest.fixture(scope="module")
def last_ack():
    return {s: load("timewait-last-ack-lost", s) for s in SOURCES}


@pytest.mark.parametrize("source", SOURCES)
def test_the_last_ack_is_lost_and_the_fin_comes_again(last_ack, source):
    """"The ✗ marks the lost ACK. The client is now in TIME-WAIT and the server in
    LAST-ACK ... its FIN comes again"; "the client answered it at once with the same ACK,
    and this time the server got it and closed" (section 1, segments 5 to 9)."""
    seg = last_ack[source].segments
    close = seg.loc[5:]
    assert [(s, f) for s, f in zip(close["src"], close["flags"])] == [
        ("client", "FA"), ("server", "FA"), ("client", "A"), ("server", "FA"), ("client", "A")]
    lost, again, re_ack = close.loc[7], close.loc[8], close.loc[9]
    assert lost["dropped"] and not re_ack["dropped"]
    assert again["retransmission"] and again["seq"] == close.loc[6]["seq"]
    assert (re_ack["seq"], re_ack["ack"]) == (lost["seq"], lost["ack"])   # the same ACK
    assert re_ack["t"] - again["t"] < 0.001                                # at once
    states = last_ack[source].states
    server = states[(states["host"] == "server") & (states["socket"] == "server")]
    assert list(server["to"])[-2:] == ["LAST-ACK", "CLOSED"]


def test_the_fin_came_again_after_the_rto():
    """"The server's FIN came again 208.6 ms after the first (its retransmission timeout:
    200 ms at least on Linux, TCP_RTO_MIN)"."""
    seg = course.capture("timewait-last-ack-lost").segments
    gap = seg.loc[8]["t"] - seg.loc[6]["t"]
    assert round(gap * 1000, 1) == 208.6
    assert TCP_RTO_MIN <= gap <= TCP_RTO_MIN + 3 * JIFFY_S
    sim = course.simulate("timewait-last-ack-lost").segments
    assert sim.loc[8]["t"] - sim.loc[6]["t"] == pytest.approx(TCP_RTO_MIN, abs=1e-4)


def test_time_wait_started_over_on_the_real_kernel():
    """"The client entered TIME-WAIT at 0.81 s with a timer of timewait,59sec ... and left
    it at 61.40 s: 60.6 s later, not 60. The timer started over when the retransmitted FIN
    arrived at 1.01 s, and ran its 60 s from there"."""
    ss = course.socket_states("timewait-last-ack-lost")
    client = ss[ss["host"] == "client"]
    entered = client[client["to"] == "TIME-WAIT"].iloc[0]
    left = client[client["from"] == "TIME-WAIT"].iloc[0]
    assert round(entered["t"], 2) == 0.81 and entered["timer"].startswith("timewait,59sec")
    assert round(left["t"], 2) == 61.40 and round(left["t"] - entered["t"], 1) == 60.6
    fin_again = course.capture("timewait-last-ack-lost").segments.loc[8]["t"]
    assert round(fin_again, 2) == 1.01
    # 60 s from the retransmitted FIN, within the wheel's lateness; not 60 s from entry
    assert 0 <= left["t"] - (fin_again + TCP_TIMEWAIT_LEN) <= LONG_TIMER_LATENESS_S
    assert left["t"] - entered["t"] > TCP_TIMEWAIT_LEN + (fin_again - entered["t"]) / 2


def test_the_simulator_restarts_time_wait(last_ack):
    """"The simulator does the same, and says so in its state table"; RFC 9293 §3.10.7.4:
    "Acknowledge it, and restart the 2 MSL timeout"."""
    states = last_ack["simulated"].states
    client = states[states["host"] == "client"]
    restart = client[(client["from"] == "TIME-WAIT") & (client["to"] == "TIME-WAIT")]
    assert "restart timer" in restart["cause"].iloc[0]
    end = client[client["to"] == "CLOSED"].iloc[-1]
    assert end["t"] - restart["t"].iloc[0] == pytest.approx(LINUX.time_wait_s)
    assert round(end["t"]) == 61          # "the client's TIME-WAIT ends ... 61 s"


def test_the_right_choice_of_exercise_2_is_the_source_answer(last_ack):
    """The source: "If it stays, the server's retransmitted FIN gets a new ACK, and the wait
    starts again" (exercise 2's right choice, key "b")."""
    assert exercises.judge_fin_in_time_wait(
        next(k for k, t in exercises.fin_in_time_wait_choices(1).items()
             if "starts its TIME-WAIT over" in t), seed=1)


# ---------------------------------------------------------------- section 2
def no_wait(shutdown=False):
    sc = course.scenario("timewait-last-ack-lost")
    sc["hosts"]["client"]["options"] = {"time_wait": 0}
    if shutdown:
        sc["actions"][-1] = {"on": "eof", "host": "server", "do": "shutdown"}
        sc["actions"].append({"at": 1.5, "host": "server", "do": "read", "bytes": 100})
    return tcpsim.run(sc)


def test_without_time_wait_the_fin_gets_a_rst():
    """"The retransmitted FIN now finds no connection on the client, so the client's TCP
    answers it ... with a RST"; "The server leaves LAST-ACK because of that RST"."""
    trace = no_wait()
    seg = trace.segments
    fin_again = seg[(seg["src"] == "server") & seg["retransmission"]].iloc[0]
    answer = seg[seg["t"] > fin_again["t"]].iloc[0]
    assert answer["src"] == "client" and "R" in answer["flags"]
    server = trace.states[trace.states["host"] == "server"].iloc[-1]
    assert (server["from"], server["to"], server["cause"]) == ("LAST-ACK", "CLOSED",
                                                             "RST received")


def test_a_server_that_holds_the_socket_gets_econnreset():
    """"Its read() after the RST returns ECONNRESET, where a clean close would have
    returned 0"; "Its program called close() and is not told"."""
    reads = no_wait(shutdown=True).events.query("host == 'server' and call == 'read'")
    assert list(reads["result"])[-1] == "ECONNRESET"
    closed = no_wait().events.query("host == 'server'")
    assert "ECONNRESET" not in set(closed["result"])


# ---------------------------------------------------------------- section 3
def notebook_scenario(name):
    """A dict literal of the notebook's cells, by its variable name."""
    for cell in json.loads(NOTEBOOK.read_text())["cells"]:
        src = "".join(cell["source"])
        if src.startswith(f"{name} = {{"):
            literal = src.split("\nreincarnated =")[0][len(f"{name} = "):]
            return ast.literal_eval(literal)
    raise AssertionError(f"no {name} in the notebook")


@pytest.fixture(scope="module")
def reincarnated():
    return tcpsim.run(notebook_scenario("old_incarnation"))


def test_the_takeover_starts_65537_beyond_the_old_fin(reincarnated):
    """"the new SYN's seq is the old FIN's seq + 1 + 65537" (the takeover of section 3)."""
    seg = reincarnated.segments
    fin = seg[(seg["src"] == "client") & (seg["conn"] == 0) & (seg["flags"] == "FA")].iloc[0]
    syn = seg[(seg["src"] == "client") & (seg["conn"] == 1) & (seg["flags"] == "S")].iloc[0]
    assert syn["seq"] == (fin["seq"] + 1 + TW_ISN_GAP) % 2**32


def test_the_late_copy_is_refused(reincarnated):
    """"The late copy, old data 2, was refused by PAWS, and its sequence number lay below
    the new connection's window anyway"; old_segments_accepted "finds none"."""
    ignored = reincarnated.ignored
    assert len(ignored) == 1 and "PAWS" in ignored["reason"].iloc[0]
    seg = reincarnated.segments
    copy = seg.loc[int(ignored["segment"].iloc[0])]
    new_syn = seg[(seg["src"] == "client") & (seg["conn"] == 1) & (seg["flags"] == "S")].iloc[0]
    assert copy["conn"] == 0 and copy["options"]["ts"][0] < new_syn["options"]["ts"][0]
    assert 0 < (new_syn["seq"] - copy["seq"]) % 2**32 < 2**31     # below the new ISN
    assert reincarnated.delivered["server"] == b"old data 1 old data 2 new data 1 new data 2 "
    assert exercises.old_segments_accepted(reincarnated).empty


def test_without_timestamps_linux_refuses_the_connect():
    """"without timestamps Linux refuses the new connect() with EADDRNOTAVAIL" (measured:
    docs/linux-connections.md §3)."""
    sc = notebook_scenario("old_incarnation")
    for host in sc["hosts"].values():
        host["options"] = {"timestamps": False}
    events = tcpsim.run(sc).events
    assert list(events.query("call == 'connect'")["result"]) == ["ok", "EADDRNOTAVAIL"]


def test_exercise_3s_solution_corrupts_and_each_protection_alone_prevents_it():
    """Exercise 3: removing TIME-WAIT, timestamps and the ISN choice lets the old write in;
    "TIME-WAIT alone is not the only protection here"."""
    sc = notebook_scenario("old_incarnation")
    corrupt = {"client": {"time_wait": 0, "timestamps": False, "isn_strategy": "zero"},
               "server": {"isn_strategy": "zero"}}
    for name, options in corrupt.items():
        sc["hosts"][name]["options"] = options
    trace = tcpsim.run(sc)
    assert not exercises.old_segments_accepted(trace).empty
    assert trace.delivered["server"].endswith(b"new data 1 old data 2 ")
    for kept in ("time_wait", "timestamps", "isn_strategy"):
        safer = {**corrupt["client"]}
        del safer[kept]
        sc["hosts"]["client"]["options"] = safer
        assert exercises.old_segments_accepted(tcpsim.run(sc)).empty, kept


# ---------------------------------------------------------------- section 4
def test_how_long():
    """"RFC 9293 ... 2·MSL ... §3.4.2 sets to 2 minutes: 4 minutes"; "its TIME-WAIT is
    TCP_TIMEWAIT_LEN, 60 s"; "The rfc9293 profile waits 240 s (2 × 120 s) after the
    re-ACK; the linux profile, like the kernel, 60 s"."""
    assert MSL_RFC9293 == 120 and RFC9293.time_wait_s == 2 * MSL_RFC9293 == 240
    assert LINUX.time_wait_s == TCP_TIMEWAIT_LEN == 60
    for profile, length in (("rfc9293", 240), ("linux", 60)):
        states = course.simulate("timewait-last-ack-lost", profile=profile).states
        client = states[states["host"] == "client"]
        restart = client[(client["from"] == "TIME-WAIT") & (client["to"] == "TIME-WAIT")]
        if profile == "rfc9293":      # the run ends at the scenario's `until` (64 s) first
            assert client["to"].iloc[-1] == "TIME-WAIT" and len(restart) == 1
            full = tcpsim.run({**course.scenario("timewait-last-ack-lost"),
                               "profile": "rfc9293", "until": 300})
            rows = full.states[full.states["host"] == "client"]
            end = rows[rows["to"] == "CLOSED"].iloc[-1]
            again = rows[(rows["from"] == "TIME-WAIT") & (rows["to"] == "TIME-WAIT")].iloc[0]
            assert end["t"] - again["t"] == pytest.approx(length)
        else:
            end = client[client["to"] == "CLOSED"].iloc[-1]
            assert end["t"] - restart["t"].iloc[0] == pytest.approx(length)


# ---------------------------------------------------------------- section 5
def test_who_pays():
    """"Whoever closes first holds every connection of the last minute: 3000 here" (50 a
    second for 60 s); nobody runs out of ports with the default range."""
    table = exhaustion.who_pays(rate_per_s=50, duration_s=60, progress=False)
    client_first, server_first = table.iloc[0], table.iloc[1]
    assert client_first["connections"] == server_first["connections"] == 50 * 60
    assert client_first["client's TIME-WAIT peak"] == 3000 and \
        client_first["server's TIME-WAIT peak"] == 0
    assert server_first["server's TIME-WAIT peak"] == 3000 and \
        server_first["client's TIME-WAIT peak"] == 0
    assert (table["failed connects"] == 0).all()


# ---------------------------------------------------------------- section 6
def test_the_default_range_and_the_limit():
    """"by default 32768 to 60999: 28 232 ports"; "28 232 / 60 s ≈ 470 connections per
    second"."""
    from tcpsim.ports import LINUX_DEFAULT_PORT_RANGE
    assert LINUX_DEFAULT_PORT_RANGE == (32768, 60999)
    assert exhaustion.usable_ports(LINUX_DEFAULT_PORT_RANGE) == 28232
    assert round(exhaustion.limit_per_s()) == 471 and int(exhaustion.limit_per_s()) == 470


def test_the_sweep():
    """"Up to 3 connections per second the number of connections in TIME-WAIT grows with the
    rate (each stays 60 s: at 3 per second, about 180) and no connect() fails. Above the
    dashed line, all 200 ports are held ...; at 6 per second, 320 of 720 failed"; "ten runs
    ... from 60 to 720 connections each"."""
    rates = [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6]
    table = exhaustion.sweep(rates, progress=False)
    assert list(table["connects"]) == [int(120 * r) for r in rates]
    below = table[table["rate_per_s"] <= 3]
    assert (below["failures"] == 0).all()
    assert abs(int(table[table["rate_per_s"] == 3]["max_time_wait"].iloc[0]) - 180) <= 1
    above = table[table["rate_per_s"] > table["limit_per_s"]]
    assert (above["failures"] > 0).all() and (above["max_time_wait"] == 200).all()
    six = table[table["rate_per_s"] == 6].iloc[0]
    assert (six["failures"], six["connects"]) == (320, 720)
    assert table["limit_per_s"].iloc[0] == pytest.approx(200 / 60)


@pytest.mark.parametrize("source", ["real", "simulated"])
def test_the_ports_run_out(source):
    """"The first ten connect() calls succeed, the 11th, 12th and 13th fail at once with
    EADDRNOTAVAIL, in the capture as in the simulation"."""
    events = course.events("timewait-ports-exhausted") if source == "real" else \
        course.simulate("timewait-ports-exhausted").events
    results = list(events[events["call"] == "connect"]["result"])
    assert results == ["ok"] * 10 + ["EADDRNOTAVAIL"] * 3


def test_the_kernel_took_the_even_ports_first():
    """"The kernel took the even ports of the range first, 40004, 40002, 40008, 40006,
    40000, and then the odd ones"."""
    from tcpsim.pcap import list_streams
    ports = [int(line.split()[1].split(":")[1])
             for line in list_streams(course.capture_path("timewait-ports-exhausted"))]
    assert ports[:5] == [40004, 40002, 40008, 40006, 40000]
    assert all(p % 2 == 0 for p in ports[:5]) and all(p % 2 == 1 for p in ports[5:])
    assert sorted(ports) == list(range(40000, 40010))


# ---------------------------------------------------------------- section 7
def test_tw_reuse_capture():
    """"The connects at 0.5 and 0.9 s fail ..., those at 1.3 and 1.4 s take the ports
    over, the one at 1.6 s fails again. The third connection uses port 40010 again, and its
    SYN's sequence number is the first connection's FIN's + 1 + 65537"."""
    for events in (course.events("timewait-tw-reuse"),
                   course.simulate("timewait-tw-reuse").events):
        connects = events[events["call"] == "connect"]
        assert [(round(t, 1), r) for t, r in zip(connects["t"], connects["result"])] == [
            (0.1, "ok"), (0.2, "ok"), (0.5, "EADDRNOTAVAIL"), (0.9, "EADDRNOTAVAIL"),
            (1.3, "ok"), (1.4, "ok"), (1.6, "EADDRNOTAVAIL")]
    table = exhaustion.reuse_table(course.capture_streams("timewait-tw-reuse"))
    assert table["client port"].iloc[2] == table["client port"].iloc[0] == 40010
    assert table["SYN beyond the port's last FIN"].iloc[2] == 1 + TW_ISN_GAP


@pytest.mark.parametrize("source", SOURCES)
def test_server_restart(source):
    """"its bind() ... fails with EADDRINUSE ... unless both the old sockets and the new
    one set SO_REUSEADDR"; "With SO_REUSEADDR the new listener opens while the old
    connection is still in TIME-WAIT, and a client's new SYN on that very 4-tuple is
    accepted by the TIME-WAIT connection itself"."""
    def listens(name):
        events = course.events(name) if source == "real" else course.simulate(name).events
        return list(events.query("host == 'server' and call == 'listen'")["result"])
    assert listens("timewait-eaddrinuse") == ["ok", "EADDRINUSE"]
    assert listens("timewait-reuseaddr") == ["ok", "ok"]
    trace = load("timewait-reuseaddr", source)
    if source == "real":
        ss = course.socket_states("timewait-reuseaddr").query("host == 'server'")
        assert ((ss["from"] == "TIME-WAIT") & (ss["to"] == "ESTABLISHED")).any()
        server_tw = ss[ss["to"] == "TIME-WAIT"].iloc[0]["t"]
        relisten = ss[(ss["to"] == "LISTEN")].iloc[-1]["t"]
        assert server_tw < relisten          # the listener opened during TIME-WAIT
    else:
        causes = trace.states.query("host == 'server'")["cause"]
        assert causes.str.contains("new incarnation").any()


def test_reuseaddr_restart_synack_is_65537_beyond():
    """The reopened connection's SYN-ACK: ISN = the old FIN's seq + 1 + 65537 (data/
    captures/README.md; RFC 6191 takeover, tcp_timewait_state_process())."""
    old, new = course.capture_streams("timewait-reuseaddr")
    fin = old.segments[(old.segments["src"] == "server") & old.segments["flags"].str.contains("F")]
    synack = new.segments[new.segments["flags"] == "SA"]
    assert synack["seq"].iloc[0] == (fin["seq"].iloc[0] + 1 + TW_ISN_GAP) % 2**32


# ---------------------------------------------------------------- section 8
@pytest.mark.parametrize("source", SOURCES)
def test_time_wait_assassination(source):
    """"TIME-WAIT ... ACKs the FIN. The server's host has no connection any more, so it
    answers that ACK with a RST whose seq is the ACK's ack: exactly the client's RCV.NXT";
    with tcp_rfc1337 = 0 "TIME-WAIT ends"; with 1 "the same ACK and the same RST, and the
    client stays in TIME-WAIT to the end of the run"."""
    for name, ends in (("timewait-rst-rfc1337-off", True), ("timewait-rst-rfc1337-on", False)):
        trace = load(name, source)
        seg = trace.segments
        ack, rst = seg.loc[8], seg.loc[9]
        assert (ack["src"], ack["flags"], rst["src"], rst["flags"]) == ("client", "A",
                                                                       "server", "R")
        assert rst["seq"] == ack["ack"] == seg.loc[6]["seq"] + 1      # RCV.NXT after the FIN
        if source == "real":
            ss = course.socket_states(name).query("host == 'client'")
            assert (ss["to"].iloc[-1] == "CLOSED") == ends
            assert ss["to"].iloc[-1] == ("CLOSED" if ends else "TIME-WAIT")
        else:
            last = trace.states.query("host == 'client'").iloc[-1]
            assert (last["to"] == "CLOSED") == ends
            assert ("assassination" if ends else "RST ignored") in last["cause"]


def test_tcp_tw_recycle_is_gone_from_current_kernels():
    """"It was removed in Linux 4.12 (2017) ... on a current kernel the sysctl does not
    exist": checked on the machine the tests run on, when it is a Linux 4.12 or later."""
    import platform
    sysctls = Path("/proc/sys/net/ipv4")
    release = platform.release().split(".")
    if not (sysctls / "tcp_tw_reuse").exists() or not release[1].isdigit():
        pytest.skip("not a Linux host with /proc/sys/net/ipv4")
    if (int(release[0]), int(release[1])) < (4, 12):
        pytest.skip(f"Linux {platform.release()} is older than 4.12")
    assert not (sysctls / "tcp_tw_recycle").exists()
    assert (sysctls / "tcp_rfc1337").exists() and (sysctls / "tcp_tw_reuse").exists()
