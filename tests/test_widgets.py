"""tcpsim.widgets: set widget values as a student would, check what the widgets then show.

No browser: the widgets are driven from Python (slider values, button clicks) and the
expectations come from the trace itself (``trace.tcb``, ``trace.states``, the segments),
never from hard-coded numbers.
"""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import ipywidgets  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import tcpsim  # noqa: E402
from tcpsim import widgets  # noqa: E402
from tcpsim.widgets.explorer import NO_DROP  # noqa: E402
from tcpsim.widgets.views import variables_rows  # noqa: E402

from conftest import act, scenario  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"
MOD = 2 ** 32


def handshake_and_close():
    """Handshake, 100 bytes each way, client closes, server closes on EOF."""
    return scenario([act(0.25, "client", "send", bytes=100), act(0.5, "server", "send", bytes=100),
                     act(0.8, "client", "close"), act("eof", "server", "close")],
                    delay=0.001, name="handshake and close")


@pytest.fixture(scope="module")
def trace():
    return tcpsim.run(handshake_and_close())


@pytest.fixture(scope="module")
def player(trace):
    return widgets.player(trace)


def all_instants(trace):
    """Every time something happens, from the trace's rows."""
    doc = trace.doc
    times = [s["t"] for s in doc["segments"]]
    times += [s["arrival"] for s in doc["segments"] if s["arrival"] is not None]
    times += [r["t"] for r in doc["states"]] + [e["t"] for e in doc["events"]]
    return sorted(set(times))


def png(image):
    """An Image widget's bytes (ipywidgets keeps them as a memoryview)."""
    return bytes(image.value)


def last_tcb_row(trace, host, t):
    tcb = trace.tcb
    rows = tcb[(tcb["host"] == host) & (tcb["t"] <= t)]
    return None if rows.empty else rows.iloc[-1]


# ------------------------------------------------------------------------------ player
def test_player_is_a_vbox_with_its_css_class_and_fixed_size_pictures(player):
    assert isinstance(player, ipywidgets.VBox)
    assert "tcpsim-player" in player._dom_classes
    images = [player.ladder_image, player.buffers_image, *player.state_images.values()]
    for image in images:
        assert "tcpsim-picture" in image._dom_classes
        assert image.layout.width.endswith("px") and image.layout.height == "auto"
        assert image.layout.max_width in ("100%", "50%")   # shrinks in a narrow notebook
        if image.format == "png":
            assert png(image).startswith(PNG_MAGIC)
        else:
            assert image.format == "svg+xml" and png(image).startswith(b"<svg")
            width = f'width="{image.layout.width[:-2]}"'.encode()
            assert width in png(image)[:300]                 # drawn at the image's size


def test_player_times_are_every_instant_of_the_trace(trace, player):
    assert player.times == pytest.approx(all_instants(trace))
    assert player.play.max == len(player.times) - 1


def test_moving_the_slider_shows_the_tcb_at_that_time(trace, player):
    """At every instant: the variables panel shows each host's last TCB snapshot (relative
    and absolute numbers), and the state graph fills the TCB's state."""
    for k in range(len(player.times)):
        player.slider.index = k
        t = player.times[k]
        assert player.t == t
        for host in ("client", "server"):
            row = last_tcb_row(trace, host, t)
            filled = player.state_pictures[host].filled_at(t)
            if row is None:
                assert "none yet" in player.variables.value
                continue
            assert filled[host] == row["state"]
            assert f"<b>{row['state']}</b>" in player.variables.value
            una_rel = (int(row["snd_una"]) - int(row["iss"])) % MOD
            nxt_rel = (int(row["snd_nxt"]) - int(row["iss"])) % MOD
            assert f"<b>{una_rel}</b>" in player.variables.value
            assert f"<b>{nxt_rel}</b>" in player.variables.value
            assert str(int(row["snd_nxt"])) in player.variables.value
            assert f"<b>{int(row['snd_wnd'])} B</b>" in player.variables.value
            for name, deadline in row["timers"].items():
                assert f"fires at {deadline:.{player.decimals}f} s" in player.variables.value


