"""tcpsim: a small, deterministic TCP connection simulator for teaching.

    import tcpsim
    trace = tcpsim.run("scenario.json")      # or a dict, or JSON text
    trace.segments, trace.states, trace.events   # pandas DataFrames
    trace.to_json()

Where things live: ``endpoint.py`` is the state machine (one TCB, sans-IO);
``clock.py`` the event loop; ``link.py`` and ``faults.py`` the wire; ``simulator.py``
puts hosts, applications and the wire together; ``scenario.py`` reads scenarios;
``trace.py`` holds results; ``profiles.py`` has every number of the two profiles.
"""
from .errors import CaptureError, ScenarioError
from .scenario import Scenario, parse_scenario
from .simulator import run
from .trace import Trace

__all__ = ["run", "read_pcap", "parse_scenario", "Scenario", "Trace", "ScenarioError",
           "CaptureError", "plots", "widgets"]
__version__ = "0.1.0"


def __getattr__(name):
    if name in ("plots", "widgets"):  # imported on first use: matplotlib (and ipywidgets)
        import importlib                # only when pictures are wanted
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'tcpsim' has no attribute {name!r}")


def read_pcap(path, stream=None):
    """A real capture as a trace (see docs/captures.md)."""
    from .pcap import read_pcap as _read_pcap
    return _read_pcap(path, stream=stream)
