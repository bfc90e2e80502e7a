"""tcpsim.plots: what the state graph, the time-sequence graph and the buffers show, checked
on the drawn picture (text extents from the Agg renderer), at the notebook's size and at the
player's (two graphs side by side, 6 in at 80 dpi each).
"""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import tcpsim  # noqa: E402
from tcpsim import plots  # noqa: E402
from tcpsim.plots.states import STATES  # noqa: E402

from conftest import act, scenario  # noqa: E402

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"


@pytest.fixture(scope="module")
def captures():
    return {name: tcpsim.run(CAPTURES / f"{name}.json")
            for name in ("handshake", "refused", "close-unread", "half-close",
                         "server-closes-first", "synack-loss", "linger0")}


def player_axes():
    """A Figure and Axes as the player draws one host's state graph (views.py)."""
    fig = Figure(figsize=(6.0, 5.3), dpi=80)
    return fig, fig.add_axes((0, 0, 1, 0.93))


def draw(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def inside(extent, box):
    return (box.x0 - 0.5 <= extent.x0 and extent.x1 <= box.x1 + 0.5
            and box.y0 - 0.5 <= extent.y0 and extent.y1 <= box.y1 + 0.5)


def layout_problems(ax):
    """What collides or is cut off in a drawn state graph: edge labels over state boxes or
    over each other, texts over labels, texts outside the figure."""
    renderer = draw(ax.figure)
    reg = ax.tcpsim
    boxes = {key: box.get_window_extent(renderer) for key, box in reg["boxes"].items()}
    labels = {edge: text.get_window_extent(renderer) for edge, text in reg["labels"].items()}
    others = [t for t in ax.texts if t not in reg["labels"].values()]
    problems = []
    for edge, extent in labels.items():
        problems += [f"label {edge} over box {key}" for key, box in boxes.items()
                     if extent.overlaps(box)]
    edges = list(labels)
    for k, a in enumerate(edges):
        problems += [f"label {a} over label {b}" for b in edges[k + 1:]
                     if labels[a].overlaps(labels[b])]
    for text in others:
        extent = text.get_window_extent(renderer)
        if text.get_text() not in STATES:          # the notes: clear of boxes and labels
            problems += [f"{text.get_text()[:20]!r} over box {key}"
                         for key, box in boxes.items() if extent.overlaps(box)]
            problems += [f"{text.get_text()[:20]!r} over label {edge}"
                         for edge, label in labels.items() if extent.overlaps(label)]
        else:                                      # a state's name: inside its box
            centre = ((extent.x0 + extent.x1) / 2, (extent.y0 + extent.y1) / 2)
            box = next(b for b in boxes.values() if b.contains(*centre))
            if not inside(extent, box):
                problems.append(f"{text.get_text()} sticks out of its box")
    for text in list(reg["labels"].values()) + others + [ax.title]:
        if text.get_text() and not inside(text.get_window_extent(renderer), ax.figure.bbox):
            problems.append(f"{text.get_text()[:30]!r} cut off")
    return problems


def one_transition_trace(u, v, event):
    """A trace document whose host "a" makes one transition, u -> v on ``event``."""
    return tcpsim.Trace({"tcpsim": 1, "hosts": {"a": {}, "b": {}}, "segments": [], "events": [],
                         "states": [{"t": 1.0, "host": "a", "socket": "a", "from": u, "to": v,
                                     "cause": event}]})


# -------------------------------------------------------------------------- state graph
def test_full_graph_is_clean():
    """The whole machine at the notebook's size: every arc labelled (abort arcs explained by
    the note), no label on a box or on another label, nothing cut off."""
    ax = plots.state_graph().axes[0]
    g = ax.tcpsim["graph"]
    assert not ax.tcpsim["compact"]
    assert set(ax.tcpsim["labels"]) == {e for e in g.edges if not g.edges[e]["abort"]}
    assert layout_problems(ax) == []


@pytest.mark.parametrize("name", ["handshake", "refused", "close-unread", "half-close",
                                  "server-closes-first", "synack-loss", "linger0"])
@pytest.mark.parametrize("host", ["client", "server"])
def test_graphs_of_captures_are_clean_at_both_sizes(captures, name, host):
    trace = captures[name]
    full = plots.state_graph(trace, host=host).axes[0]
    assert layout_problems(full) == []
    fig, ax = player_axes()
    plots.state_graph(trace, host=host, ax=ax, title=False)
    assert ax.tcpsim["compact"]                    # automatic: the Axes are 6 in wide
    assert layout_problems(ax) == []
    # compact: only the transitions taken are labelled, "(step) event", one line each
    taken = plots.highlighted_edges(trace, host)
    assert set(ax.tcpsim["labels"]) == set(taken)
    for edge, label in ax.tcpsim["labels"].items():
        steps = [k for k, e in enumerate(taken, 1) if e == edge]
        assert label.get_text().startswith("(" + ",".join(map(str, steps)) + ") ")
        assert "\n" not in label.get_text()


@pytest.mark.parametrize("compact", [False, True])
def test_every_arc_taken_alone_has_its_label_clear_of_the_boxes(compact):
    """Whichever arc a host takes (with its longest event name), its label sits beside the
    arc, off every state box and inside the picture, at both sizes."""
    g = plots.state_machine_graph()
    for u, v, data in g.edges(data=True):
        event = max(data["events"], key=len)
        trace = one_transition_trace(u, v, event)
        if compact:
            fig, ax = player_axes()
            plots.state_graph(trace, host="a", ax=ax, title=False)
        else:
            ax = plots.state_graph(trace, host="a").axes[0]
        assert ax.tcpsim["compact"] is compact
        assert (u, v) in ax.tcpsim["labels"], (u, v)
        assert layout_problems(ax) == [], (u, v, event)


def test_label_of_a_taken_arc_names_the_event_of_the_trace(captures):
    refused = captures["refused"]
    for ax in (plots.state_graph(refused, host="client").axes[0],
               plots.state_graph(refused, host="client", compact=True).axes[0]):
        # SYN-SENT -> CLOSED is also close() and the SYN timeout: the trace says RST
        assert ax.tcpsim["labels"][("SYN-SENT", "CLOSED")].get_text() == "(2) rcv RST"
    hs = plots.state_graph(captures["handshake"], host="client").axes[0]
    assert hs.tcpsim["labels"][("TIME-WAIT", "CLOSED")].get_text() == "(6) 2MSL timeout"
    assert hs.tcpsim["labels"][("CLOSED", "SYN-SENT")].get_text() == "(1) connect()\nsnd SYN"
    unread = plots.state_graph(captures["close-unread"], host="server").axes[0]
    assert unread.tcpsim["labels"][("ESTABLISHED", "CLOSED")].get_text().startswith(
        "(4) close(), data unread")


@pytest.mark.parametrize("compact", [False, True])
def test_arcs_no_run_can_take_are_dotted_grey_with_a_legend(compact):
    """The arcs whose every table row is in endpoint.UNREACHABLE: grey dots (no other arc
    is), grey italic labels, and a legend pointing to docs/simulator.md; the SVG (same
    scene) dots the same arcs."""
    from tcpsim.endpoint import UNREACHABLE
    from tcpsim.plots.states import UNREACHABLE_COLOUR, state_graph_svg
    ax = plots.state_graph(compact=compact).axes[0]
    g = ax.tcpsim["graph"]
    never = {e for e in g.edges if set(zip([e[0]] * len(g.edges[e]["events"]),
                                             g.edges[e]["events"])) <= set(UNREACHABLE)}
    assert never                                        # the RFC draws them: kept, marked
    grey = matplotlib.colors.to_rgba(UNREACHABLE_COLOUR)
    dotted = {e for e, arrow in ax.tcpsim["edges"].items() if arrow.get_edgecolor() == grey}
    assert dotted == never
    for e in never:
        assert ax.tcpsim["edges"][e].get_linestyle() not in ("-", "solid")
        if not compact:
            label = ax.tcpsim["labels"][e]
            assert label.get_color() == UNREACHABLE_COLOUR and label.get_style() == "italic"
    legend = ax.tcpsim["legend"].get_text()
    assert "cannot happen here" in legend and (compact or "docs/simulator.md" in legend)
    svg = state_graph_svg(compact=compact)
    for u, v in g.edges:
        element = svg.split(f'id="edge-{u}-{v}"', 1)[1].split("</g>", 1)[0]
        assert (UNREACHABLE_COLOUR in element and "stroke-dasharray" in element) == \
            ((u, v) in never)
    assert legend in svg


def test_taken_arcs_thick_in_the_host_colour_and_svg_ids(captures):
    trace = captures["handshake"]
    ax = plots.state_graph(trace, host="server").axes[0]
    colour = matplotlib.colors.to_rgba(plots.host_colours(trace)["server"])
    thick = {e for e, arrow in ax.tcpsim["edges"].items() if arrow.get_edgecolor() == colour}
    assert thick == set(plots.highlighted_edges(trace, "server"))
    assert all(ax.tcpsim["edges"][e].get_linewidth() > ax.tcpsim["edges"][o].get_linewidth()
               for e in thick for o in set(ax.tcpsim["edges"]) - thick)
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="svg")
    svg = buffer.getvalue().decode()
    for u, v in ax.tcpsim["graph"].edges:
        assert f'id="edge-{u}-{v}"' in svg