def test_variables_rows_are_relative_to_the_isns(trace):
    t = trace.doc["events"][-1]["t"]
    row = last_tcb_row(trace, "client", t)
    rows = {name: (value, absolute) for name, value, absolute in
            variables_rows(trace, "client", t)}
    assert rows["RCV.NXT"] == (str((int(row["rcv_nxt"]) - int(row["irs"])) % MOD),
                               str(int(row["rcv_nxt"])))
    assert rows["state"][0] == row["state"]
    assert rows["ISS"] == ("0", str(int(row["iss"])))
    assert rows["IRS"] == ("0", str(int(row["irs"])))


def test_a_listener_in_syn_received_already_stores_its_iss(trace):
    """The myth box of notebook 02: the server keeps its ISN; the panel shows it."""
    tcb = trace.tcb
    synrcvd = tcb[(tcb["host"] == "server") & (tcb["state"] == "SYN-RECEIVED")].iloc[0]
    rows = {name: (value, absolute) for name, value, absolute in
            variables_rows(trace, "server", synrcvd["t"])}
    assert rows["state"][0] == "SYN-RECEIVED"
    assert rows["ISS"][1] == str(int(synrcvd["iss"]))
    synack = next(s for s in trace.doc["segments"] if s["flags"] == "SA")
    assert rows["ISS"][1] == str(synack["seq"])


def test_the_ladder_cursor_sits_on_the_arrows_sent_at_t(trace, player):
    """At a segment's send time, the cursor is at the height where its arrow starts, in the
    SVG the player shows (the cursor line's path) and in Matplotlib's static ladder."""
    ax = tcpsim.plots.ladder(trace, segments="all").axes[0]
    scene = player.ladder.scene
    for seg in trace.doc["segments"]:
        first_at_t = next(s for s in trace.doc["segments"]
                          if s["src"] == seg["src"] and s["t"] == seg["t"])
        if first_at_t is not seg:
            continue                            # later segments of a burst get lower rows
        player.go_to(seg["t"])
        arrow_y = ax.tcpsim["arrows"][seg["i"]]._posA_posB[0][1]
        _, arrow_row = scene.to_pixels(0, arrow_y)
        assert player.ladder.cursor_row(seg["t"]) == pytest.approx(arrow_row)
        cursor = re.findall(r'<path d="M[\d.]+ ([\d.]+) L[\d.]+ ([\d.]+)" fill="none" '
                            r'stroke="#009E73"', png(player.ladder_image).decode())
        assert len(cursor) == 1, "one cursor line in the ladder picture"
        assert float(cursor[0][0]) == float(cursor[0][1]) == pytest.approx(arrow_row, abs=0.06)


def test_step_buttons_go_to_the_next_and_previous_instant(trace, player):
    instants = all_instants(trace)
    player.slider.index = 0
    for _ in range(4):
        before = player.t
        player.forward_button.click()
        assert player.t == pytest.approx(min(t for t in instants if t > before))
    before = player.t
    player.back_button.click()
    assert player.t == pytest.approx(max(t for t in instants if t < before))
    player.slider.index = len(player.times) - 1
    player.forward_button.click()                  # at the end it stays there
    assert player.slider.index == len(player.times) - 1


def test_play_is_linked_to_the_slider(player):
    player.play.value = 3
    assert player.slider.index == 3
    player.slider.index = 5
    assert player.play.value == 5


def test_pictures_change_exactly_when_their_view_changes(trace, player):
    """Between two instants where the server's state stays the same, its state picture's
    bytes stay the same while the ladder's (the cursor moved) change."""
    states = trace.doc["states"]
    for k in range(len(player.times) - 1):
        t0, t1 = player.times[k], player.times[k + 1]
        server_changes = [r for r in states if r["host"] == "server" and t0 < r["t"] <= t1]
        player.slider.index = k
        ladder0, server0 = png(player.ladder_image), png(player.state_images["server"])
        player.slider.index = k + 1
        assert png(player.ladder_image) != ladder0
        if server_changes:
            assert png(player.state_images["server"]) != server0
        else:
            assert png(player.state_images["server"]) == server0


