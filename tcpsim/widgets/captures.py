"""``capture_viewer``: your own capture in the notebook (notebook 09).

    from tcpsim import widgets
    widgets.capture_viewer()                 # an upload button: choose a .pcap / .pcapng
    widgets.capture_viewer("handshake")      # a shipped capture (course.capture_path)
    widgets.capture_viewer("/path/x.pcap")   # a file

A file-upload button reads a capture (tcpdump, Wireshark, dumpcap); a menu picks one of its
TCP connections (``pcap.list_streams``); below it, every view of that connection: a line
about the file (format, link type, IPv4 or IPv6, offload), the player (ladder and the
inferred states of both sides, ``Player``), the time-sequence graph of the side that sent
more data, the Wireshark-style analysis labels, and, on a button, the scenario inferred
from the capture run through the ``linux`` profile with the differences segment by
segment (``tcpsim.infer``).

A file that cannot be read gives one clear message and what to do about it, never a
traceback: not a capture, a packet cut short by the snapshot length, a link type tcpsim
does not read, a file that ends inside a packet, no TCP at all (the messages are
``tcpsim.pcap``'s; ``ADVICE`` adds the remedy). pcapng files and IPv6 connections are read
(the file line says so).
"""
from __future__ import annotations

import html
import os
import tempfile

import ipywidgets as widgets

from ..errors import CaptureError

LABELS = ("retransmission", "out_of_order", "dup_ack", "window_update", "zero_window",
          "keep_alive", "oversize")
LABEL_COLUMNS = ["i", "frame", "t", "src", "flags", "rel_seq", "rel_ack", "len", "win"]
ACCEPT = ".pcap,.pcapng,.cap,.dmp"
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
# what to do about each of tcpsim.pcap's errors (matched on its message)
ADVICE = (
    ("not a pcap or pcapng file", ("This is not a capture file. Record one with tcpdump -w "
     "FILE.pcap, or in Wireshark save it as pcap or pcapng (File → Save As); a text export "
     "or a screenshot cannot be read.")),
    ("snapshot length", ("The capture kept only the first bytes of each packet (tcpdump -s "
     "with a small number). Record it again with the default snapshot length (no -s, or "
     "-s 0), so that every TCP header is complete.")),
    ("is not supported", ("tcpsim reads Ethernet, Linux cooked capture (tcpdump -i any), raw "
     "IP and BSD loopback. Record on one of those (on Linux: -i any or -i lo; on macOS: "
     "-i lo0 or en0); Wi-Fi monitor mode (802.11 radiotap) is not read.")),
    ("is truncated", ("The file ends in the middle of a packet: tcpdump was stopped before it "
     "wrote everything. Stop it with Ctrl-C (not kill -9), or copy the file after it ended.")),
    ("truncated", "The file ends early: record it again and stop tcpdump with Ctrl-C."),
    ("no TCP packets", ("The file holds no TCP at all: check the capture filter (for example "
     "'tcp port 80') and that the traffic went through the interface you recorded.")),
    ("malformed", ("A packet in the file is damaged. If it was edited or converted, record "
     "it again.")),
    ("cannot read", "The file could not be opened."),
)


def advice(message: str) -> str:
    """The remedy for one of tcpsim.pcap's error messages ("" if none is known)."""
    return next((text for key, text in ADVICE if key in message), "")


def file_facts(path, trace) -> str:
    """One line about the file and the chosen connection: format, link type, IP version,
    connections, offload."""
    with open(path, "rb") as f:
        magic = f.read(4)
    fmt = ("pcapng (Wireshark's default; tcpsim reads its first interface's link type)"
           if magic == PCAPNG_MAGIC else "pcap")
    cap = trace.doc["capture"]
    ipv6 = any(":" in str(h.get("addr", "")) for h in trace.hosts.values())
    parts = [f"{fmt}", f"link type {cap['link_type']}", "IPv6" if ipv6 else "IPv4",
             (f"{cap['packets']} packets, {cap['streams']} TCP connection(s); this one: "
             f"{len(trace.doc['segments'])} segments")]
    text = " · ".join(parts)
    if trace.doc.get("offload"):
        text += ". " + trace.doc["note"]
    return text


def _data_sender(trace) -> str:
    sent = {}
    for s in trace.doc["segments"]:
        sent[s["src"]] = sent.get(s["src"], 0) + s["len"]
    return max(sorted(sent), key=lambda h: sent[h]) if sent else "client"


def label_table(trace):
    """The segments that Wireshark's analysis would label, one column per label (pandas)."""
    seg = trace.segments
    cols = [c for c in LABELS if c in seg.columns]
    marked = seg[seg[cols].any(axis=1)] if cols else seg.iloc[:0]
    return marked[[c for c in LABEL_COLUMNS if c in seg.columns] + cols]


def _html_table(frame, empty: str) -> str:
    if frame.empty:
        return f"<p>{html.escape(empty)}</p>"
    return frame.to_html(index=False, border=0, max_rows=60)


def _message(text: str, colour="#D55E00") -> str:
    return (f'<div style="border-left: 6px solid {colour}; padding: 4px 10px">'
            + html.escape(text).replace("\n", "<br>") + "</div>")


