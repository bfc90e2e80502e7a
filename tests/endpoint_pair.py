"""A pair of endpoints wired back to back, with no simulator: for tests of the machine alone.

h11's and smoltcp's tests drive their state machines directly; these do the same for
``tcpsim.endpoint.Endpoint``. ``Pair`` holds a client endpoint ``a`` and a server endpoint
``b`` (created by ``b_accepts``, as a listener would), a clock ``now`` that the test moves,
and ``deliver`` that hands segments to the other side and returns its answer. Nothing is
lost or delayed unless the test says so.
"""
from __future__ import annotations

from tcpsim.endpoint import Endpoint
from tcpsim.profiles import PROFILES
from tcpsim.scenario import HostOptions

CLIENT_PORT, SERVER_PORT = 40000, 5001


def endpoint(name, peer, local_port, remote_port, *, profile="linux", mss=1460, iss=1000,
             options=None):
    p = PROFILES[profile].with_options(HostOptions(**(options or {})))
    return Endpoint(name, name, peer, local_port, remote_port, p, mss, iss, 0, 0, 0.0)


class Pair:
    def __init__(self, profile="linux", *, a_iss=1000, b_iss=5000, mss=1460, a_options=None,
                 b_options=None):
        self.profile = profile
        self.a = endpoint("client", "server", CLIENT_PORT, SERVER_PORT, profile=profile,
                          mss=mss, iss=a_iss, options=a_options)
        self.b = endpoint("server", "client", SERVER_PORT, CLIENT_PORT, profile=profile,
                          mss=mss, iss=b_iss, options=b_options)
        self.now = 0.0
        self.log = []          # (sender name, segment) in send order

    def other(self, ep):
        return self.b if ep is self.a else self.a

    def sent(self, ep, segments):
        self.log += [(ep.name, s) for s in segments]
        return segments

    def deliver(self, segments, to):
        """Hand ``segments`` to endpoint ``to``; returns what it sends back (not delivered)."""
        out = []
        for seg in segments:
            out += to.on_segment(seg, self.now)
        return self.sent(to, out)

    def exchange(self, segments, to, limit=50):
        """Deliver, then deliver the answers back, until both sides are quiet."""
        for _ in range(limit):
            if not segments:
                return
            answer = self.deliver(segments, to)
            segments, to = answer, self.other(to)
        raise AssertionError("the pair did not go quiet")

    def a_connects(self):
        return self.sent(self.a, self.a.connect(self.now))

    def b_accepts(self, syn):
        """The listener's part: the server endpoint is created from the SYN."""
        return self.sent(self.b, self.b.listen_child(syn, self.now))

    def open(self):
        """A three-way handshake with nothing lost; both sides end ESTABLISHED."""
        (syn,) = self.a_connects()
        synack = self.b_accepts(syn)
        self.exchange(synack, self.a)
        return self
