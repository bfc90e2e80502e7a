"""What notebook 05 tells students, checked against the simulator and the real captures.

Each test quotes the claim it checks (the notebook's sentence, or the course's source text
that the notebook quotes and tests). If the simulator or a capture changes so that a
sentence of the notebook becomes false, a test here fails.
"""
import json
from pathlib import Path

import pytest

import tcpsim
from tcpsim import acks, course, plots
from tcpsim.exercises import buffers
from tcpsim.profiles import LINUX, TCP_DELACK_MIN, TCP_MAX_QUICKACKS
from tcpsim.widgets import flow as flow_widget

SOURCES = ("simulated", "real")
NOTEBOOK = Path(__file__).resolve().parent.parent / "instructors" / "source" / \
    "05-buffers-and-acks.ipynb"


def load(name, source, profile="linux"):
    return course.simulate(name, profile) if source == "simulated" else course.capture(name)


def data_of(trace, host="client"):
    s = trace.segments
    return s[(s["src"] == host) & (s["len"] > 0) & ~s["retransmission"]]


def notebook_text() -> str:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells)


# ------------------------------------------------------------------ section 1
@pytest.mark.parametrize("source", SOURCES)
def test_first_data_byte_is_isn_plus_one(source):
    """"The first byte after the connection is set up is numbered 0" is the myth: "the SYN
    itself takes that number, and the first data byte is ISN + 1"; "nothing on the wire is
    0 or 1"; Wireshark's relative numbers start the first data byte at 1."""
    trace = load("buffers-every-second", source)
    s = trace.segments
    syn = s[s["flags"] == "S"].iloc[0]
    first = data_of(trace).iloc[0]
    assert first["seq"] == (syn["seq"] + 1) % 2**32 and first["rel_seq"] == 1
    assert syn["seq"] not in (0, 1) and s[s["flags"] == "SA"].iloc[0]["seq"] not in (0, 1)


@pytest.mark.parametrize("source", SOURCES)
def test_full_segment_is_1448_bytes_and_each_write_ends_in_psh(source):
    """"At MTU 1500 a full segment carries 1448 bytes: the MSS of 1460 ... minus the 12-byte
    timestamps option that every segment carries"; "Here each write was exactly one full
    segment, and each ends with PSH"."""
    trace = load("buffers-every-second", source)
    s = trace.segments
    assert {r["options"]["mss"] for _, r in s[s["flags"].str.contains("S")].iterrows()} == {1460}
    assert all("ts" in (r["options"] or {}) for _, r in s.iterrows())
    full = data_of(trace)[data_of(trace)["len"] == buffers.FULL_SEGMENT]
    writes = [a for a in course.scenario("buffers-every-second")["actions"]
              if a.get("do") == "send" and a["host"] == "client" and a["bytes"] == 1448]
    assert len(full) == len(writes) == 21 and (full["flags"] == "PA").all()


@pytest.mark.parametrize("source", SOURCES)
def test_a_large_write_is_cut_into_full_segments(source):
    """"69 full segments and one of 88 bytes (69 × 1448 + 88 = 100 000). PSH is on the last
    segment, and also on a few in between (the 5th, 10th, 20th, 35th and 50th here)"; "The
    simulator's linux profile cuts the same write into the same segments"."""
    data = data_of(load("bulk-100k", source))
    assert data["len"].value_counts().to_dict() == {1448: 69, 88: 1}
    assert 69 * 1448 + 88 == 100_000 == int(data["len"].sum())
    pushed = [k for k, flags in enumerate(data["flags"], start=1) if "P" in flags]
    assert pushed == [5, 10, 20, 35, 50, 70]