def test_buffers_picture_follows_each_hosts_last_tcb_snapshot(trace, player):
    """The buffers picture at each instant is the one of each host's last TCB row at or
    before it: the same picture while those rows stay the same."""
    tcb = trace.tcb
    shown = {}
    for k, t in enumerate(player.times):
        player.slider.index = k
        rows = tuple(last_tcb_row(trace, host, t).name if last_tcb_row(trace, host, t)
                     is not None else None for host in ("client", "server"))
        assert player.buffer_pictures.snapshots_at(t) == rows
        picture = png(player.buffers_image)
        assert shown.setdefault(rows, picture) == picture
    assert len(shown) > 3 and not tcb.empty


def test_player_says_what_happens_at_each_instant(trace, player):
    syn = next(s for s in trace.doc["segments"] if s["flags"] == "S")
    player.go_to(syn["t"])
    assert "client sends SYN" in player.happening.value
    player.go_to(syn["arrival"])
    assert "server receives SYN" in player.happening.value


def test_player_on_a_capture_says_there_is_no_tcb():
    trace = tcpsim.read_pcap("data/captures/handshake.pcap")
    assert trace.tcb.empty
    p = widgets.player(trace)
    assert "no TCB snapshots" in p.variables.value
    assert png(p.buffers_image).startswith(PNG_MAGIC)
    p.step(3)
    assert p.slider.index == 3
    for host in ("client", "server"):           # the states inferred from the capture
        assert host in p.variables.value


def test_player_views_can_be_chosen(trace):
    p = widgets.player(trace, views=("ladder", "variables"))
    assert p.buffers_image is None and not p.state_images
    assert p.ladder_image in p.children and p.variables in p.children
    with pytest.raises(ValueError, match="unknown view"):
        widgets.player(trace, views=("ladder", "movie"))


def three_short_connections():
    """A client opens and closes three connections from ephemeral ports, 0.3 s apart."""
    actions = []
    for k in range(3):
        actions += [act(0.1 + 0.3 * k, "client", "connect", to="server"),
                    act(0.2 + 0.3 * k, "client", "close")]
    doc = scenario([act(0.0, "server", "listen"), *actions], name="three connections",
                   open=False, client_port=None)
    return doc


def test_player_of_one_connection_has_no_menu(player):
    assert player.connection_menu is None and player.conn is None
    assert player.trace is player.full_trace


def test_player_menu_shows_all_connections_or_one():
    """A trace of several connections gets the "show" menu: "all connections" first, then
    one entry per conn id naming its ports; choosing one plays that connection alone (its
    segments only, its instants only) and "all" plays the whole trace again."""
    trace = tcpsim.run(three_short_connections())
    p = widgets.player(trace)
    menu = p.connection_menu
    assert menu in p.children and p.children.index(menu) == 0
    assert [value for _, value in menu.options] == [None, 0, 1, 2]
    ports = [s["sport"] for s in trace.doc["segments"] if s["src"] == "client" and "S" in s["flags"]]
    for (label, _), port in zip(menu.options[1:], ports):
        assert f"client:{port} \u2192 server:" in label
    everything = list(p.times)
    assert everything == all_instants(trace)
    menu.value = 1
    assert p.conn == 1 and {s["conn"] for s in p.trace.doc["segments"]} == {1}
    assert p.times == all_instants(p.trace) and set(p.times) < set(everything)
    assert p.times[0] >= 0.4 - 1e-9 and p.slider.options[0][1] == p.times[0]
    assert p.play.max == len(p.times) - 1
    p.show_connection(None)
    assert menu.value is None and p.times == everything and p.trace is p.full_trace


