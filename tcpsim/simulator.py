"""Run a scenario: two hosts, their applications, the link and the clock, into a trace.

This is the only place where the pieces meet:

* ``clock.Clock`` orders everything in time;
* each ``HostRuntime`` plays one host: its application (the scenario's actions, reading
  in ``auto`` mode, ``on: eof`` actions), its listener, and its current connection, an
  ``endpoint.Endpoint``;
* ``link.Link`` (with ``faults.Faults``) decides when, and whether, a segment arrives;
* every segment, state change and application result becomes a trace row.

An endpoint is only ever called here, with ``now``; whatever it returns is sent.
"""
from __future__ import annotations

import random
from collections import Counter

from . import isn as isn_mod
from .clock import Clock
from .errors import ScenarioError, SimulationStuck
from .endpoint import Endpoint, reset_for
from .events import (ConnectResult, DataReadable, EndOfFile, ErrorRaised, Established,
                     NewIncarnation, SegmentIgnored, SendDone, StateChanged)
from .faults import Faults, flood_syns
from .gc_pause import garbage_collection_paused
from .keyedhash import secret_from_seed
from .link import Link
from .listener import Listener
from .profiles import PROFILES
from .scenario import Scenario, parse_scenario
from .segment import SEQ_MASK, Segment, canonical_flags
from .state import CLOSED, ESTABLISHED, LISTEN, SYN_RECEIVED, SYN_SENT, TIME_WAIT, State
from .trace import Trace

DEFAULT_UNTIL_S = 300.0            # the contract: at most 300 s unless "until" says otherwise
EPHEMERAL_PORTS = (32768, 60999)   # linux net.ipv4.ip_local_port_range
HANDSHAKING = (SYN_SENT, SYN_RECEIVED)
MAX_CONNECTIONS = 1000             # incarnations per run: far beyond any course scenario
# The trace's "from"/"to" are plain RFC names: looked up here, as str(State.X) costs 7x more
STATE_NAMES = {state: state.value for state in State}



class HostRuntime:
    """One host: its application's view, its listener and its current connection."""

    def __init__(self, spec, index, profile, rng):
        self.name = spec.name
        self.addr = spec.addr or f"10.0.0.{index + 1}"
        self.port = spec.port if spec.port is not None else rng.randint(*EPHEMERAL_PORTS)
        self.fixed_isn = spec.isn
        self.mss_clamp = spec.options.mss
        self.connection = spec.connection   # connoptions.ConnectionOptions
        self.tfo_cookies = {}               # Fast Open cookies this host got: peer -> bytes
        self.profile = profile
        self.listener = None            # a Listener once the application calls listen()
        self.tcb = None                 # the current (latest) connection, if any
        self.read_mode = "auto"
        self.eof_reported = False
        self.eof_actions = []
        self.waiting = []               # calls made while connect()/accept()/send() blocks
        self.readable = False           # data, EOF or an error the application has not read
        self.delivered = bytearray()
        self.first_isn = None

    def listening(self):
        return self.listener is not None and self.listener.state == LISTEN