# ------------------------------------------------------------------ section 2
def test_buffer_view_at_0352():
    """"at t = 0.352 s, 2 ms after the client sent its first full segment: it has arrived
    (the receiver's bar shows it), but it is still in flight for the sender"."""
    trace = course.simulate("buffers-every-second")
    first = data_of(trace)[data_of(trace)["len"] == 1448].iloc[0]
    assert abs(0.352 - first["t"] - 0.002) < 1e-9 and first["arrival"] < 0.352
    n = plots.buffer_numbers(trace, 0.352)
    assert n["client"]["snd_una"] == first["rel_seq"]
    assert n["client"]["snd_nxt"] == first["rel_seq"] + 1448
    assert n["server"]["rcv_nxt"] == first["rel_seq"] + 1448


def test_snd_una_moves_only_when_an_ack_arrives():
    """"SND.NXT moves when a segment leaves, SND.UNA only when an ACK arrives"."""
    trace = course.simulate("buffers-every-second")
    tcb = trace.tcb[trace.tcb["host"] == "client"]
    s = trace.segments
    sent = set(s[s["src"] == "client"]["t"].round(9))
    arrived = set(s[(s["src"] == "server") & s["rel_ack"].notna()]["arrival"].round(9))
    for a, b in zip(tcb.iloc[:-1].itertuples(), tcb.iloc[1:].itertuples()):
        if b.snd_una != a.snd_una:
            assert round(b.t, 9) in arrived
        if b.snd_nxt != a.snd_nxt:
            assert round(b.t, 9) in sent


# ------------------------------------------------------------------ section 3
def test_the_rules_table_constants():
    """"16 quick ACKs (TCP_MAX_QUICKACKS)"; "a lone segment waits for the timer: 40 ms
    (TCP_DELACK_MIN)"."""
    assert TCP_MAX_QUICKACKS == LINUX.quickacks == 16
    assert TCP_DELACK_MIN == LINUX.delayed_ack_s == 0.040


@pytest.mark.parametrize("source", SOURCES)
def test_paced_reader_every_segment_its_own_ack(source):
    """"In paced-reader every segment got its own ACK: the first 22 as quick-ACKs (16, plus
    one for each of the 6 segments that made the window grow), the other 18 when the
    server's read emptied the buffer"."""
    table = acks.classify_acks(load("paced-reader", source), "server")
    data = table[table["reason"] != acks.PIGGYBACKED]
    assert len(data) == 40 and (data["acked_segments"] == 1).all()
    assert list(data["reason"]) == [acks.QUICK] * 22 + [acks.ON_READ] * 18
    windows = list(data["window"])
    grew = sum(1 for k, w in enumerate(windows) if w > (windows[k - 1] if k else 65160))
    assert grew == 6 and 22 == TCP_MAX_QUICKACKS + grew


@pytest.mark.parametrize("source", SOURCES)
def test_reorder_out_of_order_acks(source):
    """"In reorder the three out-of-order ACKs are the duplicate ACK with a SACK block for
    the segment after the hole, the ACK of the retransmission that filled it (it
    acknowledges the queued segment too), and a D-SACK for the late original"."""
    trace = load("reorder", source)
    table = acks.classify_acks(trace, "server")
    odd = table[table["reason"] == acks.OUT_OF_ORDER]
    assert len(odd) == 3
    options = trace.segments.set_index("i")["options"]
    dup, fill, dsack = odd.itertuples()
    (dup_left, dup_right), = options[dup.i]["sack"]
    assert dup.acked_bytes == 0 and dup_right - dup_left == 1448   # the segment after the hole
    assert fill.acked_bytes == 2 * 1448 and not options[fill.i].get("sack")
    _, right = options[dsack.i]["sack"][0]
    ack_abs = trace.segments.set_index("i")["ack"][dsack.i]
    assert right <= ack_abs and dsack.acked_bytes == 0      # D-SACK: below the ack (RFC 2883)


