"""Notebook 08's exercises (tcpsim/exercises/timewait.py), the port-exhaustion sweep
(tcpsim/exhaustion.py), and the simulator's connect() from a bound port over TIME-WAIT.

Every check is tried with the right answer and with the typical wrong ones; no hint may
contain the expected value. Expected numbers are computed from the seed's question and
the simulator, never copied from an output.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import tcpsim
from tcpsim import course, exercises as ex, exhaustion
from tcpsim.exercises import answers
from tcpsim.exercises.grade import grade
from tcpsim.exercises.timewait import old_segments_accepted

RIGHT, WRONG = 0, 1
SEEDS = [answers.student_seed(f"student-{k}") for k in range(40)]
TW_ISN_GAP = 65535 + 2        # tcp_twsk_unique()


def rate_answer(seed):
    n = answers.rate_numbers(seed)
    ports = n["hi"] - n["lo"] + 1
    return ports, ports / n["time_wait_s"]


# ------------------------------------------------------------------ exercise 1
def test_rate_numbers_are_even_ranges_inside_the_port_space():
    for seed in SEEDS:
        n = answers.rate_numbers(seed)
        assert 1024 <= n["lo"] < n["hi"] <= 65535
        assert (n["hi"] - n["lo"] + 1) % 2 == 0
        assert n["time_wait_s"] in (60, 120, 240)
    assert len({answers.rate_numbers(s)["lo"] for s in SEEDS}) > 30     # randomized


def test_sustained_rate_right_answer_and_rounding():
    for seed in SEEDS[:10]:
        ports, rate = rate_answer(seed)
        assert ex.judge_sustained_rate(ports, rate, seed=seed)
        assert ex.judge_sustained_rate(str(ports), round(rate, 1), seed=seed)
        assert ex.judge_sustained_rate(float(ports), f"{rate:.2f}", seed=seed)


def test_sustained_rate_is_what_the_simulators_port_allocator_gives():
    """ports = hi - lo + 1 for an even range: every port of it is used (tcpsim/ports.py,
    __inet_hash_connect()); the rule is exhaustion.limit_per_s."""
    seed = SEEDS[0]
    n = answers.rate_numbers(seed)
    ports, rate = rate_answer(seed)
    assert exhaustion.usable_ports((n["lo"], n["hi"])) == ports
    assert exhaustion.limit_per_s((n["lo"], n["hi"]), n["time_wait_s"]) == pytest.approx(rate)


def wrong_message(seed, ports, rate):
    feedback = ex.judge_sustained_rate(ports, rate, seed=seed)
    assert not feedback
    want_ports, want_rate = rate_answer(seed)
    assert str(want_ports) not in feedback.message
    assert f"{want_rate:.1f}" not in feedback.message
    return feedback.message


def test_sustained_rate_typical_wrong_answers():
    seed = SEEDS[1]
    n = answers.rate_numbers(seed)
    ports, rate = rate_answer(seed)
    tw = n["time_wait_s"]
    assert "both of its ends" in wrong_message(seed, ports - 1, (ports - 1) / tw)
    assert "do not double" in wrong_message(seed, ports, ports / (2 * tw))
    assert "units" in wrong_message(seed, ports, ports * tw)
    assert "per second" in wrong_message(seed, ports, ports / (tw / 60))
    assert "another range" in wrong_message(seed, 28232, 28232 / tw)
    assert "whole TIME-WAIT" in wrong_message(seed, ports, ports / 7)
    assert "no value yet" in ex.judge_sustained_rate(..., rate, seed=seed).message
    assert "must be a number" in ex.judge_sustained_rate(True, rate, seed=seed).message
    assert "must be a number" in ex.judge_sustained_rate(ports, "fast", seed=seed).message
    assert "finite" in ex.judge_sustained_rate(ports, float("nan"), seed=seed).message


def test_the_default_id_gets_no_rate_question():
    assert "anonymous" in repr(ex.rate_question(answers.DEFAULT_SEED))
    assert "anonymous" in ex.judge_sustained_rate(1, 1, seed=answers.DEFAULT_SEED).message
    q = ex.rate_question(SEEDS[2])
    assert str(q.lo) in repr(q) and str(q.lo) in q._repr_html_()


# ------------------------------------------------------------------ exercise 2
def right_letter(seed):
    choices = ex.fin_in_time_wait_choices(seed)
    return next(k for k, t in choices.items() if "starts its TIME-WAIT over" in t)


def test_fin_in_time_wait_prediction():
    for seed in SEEDS[:5]:
        letter = right_letter(seed)
        assert ex.judge_fin_in_time_wait(letter, seed=seed)
        others = [k for k in "abcd" if k != letter]
        assert all(not ex.judge_fin_in_time_wait(k, seed=seed) for k in others)
    assert "no value yet" in ex.judge_fin_in_time_wait(None, seed=SEEDS[0]).message
    assert "must be one of" in ex.judge_fin_in_time_wait("e", seed=SEEDS[0]).message
    assert len({right_letter(s) for s in SEEDS}) > 1      # shuffled per student


def test_fin_in_time_wait_answer_is_what_the_kernel_and_simulator_do():
    """The right choice: the retransmitted FIN is ACKed and TIME-WAIT starts over."""
    for trace in (course.capture("timewait-last-ack-lost"),
                  course.simulate("timewait-last-ack-lost")):
        seg = trace.segments
        fins = seg[(seg["src"] == "server") & seg["flags"].str.contains("F")]
        assert len(fins) == 2 and fins["retransmission"].iloc[1]
        after = seg[seg["t"] > fins["t"].iloc[1]]
        assert after["src"].iloc[0] == "client" and after["flags"].iloc[0] == "A"
        assert after["rel_ack"].iloc[0] == fins["rel_seq"].iloc[1] + 1
    sim = course.simulate("timewait-last-ack-lost").states
    restart = sim[(sim["from"] == "TIME-WAIT") & (sim["to"] == "TIME-WAIT")]
    end = sim[(sim["from"] == "TIME-WAIT") & (sim["to"] == "CLOSED")]
    assert end["t"].iloc[0] - restart["t"].iloc[0] == pytest.approx(60.0)


def test_fin_reveal_shows_nothing_before_a_prediction():
    seed = SEEDS[0]
    assert ex.fin_in_time_wait_reveal(None, seed).figures == []
    shown = ex.fin_in_time_wait_reveal(right_letter(seed), seed)
    assert shown.feedback and len(shown.figures) == 2


# ------------------------------------------------------------------ exercise 3
def reincarnation(client_options=None, server_options=None, faults=None, client_port=40100):
    """A client (port 40100) sends two writes, closes first, and reconnects from the same
    port at 1.0 s; unless ``faults`` says otherwise, its second old write is duplicated and
    the copy arrives at 1.41 s, inside the new connection."""
    return {"name": "reincarnation", "profile": "linux", "seed": 1, "link": {"mtu": 1500},
            "hosts": {"client": {"port": client_port, "options": client_options or {}},
                      "server": {"port": 5100, "options": server_options or {}}},
            "actions": [{"at": 0, "host": "server", "do": "listen"},
                        {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                        {"at": 0.3, "host": "client", "do": "send", "data": "old data 1 "},
                        {"at": 0.31, "host": "client", "do": "send", "data": "old data 2 "},
                        {"at": 0.8, "host": "client", "do": "close"},
                        {"on": "eof", "host": "server", "do": "close"},
                        {"at": 1.0, "host": "client", "do": "connect", "to": "server"},
                        {"at": 1.2, "host": "client", "do": "send", "data": "new data 1 "},
                        {"at": 1.6, "host": "client", "do": "send", "data": "new data 2 "}],
            "faults": faults if faults is not None else [
                {"duplicate": {"from": "client", "data_segment": 2, "extra": 1.1}}],
            "until": 3}


NO_DEFENCES = {"time_wait": 0, "isn_strategy": "zero", "timestamps": False}


def test_corrupting_scenario_right():
    sc = reincarnation(NO_DEFENCES, {"isn_strategy": "zero"})
    assert ex.judge_corrupting_scenario(sc)
    trace = tcpsim.run(sc)
    accepted = old_segments_accepted(trace)
    assert list(accepted[["conn_sent", "conn_there"]].iloc[0]) == [0, 1]
    # the new connection's reader got the old bytes in place of its own second write
    assert trace.delivered["server"].endswith(b"new data 1 old data 2 ")


def test_corrupting_scenario_typical_wrong_ones():
    kept = {"isn_strategy": "zero", "timestamps": False}
    # TIME-WAIT kept: Linux refuses the bound connect() without timestamps
    msg = ex.judge_corrupting_scenario(reincarnation(kept, {"isn_strategy": "zero"})).message
    assert "TIME-WAIT is still there" in msg
    # timestamps on: PAWS drops the old segment
    paws = reincarnation({"time_wait": 0, "isn_strategy": "zero"}, {"isn_strategy": "zero"})
    assert "PAWS" in ex.judge_corrupting_scenario(paws).message
    # hashed ISNs: the old segment is far outside the new window
    window = reincarnation({"time_wait": 0, "timestamps": False}, {"timestamps": False})
    assert "window" in ex.judge_corrupting_scenario(window).message
    # nothing late
    late = reincarnation(NO_DEFENCES, {"isn_strategy": "zero"}, faults=[])
    assert "arrives late" in ex.judge_corrupting_scenario(late).message
    # ephemeral ports: two different 4-tuples
    eph = reincarnation(NO_DEFENCES, {"isn_strategy": "zero"}, client_port=None)
    assert "different 4-tuples" in ex.judge_corrupting_scenario(eph).message
    one = reincarnation(NO_DEFENCES)
    one["actions"] = one["actions"][:6]
    assert "only one connection" in ex.judge_corrupting_scenario(one).message
    assert "cannot run" in ex.judge_corrupting_scenario({"hosts": {}}).message
    assert "dict" in ex.judge_corrupting_scenario(42).message
    nothing = {"hosts": {"client": {}, "server": {}}}
    assert "No connection" in ex.judge_corrupting_scenario(nothing).message


# ------------------------------------------------------------------ the grader
def test_notebook08_graded_exercises_in_the_grader():
    student = "student-3"
    seed = answers.student_seed(student)
    ports, rate = rate_answer(seed)
    assert grade("08-ex1", {"student_id": student, "ports": ports, "rate_per_s": rate})[0] == RIGHT
    assert grade("08-ex1", {"student_id": student, "ports": ports,
                            "rate_per_s": rate / 2})[0] == WRONG
    assert grade("08-ex2", {"student_id": student, "fin_prediction": right_letter(seed)})[0] == RIGHT
    sc = reincarnation(NO_DEFENCES, {"isn_strategy": "zero"})
    assert grade("08-ex3", {"student_id": student, "my_scenario": sc})[0] == RIGHT
    assert grade("08-ex3", {"student_id": student,
                            "my_scenario": reincarnation({"isn_strategy": "zero"})})[0] == WRONG


def test_notebook08_grader_runs_in_a_fresh_process():
    seed = answers.student_seed("alice")
    out = subprocess.run([sys.executable, "-I", "-m", "tcpsim.exercises.grade", "08-ex2"],
                         input=json.dumps({"student_id": "alice",
                                           "fin_prediction": right_letter(seed)}),
                         capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout) == (0, "right\n")


# ------------------------------------------------------------------ the sweep
def test_exhaustion_limit_is_ports_over_time_wait():
    assert exhaustion.usable_ports((32768, 60999)) == 28232
    assert exhaustion.usable_ports((40000, 40002)) == 2      # rounded down to even
    assert exhaustion.limit_per_s() == pytest.approx(28232 / 60)


def test_the_sweep_fails_only_above_the_limit():
    port_range = (40000, 40099)                 # 100 ports: 1.67 connections/s
    limit = exhaustion.limit_per_s(port_range)
    table = exhaustion.sweep([limit * 0.8, limit * 1.5], port_range, duration_s=90,
                             progress=False)
    below, above = table.iloc[0], table.iloc[1]
    assert below["failures"] == 0
    assert below["max_time_wait"] < 100
    assert above["failures"] > 0 and above["max_time_wait"] == 100
    # the ports run out when rate x time has used them all, before any TIME-WAIT ended
    assert above["first_failure_s"] == pytest.approx(0.1 + 100 / above["rate_per_s"],
                                                     abs=1 / above["rate_per_s"] + 0.01)


def test_exhaustion_failures_are_eaddrnotavail():
    trace = tcpsim.run(exhaustion.scenario(4.0, (40000, 40019), duration_s=10))
    connects = trace.events[trace.events["call"] == "connect"]
    assert set(connects["result"]) == {"ok", "EADDRNOTAVAIL"}
    assert (connects["result"] == "ok").sum() == 20       # one per port, none reused
    with pytest.raises(ValueError, match="rate_per_s"):
        exhaustion.scenario(0)
    with pytest.raises(ValueError, match="rates"):
        exhaustion.sweep([])


# ------------------------------------------ connect() from a bound port over TIME-WAIT
def bound_reconnect(timestamps):
    options = {} if timestamps else {"timestamps": False}
    return reincarnation(options, options, faults=[])


def test_bound_port_over_time_wait_needs_timestamps():
    """tcp_twsk_unique() with twp == NULL: no timestamps, no takeover: EADDRNOTAVAIL
    (measured: tests/test_kernel_connections.py, docs/linux-connections.md §3)."""
    trace = tcpsim.run(bound_reconnect(timestamps=False))
    connects = trace.events[trace.events["call"] == "connect"]
    assert list(connects["result"]) == ["ok", "EADDRNOTAVAIL"]
    client = trace.states[trace.states["host"] == "client"]
    assert client["to"].iloc[-1] == "TIME-WAIT"


def test_bound_port_over_time_wait_starts_beyond_the_old_sequence_space():
    trace = tcpsim.run(bound_reconnect(timestamps=True))
    seg = trace.segments
    old_fin = seg[(seg["src"] == "client") & (seg["conn"] == 0) & seg["flags"].str.contains("F")]
    syn = seg[(seg["src"] == "client") & (seg["conn"] == 1) & (seg["flags"] == "S")]
    assert syn["seq"].iloc[0] == (old_fin["seq"].iloc[0] + 1 + TW_ISN_GAP) % 2**32
    causes = trace.states[trace.states["host"] == "client"]["cause"]
    assert (causes == "connect() reuses the port").any()


def test_the_sweep_picture():
    import pandas as pd

    from tcpsim import plots
    table = exhaustion.sweep([1, 2, 5], (40000, 40099), duration_s=60, progress=False)
    fig = plots.exhaustion_sweep(table)
    top, bottom = fig.axes[:2]
    assert list(top.lines[0].get_ydata()) == list(table["max_time_wait"])
    heights = [p.get_height() for p in bottom.patches]
    assert heights == pytest.approx(list(table["failures"] / table["connects"] * 100))
    with pytest.raises(ValueError, match="missing"):
        plots.exhaustion_sweep(pd.DataFrame({"rate_per_s": [1]}))
    with pytest.raises(ValueError, match="no rows"):
        plots.exhaustion_sweep(table.iloc[0:0])


def test_rst_in_time_wait_quick_check():
    """Section 8's predict widget: the right choice is what the rfc1337-off capture shows
    (tests/test_notebook08_claims.py::test_time_wait_assassination)."""
    assert ex.check_rst_in_time_wait("b")
    assert all(not ex.check_rst_in_time_wait(k) for k in "acd")
    assert "must be one of" in ex.check_rst_in_time_wait("z").message