def test_player_keeps_the_time_when_the_connection_changes():
    p = widgets.player(tcpsim.run(three_short_connections()))
    p.go_to(0.75)
    seen = p.t
    p.show_connection(2)                      # from 0.7 on: its last instant <= 0.75
    assert p.t == max(t for t in p.times if t <= seen + 1e-12) and p.t >= 0.7 - 1e-9
    p.show_connection(None)
    p.go_to(0.75)
    p.show_connection(0)                      # quiet at 0.75 (in TIME-WAIT): its instant before
    assert p.t == max(t for t in p.times if t <= 0.75) and p.t < 0.3
    assert p.connection_menu.value == 0


def test_player_menu_refuses_an_unknown_connection():
    p = widgets.player(tcpsim.run(three_short_connections()))
    with pytest.raises(ValueError, match="conn: no connection 7 in this trace"):
        p.show_connection(7)
    assert p.conn is None


def test_player_menu_redraws_the_ladder_of_the_chosen_connection():
    p = widgets.player(tcpsim.run(three_short_connections()), views=("ladder",))
    before = png(p.ladder_image)
    p.show_connection(1)
    assert png(p.ladder_image) != before and p.ladder_image in p.children


def test_player_checkbox_shows_and_hides_the_ignored_segments():
    """The "show ignored segments" checkbox: off at first (the ladder has no ⊗), on marks
    each segment of ``trace.ignored`` with its reason, off again takes the marks away."""
    trace = tcpsim.run(str(CAPTURES / "synack-loss.json"))
    ignored = sorted(set(trace.ignored["segment"]))
    assert ignored
    p = widgets.player(trace, views=("ladder",))
    box = p.ignored_checkbox
    assert box in p.children and box.description == "show ignored segments" and not box.value

    def marks():
        return sorted(int(i) for i in re.findall(r'id="ignored-(\d+)"', png(p.ladder_image).decode()))

    assert marks() == []
    box.value = True
    assert marks() == ignored
    reason = trace.ignored["reason"].iloc[0]
    assert f"<title>ignored: {reason}" in png(p.ladder_image).decode()
    p.step(2)                                  # the marks stay while stepping
    assert marks() == ignored
    box.value = False
    assert marks() == []


def test_player_snapshot_and_mimebundle_carry_a_png(player):
    fig = player.snapshot(player.times[2])
    assert isinstance(fig, Figure)
    bundle = player._repr_mimebundle_()
    assert bundle["image/png"].startswith(PNG_MAGIC)
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "tcpsim player" in bundle["text/plain"]


# ---------------------------------------------------------------------------- explorer
def explorer(controls, **kw):
    return widgets.explorer(handshake_and_close(), controls=controls, debounce_s=0, **kw)


def test_explorer_is_a_vbox_with_its_parts():
    e = explorer(("profile", "delay_ms"))
    assert isinstance(e, ipywidgets.VBox) and "tcpsim-explorer" in e._dom_classes
    assert "tcpsim-picture" in e.image._dom_classes
    assert e.image.format == "svg+xml" and b"<svg" in png(e.image)[:400]
    assert set(e.controls) == {"profile", "delay_ms"}
    assert "client connect() \u2192 ok" in e.summary.value
    assert "server accept() \u2192 ok" in e.summary.value


def test_profile_control_changes_the_profile_of_the_trace():
    e = explorer(("profile",))
    assert e.trace.doc["profile"] == "linux"
    before = png(e.image)
    e.controls["profile"].value = "rfc9293"
    assert e.trace.doc["profile"] == "rfc9293"
    assert png(e.image) != before          # rfc9293 ACKs at once, TIME-WAIT is 240 s


def test_image_bytes_stay_the_same_when_nothing_changed():
    e = explorer(("profile", "delay_ms"))
    before = png(e.image)
    e.update()
    assert png(e.image) == before
    e.controls["delay_ms"].value = 10.0
    assert e.trace.doc["segments"][0]["arrival"] == pytest.approx(0.01)
    assert png(e.image) != before


