"""``Explorer``: change a scenario with a few controls and see the run again at once.

    from tcpsim import widgets
    widgets.explorer(scenario, controls=("profile", "delay_ms", "drop"))

Every change of a control re-simulates the scenario and redraws the picture in place,
with a one-line summary of what the applications saw. The built-in controls are in
``controls.py`` plus ``"drop"`` (here); a notebook adds its own with
``extra={label: (widget, apply)}``, where ``apply(scenario, value)`` changes the scenario
dict in place (or returns a new one).
"""
from __future__ import annotations

import asyncio
import copy
import html
import json
import os
import time

import ipywidgets as widgets

from .. import plots
from ..errors import ScenarioError
from ..plots.ladder import ladder_svg
from ..plots.style import flag_label, host_order
from ..scenario import load as scenario_load
from ..simulator import run
from ._pictures import (figure_pixels, figure_svg, freeze_long_lived_objects,
                        garbage_collection_paused, message_png, png_pixels, stack, stack_png,
                        text_pixels)
from .controls import BUILT_IN, faults
from .views import (socket_states, state_graphs_side_by_side, state_graphs_side_by_side_svg,
                    states_text)

VIEWS = ("ladder", "timeseq", "states")
NO_DROP = "nothing"
NO_DATA = "No data is sent in this run: no time-sequence graph."
ERRNO_WORDS = {
    "ETIMEDOUT": "timed out (ETIMEDOUT)",
    "ECONNREFUSED": "refused (ECONNREFUSED)",
    "ECONNRESET": "reset by the peer (ECONNRESET)",
    "EPIPE": "broken pipe (EPIPE)",
    "ENOTCONN": "not connected (ENOTCONN)",
    "EISCONN": "already connected (EISCONN)",
}


# ---------------------------------------------------------------------- the drop list
def drop_choices(trace) -> list:
    """[(label, (src, flags, nth))] for every segment of ``trace``: ``nth`` counts the
    segments with the same sender and flags, as a ``drop`` fault's ``nth`` does."""
    choices, seen = [], {}
    for seg in trace.doc["segments"]:
        key = (seg["src"], seg["flags"])
        seen[key] = seen.get(key, 0) + 1
        label = f"{seg['i']}: {seg['src']} \u2192 {seg['dst']} {flag_label(seg['flags'])}"
        if seg.get("len"):
            label += f" {seg['len']} B"
        if seg.get("retransmission"):
            label += " (retransmission)"
        if seg.get("injected"):
            label += " (injected)"
        if seg.get("dropped"):
            label += " (lost anyway)"
        choices.append((label, (seg["src"], seg["flags"], seen[key])))
    return choices


def drop_fault(choice) -> dict:
    """The fault that drops exactly the chosen segment."""
    src, flags, nth = choice
    return {"drop": {"from": src, "flags": flags, "nth": [nth]}}


# ------------------------------------------------------------------------- the summary
def summary_text(trace) -> str:
    """What the applications saw, in one line: connect/accept results, errors, EOFs, and
    each host's state at the end."""
    parts = []
    for event in trace.doc.get("events", []):
        call, result = event["call"], event["result"]
        if result in ERRNO_WORDS:
            said = ERRNO_WORDS[result]
        elif call == "read" and result == 0:
            said = "end of file"
        elif call in ("connect", "accept"):
            said = str(result)
        else:
            continue
        parts.append(f"{event['host']} {call}() \u2192 {said} at {event['t']:.3f} s")
    if not parts:
        parts.append("no connection was made or refused")
    segments = trace.doc.get("segments", [])
    dropped = sum(1 for seg in segments if seg.get("dropped"))
    ends = ", ".join(f"{host} {states_text(socket_states(trace, host))}"
                     for host in host_order(trace))
    counts = f"{len(segments)} segments ({dropped} lost)"
    return " \u00b7 ".join(["; ".join(parts), counts, f"end: {ends}"])


def one_line(text, colour="#222") -> str:
    """HTML for the summary: two lines of fixed height, so the picture below never moves
    (a longer text is cut; the whole text is the tooltip)."""
    return (f"<div title='{html.escape(text, quote=True)}' style='height:2.9em;line-height:1.45em;"
            f"overflow:hidden;color:{colour}'>{html.escape(text)}</div>")


def load_scenario(scenario) -> dict:
    """A copy of the scenario as a dict (from a dict, or a path to a JSON file)."""
    if isinstance(scenario, (str, os.PathLike)):
        return scenario_load(scenario)   # one-line ScenarioError for a bad path or bad JSON
    if not isinstance(scenario, dict):
        raise TypeError("the scenario must be a dict (or the path of a JSON file)")
    return copy.deepcopy(scenario)


