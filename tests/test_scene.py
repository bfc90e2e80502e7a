"""One geometry, two pictures: the SVG the widgets show and Matplotlib's static picture agree.

``plots.ladder`` (Matplotlib) and ``plots.ladder.ladder_svg`` (SVG written directly) draw
the same scene. Here both are made for the course's captured scenarios and compared item by
item, in pixels of the picture: every arrow starts and ends where Matplotlib's does, in the
same colour; every text says the same, in the same colour, at the place and in the box
Matplotlib gives it. The SVG is read as XML, as the browser reads it, not from the scene.
(tests/test_browser.py compares the two as Chromium shows them.)
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

import tcpsim  # noqa: E402
from tcpsim import plots  # noqa: E402
from tcpsim.plots.ladder import ladder_scene, ladder_svg, short_reason  # noqa: E402
from tcpsim.plots.buffers import buffers_svg  # noqa: E402
from tcpsim.plots.scene import NBSP, Scene, Text, text_layout, to_svg  # noqa: E402

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures"
SCENARIOS = ["handshake", "syn-loss", "synack-loss", "server-closes-first", "refused",
             "data-loss-middle"]
SVG = "{http://www.w3.org/2000/svg}"
PX = 0.15                     # the SVG writes tenths of a pixel


def scenario_trace(name):
    path = CAPTURES / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{path.name} is not in data/captures")
    return tcpsim.run(json.loads(path.read_text()))


def titles(ax):
    """The Axes' three title Texts (left, centre, right)."""
    return [ax._left_title, ax.title, ax._right_title]


