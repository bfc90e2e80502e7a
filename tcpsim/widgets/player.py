"""``Player``: step through a trace in time; every view follows the same time ``t``.

    from tcpsim import widgets
    widgets.player(trace)

The time slider stops at every instant something happens (a segment is sent or arrives,
a state changes, an application call returns); the step buttons go to the previous or next
one, and Play runs through them. At the chosen time ``t`` the player shows:

* the ladder with a horizontal cursor at ``t``,
* each host's state machine with its state at ``t`` filled,
* the send and receive buffers (the sliding windows) at ``t``,
* each host's TCB variables and running timers at ``t``.

The pictures are SVG images of fixed size (written from the plots' scenes, see
``tcpsim/plots/scene.py``), so a redraw replaces the bytes in place: no flicker, no jump of
the page. The static snapshot (the mimebundle's PNG) draws the same scenes with Matplotlib.
"""
from __future__ import annotations

import bisect
import html
import math

import ipywidgets as widgets

from ..plots._common import as_trace
from ..plots.connections import connection_ids, connection_label, connection_trace
from ..plots.style import flag_label, host_order
from ._pictures import garbage_collection_paused, png_pixels, stack, stack_png, text_pixels
from .views import (BufferPictures, LadderPicture, StateGraphPictures, time_text,
                    variables_html, variables_pixels)

VIEWS = ("ladder", "states", "buffers", "variables")


# ------------------------------------------------------------------------ the instants
def event_times(trace) -> list:
    """Every instant something happens, sorted: segments sent and arriving, state changes,
    application calls. Times less than a nanosecond apart count as one instant (the later
    one, so that everything at that instant has happened by it)."""
    times = []
    for seg in trace.doc.get("segments", []):
        times.append(seg["t"])
        if _is_time(seg.get("arrival")):
            times.append(seg["arrival"])
        times += [t for t in seg.get("copies") or [] if _is_time(t)]
    times += [row["t"] for row in trace.doc.get("states", [])]
    times += [row["t"] for row in trace.doc.get("events", [])]
    merged = []
    for t in sorted(times):
        if merged and t - merged[-1] < 1e-9:
            merged[-1] = t
        else:
            merged.append(t)
    return merged or [0.0]