def running_loop():
    """The asyncio loop running now (the kernel's), or None outside one."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


# ---------------------------------------------------------------------------- the widget
class Explorer(widgets.VBox):
    """A scenario with controls; each change re-simulates it and redraws the picture.

    scenario: the base scenario (a dict as ``tcpsim.run`` takes, or a JSON file's path).
    controls: names of built-in controls: ``"profile"``, ``"delay_ms"``, ``"loss"``,
    ``"mtu"``, ``"mss"``, ``"drop"``, ``"isn"``, ``"old_syn_at"``, ``"seed"``.
    view: ``"ladder"``, ``"timeseq"`` (time-sequence graph of the host sending most data)
    or ``"states"`` (both hosts' state machines at the end).
    extra: {label: (widget, apply)}: more controls; ``apply(scenario, value)`` changes the
    scenario dict in place (or returns a new dict). Applied after the built-in ones, before
    ``drop``.
    debounce_s: after a redraw, further changes within this many seconds are gathered and
    only the latest is drawn (when the kernel runs an asyncio loop); 0 = always at once.
    height: the picture area's height in pixels (taller pictures scroll inside it).

    Attributes: ``trace`` (the last successful run), ``scenario`` (the dict it ran),
    ``error`` (the last error message, or None), ``controls`` {name: widget}, ``image``,
    ``summary``; ``update()`` re-simulates and redraws now.
    """

    def __init__(self, scenario, controls=("profile",), view="ladder", extra=None,
                 debounce_s=0.1, height=600):
        super().__init__()
        self.add_class("tcpsim-explorer")
        if view not in VIEWS:
            raise ValueError(f"unknown view {view!r}; use one of {VIEWS}")
        unknown = [name for name in controls if name not in BUILT_IN and name != "drop"]
        if unknown:
            raise ValueError(f"unknown control(s) {unknown}; built-in controls are "
                             f"{list(BUILT_IN) + ['drop']}")
        self.base = load_scenario(scenario)
        self.view = view
        self.debounce_s = debounce_s
        self.trace = self.scenario = self.error = None

        # the controls, in the order they are applied to the scenario
        self.controls, self.appliers = {}, {}
        for name in BUILT_IN:
            if name in controls:
                self.controls[name], self.appliers[name] = BUILT_IN[name](self.base)
        for label, (widget, apply) in (extra or {}).items():
            self.controls[label], self.appliers[label] = widget, apply
        if "drop" in controls:
            self.controls["drop"] = widgets.Dropdown(options=[("nothing", NO_DROP)],
                                                     value=NO_DROP, description="drop",
                                                     layout=widgets.Layout(width="420px"))
        shown = [self.controls[name] for name in controls if name in self.controls]
        shown += [self.controls[label] for label in (extra or {})]

        self.summary = widgets.HTML(layout=widgets.Layout(width="100%", max_width="950px"))
        self.summary.add_class("tcpsim-summary")
        self.image = widgets.Image(format="svg+xml", layout=widgets.Layout(flex="0 0 auto"))
        self.image.add_class("tcpsim-picture")
        picture_box = widgets.Box([self.image], layout=widgets.Layout(
            height=f"{height}px", width="100%", max_width="970px", overflow="auto",
            flex="0 0 auto", align_items="flex-start"))   # the picture at the top
        picture_box.add_class("tcpsim-picture-box")
        self.children = [widgets.HBox(shown, layout=widgets.Layout(flex_flow="row wrap")),
                         self.summary, picture_box]

        self._baseline = None            # (scenario JSON, trace) of the run without the drop
        self._updating = False           # True while update() runs: ignore its own changes
        self._pending = None             # a later update() scheduled on the asyncio loop
        self._last_update = 0.0          # time.monotonic() of the last update
        for widget in self.controls.values():
            widget.observe(self._on_change, names="value")
        self.update()
        freeze_long_lived_objects()

    # --- scenarios
    def scenario_without_drop(self) -> dict:
        """The base scenario with every control's current value applied except ``drop``."""
        scenario = copy.deepcopy(self.base)
        for name, apply in self.appliers.items():
            changed = apply(scenario, self.controls[name].value)
            if isinstance(changed, dict):
                scenario = changed
        return scenario

    # --- re-simulating
    def _on_change(self, change):
        """A control changed: update now, or a little later if one just ran (debounce)."""
        if self._updating:
            return
        loop = running_loop()
        if not self.debounce_s or loop is None:
            self.update()
            return
        if self._pending is not None:        # already scheduled: it reads the latest values
            return
        wait = self._last_update + self.debounce_s - time.monotonic()
        if wait <= 0:
            self.update()
        else:
            self._pending = loop.call_later(wait, self.update)

    def update(self):
        """Re-simulate with the controls' current values and redraw (synchronously)."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        self._updating = True
        try:
            with garbage_collection_paused():
                self._simulate_and_draw()
        finally:
            self._updating = False
            self._last_update = time.monotonic()

    def _simulate_and_draw(self):
        scenario = self.scenario_without_drop()
        try:
            trace = self._run_without_drop(scenario)
            if "drop" in self.controls:
                self._list_segments(trace)
                choice = self.controls["drop"].value
                if choice != NO_DROP:
                    scenario = copy.deepcopy(scenario)
                    faults(scenario).append(drop_fault(choice))
                    trace = run(scenario)
        except ScenarioError as error:
            self.error = str(error)
            self.summary.value = one_line(f"\u26a0 this combination is not a valid scenario: "
                                          f"{error}", colour="#B00000")
            return
        self.error = None
        self.scenario, self.trace = scenario, trace
        self.image.format, self.image.value = self.draw(trace)
        self.summary.value = one_line(summary_text(trace))

    def _run_without_drop(self, scenario):
        """The run without the drop, which lists the segments one can drop; kept while
        only the drop choice changes, so that choosing a segment simulates once."""
        key = json.dumps(scenario, sort_keys=True)
        if self._baseline is None or self._baseline[0] != key:
            self._baseline = (key, run(scenario))
        return self._baseline[1]

    def _list_segments(self, trace):
        """Fill the drop list with the segments of the run without the drop; keep the
        chosen segment if it is still there."""
        dropdown = self.controls["drop"]
        options = [("nothing", NO_DROP)] + drop_choices(trace)
        if options == list(dropdown.options):
            return
        chosen = dropdown.value
        dropdown.options = options
        dropdown.value = chosen if chosen in [value for _, value in options] else NO_DROP

    # --- drawing
    def draw(self, trace):
        """The picture of the run: ``(format, bytes)`` for the Image widget.

        The ladder and the two state graphs (side by side) are SVG written directly from
        their scenes (the geometry ``plots.ladder`` and ``plots.state_graph`` draw with
        Matplotlib: a millisecond or two); the time-sequence graph is SVG from Matplotlib."""
        if self.view == "states":
            return "svg+xml", state_graphs_side_by_side_svg(trace)
        if self.view == "ladder":
            return "svg+xml", ladder_svg(trace).encode()
        figure = self.figure(trace)
        if figure is None:
            return "png", message_png(NO_DATA, 950, 200)
        return "svg+xml", figure_svg(figure)

    def figure(self, trace):
        """The matplotlib Figure of the ladder or time-sequence view (None: nothing to draw)."""
        if self.view == "timeseq":
            sent = {}
            for seg in trace.doc["segments"]:
                sent[seg["src"]] = sent.get(seg["src"], 0) + (seg.get("len") or 0)
            if not any(sent.values()):
                return None
            return plots.time_sequence(trace, host=max(sent, key=sent.get))
        return plots.ladder(trace)

    # --- the static fallback
    def settings_text(self) -> str:
        """The controls' current values in one line."""
        parts = []
        for name, widget in self.controls.items():
            value = widget.label if isinstance(widget, widgets.Dropdown) else widget.value
            parts.append(f"{name} = {value}")
        return " \u00b7 ".join(parts)

    def snapshot(self):
        """One matplotlib Figure: the controls' values, the summary and the picture."""
        return stack(self.snapshot_rows())

    def snapshot_rows(self) -> list:
        """The snapshot's pictures (pixel arrays), row by row, drawn by Matplotlib."""
        lines = [self.settings_text(), self.error or summary_text(self.trace)]
        rows = [[text_pixels(lines, 950, size="small")]]
        if self.trace is not None:
            if self.view == "states":
                rows.append([png_pixels(state_graphs_side_by_side(self.trace))])
            else:
                figure = self.figure(self.trace)
                rows.append([figure_pixels(figure) if figure is not None
                             else png_pixels(message_png(NO_DATA, 950, 200))])
        return rows

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["image/png"] = stack_png(self.snapshot_rows())
        bundle["text/plain"] = f"tcpsim explorer: {self.settings_text()}"
        return bundle


def explorer(scenario, controls=("profile",), view="ladder", extra=None, debounce_s=0.1,
             height=600) -> Explorer:
    """An ``Explorer`` of ``scenario`` (see ``Explorer`` for the arguments)."""
    return Explorer(scenario, controls=controls, view=view, extra=extra, debounce_s=debounce_s,
                    height=height)