def test_every_drop_entry_drops_exactly_that_segment():
    e = explorer(("drop",))
    baseline = e.trace.doc["segments"]
    entries = [(label, value) for label, value in e.controls["drop"].options if value != NO_DROP]
    assert len(entries) == len(baseline)
    for (label, value), seg in zip(entries, baseline):
        assert label.startswith(f"{seg['i']}: {seg['src']} \u2192 {seg['dst']}")
        e.controls["drop"].value = value
        dropped = [s for s in e.trace.doc["segments"] if s["dropped"]]
        assert len(dropped) == 1, label
        lost = dropped[0]
        assert (lost["i"], lost["src"], lost["flags"], lost["seq"], lost["t"]) == \
            (seg["i"], seg["src"], seg["flags"], seg["seq"], seg["t"]), label
        assert e.trace.doc["segments"][:seg["i"]] == baseline[:seg["i"]]
    e.controls["drop"].value = NO_DROP
    assert not any(s["dropped"] for s in e.trace.doc["segments"])


def test_the_drop_list_follows_the_other_controls():
    """The list is the run without the drop; the chosen segment stays chosen if it is
    still there."""
    e = explorer(("profile", "drop"))
    syn_ack = next(v for _, v in e.controls["drop"].options if v != NO_DROP and v[1] == "SA")
    e.controls["drop"].value = syn_ack
    e.controls["profile"].value = "rfc9293"
    assert e.controls["drop"].value == syn_ack
    assert [s["flags"] for s in e.trace.doc["segments"] if s["dropped"]] == ["SA"]
    assert len(e.controls["drop"].options) - 1 == len(
        tcpsim.run({**handshake_and_close(), "profile": "rfc9293"}).doc["segments"])


def test_loss_mtu_isn_and_seed_controls_change_the_scenario():
    e = explorer(("loss", "mtu", "isn", "seed"))
    e.controls["mtu"].value = 576
    syn = e.trace.doc["segments"][0]
    assert syn["options"]["mss"] == 576 - 40
    e.controls["isn"].value = "zero"
    assert [s["seq"] for s in e.trace.doc["segments"][:2]] == [0, 0]
    e.controls["isn"].value = "fixed"
    fixed = [s["seq"] for s in e.trace.doc["segments"][:2]]
    e.controls["seed"].value = e.controls["seed"].value + 1
    assert [s["seq"] for s in e.trace.doc["segments"][:2]] == fixed      # fixed: no change
    e.controls["isn"].value = "rfc6528"
    isns = e.trace.doc["hosts"]["client"]["isn"]
    e.controls["seed"].value = e.controls["seed"].value + 1
    assert e.trace.doc["hosts"]["client"]["isn"] != isns                  # hashed: new secret
    e.controls["loss"].value = 0.3
    assert {"loss": {"p": 0.3}} in e.scenario["faults"]


def test_mss_control_caps_the_announced_mss():
    e = explorer(("mss",))
    e.controls["mss"].value = 536
    syns = [s for s in e.trace.doc["segments"] if "S" in s["flags"]]
    assert [s["options"]["mss"] for s in syns] == [536, 536]


def test_old_syn_control_injects_a_syn_arriving_at_that_time():
    sc = handshake_and_close()
    sc["hosts"]["server"]["options"] = {"handshake": "two-way"}
    e = widgets.explorer(sc, controls=("old_syn_at",), debounce_s=0)
    e.controls["old_syn_at"].value = 0.5
    injected = [s for s in e.trace.doc["segments"] if s.get("injected")]
    assert len(injected) == 1 and injected[0]["flags"] == "S"
    assert injected[0]["arrival"] == pytest.approx(0.5)
    assert injected[0]["src"] == "client"


