"""A finished run leaves no reference cycles: everything it made is freed by reference
counting when the trace is dropped. A cycle (once: Simulation -> host -> listener -> a bound
method of the Simulation) leaves each short run's objects to the cyclic garbage collector,
which made 10 000 short connections a fifth slower (benchmarks/bench_core.py)."""
import gc

import pytest

import tcpsim

SHORT = {"profile": "linux", "seed": 3,
         "hosts": {"client": {"port": None}, "server": {"port": 5001}},
         "actions": [{"at": 0, "host": "server", "do": "listen"},
                     {"at": 0, "host": "client", "do": "connect", "to": "server"},
                     {"at": 0.001, "host": "client", "do": "send", "bytes": 100},
                     {"at": 0.002, "host": "server", "do": "send", "bytes": 100},
                     {"at": 0.003, "host": "client", "do": "close"},
                     {"on": "eof", "host": "server", "do": "close"}]}


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