def test_kernel_and_simulator_agree_ack_for_ack():
    """"The kernel and the simulator agree ACK for ACK" (reorder, paced-reader), and after
    exercise 2 "the replay agrees with your count, and the simulator with the kernel"."""
    table = acks.reasons_table(["paced-reader", "reorder", "buffers-every-second"])
    assert (table["real Linux"] == table["tcpsim linux"]).all()
    for name in ("paced-reader", "reorder", "buffers-every-second"):
        real = acks.classify_acks(course.capture(name), "server")
        sim = acks.classify_acks(course.simulate(name), "server")
        assert list(real["reason"]) == list(sim["reason"])
    every = table[table["capture"] == "buffers-every-second"].set_index("reason")["real Linux"]
    assert answer_of_exercise_2() == (every[acks.EVERY_SECOND] + every[acks.DELAYED],
                                      every[acks.DELAYED])


def answer_of_exercise_2():
    """Exercise 2's numbers, as its model solution counts them from the capture."""
    segments = course.capture("buffers-every-second").segments
    full = segments[(segments["src"] == "client") & (segments["len"] == 1448)]
    last = full["rel_seq"].max() + 1448
    server = segments[(segments["src"] == "server") & (segments["len"] == 0) &
                      ~segments["flags"].str.contains("F") & (segments["rel_ack"] > 101) &
                      (segments["rel_ack"] <= last)]
    waits = [a["t"] - full[full["t"] < a["t"]]["t"].max() for _, a in server.iterrows()]
    return len(server), sum(1 for w in waits if w > 0.035)


@pytest.mark.parametrize("source", SOURCES)
def test_pingpong_gives_up_quick_acks(source):
    """"a side that sends data less than 40 ms after receiving some enters pingpong
    (interactive) mode, where ... it gives up quick-ACKs and waits for the timer or a
    second segment; the timer firing ends pingpong mode" (buffers-every-second: the server
    answered the request within 1 ms)."""
    trace = load("buffers-every-second", source)
    request = data_of(trace).iloc[0]
    reply = data_of(trace, "server").iloc[0]
    assert 0 < reply["t"] - request["t"] < TCP_DELACK_MIN
    table = acks.classify_acks(trace, "server")
    after = table[table["t"] > reply["t"]]
    assert acks.QUICK not in set(after["reason"])
    assert set(after["reason"]) == {acks.EVERY_SECOND, acks.DELAYED, acks.PIGGYBACKED}


# ------------------------------------------------------------------ section 4
def test_window_scaling_in_the_syns():
    """"Both sides announce wscale 10, so a window field of 77 in an ACK means 77 × 1024 =
    78 848 bytes"; "SYNs themselves are never scaled"."""
    s = course.capture("paced-noread").segments
    syns = s[s["flags"].str.contains("S")]
    assert [o["wscale"] for o in syns["options"]] == [10, 10]
    assert 77 * 2**10 == 78_848
    assert syns.iloc[1]["win"] == 65160 and syns.iloc[1]["win"] > 2**16 // 2   # raw bytes


@pytest.mark.parametrize("source", SOURCES)
def test_sixteen_unread_segments_acked_one_by_one(source):
    """"From the 5th data segment on, nothing is read"; "The server still ACKs the next 16
    segments (23 168 bytes) one by one"."""
    trace = load("paced-noread", source)
    windows = buffers._window_after_segments(trace, 5, 5 + buffers.UNREAD_SEGMENTS)
    assert all(w is not None for w in windows.values())
    assert buffers.UNREAD_SEGMENTS * 1448 == 23_168
    reads = trace.events[(trace.events["host"] == "server") & (trace.events["call"] == "read")]
    fifth = data_of(trace).iloc[4]
    assert reads.empty or reads["t"].min() > data_of(trace).iloc[-1]["t"] or \
        reads["t"].min() >= 1.5 - 1e-6
    assert fifth["t"] < 1.5


@pytest.mark.parametrize("source", SOURCES)
def test_sender_stops_when_nothing_fits(source):
    """"once nothing fits the sender stops: its program goes on writing into the send
    buffer, but SND.NXT stands still"."""
    d = plots.flow_data(load("paced-noread", source))
    written_end = d["written"][-1]
    assert written_end[0] < 1.0 and written_end[1] == 100 * 1448
    before = [(t, n) for t, n in d["sent"] if t < 1.5]
    after = [(t, n) for t, n in d["sent"] if t >= 1.5]
    assert before[-1][1] < written_end[1]               # the program wrote more than was sent
    assert after[0][0] - before[-1][0] > 0.4            # and SND.NXT stood still till the read