def _is_time(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def time_decimals(times) -> int:
    """How many decimals make every time's label different (3 to 9)."""
    for decimals in range(3, 10):
        labels = {f"{t:.{decimals}f}" for t in times}
        if len(labels) == len(times):
            return decimals
    return 9


def what_happens(trace, after, until) -> list:
    """What happens in the time interval (after, until], in words, in time order."""
    items = []       # (time, text)

    def inside(t):
        return _is_time(t) and (after is None or t > after) and t <= until

    for seg in trace.doc.get("segments", []):
        what = flag_label(seg["flags"]) + (f" ({seg['len']} B)" if seg.get("len") else "")
        if seg.get("injected"):
            what = "an injected " + what
        if inside(seg["t"]):
            lost = " (lost on the wire)" if seg.get("dropped") else ""
            items.append((seg["t"], f"{seg['src']} sends {what}{lost}"))
        if inside(seg.get("arrival")):
            items.append((seg["arrival"], f"{seg['dst']} receives {what}"))
    for row in trace.doc.get("states", []):
        if inside(row["t"]):
            socket = " (listening socket)" if str(row.get("socket", "")).endswith(":listen") else ""
            items.append((row["t"], f"{row['host']}{socket}: {row['from']} \u2192 {row['to']}"))
    for row in trace.doc.get("events", []):
        if inside(row["t"]):
            items.append((row["t"], f"{row['host']} {row['call']}() \u2192 {row['result']}"))
    items.sort(key=lambda item: item[0])
    return [text for _, text in items]


def picture(png, width_px, height_px, max_width="100%", format="png") -> widgets.Image:
    """An Image widget (CSS class ``tcpsim-picture``) of a fixed size, ``width_px`` ×
    ``height_px``: every picture it shows has that size, so a redraw never moves the page.
    In a narrower notebook it shrinks to ``max_width`` of its row, keeping its proportions."""
    image = widgets.Image(value=png, format=format,
                          layout=widgets.Layout(width=f"{width_px}px", max_width=max_width,
                                                height="auto", object_fit="contain",
                                                flex="0 1 auto"))
    image.add_class("tcpsim-picture")
    return image


# ---------------------------------------------------------------------------- the widget
class Player(widgets.VBox):
    """Step through a trace; the ladder cursor, the state graphs, the buffers and the TCB
    variables all show the same time ``t``.

    trace: from ``tcpsim.run`` or ``tcpsim.read_pcap`` (captures have no TCB: the buffer
    view and the variables panel then say so).
    hosts: the two host names, left one first (default: the trace's order).
    views: which views to show, any of ``"ladder"``, ``"states"``, ``"buffers"``,
    ``"variables"``.
    ladder_height: the ladder window's height in pixels (a longer ladder is cut around the
    cursor).
    interval_ms: time between two steps when playing.
    conn: play one connection of several (``plots.connection_trace``): its segments, states,
    calls and TCB rows only. A trace of several connections also gets a menu, "show", of
    "all connections" and each one (``connection_menu``; ``show_connection(conn)`` does the
    same from code); ``full_trace`` is the whole trace, ``trace`` the one played.

    Attributes: ``times`` (the instants the slider stops at), ``t`` (the current one),
    ``slider``, ``play``, ``back_button``, ``forward_button``, ``happening`` (what happens
    at ``t``), ``ignored_checkbox`` ("show ignored segments" on the ladder: the segments that
    arrived and changed nothing, each with its reason; None without a ladder), ``ladder_image``, ``state_images`` {host: Image}, ``buffers_image``,
    ``variables`` (HTML).
    """

    def __init__(self, trace, hosts=None, views=VIEWS, ladder_height=440, interval_ms=900,
                 conn=None):
        super().__init__()
        self.add_class("tcpsim-player")
        self.full_trace = as_trace(trace)
        unknown = set(views) - set(VIEWS)
        if unknown:
            raise ValueError(f"unknown view(s) {sorted(unknown)}; use some of {VIEWS}")
        self.views = tuple(views)
        self.ladder_height = ladder_height
        self.requested_hosts = hosts
        self.conn = None

        # --- the controls: play, step back, the time slider, step forward
        self.slider = widgets.SelectionSlider(
            options=[("0", 0.0)], description="time", continuous_update=False,
            layout=widgets.Layout(width="560px"))
        self.play = widgets.Play(min=0, max=0, step=1, interval=interval_ms,
                                 description="play", show_repeat=False)
        widgets.link((self.play, "value"), (self.slider, "index"))
        self.back_button = widgets.Button(description="\u25c0 step", tooltip="previous event",
                                          layout=widgets.Layout(width="80px"))
        self.forward_button = widgets.Button(description="step \u25b6", tooltip="next event",
                                             layout=widgets.Layout(width="80px"))
        self.back_button.on_click(lambda _: self.step(-1))
        self.forward_button.on_click(lambda _: self.step(+1))
        self.happening = widgets.HTML(layout=widgets.Layout(height="44px", overflow="auto"))
        self.controls = widgets.HBox([self.play, self.back_button, self.slider,
                                      self.forward_button])
        # --- a trace of several connections: a menu of them ("all", or one)
        self.connection_menu = None
        ids = connection_ids(self.full_trace)
        if len(ids) > 1:
            self.connection_menu = widgets.Dropdown(
                options=[("all connections", None)]
                        + [(connection_label(self.full_trace, cid), cid) for cid in ids],
                value=None, description="show", layout=widgets.Layout(width="560px"))
            self.connection_menu.observe(lambda change: self.show_connection(change["new"]),
                                         names="value")
        self._drawing = False
        self.slider.observe(lambda change: self._slider_moved(), names="value")
        self.show_connection(conn)

    def show_connection(self, conn):
        """Play connection ``conn`` alone (its segments, states, calls and TCB rows), or
        every connection with ``conn=None``; the menu follows. The time stays where it was
        (the last instant of the new trace at or before it)."""
        if conn is not None and conn not in connection_ids(self.full_trace):
            # the same message as plots.connection_trace
            connection_trace(self.full_trace, conn)
        was = self.slider.value if hasattr(self, "times") else None
        self.conn = conn
        self.trace = self.full_trace if conn is None else connection_trace(self.full_trace, conn)
        if self.connection_menu is not None and self.connection_menu.value != conn:
            self.connection_menu.value = conn        # calls back here: nothing left to do
            return
        self.hosts = host_order(self.trace, self.requested_hosts)
        self.times = event_times(self.trace)
        self.decimals = time_decimals(self.times)
        self._build_views()
        self._drawing = True                         # one redraw below, not one per change
        try:
            self.slider.options = [(time_text(t, self.decimals), t) for t in self.times]
            self.play.max = len(self.times) - 1
            if was is None:
                self.slider.index = 0
            else:
                self.go_to(was)
        finally:
            self._drawing = False
        self.redraw()

    def _build_views(self):
        """The pictures of ``self.trace`` (drawn by ``redraw``), and the widget's children."""
        children = ([self.connection_menu] if self.connection_menu is not None else []) \
            + [self.controls, self.happening]
        self.ladder = self.ladder_image = None
        self.state_pictures, self.state_images = {}, {}
        self.buffer_pictures = self.buffers_image = None
        self.variables = None
        if "ladder" in self.views:
            ignored = self.ignored_checkbox.value if getattr(self, "ignored_checkbox", None) else False
            self.ladder = LadderPicture(self.trace, hosts=self.hosts,
                                        max_height_px=self.ladder_height,
                                        decimals=self.decimals, ignored=ignored)
            self.ladder_image = picture(b"", self.ladder.width_px, self.ladder.height_px,
                                        format="svg+xml")
            if getattr(self, "ignored_checkbox", None) is None:
                self.ignored_checkbox = widgets.Checkbox(
                    value=False, description="show ignored segments", indent=False,
                    tooltip="segments that arrived and changed nothing, each with the reason")
                self.ignored_checkbox.observe(lambda change: self.show_ignored(change["new"]),
                                              names="value")
            children += [self.ignored_checkbox, self.ladder_image]
        else:
            self.ignored_checkbox = None
        if "states" in self.views:
            for host in self.hosts:
                self.state_pictures[host] = StateGraphPictures(self.trace, host)
                self.state_images[host] = picture(b"", self.state_pictures[host].width_px,
                                                  self.state_pictures[host].height_px,
                                                  max_width="50%", format="svg+xml")
            children.append(widgets.HBox(list(self.state_images.values())))
        if "variables" in self.views:
            self.variables = widgets.HTML(layout=widgets.Layout(height="340px", overflow="auto"))
            children.append(self.variables)
        if "buffers" in self.views:
            self.buffer_pictures = BufferPictures(self.trace)
            self.buffers_image = picture(b"", self.buffer_pictures.width_px,
                                         self.buffer_pictures.height_px,
                                         format=self.buffer_pictures.format)
            children.append(self.buffers_image)
        self.children = children

    def _slider_moved(self):
        if not self._drawing:
            self.redraw()

    # --- moving in time
    @property
    def t(self) -> float:
        return self.slider.value

    def go_to(self, t):
        """Show the last instant at or before ``t`` (the first one if ``t`` is earlier)."""
        k = bisect.bisect_right(self.times, t + 1e-12) - 1
        self.slider.index = max(0, k)

    def step(self, n=1):
        """Go ``n`` instants forward (negative: back), stopping at the ends."""
        self.slider.index = min(max(self.slider.index + n, 0), len(self.times) - 1)

    def show_ignored(self, show=True):
        """Mark the ignored segments on the ladder, or stop marking them (the checkbox)."""
        if self.ladder is None or self.ladder.ignored == bool(show):
            return
        self.ladder = LadderPicture(self.trace, hosts=self.hosts,
                                    max_height_px=self.ladder_height,
                                    decimals=self.decimals, ignored=bool(show))
        if self.ignored_checkbox.value != bool(show):
            self.ignored_checkbox.value = bool(show)     # calls back here: nothing to do
        self.redraw()

    # --- drawing
    def redraw(self):
        """Show every view at the slider's time."""
        with garbage_collection_paused():
            self._draw_views()

    def what_happens_at(self, t) -> str:
        """What happens at instant ``t`` (since the instant before), in words."""
        k = bisect.bisect_left(self.times, t - 1e-12)
        before = self.times[k - 1] if k > 0 else None
        return "; ".join(what_happens(self.trace, before, t)) or "nothing"

    def _draw_views(self):
        t, k = self.t, self.slider.index
        self.happening.value = (f"<b>at {time_text(t, self.decimals)}</b> "
                                f"(instant {k + 1} of {len(self.times)}): "
                                + html.escape(self.what_happens_at(t)))
        if self.ladder is not None:
            self.ladder_image.value = self.ladder.svg_at(t)
        for host, pictures in self.state_pictures.items():
            self.state_images[host].value = pictures.svg_at(t)
        if self.buffer_pictures is not None:
            self.buffers_image.value = self.buffer_pictures.svg_at(t)
        if self.variables is not None:
            self.variables.value = variables_html(self.trace, t, self.hosts, self.decimals)

    # --- the static fallback
    def snapshot(self, t=None):
        """One matplotlib Figure with the player's views at ``t`` (default: the current
        time): for exports and printing, where widgets do not run."""
        return stack(self.snapshot_rows(t))

    def snapshot_rows(self, t=None) -> list:
        """The snapshot's pictures (pixel arrays), row by row, drawn by Matplotlib."""
        if t is None:
            t = self.t
        width = 950
        title = f"{self.trace.name or 'trace'}: at {time_text(t, self.decimals)}"
        rows = [[text_pixels([title, self.what_happens_at(t)], width, size="small")]]
        if self.ladder is not None:
            rows.append([self.ladder.pixels_at(t)])
        if self.state_pictures:
            rows.append([png_pixels(p.png_at(t)) for p in self.state_pictures.values()])
        if self.buffer_pictures is not None:
            rows.append([png_pixels(self.buffer_pictures.png_at(t))])
        if self.variables is not None:
            rows.append([variables_pixels(self.trace, t, self.hosts, self.decimals, width)])
        return rows

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["image/png"] = stack_png(self.snapshot_rows())
        bundle["text/plain"] = (f"tcpsim player: {self.trace.name or 'trace'} at "
                                f"t = {time_text(self.t, self.decimals)}")
        return bundle


def player(trace, hosts=None, **options) -> Player:
    """A ``Player`` for ``trace`` (see ``Player`` for the options)."""
    return Player(trace, hosts=hosts, **options)
