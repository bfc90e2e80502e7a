"""A finished run leaves no reference cycles: everything it made is freed by reference
counting when the trace is dropped. A cycle (once: Simulation -> host -> listener -> a bound
method of the Simulation) leaves each short run's objects to the cyclic garbage collector,
which made 10 000 short connections a fifth slower (benchmarks/bench_core.py)."""
import gc
import sys
from pathlib import Path

import pytest

import tcpsim

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.bench_core import short_scenario  # noqa: E402  the benchmark's own run

SHORT = short_scenario(3)


@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_a_short_run_with_a_listener_leaves_no_reference_cycle(profile):
    tcpsim.run(dict(SHORT, profile=profile))       # imports and caches settle first
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        trace = tcpsim.run(dict(SHORT, profile=profile))
        assert len(trace.doc["segments"]) > 0
        del trace
        gc.collect()
        left = sorted({type(o).__name__ for o in gc.garbage})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
    assert left == [], f"objects in reference cycles after a run: {left}"
