"""The header byte by byte (notebook 01): build a segment from its fields, or decode a real one.

    from tcpsim import widgets
    widgets.segment_builder()                 # ports, seq, ack, flags, window, options in;
                                              # RFC 9293's rows, hex, checksum out
    widgets.segment_decoder("handshake")      # a shipped capture's segments, frame by frame

Both show :func:`tcpsim.header.header_html` of the segment (``tcpsim/header.py`` builds and
parses with dpkt); the widgets only collect the fields. A field that does not fit (a port of
70000, a window above 65535) is named in a red line instead of a picture.
"""
from __future__ import annotations

import html

import ipywidgets as widgets

from .. import header as tcp_header

_WIDE = widgets.Layout(width="230px")
_NARROW = widgets.Layout(width="150px")
_STYLE = {"description_width": "90px"}


def _int(description, value, layout=_WIDE):
    return widgets.IntText(value=value, description=description, layout=layout, style=_STYLE)


class SegmentBuilder(widgets.VBox):
    """Fields in, segment out. Attributes: ``fields`` ({name: widget}), ``flag_boxes``
    ({letter: Checkbox}), ``option_boxes`` ({option: (Checkbox, value widget or None)}),
    ``view`` (the HTML picture) and ``segment`` (the last :class:`~tcpsim.header.Header`
    built, or None if a field was out of range)."""

    def __init__(self, sport=40001, dport=5201, seq=1000, ack=0, flags="S", window=64240,
                 options=None, payload=""):
        super().__init__()
        self.add_class("tcpsim-segment-builder")
        options = {"mss": 1460} if options is None else options
        self.fields = {"sport": _int("source port", sport), "dport": _int("dest. port", dport),
                       "seq": _int("seq", seq), "ack": _int("ack", ack),
                       "window": _int("window", window),
                       "payload": widgets.Text(value=payload, description="payload",
                                               placeholder="text, sent as bytes",
                                               layout=_WIDE, style=_STYLE)}
        self.flag_boxes = {letter: widgets.Checkbox(value=letter in flags, description=name,
                                                    indent=False,
                                                    layout=widgets.Layout(width="62px"))
                           for name, letter, _bit in tcp_header.FLAGS}
        ts = options.get("ts") or [1, 0]
        self.option_boxes = {
            "mss": (widgets.Checkbox(value="mss" in options, description="MSS", indent=False,
                                     layout=widgets.Layout(width="80px")),
                    widgets.IntText(value=options.get("mss", 1460), layout=_NARROW)),
            "wscale": (widgets.Checkbox(value="wscale" in options, description="window scale",
                                        indent=False, layout=widgets.Layout(width="110px")),
                       widgets.IntText(value=options.get("wscale", 7), layout=_NARROW)),
            "sack_perm": (widgets.Checkbox(value=bool(options.get("sack_perm")),
                                           description="SACK permitted", indent=False,
                                           layout=widgets.Layout(width="130px")), None),
            "ts": (widgets.Checkbox(value="ts" in options, description="timestamps",
                                    indent=False, layout=widgets.Layout(width="100px")),
                   widgets.IntText(value=ts[0], layout=_NARROW)),
        }
        self.view = widgets.HTML()
        self.segment = None
        wrap = widgets.Layout(flex_flow="row wrap")
        rows = [widgets.HBox([self.fields["sport"], self.fields["dport"]], layout=wrap),
                widgets.HBox([self.fields["seq"], self.fields["ack"]], layout=wrap),
                widgets.HBox([widgets.Label("flags", layout=widgets.Layout(width="40px"))]
                             + list(self.flag_boxes.values()), layout=wrap),
                widgets.HBox([self.fields["window"], self.fields["payload"]], layout=wrap),
                widgets.HBox([widgets.HBox([box] + ([value] if value is not None else []))
                              for box, value in self.option_boxes.values()], layout=wrap)]
        self.children = rows + [self.view]
        for control in self._controls():
            control.observe(self._changed, names="value")
        self.update()

    def _controls(self):
        yield from self.fields.values()
        yield from self.flag_boxes.values()
        for box, value in self.option_boxes.values():
            yield box
            if value is not None:
                yield value

    def _changed(self, _change):
        self.update()

    def options(self) -> dict:
        """The options ticked, in the contract's names."""
        out = {}
        for name, (box, value) in self.option_boxes.items():
            if not box.value:
                continue
            if name == "sack_perm":
                out[name] = True
            elif name == "ts":
                out[name] = [value.value, 0]         # TSval; TSecr 0 (nothing echoed yet)
            else:
                out[name] = value.value
        return out

    def update(self) -> None:
        """Rebuild the segment from the controls and redraw."""
        flags = "".join(letter for letter, box in self.flag_boxes.items() if box.value)
        f = {name: w.value for name, w in self.fields.items()}
        try:
            self.segment = tcp_header.build(f["sport"], f["dport"], f["seq"], f["ack"], flags,
                                            f["window"], self.options(), f["payload"])
        except (tcp_header.HeaderError, OverflowError) as error:
            self.segment = None
            self.view.value = (f"<div style='color:#D55E00'><b>Not a segment:</b> "
                               f"{html.escape(str(error))}</div>")
            return
        self.view.value = tcp_header.header_html(self.segment)


def segment_builder(**fields) -> SegmentBuilder:
    """A :class:`SegmentBuilder` (keyword arguments: its starting fields)."""
    return SegmentBuilder(**fields)


class SegmentDecoder(widgets.VBox):
    """A shipped capture's segments decoded, one frame at a time. Attributes: ``capture``
    (Dropdown of the shipped captures), ``frame`` (IntSlider, Wireshark's frame number),
    ``view`` (HTML) and ``segment`` (the :class:`~tcpsim.header.Header` shown)."""

    def __init__(self, capture="handshake", frame=1):
        super().__init__()
        self.add_class("tcpsim-segment-decoder")
        from .. import course
        self.capture = widgets.Dropdown(options=course.names(), value=capture,
                                        description="capture", style=_STYLE,
                                        layout=widgets.Layout(width="300px"))
        self.frame = widgets.IntSlider(value=frame, min=1, max=1, description="frame",
                                       style=_STYLE, continuous_update=False,
                                       layout=widgets.Layout(width="300px"))
        self.hex = widgets.HTML()
        self.view = widgets.HTML()
        self.segment = None
        self._segments = []
        self.children = [widgets.HBox([self.capture, self.frame],
                                      layout=widgets.Layout(flex_flow="row wrap")),
                         self.hex, self.view]
        self.capture.observe(self._new_capture, names="value")
        self.frame.observe(self._new_frame, names="value")
        self._load(frame)

    def _load(self, frame):
        self._segments = tcp_header.capture_segments(self.capture.value)
        self.frame.max = len(self._segments)
        self.frame.value = min(max(frame, 1), len(self._segments))
        self.show()

    def _new_capture(self, _change):
        self._load(1)

    def _new_frame(self, _change):
        self.show()

    def show(self) -> None:
        self.segment = self._segments[self.frame.value - 1]
        raw = self.segment.raw
        shown = raw[:64]
        self.hex.value = ("<div style='font-family:monospace;font-size:12px;line-height:1.35'>"
                          f"the segment's bytes as captured ({len(raw)}):<br>"
                          + html.escape(shown.hex(" ")) + (" …" if len(raw) > 64 else "")
                          + "</div>")
        self.view.value = tcp_header.header_html(self.segment)


def segment_decoder(capture="handshake", frame=1) -> SegmentDecoder:
    """A :class:`SegmentDecoder` on shipped capture ``capture``, at ``frame``."""
    return SegmentDecoder(capture, frame)