def test_a_rejected_combination_shows_one_error_line_and_keeps_the_picture():
    retries = ipywidgets.IntSlider(value=3, min=0, max=10, description="SYN retries")

    def set_retries(sc, value):
        sc["hosts"]["client"]["options"]["syn_retries"] = value

    e = explorer(("profile",), extra={"SYN retries": (retries, set_retries)})
    good_trace, good_image = e.trace, png(e.image)
    retries.value = 0                         # syn_retries must be 1 ... 127
    assert e.error is not None and "syn_retries" in e.error
    assert "syn_retries" in e.summary.value and "Traceback" not in e.summary.value
    assert e.summary.value.count("<div") == 1
    assert e.trace is good_trace and png(e.image) == good_image
    retries.value = 2
    assert e.error is None and "connect() \u2192 ok" in e.summary.value


def test_extra_controls_may_return_a_new_scenario():
    closes = ipywidgets.Checkbox(value=True, description="client closes")

    def client_closes(sc, value):
        if value:
            return sc
        return {**sc, "actions": [a for a in sc["actions"] if a["do"] != "close"]}

    e = explorer((), extra={"client closes": (closes, client_closes)})
    assert any(s["flags"] == "FA" for s in e.trace.doc["segments"])
    closes.value = False
    assert not any("F" in s["flags"] for s in e.trace.doc["segments"])


def test_refused_and_timed_out_connects_are_said_in_words():
    refused = handshake_and_close()
    refused["actions"] = [a for a in refused["actions"] if a["do"] != "listen"]
    e = widgets.explorer(refused, controls=(), debounce_s=0)
    assert "connect() \u2192 refused (ECONNREFUSED)" in e.summary.value
    lost = handshake_and_close()
    lost["faults"] = [{"drop": {"from": "client", "flags": "S"}}]
    lost["hosts"]["client"]["options"] = {"syn_retries": 1}
    e = widgets.explorer(lost, controls=(), debounce_s=0)
    assert "connect() \u2192 timed out (ETIMEDOUT)" in e.summary.value


@pytest.mark.parametrize("view, kind", [("ladder", "svg+xml"), ("timeseq", "svg+xml"),
                                        ("states", "svg+xml")])
def test_explorer_views_draw_their_picture(view, kind):
    e = explorer(("profile",), view=view)
    assert e.image.format == kind
    if kind == "png":
        assert png(e.image).startswith(PNG_MAGIC)
    else:
        picture = png(e.image).decode()
        assert "<svg" in picture and "Verdana, sans-serif" in picture   # fallback fonts
        assert "<text" in picture                          # text stays text (svg.fonttype none)
        if view == "states":                               # both hosts' graphs
            assert picture.count('id="state-LISTEN-LISTEN"') == 2


def test_explorer_svg_shows_one_arrow_per_segment():
    e = explorer(("drop",))
    picture = png(e.image).decode()
    for row in e.trace.doc["segments"]:
        assert f'id="seg-{row["i"]}"' in picture


def test_explorer_refuses_unknown_names():
    with pytest.raises(ValueError, match="unknown control"):
        explorer(("profile", "colour"))
    with pytest.raises(ValueError, match="unknown view"):
        explorer(("profile",), view="movie")


def test_debounce_draws_the_latest_value_once_the_burst_is_over():
    """In a kernel (an asyncio loop runs), the first change is drawn at once and changes
    right after it are gathered: only the latest one is drawn."""
    async def burst():
        e = widgets.explorer(handshake_and_close(), controls=("delay_ms",), debounce_s=0.05)
        drawn = []
        simulate_and_draw = e._simulate_and_draw

        def counting():
            simulate_and_draw()
            drawn.append(e.trace.doc["segments"][0]["arrival"])
        e._simulate_and_draw = counting
        await asyncio.sleep(0.1)                      # well after the first drawing
        for delay_ms in (2.0, 5.0, 10.0, 20.0):      # the scenario's delay is 1 ms
            e.controls["delay_ms"].value = delay_ms
        await asyncio.sleep(0.3)
        return e, drawn

    e, drawn = asyncio.run(burst())
    assert drawn[0] == pytest.approx(0.002)          # the first change, at once
    assert drawn[-1] == pytest.approx(0.020)         # then only the latest
    assert len(drawn) == 2
    assert e.trace.doc["segments"][0]["arrival"] == pytest.approx(0.020)