@pytest.mark.parametrize("source", SOURCES)
def test_persist_probe_zero_window_and_update(source):
    """"With a window of 1 (1024 bytes) ... the sender waits ... After its persist timer
    (about 220 ms here, one RTO) it sends the 1024 bytes that fit, with PSH, and the server
    answers with window 0"; "after one more RTO, an empty segment with seq one below
    SND.UNA"; "At 1.5 s the server's program reads everything, and its TCP sends a window
    update at once (window 77, 78 848 bytes); the client sends the queued segments back to
    back"."""
    s = load("paced-noread", source).segments
    small = s[(s["src"] == "client") & (s["len"] == 1024)].iloc[0]
    before = s[(s["src"] == "server") & (s["t"] < small["t"])].iloc[-1]
    assert before["win"] == 1 and "P" in small["flags"]
    last_full = s[(s["src"] == "client") & (s["len"] == 1448) & (s["t"] < small["t"])].iloc[-1]
    assert 0.19 < small["t"] - last_full["t"] < 0.30          # the persist timer
    answer = s[(s["src"] == "server") & (s["t"] > small["t"])].iloc[0]
    assert answer["win"] == 0 and answer["rel_ack"] == small["rel_seq"] + 1024
    probe = s[(s["src"] == "client") & (s["t"] > small["t"])].iloc[0]
    assert probe["len"] == 0 and probe["rel_seq"] == answer["rel_ack"] - 1
    assert 0.19 < probe["t"] - small["t"] < 0.30
    update = s[(s["src"] == "server") & (s["win"] > 0) & (s["t"] > probe["t"])].iloc[0]
    assert 1.5 <= update["t"] < 1.52 and update["win"] == 77
    burst = s[(s["src"] == "client") & (s["t"] > update["t"]) & (s["len"] > 0)]
    assert burst["t"].iloc[-1] - update["t"] < 0.005 and burst["flags"].iloc[-1] == "PA"
    assert (burst["flags"].iloc[:-1] == "A").all()


def test_wireshark_calls_the_probe_keep_alive():
    """"Wireshark calls it "keep-alive", as it has the same shape" (tcpsim's labels are
    tshark's on the shipped captures, docs/captures.md)."""
    s = course.capture("paced-noread").segments
    probes = s[s["keep_alive"]]
    assert len(probes) == 1 and probes.iloc[0]["len"] == 0


def test_the_right_edge_never_moves_back():
    """Myth table: "the right edge never moves back" (RFC 9293 §3.8.6.2.2; Linux's
    tcp_select_window())."""
    s = course.capture("paced-noread").segments
    server = s[(s["src"] == "server") & ~s["flags"].str.contains("S")]
    edges = [int(r["rel_ack"]) + (int(r["win"]) << 10) for _, r in server.iterrows()]
    assert all(b >= a for a, b in zip(edges, edges[1:]))


def test_the_flow_explorer_reader_sets_the_pace():
    """"Watch the window close when the reader is slower than the writer, and the transfer
    take as long as the reader needs" (the explorer's default: no reader, 32 KiB)."""
    closed = plots.flow_data(tcpsim.run(flow_widget.flow_scenario(1448, 0, 32)))
    assert closed["zero_windows"]
    slow = plots.flow_data(tcpsim.run(flow_widget.flow_scenario(4000, 50, 16)))
    took = slow["acked"][-1][0] - slow["written"][0][0]
    assert abs(took - 200_000 / 50_000) < 0.5


# ------------------------------------------------------------------ section 5
def test_linux_nagle_is_minshall():
    """"Linux holds only while a *small* segment is in flight, Minshall's variant"; full
    segments are not held: each full write of buffers-every-second left at once."""
    assert LINUX.nagle_minshall
    delays = acks.write_delays(course.simulate("buffers-every-second"), "client")
    assert (delays["waited_ms"] < 0.1).all()


