"""``FlowExplorer``: a sender and a receiver, with sliders for the write size, the reader's
rate and the receive buffer; the flow-control picture (``plots.flow``) follows.

    from tcpsim import widgets
    widgets.flow_explorer()

The scenario (``flow_scenario``): the client writes ``write_bytes`` every 10 ms for half a
second (Nagle off, so each write leaves as it comes); the server's program reads
``read_kb_s`` kilobytes per second in reads every 10 ms (0: it does not read until 1.5 s),
from a receive buffer of ``buffer_kb`` KiB (``SO_RCVBUF``, host option ``rcvbuf``). The
simulator's ``linux`` profile runs it; the summary says how long the transfer took, how
often the window was 0 and how many probes the sender had to send.
"""
from __future__ import annotations

import ipywidgets as widgets

from ..plots.flow import flow, flow_data
from ._pictures import figure_png, stack_png, text_pixels
from .player import picture

WRITE_EVERY_S = 0.010
WRITES_FOR_S = 0.5
READ_EVERY_S = 0.010
LATE_READ_AT_S = 1.5      # a reader at rate 0 reads everything here
FIRST_WRITE_AT_S = 0.3
PICTURE_PX = (950, 560)


def flow_scenario(write_bytes: int = 1448, read_kb_s: int = 100, buffer_kb: int = 64) -> dict:
    """The scenario the sliders describe (see the module's docstring)."""
    for name, value, low, high in (("write_bytes", write_bytes, 1, 65536),
                                   ("read_kb_s", read_kb_s, 0, 100000),
                                   ("buffer_kb", buffer_kb, 1, 1 << 20)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name}: must be a whole number from {low} to {high}, "
                             f"not {value!r}")
    actions = [{"at": 0.0, "host": "server", "do": "listen"},
               {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
               {"at": 0.2, "host": "server", "do": "read", "mode": "off"}]
    writes = round(WRITES_FOR_S / WRITE_EVERY_S)
    for k in range(writes):
        actions.append({"at": round(FIRST_WRITE_AT_S + k * WRITE_EVERY_S, 6), "host": "client",
                        "do": "send", "bytes": write_bytes})
    total = writes * write_bytes
    if read_kb_s > 0:
        per_read = max(1, round(read_kb_s * 1000 * READ_EVERY_S))
        reads = min(2000, -(-total // per_read) + 50)
        for k in range(reads):
            actions.append({"at": round(FIRST_WRITE_AT_S + k * READ_EVERY_S, 6),
                            "host": "server", "do": "read", "bytes": per_read})
    else:
        actions.append({"at": LATE_READ_AT_S, "host": "server", "do": "read", "mode": "auto"})
    return {"tcpsim": 1, "name": f"{writes} writes of {write_bytes} B every 10 ms; the server "
            f"reads {read_kb_s} kB/s from a {buffer_kb} KiB buffer", "profile": "linux",
            "seed": 1, "link": {"mtu": 1500},
            "hosts": {"client": {"port": 40070, "options": {"nodelay": True}},
                      "server": {"port": 5270, "options": {"rcvbuf": buffer_kb * 1024}}},
            "actions": actions, "until": 30.0}


def flow_summary(trace) -> str:
    """One line: bytes delivered, when the last was acknowledged, zero windows, probes."""
    d = flow_data(trace)
    written = d["written"][-1][1] if d["written"] else 0
    acked = d["acked"][-1] if d["acked"] else (0.0, 0)
    start = d["written"][0][0] if d["written"] else 0.0
    probes = _probes(trace)
    done = f"all {written} B acknowledged {acked[0] - start:.3f} s after the first write" \
        if acked[1] >= written else f"{acked[1]} of {written} B acknowledged at the end"
    return (f"{done}; the server advertised a window of 0 {len(d['zero_windows'])} times; "
            f"the client sent {probes} zero-window probes")


def _probes(trace) -> int:
    """Zero-window probes of a simulation: the client's segments one below SND.NXT."""
    rows = trace.doc["segments"]
    high, count = 0, 0
    for r in rows:
        if r["src"] != "client" or "S" in r["flags"] or "F" in r["flags"]:
            continue
        end = int(r["rel_seq"]) + int(r["len"])
        if r["len"] <= 1 and high and int(r["rel_seq"]) == high - 1:
            count += 1
        high = max(high, end)
    return count


class FlowExplorer(widgets.VBox):
    """Three sliders (write size, read rate, receive buffer) over the flow picture."""

    def __init__(self, write_bytes=1448, read_kb_s=100, buffer_kb=64):
        style = {"description_width": "150px"}
        layout = widgets.Layout(width="520px")
        self.write = widgets.IntSlider(value=write_bytes, min=100, max=8000, step=100,
                                       description="write size (B)", style=style,
                                       layout=layout, continuous_update=False)
        self.read = widgets.IntSlider(value=read_kb_s, min=0, max=400, step=10,
                                      description="reader (kB/s, 0 = none)", style=style,
                                      layout=layout, continuous_update=False)
        self.buffer = widgets.IntSlider(value=buffer_kb, min=8, max=256, step=8,
                                        description="receive buffer (KiB)", style=style,
                                        layout=layout, continuous_update=False)
        self.summary = widgets.HTML()
        self.image = picture(b"", *PICTURE_PX)
        self.trace = None
        for slider in (self.write, self.read, self.buffer):
            slider.observe(self._changed, names="value")
        super().__init__([self.write, self.read, self.buffer, self.summary, self.image])
        self.add_class("tcpsim-flow")
        self.update()

    def scenario(self) -> dict:
        return flow_scenario(self.write.value, self.read.value, self.buffer.value)

    def _changed(self, _change):
        self.update()

    def update(self):
        from ..simulator import run
        self.trace = run(self.scenario())
        self.summary.value = f"<span style='font-family: sans-serif'>{flow_summary(self.trace)}</span>"
        self.image.value = figure_png(flow(self.trace, title=False))

    def settings_text(self) -> str:
        return (f"write size = {self.write.value} B · reader = {self.read.value} kB/s · "
                f"receive buffer = {self.buffer.value} KiB")

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        from ._pictures import png_pixels
        rows = [[text_pixels([self.settings_text(), flow_summary(self.trace)], PICTURE_PX[0],
                             size="small")],
                [png_pixels(self.image.value)]]
        bundle["image/png"] = stack_png(rows)
        bundle["text/plain"] = f"tcpsim flow explorer: {self.settings_text()}"
        return bundle


def flow_explorer(write_bytes=1448, read_kb_s=100, buffer_kb=64) -> FlowExplorer:
    """A ``FlowExplorer`` starting at these values."""
    return FlowExplorer(write_bytes, read_kb_s, buffer_kb)