def test_player_state_pictures_are_compact_and_whole(captures):
    from tcpsim.widgets.views import StateGraphPictures
    trace = captures["handshake"]
    for host in ("client", "server"):
        pictures = StateGraphPictures(trace, host)
        for t in (0.1001, 0.85, None):
            pictures.png_at(t)
            ax = pictures.figure.axes[0]
            assert ax.tcpsim["compact"]
            assert layout_problems(ax) == []


# ------------------------------------------------------------------------ time-sequence
@pytest.fixture(scope="module")
def tiny():
    """100 bytes at the contract's 10 µs link delay: the transfer lasts 20 µs."""
    sc = scenario([act(0.3, "client", "send", bytes=100), act(0.5, "client", "close"),
                   act("eof", "server", "close")])
    sc["name"] = "a hundred bytes over a loopback-like link, with a long name for the title"
    return tcpsim.run(sc)


def test_time_sequence_of_a_tiny_transfer_has_plain_time_labels(tiny):
    fig = plots.time_sequence(tiny, host="client")
    ax = fig.axes[0]
    renderer = draw(fig)
    assert ax.xaxis.get_offset_text().get_text() == ""          # no "1e-5+3e-1"
    ticks = [t for t in ax.get_xticklabels() if t.get_text()
             and ax.get_xlim()[0] <= t.get_position()[0] <= ax.get_xlim()[1]]
    assert len(ticks) >= 3
    assert ax.get_xlabel() == "time (ms)"
    for label in ticks:                       # each label is its tick's time, in ms
        assert float(label.get_text()) == pytest.approx(label.get_position()[0] * 1000,
                                                        abs=1e-9)
    assert len({t.get_text() for t in ticks}) == len(ticks)
    # the title, with the trace's long name, fits in the picture (as does everything else)
    assert tiny.name in ax.get_title(loc="left").replace("\n", " ")
    assert inside(ax.get_tightbbox(renderer), fig.bbox)