def test_explorer_snapshot_and_mimebundle_carry_a_png():
    e = explorer(("profile", "drop"))
    assert isinstance(e.snapshot(), Figure)
    bundle = e._repr_mimebundle_()
    assert bundle["image/png"].startswith(PNG_MAGIC)
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "profile = linux" in bundle["text/plain"]


# ----------------------------------------------------------------------------- predict
class Result:
    """What a ``tcpsim.exercises`` check returns: ``.correct`` and ``.message``."""

    def __init__(self, correct, message):
        self.correct, self.message = correct, message


class Recorder:
    """A fake check and a fake reveal that remember their calls."""

    def __init__(self, right_answer, revealed="<b>the answer picture</b>"):
        self.right_answer, self.revealed = right_answer, revealed
        self.checked, self.reveals = [], 0

    def check(self, answer):
        self.checked.append(answer)
        if answer == self.right_answer:
            return Result(True, "Yes: SYN, SYN-ACK, ACK.")
        return Result(False, "Count the segments before the first data byte.")

    def reveal(self):
        self.reveals += 1
        return self.revealed


def test_predict_shows_nothing_of_the_result_before_commit():
    rec = Recorder("3")
    p = widgets.predict("How many segments does the handshake take?", choices=["2", "3", "4"],
                        check=rec.check, reveal=rec.reveal)
    assert isinstance(p, ipywidgets.VBox) and "tcpsim-predict" in p._dom_classes
    p.answer_input.value = "2"
    assert p.feedback.value == "" and p.revealed.children == ()
    assert rec.checked == [] and rec.reveals == 0
    assert not p.committed


def test_predict_commit_checks_reveals_and_locks():
    rec = Recorder("3")
    p = widgets.predict("How many segments?", choices=["2", "3", "4"], check=rec.check,
                        reveal=rec.reveal)
    p.answer_input.value = "2"
    p.commit_button.click()
    assert rec.checked == ["2"] and rec.reveals == 1
    assert "Count the segments" in p.feedback.value and "Not quite" in p.feedback.value
    assert "the answer picture" in p.revealed.children[0].value
    assert p.answer_input.disabled and p.commit_button.disabled
    p.answer_input.value = "3"                        # too late: the answer is locked
    p.commit_button.click()
    p.commit()
    assert rec.checked == ["2"] and rec.reveals == 1 and p.answer == "2"
    assert not p.result.correct


def test_predict_needs_an_answer_before_commit():
    rec = Recorder("3")
    p = widgets.predict("How many?", choices=["2", "3"], check=rec.check, reveal=rec.reveal)
    p.commit_button.click()
    assert not p.committed and rec.checked == [] and rec.reveals == 0
    assert "pick an answer" in p.feedback.value


def test_predict_with_a_typed_number():
    rec = Recorder(60.0)
    p = widgets.predict("How long does TIME-WAIT last on Linux (s)?", check=rec.check,
                        reveal=rec.reveal)
    assert isinstance(p.answer_input, ipywidgets.Text)
    p.answer_input.value = "a minute"
    p.commit()
    assert not p.committed and "type a number" in p.feedback.value and rec.checked == []
    p.answer_input.value = "60"
    p.commit()
    assert rec.checked == [60.0] and p.result.correct and "Right" in p.feedback.value


def test_predict_reveals_figures_widgets_and_uses_the_results_html(trace):
    class HtmlResult(Result):
        def _repr_html_(self):
            return "<p class='course-feedback'>well done</p>"

    fig = tcpsim.plots.ladder(trace)
    p = widgets.predict("?", choices=["a"], check=lambda a: HtmlResult(True, "ok"),
                        reveal=lambda: fig)
    p.answer_input.value = "a"
    p.commit()
    assert p.feedback.value == "<p class='course-feedback'>well done</p>"
    image = p.revealed.children[0]
    assert isinstance(image, ipywidgets.Image) and png(image).startswith(PNG_MAGIC)

    shown = widgets.player(trace, views=("ladder",))
    p = widgets.predict("?", choices=["a"], check=lambda a: Result(True, ""),
                        reveal=lambda: shown)
    p.answer_input.value = "a"
    p.commit()
    assert p.revealed.children == (shown,)
    assert p._repr_mimebundle_()["image/png"].startswith(PNG_MAGIC)


