"""The simulated clock: a heap of timed events, run in time order.

Events at the same instant run in the order they were scheduled, so a scenario and
its seed always give the same run. Nothing here knows about TCP.
"""
from __future__ import annotations

import heapq
import itertools


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
        while heap:
            t, _, handler, args = heap[0]
            if t > self.until_s:
                break
            heapq.heappop(heap)
            self.now = t
            handler(t, *args)