def test_time_sequence_of_a_long_transfer_keeps_seconds():
    trace = tcpsim.run(scenario([act(0.05, "client", "send", bytes=150000),
                                 act(3, "client", "close"), act("eof", "server", "close")],
                                delay=0.02, seed=3, until=5,
                                faults=[{"loss": {"p": 0.04, "from": "client"}}]))
    fig = plots.time_sequence(trace, host="client")
    ax = fig.axes[0]
    draw(fig)
    assert ax.get_xlabel() == "time (s)" and ax.xaxis.get_offset_text().get_text() == ""
    for label in ax.get_xticklabels():
        if label.get_text():
            assert float(label.get_text()) == pytest.approx(label.get_position()[0], abs=1e-9)


# ------------------------------------------------------------------------------ buffers
@pytest.mark.parametrize("shape", [(2, 1), (1, 2)])
def test_buffers_on_the_array_subplots_returns(captures, shape):
    trace = captures["handshake"]
    t = 0.35
    fig = Figure(figsize=(9.5, 5.6))
    axes = fig.subplots(*shape)
    assert isinstance(axes, np.ndarray)
    out = plots.buffers(trace, t, ax=axes)
    assert list(out) == list(axes.ravel())
    nums = plots.buffer_numbers(trace, t)
    for a, (snd, rcv) in zip(axes.ravel(), [("client", "server"), ("server", "client")]):
        drawn = " ".join(text.get_text() for text in a.texts)
        assert f"RCV.NXT={nums[rcv]['rcv_nxt']}" in drawn
        assert a.get_title(loc="left").startswith(f"{snd} \u2192 {rcv}")
    assert fig.tcpsim["numbers"] == nums
    # a list and a tuple still work, and a single Axes draws the first direction
    assert len(plots.buffers(trace, t, ax=list(Figure().subplots(2, 1)))) == 2
    assert len(plots.buffers(trace, t, ax=tuple(Figure().subplots(2, 1)))) == 2
    assert len(plots.buffers(trace, t, ax=Figure().subplots())) == 1