def test_predict_mimebundle_carries_a_png_of_the_question():
    p = widgets.predict("Which state follows SYN-SENT?", choices=["ESTABLISHED", "LISTEN"],
                        check=lambda a: Result(a == "ESTABLISHED", "look at the arrow"))
    bundle = p._repr_mimebundle_()
    assert bundle["image/png"].startswith(PNG_MAGIC)
    assert bundle["text/plain"] == "Which state follows SYN-SENT?"


def test_predict_with_the_courses_choice_dict_and_check():
    """The course's exercises give choices as {letter: text} and check the letter."""
    exercises = pytest.importorskip("tcpsim.exercises")
    p = widgets.predict("A client connects to a port with no listener. What comes back?",
                        choices=exercises.REFUSED_CHOICES, check=exercises.check_refused)
    letters = [value for _, value in p.choices]
    assert letters == list(exercises.REFUSED_CHOICES)
    assert p.answer_input.options[0][0].startswith("a) ")
    wrong_letter = next(k for k in letters if not exercises.check_refused(k).correct)
    p.answer_input.value = wrong_letter
    p.commit()
    assert p.feedback.value == exercises.check_refused(wrong_letter)._repr_html_()


# ------------------------------------------------------------------- without widgets
EXPORT_CELLS = [
    "import tcpsim\nfrom tcpsim import widgets\nimport sys\nsys.path.insert(0, {tests!r})\n"
    "from conftest import act, scenario\n"
    "sc = scenario([act(0.25, 'client', 'send', bytes=100)], delay=0.001)",
    "widgets.player(tcpsim.run(sc), views=('ladder', 'variables'))",
    "widgets.explorer(sc, controls=('drop',))",
    "class Result:\n    correct, message = True, 'yes'\n"
    "widgets.predict('How many?', choices=['2', '3'], check=lambda a: Result())",
]


def test_an_exported_notebook_shows_each_widget_as_a_png(tmp_path):
    """Executed (without storing the widget state) and exported to HTML, a notebook shows
    the PNG of each widget, where there is no kernel and no widget manager."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nbconvert = pytest.importorskip("nbconvert")
    import os
    tests = os.path.dirname(os.path.abspath(__file__))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c.format(tests=tests)) for c in EXPORT_CELLS]
    env = dict(os.environ, IPYTHONDIR=str(tmp_path / "ipython"))
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120, startup_timeout=120,
                            store_widget_state=False,
                            resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)
    outputs = [out for cell in nb.cells[1:] for out in cell.outputs]
    assert len(outputs) == 3
    assert all("image/png" in out["data"] for out in outputs)
    html, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    assert html.count('src="data:image/png;base64,') == 3


def test_building_an_explorer_freezes_the_long_lived_objects():
    """Full garbage collections then skip the kernel's imported modules (bench_explorer)."""
    import gc
    gc.unfreeze()
    explorer(("profile",))
    assert gc.get_freeze_count() > 10_000
    gc.unfreeze()


def test_choosing_a_segment_to_drop_simulates_once(monkeypatch):
    """The run without the drop is kept while only the drop choice changes."""
    import sys
    explorer_module = sys.modules["tcpsim.widgets.explorer"]   # the package's `explorer` is
    e = explorer(("drop", "delay_ms"))                          # the function
    runs = []
    real_run = explorer_module.run
    monkeypatch.setattr(explorer_module, "run", lambda s: runs.append(s) or real_run(s))
    e.controls["drop"].value = e.controls["drop"].options[2][1]
    assert len(runs) == 1 and any("drop" in f for f in runs[0]["faults"])
    e.controls["delay_ms"].value = 5.0              # a new scenario: a new baseline too
    assert len(runs) == 3
