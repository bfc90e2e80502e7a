"""The simulated clock: a heap of timed events, run in time order.

Events at the same instant run in the order they were scheduled, so a scenario and
its seed always give the same run. Nothing here knows about TCP.
"""
from __future__ import annotations

import heapq
import itertools


MAX_EVENTS = 2_000_000    # far beyond any course scenario (a 100 MB transfer is ~0.3 M)


class SimulationStuck(RuntimeError):
    """The run did not settle: a bug in the simulator, never the scenario's fault."""


class Clock:
    def __init__(self, until_s: float):
        self.now = 0.0
        self.until_s = until_s
        self._heap = []
        self._order = itertools.count()

    def schedule(self, t: float, handler, *args):
        heapq.heappush(self._heap, (t, next(self._order), handler, args))

    def run(self):
        """Run events in time order until none is left or the next is after ``until_s``."""
        heap = self._heap
        budget = MAX_EVENTS
        while heap:
            t, _, handler, args = heap[0]
            if t > self.until_s:
                break
            heapq.heappop(heap)
            budget -= 1
            if budget == 0:
                raise SimulationStuck(f"more than {MAX_EVENTS} events by t={t:.6f} s: "
                                      "please report this scenario as a tcpsim bug")
            self.now = t
            handler(t, *args)
