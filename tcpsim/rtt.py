"""The round-trip time estimator and retransmission timeout of RFC 6298, and the back-off.

``RttEstimator`` keeps SRTT, RTTVAR and RTO (RFC 6298 §2) from the RTT samples the endpoint
takes (one timed segment at a time, never a retransmitted one: Karn's algorithm, §3).
``backed_off(base, n, max_s)`` is the exponential back-off of §5.5, written once for every
timer that backs off (retransmission, SYN, SYN-ACK, persist). smoltcp's ``RttEstimator``
is the model.
"""
from __future__ import annotations


def backed_off(base_s, n, max_s):
    """RFC 6298 §5.5: the interval doubles with each of ``n`` timeouts, up to ``max_s``."""
    return min(base_s * 2 ** n, max_s)


class RttEstimator:
    __slots__ = ("srtt", "rttvar", "rto", "min_rto_s", "max_rto_s", "var_floor")

    def __init__(self, profile):
        self.srtt = None                    # seconds; None until the first sample
        self.rttvar = None
        self.rto = profile.initial_rto_s    # RFC 6298 §2.1
        self.min_rto_s = profile.min_rto_s
        self.max_rto_s = profile.max_rto_s
        self.var_floor = profile.rto_var_floor

    def sample(self, r):
        """One RTT measurement, seconds (RFC 6298 §2.2-2.3). Linux floors 4·RTTVAR at
        tcp_rto_min instead of using the clock granularity G (tcp_set_rto())."""
        if self.srtt is None:
            self.srtt, self.rttvar = r, r / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - r)
            self.srtt = 0.875 * self.srtt + 0.125 * r
        if self.var_floor:
            rto = self.srtt + max(4 * self.rttvar, self.min_rto_s)
        else:
            rto = max(self.min_rto_s, self.srtt + max(0.001, 4 * self.rttvar))  # §2.4: G = 1 ms
        self.rto = min(rto, self.max_rto_s)                                       # §2.5
