"""The simulated clock: a heap of timed events, run in time order.

Events at the same instant run in the order they were scheduled, so a scenario and
its seed always give the same run. Nothing here knows about TCP.
"""
from __future__ import annotations

import heapq
import itertools


from .errors import SimulationStuck

MAX_EVENTS = 2_000_000    # far beyond any course scenario (a 100 MB transfer is ~0.3 M)
MAX_EVENTS_AT_ONE_INSTANT = 100_000   # a zero-delay loop: time stands still

__all__ = ["Clock", "SimulationStuck", "MAX_EVENTS", "MAX_EVENTS_AT_ONE_INSTANT"]


class Clock:
    def __init__(self, until_s: float):
        self.now = 0.0
        self.until_s = until_s
        self._heap = []
        self._order = itertools.count()

    def clear(self):
        """Forget the events not run (those after ``until_s``)."""
        self._heap.clear()

    def schedule(self, t: float, handler, *args):
        heapq.heappush(self._heap, (t, next(self._order), handler, args))

    def run(self):
        """Run events in time order until none is left or the next is after ``until_s``."""
        heap = self._heap
        pop = heapq.heappop
        until_s = self.until_s
        budget = MAX_EVENTS
        instant, at_instant = None, 0
        while heap:
            if heap[0][0] > until_s:
                break
            t, _, handler, args = pop(heap)
            budget -= 1
            if t == instant:
                at_instant += 1
                if at_instant > MAX_EVENTS_AT_ONE_INSTANT:
                    raise SimulationStuck(f"more than {MAX_EVENTS_AT_ONE_INSTANT} events at "
                                          f"t={t:.6f} s")
            else:
                instant, at_instant = t, 1
            if budget == 0:
                raise SimulationStuck(f"more than {MAX_EVENTS} events by t={t:.6f} s")
            self.now = t
            handler(t, *args)