def test_the_exercise_4_starter_does_not_stall():
    """Exercise 4: "As it stands, nothing waits"."""
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    starter = next("".join(c["source"]) for c in cells
                   if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "ex4-answer")
    starter = starter.split("### BEGIN SOLUTION")[0]
    scope = {}
    exec(starter, scope)                                  # noqa: S102  (the notebook's own cell)
    delays = acks.write_delays(tcpsim.run(scope["stall_scenario"]), "client")
    assert len(delays) == 2 and delays["waited_ms"].max() < 1


@pytest.mark.parametrize("source", SOURCES)
def test_the_stall_is_one_delayed_ack(source):
    """"a 10-byte request answered at once, then at 0.311 s two 10-byte writes, back to
    back"; "The second write left about 40 ms after the program wrote it, right after the
    server's delayed ACK"; the simulator: "the same wait"."""
    trace = load("buffers-nagle-stall", source)
    scenario = course.scenario("buffers-nagle-stall")
    writes = [(a["at"], a["bytes"]) for a in scenario["actions"]
              if a.get("do") == "send" and a["host"] == "client"]
    assert writes == [(0.3, 10), (0.311, 10), (0.311, 10)]
    delays = acks.write_delays(trace, "client")
    assert 38 < delays["waited_ms"].iloc[2] < 46 and delays["waited_ms"].iloc[:2].max() < 1
    s = trace.segments
    second = s[(s["src"] == "client") & (s["rel_seq"] == 21) & (s["len"] == 10)].iloc[0]
    ack = s[(s["src"] == "server") & (s["t"] < second["t"])].iloc[-1]
    assert ack["rel_ack"] == 21 and second["t"] - ack["t"] < 0.001
    reasons = acks.classify_acks(trace, "server").set_index("i")["reason"]
    assert reasons[ack["i"]] == acks.DELAYED


@pytest.mark.parametrize("source", SOURCES)
def test_nodelay_both_leave_at_once(source):
    """"With TCP_NODELAY (host option nodelay, data/captures/buffers-nodelay) both leave at
    once, and one ACK covers them"."""
    trace = load("buffers-nodelay", source)
    assert course.scenario("buffers-nodelay")["hosts"]["client"]["options"] == {"nodelay": True}
    delays = acks.write_delays(trace, "client")
    assert delays["waited_ms"].max() < 1
    s = trace.segments
    small = s[(s["src"] == "client") & (s["len"] == 10) & (s["rel_seq"] >= 11)]
    covering = s[(s["src"] == "server") & (s["len"] == 0) & (s["rel_ack"] > 11) &
                 (s["rel_ack"] <= 31)]
    assert len(small) == 2 and list(covering["rel_ack"]) == [31]


def test_notebook_quotes_the_source_and_names_the_captures():
    """The source's five sentences are quoted; every capture the text names is shipped."""
    text = notebook_text()
    for sentence in ("TCP keeps a send buffer for each connection.",
                     "The first byte after the connection is set up is numbered 0",
                     "The receiver must send an acknowledgment.",
                     "the receiver needs to answer with only"):
        assert sentence in text.replace("\n> ", " ")
    for name in ("buffers-every-second", "bulk-100k", "paced-reader", "reorder", "paced-noread",
                 "buffers-nagle-stall", "buffers-nodelay"):
        assert name in text and name in course.names()


def test_explore_the_textbook_receiver_has_no_stall():
    """Section 6: "switch the profile to rfc9293: the textbook receiver ACKs every segment at
    once" (so nothing holds the second write for 40 ms)."""
    trace = course.simulate("buffers-nagle-stall", profile="rfc9293")
    table = acks.classify_acks(trace, "server")
    assert (table["delay_ms"].dropna() < 1).all()
    assert acks.write_delays(trace, "client")["waited_ms"].max() < 1
