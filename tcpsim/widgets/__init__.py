"""Interactive views of tcpsim traces for Jupyter (ipywidgets 8).

    from tcpsim import widgets
    widgets.player(trace)                     # step through a trace in time
    widgets.explorer(scenario, controls=("profile", "drop"))   # change it, see it again
    widgets.predict("What comes next?", choices=[...], check=..., reveal=...)
    widgets.flow_explorer()                   # write size, read rate, buffer: the window moves
    widgets.segment_builder()                 # a TCP header from its fields (notebook 01)
    widgets.segment_decoder("handshake")      # a real segment's bytes into fields
    widgets.capture_viewer()                  # your own pcap: upload, pick a connection, see it

Every widget shows its pictures as fixed-size images (CSS class ``tcpsim-picture``): the
ladder, the state graphs and the buffers as SVG written directly from the same scenes that
``tcpsim.plots`` draws with Matplotlib (``tcpsim/plots/scene.py``: a few milliseconds, where
Matplotlib takes a hundred or more), so the interactive and the static pictures agree. Each
widget also carries a static PNG of its current state (Matplotlib) for places where widgets
cannot run (nbviewer, GitHub, HTML/PDF export). See docs/widgets.md.
"""
from .captures import CaptureViewer, capture_viewer
from .explorer import Explorer, explorer
from .flow import FlowExplorer, flow_explorer
from .header import SegmentBuilder, SegmentDecoder, segment_builder, segment_decoder
from .player import Player, player
from .predict import Predict, predict

__all__ = ["player", "Player", "explorer", "Explorer", "predict", "Predict",
           "segment_builder", "SegmentBuilder", "segment_decoder", "SegmentDecoder",
           "capture_viewer", "CaptureViewer",
           "flow_explorer", "FlowExplorer"]
