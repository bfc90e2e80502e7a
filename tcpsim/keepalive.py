"""TCP keepalive as Linux does it (net/ipv4/tcp_timer.c ``tcp_keepalive_timer()``).

What this is
------------
The keepalive timer as a pure function, :func:`keepalive_timer`: given the time, when the
connection last *received* a segment and how many probes are out, it says whether to probe,
to give up, or to wait, and when to look again. :func:`keepalive_timeline` runs it for a
peer that answers after a delay, or never, to show the whole story.

RFC 9293 §3.8.4 (and RFC 1122 4.2.3.6): keep-alives are optional, off by default, sent
only after an idle interval of at least two hours by default, and "MUST NOT" be
interpreted as a dead peer on the loss of a single probe. Linux's version:

* Armed by SO_KEEPALIVE (``tcp_set_keepalive()``) or at connection set-up; fires
  ``time`` (TCP_KEEPIDLE, default ``tcp_keepalive_time`` = 7200 s) after the **last
  segment received** (``keepalive_time_elapsed()``: the later of the last data
  (``icsk_ack.lrcvtime``) and the last ACK (``rcv_tstamp``)) - not after the last sent.
* While data is unacknowledged or unsent (``packets_out`` or a write queue) it only
  re-arms: the retransmission timer is in charge then.
* A probe is ``tcp_xmit_probe_skb()``: a bare ACK with **seq = snd_una - 1** and no data,
  a byte the peer already has, so the peer must answer with an ACK (RFC 9293 §3.10.7.4).
  If data waits within the window, ``tcp_write_wakeup()`` sends that instead.
* Then every ``intvl`` (TCP_KEEPINTVL, default 75 s) it looks again. Any ACK that
  arrives resets ``icsk_probes_out`` (``tcp_ack()``); the next probe goes when the timer
  finds the connection idle for ``time`` again, so an answered peer is probed about every
  ``max(time, intvl)``.
* When ``probes`` (TCP_KEEPCNT, default 9) probes are out unanswered at a timer expiry,
  the connection sends an RST (``tcp_send_active_reset()``) and dies with ETIMEDOUT
  (``tcp_write_err()``): a blocked ``recv()`` returns the error at once, otherwise the next
  call does. That is ``time + probes * intvl`` after the last segment received:
  2 h 11 min 15 s with the defaults.

Not modelled: TCP_USER_TIMEOUT (which replaces the probe count when set), and the
``TCP_RESOURCE_PROBE_INTERVAL`` retry when a probe cannot be sent for lack of memory.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ScenarioError

TCP_KEEPALIVE_TIME_S = 7200        # include/net/tcp.h; net.ipv4.tcp_keepalive_time
TCP_KEEPALIVE_INTVL_S = 75         # include/net/tcp.h; net.ipv4.tcp_keepalive_intvl
TCP_KEEPALIVE_PROBES = 9           # include/net/tcp.h; net.ipv4.tcp_keepalive_probes
MAX_TCP_KEEPIDLE = 32767           # include/net/tcp.h (setsockopt bounds, seconds)
MAX_TCP_KEEPINTVL = 32767
MAX_TCP_KEEPCNT = 127
U32 = 0xFFFFFFFF


@dataclass(frozen=True)
class KeepaliveConfig:
    time_s: int = TCP_KEEPALIVE_TIME_S
    intvl_s: int = TCP_KEEPALIVE_INTVL_S
    probes: int = TCP_KEEPALIVE_PROBES

    @property
    def give_up_after_s(self) -> int:
        """Idle time (since the last segment received) at which an unanswered peer is dropped."""
        return self.time_s + self.probes * self.intvl_s


_BOUNDS = {"time": ("time_s", MAX_TCP_KEEPIDLE, "TCP_KEEPIDLE"),
           "intvl": ("intvl_s", MAX_TCP_KEEPINTVL, "TCP_KEEPINTVL"),
           "probes": ("probes", MAX_TCP_KEEPCNT, "TCP_KEEPCNT")}


def parse_keepalive(value, field: str) -> KeepaliveConfig | None:
    """``options.keepalive``: null (off), or {"time": s, "intvl": s, "probes": n}; missing
    keys take the sysctl defaults. Bounds are setsockopt's (1..32767 s, 1..127 probes)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ScenarioError(f"{field}: must be null or an object "
                            '{"time": s, "intvl": s, "probes": n}')
    for key in value:
        if key not in _BOUNDS:
            raise ScenarioError(f"{field}.{key}: unknown field (use time, intvl, probes)")
    kwargs = {}
    for key, (attr, top, option) in _BOUNDS.items():
        if key not in value:
            continue
        v = value[key]
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= top:
            raise ScenarioError(f"{field}.{key}: must be an integer from 1 to {top} "
                                f"(linux {option} takes whole "
                                f"{'probes' if key == 'probes' else 'seconds'}), not {v!r}")
        kwargs[attr] = v
    return KeepaliveConfig(**kwargs)


