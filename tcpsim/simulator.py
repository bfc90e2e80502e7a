"""Run a scenario: two hosts, their applications, the link and the clock, into a trace.

This is the only place where the pieces meet:

* ``clock.Clock`` orders everything in time;
* each ``HostRuntime`` plays one host: its application (the scenario's actions, reading
  in ``auto`` mode, ``on: eof`` and ``after`` actions), its listener, and its connections,
  ``endpoint.Endpoint`` objects keyed by their 4-tuple, with its ephemeral ports
  (``ports.EphemeralPorts``);
* ``link.Link`` (with ``faults.Faults``) decides when, and whether, a segment arrives;
* every segment, state change and application result becomes a trace row.

An endpoint is only ever called here, with ``now``; whatever it returns is sent.

Many connections per host (the contract's "Additions for the rest of the course"): an
arriving segment goes to the connection with its 4-tuple, else to the listener on its
port, else it is answered as RFC 9293 §3.10.7.1 says (an RST, unless it is one). A host
numbers its connections 0, 1, 2, ... in the order it creates them (``conn``); the
application's ``send``/``read``/``shutdown``/``close``/``abort`` act on its *newest*
connection (what its last ``connect`` or ``accept`` returned), ``on: eof`` and ``after``
actions on the connection they belong to. Connections stay in the table while they
linger (TIME-WAIT, FIN-WAIT-2, ...) and leave it when they reach CLOSED.
"""
from __future__ import annotations

import random
from collections import Counter

from . import isn as isn_mod
from .clock import Clock
from .keyedhash import secret_from_seed
from .ports import EphemeralPorts, PortsExhausted
from .timewait import (TW_ISN_GAP, TimeWait, bind_conflict, connect_may_take_over,
                       is_loopback, takeover_start)
from .errors import ScenarioError, SimulationStuck
from .endpoint import Endpoint, reset_for
from .events import (ConnectResult, DataReadable, EndOfFile, ErrorRaised, Established,
                     NewIncarnation, SegmentIgnored, SendDone, StateChanged)
from .faults import Faults, flood_syns
from .gc_pause import garbage_collection_paused
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
# Connections a host may create beyond one per timed ``connect`` action: far beyond any
# course scenario, and what stops an on-eof action that reconnects for ever.
MAX_CONNECTIONS = 1000
UNLIMITED = float("inf")
# The trace's "from"/"to" are plain RFC names: looked up here, as str(State.X) costs 7x more
STATE_NAMES = {state: state.value for state in State}



def _ms(t_s):
    """The millisecond clock (tcp_clock_ms()) at ``t_s`` seconds; 1.001 s is 1001 ms, not
    the 1000 that int(1.001 * 1000) gives."""
    return int(t_s * 1000 + 1e-6)


