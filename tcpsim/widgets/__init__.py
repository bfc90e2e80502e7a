"""Interactive views of tcpsim traces for Jupyter (ipywidgets 8).

    from tcpsim import widgets
    widgets.player(trace)                     # step through a trace in time
    widgets.explorer(scenario, controls=("profile", "drop"))   # change it, see it again
    widgets.predict("What comes next?", choices=[...], check=..., reveal=...)

Every widget shows its pictures as fixed-size images (CSS class ``tcpsim-picture``: PNG,
or SVG for the explorer's ladder, which is three times faster to make), and also carries a
static PNG of its current state for places where widgets cannot run (nbviewer, GitHub,
HTML/PDF export). See docs/widgets.md.
"""
from .explorer import Explorer, explorer
from .player import Player, player
from .predict import Predict, predict

__all__ = ["player", "Player", "explorer", "Explorer", "predict", "Predict"]