class CaptureViewer(widgets.VBox):
    """An upload button, a connection menu and every view of the chosen connection.

    Attributes: ``upload`` (FileUpload), ``streams`` (Dropdown), ``status`` (HTML: the file
    line or the error), ``views`` (VBox with the views), ``compare_button``, ``comparison``
    (HTML), ``trace`` (the chosen connection, or None), ``path``, ``replay`` (after the
    button: ``tcpsim.infer.Replay``). ``load(path)`` and ``load_bytes(name, data)`` do from
    code what the button does.
    """

    def __init__(self, capture=None):
        super().__init__()
        self.add_class("tcpsim-capture-viewer")
        self.upload = widgets.FileUpload(accept=ACCEPT, multiple=False,
                                         description="capture file")
        self.upload.observe(lambda change: self._uploaded(change["new"]), names="value")
        self.streams = widgets.Dropdown(options=[], description="connection",
                                        layout=widgets.Layout(width="100%"))
        self.streams.observe(lambda change: self._stream_chosen(change["new"]), names="value")
        self.status = widgets.HTML("Choose a .pcap or .pcapng file (tcpdump, Wireshark).")
        self.views = widgets.VBox()
        self.compare_button = widgets.Button(description="compare with Linux",
                                             tooltip="infer a scenario, run it (linux profile), "
                                             "show the differences", disabled=True)
        self.compare_button.on_click(lambda _: self.compare())
        self.comparison = widgets.HTML()
        self.trace = self.path = self.replay = self.shown_as = None
        self._tmp = tempfile.TemporaryDirectory(prefix="tcpsim-upload-")
        self.children = [self.upload, self.status, self.streams, self.views,
                         self.compare_button, self.comparison]
        if capture is not None:
            self.load(_resolve(capture))

    # --- loading
    def _uploaded(self, value):
        if not value:
            return
        item = value[0]
        self.load_bytes(item["name"], bytes(item["content"]))

    def load_bytes(self, name: str, data: bytes):
        """Read an uploaded file's bytes (kept in a temporary directory)."""
        path = os.path.join(self._tmp.name, os.path.basename(name) or "upload.pcap")
        with open(path, "wb") as f:
            f.write(data)
        self.load(path, shown_as=name)

    def load(self, path, shown_as=None):
        """Read the capture at ``path``: the connection menu and the first connection's views,
        or the error and its remedy (naming the file ``shown_as``, default ``path``)."""
        from ..pcap import list_streams
        self.path, self.trace, self.replay = str(path), None, None
        self.shown_as = shown_as or self.path
        self.views.children = ()
        self.comparison.value = ""
        self.compare_button.disabled = True
        try:
            lines = list_streams(self.path)
        except CaptureError as error:
            self._error(str(error))
            return
        self.streams.options = [(line, k) for k, line in enumerate(lines)]
        if self.streams.value == 0:
            self._stream_chosen(0)
        else:
            self.streams.value = 0          # calls _stream_chosen

    def _error(self, message):
        message = message.replace(self.path, self.shown_as)
        self.streams.options = []
        tip = advice(message)
        self.status.value = _message(message + ("\n" + tip if tip else ""))

    def _stream_chosen(self, index):
        if index is None or self.path is None:
            return
        from ..pcap import read_pcap
        try:
            self.trace = read_pcap(self.path, stream=index)
        except CaptureError as error:
            self._error(str(error))
            return
        self.replay = None
        self.comparison.value = ""
        self.status.value = _message(file_facts(self.path, self.trace), colour="#0072B2")
        self.compare_button.disabled = False
        self.views.children = self._views(self.trace)

    def _views(self, trace):
        from .. import plots
        from ._pictures import figure_png
        from .player import Player, picture
        sender = _data_sender(trace)
        views = [widgets.HTML("<b>The ladder and each side's states, as the wire shows them</b> "
                              "(inferred: docs/captures.md, \"States\")"),
                 Player(trace, views=("ladder", "states"))]
        views.append(widgets.HTML(f"<b>Time-sequence graph of the {html.escape(sender)}'s "
                                  "data</b>"))
        try:
            fig = plots.time_sequence(trace, host=sender)
        except ValueError as why:           # nothing to draw (no segment from that side)
            views.append(widgets.HTML(f"<p>{html.escape(str(why))}</p>"))
        else:
            width, height = (int(v * fig.dpi) for v in fig.get_size_inches())
            views.append(picture(figure_png(fig), width, height))
        views += [widgets.HTML("<b>Wireshark's analysis labels</b> (tcp.analysis.*, computed by "
                               "tcpsim as Wireshark does)"),
                  widgets.HTML(_html_table(label_table(trace),
                                           "No segment gets a label: no retransmission, "
                                           "duplicate ACK, window update or keep-alive."),
                               layout=widgets.Layout(max_height="320px", overflow="auto"))]
        return views

    # --- the comparison with the simulator
    def compare(self):
        """Infer a scenario from the chosen connection, run it through the linux profile and
        show the differences."""
        if self.trace is None:
            return
        from .. import infer
        self.replay = rep = infer.replay(self.trace)
        diffs = rep.differences[rep.differences["verdict"] != "same"]
        self.comparison.value = (
            _message(rep.summary(), colour="#009E73" if diffs.empty else "#E69F00")
            + "<details><summary>the inferred scenario, and why</summary><pre>"
            + html.escape(rep.inferred.explain()) + "</pre></details>"
            + _html_table(diffs, "Every segment is the same in the simulation."))


def _resolve(capture):
    """A shipped capture's name, or a path."""
    text = str(capture)
    if os.path.exists(text):
        return text
    from .. import course
    return course.capture_path(text)


def capture_viewer(capture=None) -> CaptureViewer:
    """A ``CaptureViewer``; ``capture``: a shipped capture's name or a path (optional)."""
    return CaptureViewer(capture)