class HostRuntime:
    """One host: its application's view, its listener and its connections."""

    def __init__(self, spec, index, profile, rng, seed):
        self.name = spec.name
        self.addr = spec.addr or f"10.0.0.{index + 1}"
        # "port": null: every connect() takes an ephemeral port (ports.py); the port drawn
        # here is only for a listen() or an injected segment before the first connect.
        self.ephemeral = spec.port is None
        self.port = spec.port if spec.port is not None else rng.randint(*EPHEMERAL_PORTS)
        self.first_port = None          # the port of its first connection (trace "hosts")
        self.fixed_isn = spec.isn
        self.mss_clamp = spec.options.mss
        self.tfo_cookies = {}               # Fast Open cookies this host got: peer -> bytes
        self.profile = profile
        self.options = spec.conn_options
        self.listener = None            # a Listener once the application calls listen()
        self.tcb = None                 # the newest connection: its last connect/accept
        self.conns = {}                 # (local port, remote port) -> Endpoint, not CLOSED
        self.next_conn = 0              # conn ids: 0, 1, 2, ... in creation order
        self.opened = 0                 # connections counted against max_conns
        self.max_conns = MAX_CONNECTIONS
        self.ports = None               # EphemeralPorts, made at the first ephemeral connect
        self.held = {}                  # (remote addr, remote port) -> ports.HeldPorts
        self.seed = seed
        self.read_mode = "auto"
        self.eof_seen = set()           # conn ids whose end of file the application read
        self.eof_actions = []
        self.after_actions = {"connect": [], "accept": []}
        self.waiting = []               # (action, target, blocker): calls made while blocked
        self.unread = {}                # connections with data, EOF or an error not yet read
        self.tw_since = {}              # TIME-WAIT connection -> when it entered (or restarted)
        self.reusable = set()           # TIME-WAIT connections tw_reuse lets connect() take over
        self.tw_reuse = None            # options.tw_reuse as it applies to this host's addresses
        self.delivered = bytearray()
        self.first_isn = None
        self.down_until = None          # a crashed host is off until then ("down")

    def listening(self):
        return self.listener is not None and self.listener.state == LISTEN

    def held_ports(self, remote_port):
        """The ports that connections to the peer's ``remote_port`` hold (ports.HeldPorts):
        the peer has one address, so the destination is its port."""
        held = self.held.get(remote_port)
        if held is None:
            if self.ports is None:
                self.ports = EphemeralPorts(secret_from_seed(self.seed, "ports"),
                                            self.options.port_range)
            held = self.held[remote_port] = self.ports.held_ports()
            for local, remote in self.conns:
                if remote == remote_port and held.lo <= local <= held.hi:
                    held.hold(local)
            if self.listener is not None and held.lo <= self.port <= held.hi:
                held.hold(self.port)      # a bind() holds its port (tb->fastreuse >= 0)
        return held

    def hold(self, tcb):
        """A new connection holds its local port for its destination (ports.HeldPorts). It
        is in ``conns`` already: a newer incarnation replaces the older holder."""
        held = self.held.get(tcb.remote_port)
        if held is not None and held.lo <= tcb.local_port <= held.hi:
            held.hold(tcb.local_port)

    def drop_conn(self, tcb):
        """A connection reached CLOSED: its 4-tuple is free again."""
        key = (tcb.local_port, tcb.remote_port)
        if self.conns.get(key) is tcb:
            del self.conns[key]
            held = self.held.get(tcb.remote_port) if self.held else None
            if held is not None and held.lo <= tcb.local_port <= held.hi and not (
                    self.listener is not None and tcb.local_port == self.port):
                held.release(tcb.local_port)
        self.unread.pop(tcb, None)
        if self.tw_since:
            self.tw_since.pop(tcb, None)
            self.reusable.discard(tcb)