class Simulation:
    def __init__(self, scenario: Scenario):
        self.sc = scenario
        rng = random.Random(f"tcpsim:{scenario.seed}")
        self.secret = rng.getrandbits(128).to_bytes(16, "big")
        self.clock_offset_ns = rng.getrandbits(52)
        base = PROFILES[scenario.profile]
        self.hosts = {}
        for i, spec in enumerate(scenario.hosts):
            self.hosts[spec.name] = HostRuntime(spec, i, base.with_options(spec.options), rng)
        names = list(self.hosts)
        self.peer_of = {names[0]: names[1], names[1]: names[0]}
        self.faults = Faults(scenario.faults, scenario.seed)
        self.link = Link(scenario.delay_s, scenario.mtu, self.faults)
        self.clock = Clock(scenario.until if scenario.until is not None else DEFAULT_UNTIL_S)
        self.segments = []   # rows, before relative numbers are filled in
        self.states = []
        self.events = []
        self.ignored = []    # segments that changed nothing, with the reason (docs/trace.md)
        self.tcb_rows = []   # a snapshot of the TCB after every endpoint call (Trace.tcb)
        self.isns = {}       # (conn, host) -> ISS, for relative numbering
        self.next_conn = 0
        self.scheduled = {}  # endpoint -> deadline already on the clock
        self.eof_fired = Counter()  # on-eof action -> times it ran

    # ------------------------------------------------------------------ set-up
    def run(self) -> Trace:
        for action in self.sc.actions:
            if action.on == "eof":
                self.hosts[action.host].eof_actions.append(action)
            else:
                self.clock.schedule(action.at, self._do_action, action)
        for fault in self.faults.injections:
            self.clock.schedule(fault.at, self._inject, fault)
        for fault in self.faults.floods:
            for syn in flood_syns(fault.flood, self.sc.seed, fault.index):
                self.clock.schedule(syn.t, self._spoofed_syn, fault.flood, syn)
        try:
            self.clock.run()
        except SimulationStuck as stuck:
            raise SimulationStuck(self._why_stuck(str(stuck))) from None
        finally:
            # Events left after ``until`` hold bound methods of this Simulation: a reference
            # cycle that only the garbage collector could free (and walk, every run).
            self.clock.clear()
        return self._trace()

    def _why_stuck(self, what):
        """One line for a run that does not settle: what the scenario did, or what repeated."""
        fired = self._eof_actions_fired()
        if fired:
            return (f"the run does not settle ({what}): {fired}. An on-eof action runs at "
                    "every end of file its host reads, on each new connection too")
        last = Counter(f"{seg.src}->{seg.dst} [{seg.flags or '-'}]" for _, seg, _ in self.segments[-1000:])
        shown = ", ".join(f"{kind} x{n}" for kind, n in last.most_common(3)) or "no segments"
        return (f"the run does not settle ({what}); the last segments: {shown}. This is a tcpsim "
                "bug: please report the scenario")

    def _eof_actions_fired(self):
        """``actions[4] (connect) ran 500 times, ...`` for on-eof actions that ran 10+ times."""
        counts = [(a, n) for a, n in self.eof_fired.items() if n >= 10]
        return ", ".join(f"actions[{a.index}] (on eof: {a.do}) ran {n} times" for a, n in counts)

    def _next_conn(self, capped=True):
        """A new connection incarnation number; at most MAX_CONNECTIONS per run (not counting
        the SYN-queue children of a flood: ``capped=False``)."""
        conn = self.next_conn
        if capped and conn >= MAX_CONNECTIONS:
            fired = self._eof_actions_fired()
            raise ScenarioError(f"the scenario opens more than {MAX_CONNECTIONS} connections" +
                                (f": {fired}. An on-eof action runs at every end of file its "
                                 "host reads, on each new connection too, so one that connects "
                                 "again reconnects for ever" if fired else ""))
        self.next_conn += 1
        return conn

    def _new_endpoint(self, host, now, conn, remote_port, iss=None, remote=None, keep=True):
        """A new connection of ``host`` to the other host (or to ``remote``, a spoofed
        address). ``iss``: a given ISS (a SYN cookie); ``keep=False``: an endpoint that is
        thrown away after building one segment (not numbered, not in the trace's ISNs)."""
        if remote is None or remote in self.hosts:
            peer = self.hosts[self.peer_of[host.name]]
            peer_name, peer_addr = peer.name, peer.addr
        else:
            peer_name = peer_addr = remote
        p = host.profile
        mss = self.link.mss
        if host.mss_clamp is not None:  # TCP_MAXSEG
            mss = min(mss, host.mss_clamp)
        four_tuple = (host.addr, host.port, peer_addr, remote_port)
        if iss is not None:
            pass
        elif host.fixed_isn is not None and host.first_isn is None:
            iss = host.fixed_isn
        else:
            iss = isn_mod.STRATEGIES[p.isn_strategy](now, four_tuple, self.secret, self.clock_offset_ns)
        if keep and host.first_isn is None:
            host.first_isn = iss
        tcb = Endpoint(host.name, host.name, peer_name, host.port, remote_port, p, mss, iss,
                       isn_mod.ts_offset(p.name, four_tuple, self.secret), conn, now)
        tcb.keepalive = host.connection.keepalive     # SO_KEEPALIVE (accepted sockets inherit it)
        tcb.fastopen, tcb.tfo_cache = host.connection.fastopen, host.tfo_cookies
        if keep:
            self.isns[(conn, host.name)] = iss
        return tcb

    # ----------------------------------------------------------- application
    def _do_action(self, now, action):
        host = self.hosts[action.host]
        tcb = host.tcb
        do = action.do
        out = []
        if (tcb is not None and (tcb.state in HANDSHAKING or tcb.send_blocked)
                and do not in ("listen", "abort") and not (do == "send" and tcb.tfo_deferred)) or \
                (tcb is None and host.listening() and do in ("send", "read", "shutdown")):
            # A blocking application: connect() and accept() return only when the
            # handshake is over, send() when its last byte is in the send buffer, so the
            # calls after them wait until then.
            host.waiting.append(action)
            return
        if do == "listen":
            if host.listener is None:
                host.listener = Listener(
                    host.name, host.port, options=host.connection, addr=host.addr,
                    cookie_secret=secret_from_seed(self.sc.seed, f"syncookies:{host.name}"),
                    tfo_secret=secret_from_seed(self.sc.seed, f"tfo:{host.name}"),
                    addr_of=self._addr_of)
            host.listener.listen(now)
            self._drain_listener(host)
            self._event(now, host.name, "listen", "ok", None)
        elif do == "connect":
            if tcb is not None and tcb.state == TIME_WAIT:
                tcb.give_up_time_wait(now)
                self._drain(tcb, now)
                tcb = None
            if tcb is not None and tcb.state not in (CLOSED, LISTEN):
                self._event(now, host.name, "connect", "EISCONN", tcb.conn)
                return
            peer = self.hosts[action.to]
            if peer.tcb is not None and peer.tcb.state == SYN_SENT and peer.tcb.remote_port == host.port:
                conn = peer.tcb.conn  # a simultaneous open: one connection, two active opens
            else:
                conn = self._next_conn()
            tcb = host.tcb = self._new_endpoint(host, now, conn, peer.port)
            host.eof_reported = False
            out = tcb.connect(now)
        elif tcb is None or (tcb.state == CLOSED and do != "read"):
            if do == "close" and host.listening():
                host.listener.close(now)
                self._drain_listener(host)
                self._event(now, host.name, "close", "ok", None)
            else:
                self._event(now, host.name, do, "EPIPE" if do == "send" and tcb else "ENOTCONN",
                            tcb.conn if tcb else None)
            return
        elif do == "send":
            result, out = tcb.send(action.data, now)
            if result is not None:  # else blocked: the endpoint's ("send", t, n) note says when
                self._event(now, host.name, "send", result, tcb.conn)
        elif do == "read":
            if action.read_mode is not None:
                host.read_mode = action.read_mode
                host.readable = action.read_mode == "auto"   # read what waits, at once
            else:
                self._app_read(host, now, action.read_bytes)
        elif do == "shutdown":
            out = tcb.shutdown(now)
            self._event(now, host.name, "shutdown", "ok", tcb.conn)
        elif do == "close":
            out = tcb.close(now)
            self._event(now, host.name, "close", "ok", tcb.conn)
        elif do == "abort":
            out = tcb.abort(now)
            self._event(now, host.name, "abort", "ok", tcb.conn)
        self._after(host, tcb, out, now)

    def _app_read(self, host, now, max_bytes):
        """One read() by the application: data, EOF (0) or an error."""
        tcb = host.tcb
        if tcb is None:
            return
        result, out = tcb.read(max_bytes, now)
        if isinstance(result, (bytes, bytearray)):
            if result:
                host.delivered += result
                self._event(now, host.name, "read", len(result), tcb.conn)
            elif tcb.at_eof() and not host.eof_reported:
                host.eof_reported = True
                self._event(now, host.name, "read", 0, tcb.conn)
                for action in host.eof_actions:
                    self.eof_fired[action] += 1
                    self.clock.schedule(now, self._do_action, action)
        else:
            self._event(now, host.name, "read", result, tcb.conn)
        self._send(out, now)

    # --------------------------------------------------------------- network
    def _addr_of(self, name):
        """A host's address; a spoofed source is named by its address."""
        host = self.hosts.get(name)
        return host.addr if host is not None else name

    def _arrive(self, now, seg):
        host = self.hosts[seg.dst]
        tcb = host.tcb
        if tcb is not None and tcb.state not in (CLOSED, LISTEN) and \
                seg.dport == tcb.local_port and seg.sport == tcb.remote_port and \
                seg.src == tcb.peer:
            if tcb.passive and tcb.state == SYN_RECEIVED and host.listener is not None:
                instead = host.listener.final_ack(tcb, seg, now)  # a full accept queue
                if instead is not None:
                    self._drain_listener(host)
                    self._after(host, tcb, instead, now)
                    return
            out = tcb.on_segment(seg, now)
            events = tcb.events   # a new incarnation's SYN ends the call (RFC 6191)
            reopen = bool(events) and type(events[-1]) is NewIncarnation
            self._after(host, tcb, out, now)
            if not reopen:
                return
        if host.listening() and seg.dport == host.port:
            self._listener_segment(host, seg, now)
            return
        rst = reset_for(seg, seg.conn)
        self._ignored(now, host.name, seg, f"no socket for port {seg.dport} (RFC 9293 §3.10.7.1): "
                      + ("RST sent" if rst else "an RST is never answered"))
        if rst is not None:
            self._send([rst], now)

    def _listener_segment(self, host, seg, now):
        """A segment for the listening socket: the Listener decides (RFC 9293 §3.10.7.2)."""

        def make_child(syn, iss=None, keep=True):
            conn = syn.conn
            if not keep:       # a SYN cookie's SYN-ACK: no connection is made
                return self._new_endpoint(host, now, conn, syn.sport, iss, syn.src, keep=False)
            if spoofed:
                conn = self._next_conn(capped=False)
            else:
                sender = self.hosts[syn.src].tcb
                live = sender is not None and sender.conn == conn and sender.state == SYN_SENT
                if conn is None or ((conn, host.name) in self.isns and not live):
                    conn = self._next_conn()  # an old duplicate SYN opens a new incarnation
            return self._new_endpoint(host, now, conn, syn.sport, iss, syn.src)

        spoofed = seg.src not in self.hosts
        child, out = host.listener.on_segment(seg, now, make_child)
        self._drain_listener(host)
        if child is None:
            self._send(out, now)
            return
        if spoofed:     # a flood's SYN: its child waits in the SYN queue, unseen by the app
            self._after(host, child, out, now)
            return
        host.tcb = child
        host.eof_reported = False
        self._after(host, child, out, now)

    def _drain_listener(self, host):
        listener = host.listener
        for event in listener.events:
            if type(event) is StateChanged:
                self._state_row(event.t, host.name, event.socket, event.old, event.new,
                                event.cause, None)
            else:   # SegmentIgnored
                self._ignored(event.t, host.name, event.segment, event.reason)
        listener.events.clear()

    def _inject(self, now, fault):
        src = self.hosts[fault.match.from_host]
        dst = self.hosts[self.peer_of[src.name]]
        seg = Segment(src.name, dst.name, src.port, dst.port, fault.seq & SEQ_MASK, fault.ack & SEQ_MASK,
                      canonical_flags(fault.flags), fault.win if fault.win is not None else 65535,
                      bytes(fault.bytes or 0), {}, False, None, injected=True)
        self._send([seg], now)

    def _spoofed_syn(self, now, flood, syn):
        """One SYN of a flood (faults.flood_syns): from a spoofed address that never answers."""
        dst = self.hosts[flood.to]
        port = flood.port if flood.port is not None else dst.port
        seg = Segment(syn.addr, dst.name, syn.port, port, syn.isn, 0, "S", 65535, b"", {},
                      False, None, injected=True)
        self._send([seg], now)

    def _timer(self, now, tcb):
        if self.scheduled.get(tcb) != now:
            return
        del self.scheduled[tcb]
        out = tcb.on_timer(now)
        self._after(self.hosts[tcb.name], tcb, out, now)

    # ------------------------------------------------------------- bookkeeping
    def _after(self, host, tcb, out, now):
        """After any endpoint call: send, record, let the application read, re-arm timers."""
        if out:
            self._send(out, now)
        if tcb is None:
            return
        if tcb.events and self._drain(tcb, now) and host.tcb is tcb:
            host.readable = True
        if host.readable and host.tcb is tcb and host.read_mode == "auto" and not tcb.app_closed:
            # An application in auto mode reads whatever becomes readable, at once.
            host.readable = False
            if tcb.rcv_buf or tcb.error:
                self._app_read(host, now, None)
            if tcb.at_eof() and not host.eof_reported:
                self._app_read(host, now, None)
            self._drain(tcb, now)
        self.tcb_rows.append(tcb.snapshot_row(now))
        timers = tcb.timers      # tcb.next_deadline(), written out: this runs after every call
        deadline = min(timers.values()) if timers and tcb.state != CLOSED else None
        if deadline is not None and self.scheduled.get(tcb) != deadline:
            self.scheduled[tcb] = deadline
            self.clock.schedule(deadline, self._timer, tcb)
        elif deadline is None:
            self.scheduled.pop(tcb, None)

    def _drain(self, tcb, now):
        """Turn the endpoint's events into trace rows. True if something became readable
        (data, EOF or an error) for the application."""
        events = tcb.events
        if not events:
            return False
        readable = False
        for event in events:
            kind = type(event)
            if kind is DataReadable:            # the most frequent, first
                readable = True
            elif kind is StateChanged:
                self._state_row(event.t, tcb.name, event.socket, event.old, event.new,
                                event.cause, tcb.conn)
                if tcb.passive and event.old == SYN_RECEIVED and event.new != ESTABLISHED:
                    listener = self.hosts[tcb.name].listener
                    if listener is not None:
                        listener.child_gone(tcb)     # reset or timed out before accept()
            elif kind is EndOfFile or kind is ErrorRaised:
                readable = True
            elif kind is ConnectResult:
                self._event(event.t, tcb.name, "connect", event.result, tcb.conn)
            elif kind is SendDone:
                self._event(event.t, tcb.name, "send", event.result, tcb.conn)
            elif kind is Established:
                listener = self.hosts[tcb.name].listener
                if tcb.passive and listener is not None:
                    listener.child_established(tcb)
                    listener.accept()      # the application accepts at once
                    self._event(event.t, tcb.name, "accept", "ok", tcb.conn)
            elif kind is SegmentIgnored:
                self._ignored(event.t, tcb.name, event.segment, event.reason)
            elif kind is NewIncarnation:
                pass   # _arrive hands the SYN to the listener
            else:
                raise TypeError(f"unknown endpoint event {event!r}")
        events.clear()
        host = self.hosts[tcb.name]
        if host.waiting and tcb.state not in HANDSHAKING and not tcb.send_blocked and \
                host.tcb is tcb:
            for action in host.waiting:
                self.clock.schedule(now, self._do_action, action)
            host.waiting.clear()
        return readable

    def _send(self, segs, now):
        for seg in segs:
            # a segment to a spoofed address reaches no host of the scenario: never answered
            arrivals = self.link.transmit(seg, now) if seg.dst in self.hosts else []
            seg.row = len(self.segments)
            self.segments.append((now, seg, arrivals))
            for arrival in arrivals:
                self.clock.schedule(arrival, self._arrive, seg)

    def _state_row(self, t, host, socket, old, new, cause, conn):
        self.states.append({"t": t, "host": host, "socket": socket, "from": STATE_NAMES[old], "to": STATE_NAMES[new],
                            "cause": cause, "conn": conn})

    def _ignored(self, t, host, seg, reason):
        self.ignored.append({"t": t, "host": host, "segment": seg.row, "reason": reason})

    def _event(self, t, host, call, result, conn):
        self.events.append({"t": t, "host": host, "call": call, "result": result, "conn": conn})

    # ------------------------------------------------------------------- trace
    def _trace(self) -> Trace:
        latest_conn = max((c for c, _ in self.isns), default=None)
        bases = dict(self.isns)  # a side with no ISN of its own: its first seq, as Wireshark
        rows = []
        for i, (t, seg, arrivals) in enumerate(self.segments):
            conn = seg.conn if seg.conn is not None else latest_conn
            if seg.bases is not None:  # from a TCB: relative to its own ISS and IRS
                src_isn, dst_isn = seg.bases
            else:                      # a RST for no connection, or an injected segment
                src_isn = bases.setdefault((conn, seg.src), seg.seq)
                dst_isn = bases.get((conn, seg.dst))
            has_ack = "A" in seg.flags
            row = {"i": i, "t": t, "src": seg.src, "dst": seg.dst, "flags": seg.flags,
                   "seq": seg.seq, "ack": seg.ack,
                   "rel_seq": (seg.seq - src_isn) & SEQ_MASK if src_isn is not None else None,
                   "rel_ack": (seg.ack - dst_isn) & SEQ_MASK if has_ack and dst_isn is not None else None,
                   "len": len(seg.data), "win": seg.win, "options": seg.options,
                   "retransmission": seg.retransmission, "dropped": not arrivals,
                   "arrival": arrivals[0] if arrivals else None, "conn": seg.conn}
            if len(arrivals) > 1:
                row["copies"] = arrivals[1:]
            if seg.injected:
                row["injected"] = True
                if seg.src not in self.hosts:      # a flood's spoofed source: its own port
                    row["sport"], row["dport"] = seg.sport, seg.dport
            elif seg.dst not in self.hosts:        # an answer to a spoofed source
                row["sport"], row["dport"] = seg.sport, seg.dport
            rows.append(row)
        hosts = {h.name: {"port": h.port, "isn": h.first_isn, "addr": h.addr}
                 for h in self.hosts.values()}
        doc = {"tcpsim": 1, "name": self.sc.name, "profile": self.sc.profile, "hosts": hosts,
               "segments": rows, "states": self.states, "events": self.events,
               "ignored": self.ignored}
        return Trace(doc, {h.name: bytes(h.delivered) for h in self.hosts.values()}, self.tcb_rows)


def run(scenario) -> Trace:
    """Simulate a scenario (a dict, a JSON string, a path, or a parsed ``Scenario``)."""
    if not isinstance(scenario, Scenario):
        scenario = parse_scenario(scenario)
    with garbage_collection_paused():      # a third of the run time otherwise (gc_pause.py)
        return Simulation(scenario).run()