def probe_segment(snd_una: int, rcv_nxt: int) -> dict:
    """The probe on the wire (``tcp_xmit_probe_skb(sk, 0, ...)``): ACK, seq snd_una - 1, no data."""
    return {"seq": (snd_una - 1) & U32, "ack": rcv_nxt, "flags": "A", "len": 0}


@dataclass(frozen=True)
class KeepaliveVerdict:
    action: str            # "wait" | "probe" | "give_up" | "off"
    rearm_in_s: float | None
    reason: str


def keepalive_timer(cfg: KeepaliveConfig, *, now: float, last_received: float,
                    probes_out: int, outstanding: bool = False,
                    state: str = "ESTABLISHED") -> KeepaliveVerdict:
    """One expiry of ``tcp_keepalive_timer()``.

    ``outstanding``: data is unacknowledged or waiting to be sent. On "probe" the caller
    sends :func:`probe_segment` and counts ``probes_out + 1``; on "give_up" it sends an RST
    and ends the connection with ETIMEDOUT. Any ACK received resets ``probes_out`` to 0.
    """
    if state in ("CLOSED", "SYN-SENT", "LISTEN"):
        return KeepaliveVerdict("off", None, f"no keepalive in {state}")
    if outstanding:
        return KeepaliveVerdict("wait", cfg.time_s, "data in flight: the retransmission timer decides")
    idle = now - last_received
    if idle + 1e-9 >= cfg.time_s:
        if probes_out >= cfg.probes:
            return KeepaliveVerdict("give_up", None,
                                    f"{probes_out} probes unanswered: RST, ETIMEDOUT")
        return KeepaliveVerdict("probe", cfg.intvl_s,
                                f"idle {idle:g} s >= {cfg.time_s} s: probe {probes_out + 1}")
    return KeepaliveVerdict("wait", cfg.time_s - idle, f"idle only {idle:g} s")


def keepalive_timeline(cfg: KeepaliveConfig, *, answer_delay_s: float | None,
                       horizon_s: float, start: float = 0.0):
    """Run the timer from a segment received at ``start`` (the timer armed then).

    ``answer_delay_s``: the peer ACKs each probe that much later, or never (None).
    Returns [(t, "probe" | "answer" | "give_up")] up to ``horizon_s``.
    """
    events = []
    last_received, probes_out = start, 0
    t = start + cfg.time_s
    pending_answer = None
    while t <= horizon_s + 1e-9:
        if pending_answer is not None and pending_answer <= t:
            events.append((pending_answer, "answer"))
            last_received, probes_out, pending_answer = pending_answer, 0, None
        verdict = keepalive_timer(cfg, now=t, last_received=last_received, probes_out=probes_out)
        if verdict.action == "give_up":
            events.append((t, "give_up"))
            break
        if verdict.action == "probe":
            events.append((t, "probe"))
            probes_out += 1
            if answer_delay_s is not None:
                pending_answer = t + answer_delay_s
        t += verdict.rearm_in_s
    if pending_answer is not None and pending_answer <= horizon_s:
        events.append((pending_answer, "answer"))
    return events