def drawn(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer(), canvas.get_width_height()[1]


def svg_elements(svg_text):
    """{id: element} of the SVG document (parsed as XML)."""
    root = ET.fromstring(svg_text)
    return root, {el.get("id"): el for el in root.iter() if el.get("id")}


def path_points(d):
    """The points of an SVG path written as "M x y L x y ..."."""
    numbers = [float(v) for v in d.replace("M", " ").replace("L", " ").replace("Z", " ").split()]
    return list(zip(numbers[::2], numbers[1::2]))


def stroked_tip(head):
    """Where an arrow head's outline ends: its tip point plus the stroke's mitre."""
    (x0, y0), (x1, y1), (x2, y2) = path_points(head.get("d"))
    width = float(head.get("stroke-width"))
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    half = ((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5 / 2
    length = ((x0 - mx) ** 2 + (y0 - my) ** 2) ** 0.5
    mitre = 0.5 * width * (length ** 2 + half ** 2) ** 0.5 / half
    return x0 + (x0 - mx) / length * mitre, y0 + (y0 - my) / length * mitre


def flipped(height, x, y):
    return x, height - y


def text_of(group):
    """A text group's words (browsers fold two spaces: the SVG writes a no-break space)."""
    return "\n".join(el.text.replace(NBSP, " ") for el in group.iter(f"{SVG}text"))


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("options", [{}, {"options": True, "labels": "absolute"},
                                     {"time_axis": "linear"}])
def test_svg_ladder_puts_every_item_where_matplotlib_draws_it(name, options):
    assert_svg_ladder_is_matplotlibs(scenario_trace(name), options)


@pytest.mark.parametrize("name", ["refused", "synack-loss"])     # each has an ignored segment
def test_svg_ladder_with_ignored_segments_agrees_with_matplotlib(name):
    assert_svg_ladder_is_matplotlibs(scenario_trace(name), {"ignored": True})


def assert_svg_ladder_is_matplotlibs(trace, options):
    fig = plots.ladder(trace, **options)
    ax = fig.axes[0]
    renderer, height = drawn(fig)
    root, ids = svg_elements(ladder_svg(trace, **options))
    assert (int(root.get("width")), int(root.get("height"))) == \
        FigureCanvasAgg(fig).get_width_height()

    # arrows: the same start, end and colour
    for i, arrow in ax.tcpsim["arrows"].items():
        element = ids[f"seg-{i}"]
        paths = list(element.iter(f"{SVG}path"))
        start, end = (flipped(height, *ax.transData.transform(p)) for p in arrow._posA_posB)
        line = path_points(paths[0].get("d"))
        assert line[0] == pytest.approx(start, abs=PX)
        assert (stroked_tip(paths[-1]) if len(paths) > 1 else line[-1]) == \
            pytest.approx(end, abs=PX)
        assert paths[0].get("stroke") == to_hex(arrow.get_edgecolor()).upper()
        assert ("stroke-dasharray" in paths[0].attrib) == (arrow.get_linestyle() not in ("-", "solid"))

    # texts: same words, colour, place, and the box drawn around them
    labelled = {**{f"label-{i}": t for i, t in ax.tcpsim["labels"].items()},
                **{f"drop-{i}": t for i, t in ax.tcpsim["drops"].items()},
                **{f"ignored-{i}": t for i, t in ax.tcpsim["ignored"].items()},
                **{f"gap-{k}": t for k, t in enumerate(ax.tcpsim["gaps"])}}
    for gid, artist in labelled.items():
        group = ids[gid]
        assert text_of(group) == artist.get_text()
        first = next(group.iter(f"{SVG}text"))
        assert first.get("fill") == to_hex(artist.get_color()).upper()
        extent = artist.get_window_extent(renderer)
        left = min(float(el.get("x")) for el in group.iter(f"{SVG}text"))
        assert left == pytest.approx(extent.x0, abs=PX)      # lines may be centred
        frame = group.find(f"{SVG}rect")
        if artist.get_bbox_patch() is not None:
            box = artist.get_bbox_patch().get_window_extent(renderer)
            x, y = float(frame.get("x")), float(frame.get("y"))
            w, h = float(frame.get("width")), float(frame.get("height"))
            assert (x, height - y - h, x + w, height - y) == pytest.approx(
                (box.x0, box.y0, box.x1, box.y1), abs=PX)

    # every text Matplotlib draws is in the SVG, once
    mpl_texts = sorted(t.get_text() for t in ax.texts + titles(ax) if t.get_text())
    svg_texts = sorted(text_of(g) for g in root.iter(f"{SVG}g")
                       if any(True for _ in g.iter(f"{SVG}text")) and
                       not any(c.tag == f"{SVG}g" for c in g))
    assert svg_texts == mpl_texts


@pytest.mark.parametrize("name", ["refused", "synack-loss"])
def test_ignored_segments_are_drawn_only_when_asked(name):
    """Off by default (the picture is the one without the option); with ``ignored=True``,
    the same items plus a ⊗ per ignored segment, its arrow ending in the ⊗ instead of a
    head, its label a line longer (the reason in short), the whole reason as SVG tooltip."""
    trace = scenario_trace(name)
    ignored = {row["segment"]: row["reason"] for row in trace.doc["ignored"]}
    assert ignored, f"{name}: the scenario should have an ignored segment"
    plain, marked = ladder_scene(trace), ladder_scene(trace, ignored=True)
    assert ladder_svg(trace) == ladder_svg(trace, ignored=False)
    assert "ignored" not in ladder_svg(trace)
    assert sorted(key for role, key in marked.roles if role == "ignored") == sorted(ignored)
    kept = [(item, role_key) for item, role_key in zip(marked.scene.items, marked.roles)
            if role_key[0] != "ignored"]
    assert [role_key for _, role_key in kept] == plain.roles
    for before, (after, (role, key)) in zip(plain.scene.items, kept):
        if role == "arrows" and key in ignored:
            assert before.head and not after.head and before.end == after.end
        elif role == "labels" and key in ignored:
            assert after.text == before.text + "\n\u2297 ignored: " + short_reason(ignored[key])
            assert after.tooltip == ignored[key]
        elif role == "labels":      # placed among the longer labels: the words stay
            assert after.text == before.text
        else:
            assert before == after
    _, ids = svg_elements(ladder_svg(trace, ignored=True))
    for i, reason in ignored.items():
        mark = ids[f"ignored-{i}"]
        assert mark.find(f"{SVG}title").text == f"ignored: {reason}"
        assert text_of(mark) == "\u2297"
        assert ids[f"label-{i}"].find(f"{SVG}title").text == reason
    fig = plots.ladder(trace, ignored=True)
    assert set(fig.axes[0].tcpsim["ignored"]) == set(ignored)
    assert plots.ladder(trace).axes[0].tcpsim["ignored"] == {}


def test_a_short_reason_leaves_the_citations_out():
    assert short_reason("outside the receive window (RFC 9293 §3.10.7.4 first check): "
                        "ACK sent") == "outside the receive window: ACK sent"


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_text_sits_on_matplotlibs_baseline(name):
    """For every text of the scene, the SVG's baseline start is Matplotlib's (same font
    layout), and the SVG gives each line Matplotlib's measured width."""
    trace = scenario_trace(name)
    layout = ladder_scene(trace, options=True)
    fig = plots.ladder(trace, options=True)
    renderer, height = drawn(fig)
    ax = fig.axes[0]
    texts = [a for a in ax.texts + titles(ax) if a.get_text()]      # the title comes last
    items = [it for it in layout.scene.items if isinstance(it, Text)]
    assert len(texts) == len(items)
    for artist, item in zip(texts, items):
        assert artist.get_text() == item.text
        box, _ = text_layout(item.text, item.size, item.weight, item.style,
                             item.linespacing, item.ha, item.va)
        extent = artist.get_window_extent(renderer)
        x, y = layout.scene.to_pixels(item.x, item.y, item.coords, item.offset_pt)
        if item.rotation:
            continue                         # the y label: checked by its place in the SVG
        assert x + box[0] == pytest.approx(extent.x0, abs=0.01)
        assert height - y + box[1] == pytest.approx(extent.y0, abs=0.01)
        assert box[2] == pytest.approx(extent.width, abs=0.01)


def test_scene_pixels_follow_an_inverted_axis():
    scene = Scene(2.0, 1.0, (0.25, 0.0, 0.5, 1.0), (0, 10), (5, 0))   # y grows downwards
    assert scene.to_pixels(0, 0) == (50.0, 0.0)
    assert scene.to_pixels(10, 5) == (150.0, 100.0)
    assert scene.to_pixels(1, 1, "axes", offset_pt=(72, -72)) == (250.0, 100.0)
    assert scene.width_px == 200 and scene.height_px == 100
    svg = to_svg(scene)
    assert svg.startswith("<svg") and 'width="200" height="100"' in svg


def svg_texts(root):
    """[(words, x of its leftmost line)] of every text group of an SVG, sorted."""
    out = []
    for group in root.iter(f"{SVG}g"):
        lines = list(group.iter(f"{SVG}text"))
        if lines and not any(c.tag == f"{SVG}g" for c in group):
            out.append((text_of(group), min(float(line.get("x")) for line in lines)))
    return sorted(out)


@pytest.mark.parametrize("name", ["data-loss-middle", "handshake", "bulk-100k"])
def test_svg_buffers_agree_with_matplotlib(name):
    """The buffers at several instants: the same texts at the same places, and one
    rectangle (same colour, same pixels) per bar part Matplotlib draws."""
    trace = scenario_trace(name)
    for t in sorted({row["t"] for row in trace.doc["segments"]})[::3]:
        fig = plots.buffers(trace, t)
        renderer, height = drawn(fig)
        root = ET.fromstring(buffers_svg(trace, t))
        artists = [a for ax in fig.axes for a in ax.texts + titles(ax) if a.get_text()]
        artists += [a for a in fig.texts if a.get_text()]
        drawn_texts = sorted((a.get_text(), a.get_window_extent(renderer).x0) for a in artists)
        texts = svg_texts(root)
        assert [words for words, _ in texts] == [words for words, _ in drawn_texts]
        for (_, x), (_, drawn_x) in zip(texts, drawn_texts):
            assert x == pytest.approx(drawn_x, abs=PX)
        bars = sorted((round(float(r.get("x")), 1), round(float(r.get("y")), 1),
                       r.get("fill").upper())
                      for r in root.iter(f"{SVG}rect") if r.get("fill", "").startswith("#")
                      and r.get("fill") != "white" or False)
        drawn_bars = []
        for ax in fig.axes:
            for patch in ax.patches:
                box = patch.get_window_extent(renderer)
                colour = to_hex(patch.get_facecolor()).upper()
                if colour != "#FFFFFF":
                    drawn_bars.append((round(box.x0, 1), round(height - box.y1, 1), colour))
        assert [b[2] for b in bars] == [b[2] for b in sorted(drawn_bars)]
        for (x, y, _), (bx, by, _) in zip(bars, sorted(drawn_bars)):
            assert (x, y) == pytest.approx((bx, by), abs=PX + 0.1)


@pytest.mark.parametrize("name, host", [("server-closes-first", "client"),
                                        ("synack-loss", "server"), ("refused", "client")])
@pytest.mark.parametrize("small", [False, True])
def test_svg_state_graph_agrees_with_matplotlib(name, host, small):
    """The state graph (full, and compact at 80 dpi as the player shows it): every box,
    arc and label where Matplotlib draws it, in the same colours."""
    from matplotlib.figure import Figure

    from tcpsim.plots.states import state_graph_svg
    trace = scenario_trace(name)
    t = trace.doc["states"][len(trace.doc["states"]) // 2]["t"]
    if small:
        fig = Figure(figsize=(6.0, 5.3), dpi=80)
        ax = fig.add_axes((0, 0, 1, 0.93))
        plots.state_graph(trace, host=host, t=t, ax=ax, title=False)
        svg = state_graph_svg(trace, host, t, title=False, size_in=(6.0, 5.3),
                              axes=(0, 0, 1, 0.93), dpi=80)
    else:
        fig = plots.state_graph(trace, host=host, t=t)
        ax = fig.axes[0]
        svg = state_graph_svg(trace, host, t)
    renderer, height = drawn(fig)
    root, ids = svg_elements(svg)
    reg = ax.tcpsim
    assert reg["compact"] == small
    for box in reg["boxes"].values():
        rect = ids[box.get_gid()]
        extent = box.get_window_extent(renderer)
        x, y = float(rect.get("x")), float(rect.get("y"))
        w, h = float(rect.get("width")), float(rect.get("height"))
        assert (x, height - y - h, x + w, height - y) == pytest.approx(
            (extent.x0, extent.y0, extent.x1, extent.y1), abs=PX)
        assert to_hex(rect.get("fill")) == to_hex(box.get_facecolor())
        assert to_hex(rect.get("stroke")) == to_hex(box.get_edgecolor())
    for (u, v), arrow in reg["edges"].items():
        paths = list(ids[f"edge-{u}-{v}"].iter(f"{SVG}path"))
        vertices = arrow._path_original.vertices
        start = flipped(height, *ax.transData.transform(vertices[0]))
        end = flipped(height, *ax.transData.transform(vertices[-1]))
        d = paths[0].get("d")
        first = [float(v) for v in d[1:].split()[:2]]
        assert first == pytest.approx(start, abs=PX)
        assert stroked_tip(paths[1]) == pytest.approx(end, abs=PX)
        assert paths[0].get("stroke") == to_hex(arrow.get_edgecolor()).upper()
    artists = [a for a in ax.texts + titles(ax) if a.get_text()]
    drawn_texts = sorted((a.get_text(), a.get_window_extent(renderer).x0) for a in artists)
    texts = svg_texts(root)
    assert [words for words, _ in texts] == [words for words, _ in drawn_texts]
    for (_, x), (_, drawn_x) in zip(texts, drawn_texts):
        assert x == pytest.approx(drawn_x, abs=PX)


@pytest.mark.parametrize("ignored", [False, True])
@pytest.mark.parametrize("name", SCENARIOS)
def test_segment_labels_keep_out_of_the_state_names(name, ignored):
    """No segment label covers a state name beside a timeline, nor an ignored segment's own
    ⊗ (measured on Matplotlib's drawing, not on the estimates the layout uses)."""
    trace = scenario_trace(name)
    fig = plots.ladder(trace, ignored=ignored)
    renderer, _ = drawn(fig)
    reg = fig.axes[0].tcpsim
    states = [t.get_window_extent(renderer) for t in reg["states"]]
    crossed = []
    for i, label in reg["labels"].items():
        box = label.get_window_extent(renderer)
        hit = [s for s in states if box.overlaps(s)]
        if i in reg["ignored"] and box.overlaps(reg["ignored"][i].get_window_extent(renderer)):
            hit.append("its own \u2297")
        if hit:
            crossed.append(f"label of segment {i} ({label.get_text()!r})")
    assert not crossed, crossed


@pytest.mark.parametrize("name", SCENARIOS + ["linger0", "close-unread"])
def test_application_calls_stay_inside_the_picture(name):
    """A long call beside the right-hand timeline ("read() → ECONNRESET" in linger0) is
    pulled back in rather than cut at the picture's edge; the same on the left."""
    fig = plots.ladder(scenario_trace(name))
    renderer, _ = drawn(fig)
    width = fig.get_window_extent(renderer).width
    outside = [t.get_text() for t in fig.axes[0].tcpsim["calls"]
               if t.get_window_extent(renderer).x1 > width or t.get_window_extent(renderer).x0 < 0]
    assert not outside, outside