class Simulation:
    def __init__(self, scenario: Scenario):
        self.sc = scenario
        rng = random.Random(f"tcpsim:{scenario.seed}")
        self.secret = rng.getrandbits(128).to_bytes(16, "big")
        self.clock_offset_ns = rng.getrandbits(52)
        base = PROFILES[scenario.profile]
        self.hosts = {}
        for i, spec in enumerate(scenario.hosts):
            self.hosts[spec.name] = HostRuntime(spec, i, base.with_options(spec.options), rng,
                                                scenario.seed)
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
        self.scheduled = {}  # endpoint -> deadline already on the clock
        self.eof_fired = Counter()  # on-eof action -> times it ran

    # ------------------------------------------------------------------ set-up
    def run(self) -> Trace:
        timed_connects = 0
        for action in self.sc.actions:
            if action.on == "eof":
                self.hosts[action.host].eof_actions.append(action)
            elif action.after is not None:
                self.hosts[action.host].after_actions[action.after].append(action)
            else:
                timed_connects += action.do == "connect"
                self.clock.schedule(action.at, self._do_action, action, None)
        chained = any(a.after is not None and a.do == "connect" for a in self.sc.actions)
        for host in self.hosts.values():
            # each timed connect may open one connection (on both hosts); a chain of
            # "after": "connect" connects ends when the ports or the clock's budget run out
            host.max_conns = UNLIMITED if chained else max(MAX_CONNECTIONS, timed_connects)
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

    def _next_conn(self, host, capped=True):
        """The host's next connection id (0, 1, 2, ... in creation order), within its limit
        (the SYN-queue children of a flood, ``capped=False``, do not count against it)."""
        conn = host.next_conn
        if capped and host.opened >= host.max_conns:
            fired = self._eof_actions_fired()
            raise ScenarioError(f"the scenario opens more than {host.max_conns} connections "
                                f"on {host.name}" +
                                (f": {fired}. An on-eof action runs at every end of file its "
                                 "host reads, on each new connection too, so one that connects "
                                 "again reconnects for ever" if fired else ""))
        host.next_conn += 1
        host.opened += capped
        return conn

    def _new_endpoint(self, host, now, conn, local_port, remote_port, iss=None, remote=None,
                      keep=True):
        """A new connection of ``host`` to the other host (or to ``remote``, a spoofed
        address). ``iss``: a given ISS (a SYN cookie, or a TIME-WAIT 4-tuple taken over:
        timewait.py); ``keep=False``: an endpoint that is thrown away after building one
        segment (not numbered, not in the trace's ISNs, not a connection of the host)."""
        if remote is None or remote in self.hosts:
            peer = self.hosts[self.peer_of[host.name]]
            peer_name, peer_addr = peer.name, peer.addr
        else:
            peer_name = peer_addr = remote
        p = host.profile
        mss = self.link.mss
        if host.mss_clamp is not None:  # TCP_MAXSEG
            mss = min(mss, host.mss_clamp)
        four_tuple = (host.addr, local_port, peer_addr, remote_port)
        if iss is not None:
            pass
        elif host.fixed_isn is not None and host.first_isn is None:
            iss = host.fixed_isn
        else:
            iss = isn_mod.STRATEGIES[p.isn_strategy](now, four_tuple, self.secret, self.clock_offset_ns)
        if keep and host.first_isn is None:
            host.first_isn = iss
        if keep and host.first_port is None:
            host.first_port = local_port
        tcb = Endpoint(host.name, host.name, peer_name, local_port, remote_port, p, mss, iss,
                       isn_mod.ts_offset(p.name, four_tuple, self.secret), conn, now)
        options = host.options
        tcb.keepalive = options.keepalive     # SO_KEEPALIVE (accepted sockets inherit it)
        tcb.fastopen, tcb.tfo_cache = options.fastopen, host.tfo_cookies
        if options.rfc1337:
            tcb.rfc1337 = True
        if keep:
            self.isns[(conn, host.name)] = iss
            if peer_name in self.hosts:   # a spoofed peer never answers: nothing to match
                host.conns[(local_port, remote_port)] = tcb     # HostRuntime.add_conn, inlined
                if host.held:
                    host.hold(tcb)
        return tcb

    # ----------------------------------------------------------- application
    def _do_action(self, now, action, target):
        """One call of the host's application. ``target``: the connection an ``on: eof`` or
        ``after`` action belongs to; None for the newest connection."""
        host = self.hosts[action.host]
        do = action.do
        if do == "crash":
            self._crash(host, action.down, now)
            return
        tcb = host.tcb if target is None else target
        out = []
        blocker = host.tcb if target is None or do == "connect" else target
        if blocker is not None and (blocker.state in HANDSHAKING or blocker.send_blocked) \
                and do not in ("listen", "abort") and not (do == "send" and blocker.tfo_deferred):
            # A blocking application: connect() and accept() return only when the
            # handshake is over, send() when its last byte is in the send buffer, so the
            # calls after them wait until then.
            host.waiting.append((action, target, blocker))
            return
        if tcb is None and host.listening() and (do in ("send", "read", "shutdown") or (
                host.listener.syn_queue and do not in ("listen", "abort"))):
            host.waiting.append((action, target, None))   # until accept() returns
            return
        if do == "listen":
            if not host.listening() and self._bind_conflict(host):
                self._event(now, host.name, "listen", "EADDRINUSE", None)
                return
            if host.listener is None:
                host.listener = Listener(
                    host.name, host.port, options=host.options, addr=host.addr,
                    cookie_secret=secret_from_seed(self.sc.seed, f"syncookies:{host.name}"),
                    tfo_secret=secret_from_seed(self.sc.seed, f"tfo:{host.name}"),
                    addr_of=self._address_lookup())
                for held in host.held.values():
                    if held.lo <= host.port <= held.hi:
                        held.hold(host.port)
            host.listener.listen(now)
            self._drain_listener(host)
            self._event(now, host.name, "listen", "ok", None)
        elif do == "connect":
            tcb = self._connect(host, action, now)
            if tcb is None:
                return
            out = tcb.connect(now)
        elif do == "close" and action.listener:
            if host.listener is not None:
                host.listener.close(now)
                self._drain_listener(host)
            self._event(now, host.name, "close", "ok" if host.listener else "ENOTCONN", None)
            return
        elif tcb is None or (tcb.state == CLOSED and do != "read"):
            if do == "close" and host.listening() and target is None:
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
                if action.read_mode == "auto":      # read what waits, at once
                    host.unread[tcb] = None
            else:
                self._app_read(host, tcb, now, action.read_bytes)
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

    def _crash(self, host, down_s, now):
        """The host crashes (scenario action ``crash``): every connection and the listener
        vanish at once, sending nothing (Endpoint.crash), and so does the application with
        what it was waiting for. For ``down_s`` seconds segments that reach the host are
        lost unanswered; after that it answers as any host with no connection does, with an
        RST (RFC 9293 §3.5.1, Figures 9 and 10). Its later actions are the restarted host's."""
        tcbs = dict.fromkeys(host.conns.values())
        listener = host.listener
        if listener is not None:
            tcbs.update(dict.fromkeys(listener.syn_queue + listener.accept_queue))
        for tcb in tcbs:
            tcb.crash(now)
            self._drain(tcb, now)
            host.drop_conn(tcb)
            self.scheduled.pop(tcb, None)      # its timers are gone: _timer ignores them
        if listener is not None:
            listener.crash(now)
            self._drain_listener(host)
            host.listener = None
        host.tcb = None
        host.waiting = []
        host.unread.clear()
        host.read_mode = "auto"
        host.tfo_cookies.clear()               # the Fast Open cookie cache is in memory
        host.down_until = now + down_s if down_s > 0 else None
        self._event(now, host.name, "crash", "ok", None)

    def _bind_conflict(self, host):
        """``bind()`` of the listener's port: EADDRINUSE while connections of this host hold
        it (TIME-WAIT included), unless they and the new socket all set SO_REUSEADDR
        (``timewait.bind_conflict``, linux ``inet_csk_bind_conflict()``). A connection keeps
        the SO_REUSEADDR of its socket: here the host's ``reuseaddr`` option."""
        reuse = host.options.reuseaddr
        holders = [(c.state.value, reuse) for c in host.conns.values() if c.local_port == host.port]
        return bool(holders) and bind_conflict(reuse, holders)

    def _connect(self, host, action, now):
        """``connect()``: a new connection from a fixed or an ephemeral port, or an event row
        saying why not (None)."""
        peer = self.hosts[action.to]
        remote_port = peer.port
        iss = None
        if host.ephemeral:
            held = host.held_ports(remote_port)
            try:
                local_port = host.ports.connect_held(host.addr, peer.addr, remote_port, held)
            except PortsExhausted as exhausted:    # every 4-tuple to that port is held
                self._event(now, host.name, "connect", exhausted.errno_name, None)
                return None
            holder = host.conns.get((local_port, remote_port))
            if holder is not None and holder.state is TIME_WAIT:   # tw_reuse allows it:
                iss = takeover_start(self._time_wait_record(host, holder))["iss"]
                ts_recent = holder.ts_recent
                holder.give_up_time_wait(now)
                self._drain(holder, now)
                tcb = self._new_endpoint(host, now, self._next_conn(host), local_port,
                                         remote_port, iss)
                tcb.ts_recent = ts_recent   # PAWS from the first segment (RFC 7323 §5)
                host.tcb = tcb
                return tcb
        else:
            local_port = host.port
            holder = host.conns.get((local_port, remote_port))
            if holder is not None and holder.state == TIME_WAIT and \
                    host.profile.bound_port_tw_checks:
                # tcp_twsk_unique() with twp == NULL (an explicitly bound port): a takeover
                # at once, but only with timestamps, from the old snd_nxt + 65537 (linux)
                if not holder.ts_on:     # tw_ts_recent_stamp == 0: no PAWS, no takeover
                    self._event(now, host.name, "connect", "EADDRNOTAVAIL", None)
                    return None
                record = self._time_wait_record(host, holder)
                ts_recent = holder.ts_recent
                holder.give_up_time_wait(now)
                self._drain(holder, now)
                tcb = self._new_endpoint(host, now, self._next_conn(host), local_port,
                                         remote_port, takeover_start(record)["iss"])
                tcb.ts_recent = ts_recent   # PAWS from the first segment (RFC 7323 §5)
                host.tcb = tcb
                return tcb
            if holder is not None and holder.state == TIME_WAIT:
                # the same 4-tuple again: a new incarnation takes TIME-WAIT over (rfc9293)
                holder.give_up_time_wait(now)
                self._drain(holder, now)
            elif holder is not None:
                self._event(now, host.name, "connect", "EISCONN", holder.conn)
                return None
        tcb = self._new_endpoint(host, now, self._next_conn(host), local_port, remote_port)
        host.tcb = tcb
        return tcb

    def _app_read(self, host, tcb, now, max_bytes):
        """One read() by the application on ``tcb``: data, EOF (0) or an error."""
        if tcb is None:
            return
        result, out = tcb.read(max_bytes, now)
        if isinstance(result, (bytes, bytearray)):
            if result:
                host.delivered += result
                self._event(now, host.name, "read", len(result), tcb.conn)
            elif tcb.at_eof() and tcb.conn not in host.eof_seen:
                host.eof_seen.add(tcb.conn)
                self._event(now, host.name, "read", 0, tcb.conn)
                for action in host.eof_actions:
                    self.eof_fired[action] += 1
                    self.clock.schedule(now, self._do_action, action, tcb)
            elif tcb.state == CLOSED and not tcb.at_eof() and not tcb.app_closed:
                # Ended by a reset (or a timeout) whose errno an earlier read or send took:
                # every explicit read now returns 0 on linux (tcp_done() shut the socket
                # down both ways; docs/linux-facts.md §6: "ECONNRESET once, then 0"), the
                # RFC's "connection does not exist" (§3.10.3) otherwise.
                self._event(now, host.name, "read",
                            0 if tcb.p.read_0_when_ended else "ENOTCONN", tcb.conn)
        else:
            self._event(now, host.name, "read", result, tcb.conn)
        self._send(out, now)

    # --------------------------------------------------------------- network
    def _address_lookup(self):
        """``addr_of(name)`` for a Listener: a host's address; a spoofed source is named by
        its address. It closes over a name -> address dict, not over ``self``: a bound
        method kept by the listener made a reference cycle (Simulation -> host -> listener
        -> Simulation), so every finished run waited for the garbage collector, which then
        walked it (a fifth of the short-connection benchmark)."""
        addresses = {name: host.addr for name, host in self.hosts.items()}
        return lambda name: addresses.get(name, name)

    def _arrive(self, now, seg):
        host = self.hosts[seg.dst]
        if host.down_until is not None:
            if now < host.down_until:
                self._ignored(now, host.name, seg, "the host is down (crashed): nothing "
                              "answers until it restarts")
                return
            host.down_until = None
        tcb = host.conns.get((seg.dport, seg.sport))
        if tcb is not None and tcb.peer == seg.src:     # the whole 4-tuple: a flood's spoofed
            #                                             source may use the same ports
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
                # linux tcp_timewait_state_process(): the SYN-ACK's ISN continues the old
                # sequence space, tw_snd_nxt + 65537 (measured: docs/linux-connections.md §3)
                iss = ((tcb.snd_nxt + TW_ISN_GAP) & SEQ_MASK or 1) \
                    if host.profile.name == "linux" else None
                self._listener_segment(host, seg, now, iss)
                return
        if host.listening() and seg.dport == host.port:
            self._listener_segment(host, seg, now)
            return
        rst = reset_for(seg, seg.conn)
        self._ignored(now, host.name, seg, f"no socket for port {seg.dport} (RFC 9293 §3.10.7.1): "
                      + ("RST sent" if rst else "an RST is never answered"))
        if rst is not None:
            self._send([rst], now)

    def _listener_segment(self, host, seg, now, iss=None):
        """A segment for the listening socket: the Listener decides (RFC 9293 §3.10.7.2).
        ``iss``: the new connection's ISN when a TIME-WAIT handed the SYN over."""

        def make_child(syn, iss=iss, keep=True):
            if not keep:       # a SYN cookie's SYN-ACK: no connection is made
                return self._new_endpoint(host, now, None, host.port, syn.sport, iss, syn.src,
                                          keep=False)
            conn = self._next_conn(host, capped=not spoofed)
            return self._new_endpoint(host, now, conn, host.port, syn.sport, iss, syn.src)

        spoofed = seg.src not in self.hosts
        child, out = host.listener.on_segment(seg, now, make_child)
        self._drain_listener(host)
        if child is None:
            self._send(out, now)
            return
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
        sport = src.tcb.local_port if src.ephemeral and src.tcb is not None else src.port
        dport = dst.tcb.local_port if dst.ephemeral and dst.tcb is not None else dst.port
        seg = Segment(src.name, dst.name, sport, dport, fault.seq & SEQ_MASK, fault.ack & SEQ_MASK,
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
        unread = host.unread
        if self._drain(tcb, now):
            unread[tcb] = None
        if unread and tcb in unread and host.read_mode == "auto" and not tcb.app_closed:
            # An application in auto mode reads whatever becomes readable, at once.
            del unread[tcb]
            if tcb.rcv_buf or tcb.error:
                self._app_read(host, tcb, now, None)
            if tcb.at_eof() and tcb.conn not in host.eof_seen:
                self._app_read(host, tcb, now, None)
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
        host = self.hosts[tcb.name]
        for event in events:
            kind = type(event)
            if kind is DataReadable:            # the most frequent, first
                readable = True
            elif kind is StateChanged:
                self._state_row(event.t, tcb.name, event.socket, event.old, event.new,
                                event.cause, tcb.conn)
                new = event.new
                if new is CLOSED or new is LISTEN:
                    host.drop_conn(tcb)          # its 4-tuple is free again
                elif new is TIME_WAIT and host.ephemeral and not tcb.passive:
                    self._time_wait_entered(host, tcb, event.t)
                if tcb.passive and event.old == SYN_RECEIVED and new != ESTABLISHED:
                    listener = host.listener
                    if listener is not None:
                        listener.child_gone(tcb)     # reset or timed out before accept()
            elif kind is EndOfFile or kind is ErrorRaised:
                readable = True
            elif kind is ConnectResult:
                self._event(event.t, tcb.name, "connect", event.result, tcb.conn)
                if event.result == "ok":
                    self._run_after(host, "connect", tcb, event.t)
            elif kind is SendDone:
                self._event(event.t, tcb.name, "send", event.result, tcb.conn)
            elif kind is Established:
                listener = host.listener
                if tcb.passive and listener is not None:
                    listener.child_established(tcb)
                    # The application accepts at once: the accept queue gives its children
                    # in the order their handshakes completed.
                    while listener.accept_queue:
                        child = listener.accept()
                        host.tcb = child
                        self._event(event.t, tcb.name, "accept", "ok", child.conn)
                        self._run_after(host, "accept", child, event.t)
            elif kind is SegmentIgnored:
                self._ignored(event.t, tcb.name, event.segment, event.reason)
            elif kind is NewIncarnation:
                pass   # _arrive hands the SYN to the listener
            else:
                raise TypeError(f"unknown endpoint event {event!r}")
        events.clear()
        if host.waiting and tcb.state not in HANDSHAKING and not tcb.send_blocked:
            self._release_waiting(host, tcb, now)
        return readable

    # ------------------------------------------------------------- TIME-WAIT reuse
    def _time_wait_record(self, host, tcb):
        """What the TIME-WAIT connection remembers (timewait.TimeWait). Its peer's last
        timestamp arrived with the segment that put it in TIME-WAIT (or restarted it)."""
        peer = self.hosts[self.peer_of[host.name]]
        since = host.tw_since.get(tcb)
        stamp_ms = _ms(since) if tcb.ts_on and since is not None else None
        return TimeWait(host.addr, peer.addr, tcb.snd_nxt, tcb.rcv_nxt,
                        tcb.ts_recent if tcb.ts_on else None, stamp_ms, host.options.reuseaddr)

    def _time_wait_entered(self, host, tcb, t):
        """An ephemeral connection entered TIME-WAIT (or restarted it): if tw_reuse may ever
        let connect() take it over, look again when tcp_tw_reuse_delay has passed."""
        host.tw_since[tcb] = t
        host.reusable.discard(tcb)
        options = host.options
        if host.tw_reuse is None:       # tw_reuse 2 is 0 unless an address is loopback
            peer = self.hosts[self.peer_of[host.name]]
            host.tw_reuse = options.tw_reuse if options.tw_reuse != 2 or \
                is_loopback(host.addr) or is_loopback(peer.addr) else 0
        if host.tw_reuse and tcb.ts_on:
            delay_s = options.tw_reuse_delay_ms / 1000
            # time_after32(now, stamp + delay): the first millisecond strictly after
            when = (_ms(t) + options.tw_reuse_delay_ms + 1) / 1000
            self.clock.schedule(max(when, t + delay_s), self._time_wait_reusable, tcb, t)

    def _time_wait_reusable(self, now, tcb, since):
        host = self.hosts[tcb.name]
        if tcb.state is not TIME_WAIT or host.tw_since.get(tcb) != since:
            return              # gone, taken over, or restarted (a later check is on the clock)
        options = host.options
        if connect_may_take_over(self._time_wait_record(host, tcb), tw_reuse=options.tw_reuse,
                                 now_ms=_ms(now),
                                 reuse_delay_ms=options.tw_reuse_delay_ms):
            host.reusable.add(tcb)
            held = host.held.get(tcb.remote_port)
            if held is not None and held.lo <= tcb.local_port <= held.hi:
                held.release(tcb.local_port)   # usable again for connect_held()

    def _run_after(self, host, call, tcb, t):
        """Schedule the host's ``{"after": call}`` actions for the connection ``tcb``."""
        for action in host.after_actions[call]:
            self.clock.schedule(t + action.delay, self._do_action, action, tcb)

    def _release_waiting(self, host, tcb, now):
        """The calls that waited for ``tcb`` (or, with no connection yet, for accept())."""
        still = []
        for entry in host.waiting:
            blocker = entry[2]
            if blocker is tcb or (blocker is None and host.tcb is tcb):
                self.clock.schedule(now, self._do_action, entry[0], entry[1])
            else:
                still.append(entry)
        host.waiting = still

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
                   "arrival": arrivals[0] if arrivals else None, "conn": seg.conn,
                   "sport": seg.sport, "dport": seg.dport}
            if len(arrivals) > 1:
                row["copies"] = arrivals[1:]
            if seg.injected:
                row["injected"] = True
            rows.append(row)
        hosts = {h.name: {"port": h.first_port if h.ephemeral and h.first_port is not None
                          else h.port, "isn": h.first_isn, "addr": h.addr}
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
