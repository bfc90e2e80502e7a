"""The two behaviour profiles: every tunable number of the endpoint, with its source.

``linux`` is the kernel of the machine this course was built on (6.18, HZ=250, default
sysctls except where this machine differs: see docs/linux-facts.md, measured).
``rfc9293`` is the textbook machine: RFC 9293 plus RFC 6298 timers, immediate ACKs,
only the MSS option unless a scenario turns the others on.

A scenario's per-host ``options`` override these (see ``Profile.with_options``).
"""
from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Profile:
    name: str
    # --- options announced in the SYN (RFC 7323, RFC 2018) ---
    timestamps: bool
    sack: bool
    wscale: int | None            # shift we announce; None = option off
    # --- handshake ---
    syn_retries: int
    synack_retries: int
    syn_linear_timeouts: int      # SYN RTOs that stay at initial_rto before doubling
    syn_give_up_by_time: bool     # linux: give up at the first expiry >= (2^(n+1)-1)*initial_rto
    handshake: str                # "three-way" | "two-way"
    isn_strategy: str             # "rfc6528" | "clock" | "zero" | "random"
    # --- retransmission timer (RFC 6298) ---
    initial_rto_s: float
    min_rto_s: float
    max_rto_s: float
    retries2: int                 # data retransmissions before ETIMEDOUT
    tail_loss_probe: bool         # RFC 8985 §7 / linux tcp_early_retrans=3
    initial_cwnd_segments: int    # RFC 6928
    nagle_minshall: bool          # Nagle holds a small segment only while an earlier *small* one is unacked
    rto_var_floor: bool           # RTO = SRTT + max(4·RTTVAR, min_rto) (linux tcp_set_rto()),
                                  # else max(min_rto, SRTT + 4·RTTVAR) (RFC 6298 §2.3-2.4)
    bound_to_half_window: bool    # a segment is at most half the peer's largest window
                                  # (linux tcp_bound_to_half_wnd())
    # --- ACK policy ---
    delayed_ack: bool
    delayed_ack_s: float          # RFC 9293 §3.8.6.3: < 0.5 s; linux TCP_DELACK_MIN
    quickacks: int                # linux TCP_MAX_QUICKACKS: ACK every segment at the start
    quickack_after_idle: bool     # quick-ACKs again after an idle RTO (linux tcp_event_data_recv())
    pingpong: bool                # interactive mode: an ACK waits for the reply, also the ACK
                                  # of a FIN (linux inet_csk_enter_pingpong_mode(), tcp_fin())
    ack_on_read: bool             # a read that drains the queue sends the pending ACK
                                  # (linux tcp_cleanup_rbuf())
    # --- buffers and windows ---
    rcvbuf: int                   # receive buffer, bytes
    sndbuf: int
    rcv_mss_estimate: bool        # SWS avoidance uses the MSS seen in arriving segments
                                  # (linux icsk_ack.rcv_mss), else the MSS announced
    window_round_up: bool         # the scaled window field is rounded up, not down
                                  # (linux tcp_select_window(), measured)
    rcv_window_growth: bool       # the offered window starts small and grows by 2 MSS per
                                  # full segment (linux tcp_grow_window()), else the whole buffer
    # --- closing ---
    time_wait_s: float            # TIME-WAIT length
    fin_timeout_s: float | None   # orphaned FIN-WAIT-2 lifetime; None = wait forever
    nodelay: bool = False
    linger0: bool = False
    seq_check_from_rcv_wup: bool = False  # a segment ending at or after RCV.WUP (the RCV.NXT of
                                  # the last window sent) passes the sequence check, so its ACK
                                  # field counts (linux tcp_sequence()); else RFC 9293 §3.10.7.4
    # --- linux receive-memory accounting (docs/linux-facts.md §13.2-13.3) ---
    rcv_skb_overhead: int | None = None   # bytes a fresh skb is charged beyond its payload
                                  # (skb->truesize - len); None: the window is the free buffer
                                  # in bytes (RFC 9293 §3.8.6.2.2), no memory accounting
    rcv_coalesce_segments: int = 1    # in-order segments one queued skb takes before a new one
                                  # starts (linux tcp_try_coalesce(), up to MAX_SKB_FRAGS)
    simultaneous_synack_ack: bool = False  # SYN-RECEIVED after a simultaneous open: the peer's
                                  # SYN-ACK repeats its SYN, old sequence space: an immediate
                                  # ACK with a D-SACK of it (linux tcp_data_queue())
    push_every_segments: tuple = ()  # extra PSH marks in one large write, at these segment
                                  # counts of the write (linux tcp_sendmsg_locked(), measured)
    zero_window_probe_old_seq: bool = False  # probe a zero window with an empty segment at
                                  # SND.UNA - 1 (linux tcp_xmit_probe_skb()); else one new byte
    rack: bool = False            # RACK loss detection (RFC 8985 §6.2; linux tcp_recovery = 1)
    sack_blocks_by_recency: bool = False  # SACK blocks newest first, then by recency (RFC 2018
                                  # §4, linux tcp_sack_new_ofo_skb()); else the newest first,
                                  # then in sequence order
    read_0_when_ended: bool = False  # a read on a connection a reset or a timeout ended, its
                                  # error already reported, returns 0 (linux tcp_done():
                                  # sk_shutdown = SHUTDOWN_MASK); else ENOTCONN (RFC 9293
                                  # §3.10.3 CLOSED: "error: connection does not exist")
    merge_unsent_writes: bool = False  # a write queued behind unsent data joins it: PSH only
                                  # at the end of the later write (linux tcp_sendmsg_locked())
    syn_sent_bad_ack_rearm_s: float | None = None  # in SYN-SENT, a segment whose ACK is not
                                  # acceptable (answered with RST) re-arms the SYN timer this
                                  # soon while no SYN was retransmitted yet ("Previous FIN/ACK
                                  # or RST/ACK might be ignored": linux
                                  # tcp_rcv_synsent_state_process(), TCP_TIMEOUT_MIN); None:
                                  # the timer runs on (RFC 9293 §3.10.7.3 says nothing of it)
    bound_port_tw_checks: bool = False  # connect() from a bound port over a TIME-WAIT
                                  # 4-tuple: only with timestamps (else EADDRNOTAVAIL), from
                                  # the old snd_nxt + 65537 (linux tcp_twsk_unique(), twp ==
                                  # NULL; measured, docs/linux-connections.md §3); else the
                                  # new incarnation takes TIME-WAIT over with a fresh ISN

    def with_options(self, options) -> Profile:
        """Apply a scenario host's ``HostOptions`` (None = keep the profile's value)."""
        changes = {}
        for name in ("syn_retries", "synack_retries", "syn_linear_timeouts", "nodelay",
                     "linger0", "timestamps", "sack", "delayed_ack", "handshake",
                     "isn_strategy", "rcvbuf", "sndbuf"):
            value = getattr(options, name)
            if value is not None:
                changes[name] = value
        if options.wscale is not None:
            if options.wscale is False:
                changes["wscale"] = None
            elif options.wscale is True:
                changes["wscale"] = self.wscale if self.wscale is not None else 7
            else:
                changes["wscale"] = int(options.wscale)
        if options.msl is not None:
            changes["time_wait_s"] = 2.0 * options.msl
        if options.time_wait is not None:
            changes["time_wait_s"] = float(options.time_wait)
        if options.fin_timeout is not None:
            changes["fin_timeout_s"] = float(options.fin_timeout)
        return replace(self, **changes) if changes else self


TCP_TIMEWAIT_LEN = 60.0           # include/net/tcp.h
TCP_DELACK_MIN = 0.040            # include/net/tcp.h: HZ/25
TCP_RTO_MIN = 0.200               # include/net/tcp.h: HZ/5 (net.ipv4.tcp_rto_min_us = 200000)
TCP_TIMEOUT_INIT = 1.0            # include/net/tcp.h: RFC 6298 §2.1
TCP_RTO_MAX = 120.0               # include/net/tcp.h (net.ipv4.tcp_rto_max_ms = 120000)
TCP_MAX_QUICKACKS = 16            # include/net/tcp.h
TCP_INIT_CWND = 10                # include/net/tcp.h, RFC 6928
TCP_TIMEOUT_MIN = 0.008           # include/net/tcp.h: 2 jiffies at HZ=250
MSL_RFC9293 = 120.0               # RFC 9293 §3.4.2: MSL is 2 minutes
TCP_RMEM_MAX = 32 << 20           # net.ipv4.tcp_rmem[2] on the capture machine (wscale 10)
LINUX_SKB_OVERHEAD = 832          # measured: a fresh 1448-byte skb is charged 2280 bytes
                                  # (rmem_alloc in paced-noread.events.json; scaling_ratio
                                  # 1448 * 256 // 2280 = 162, which gives the window's 81 501 B cap)
LINUX_COALESCE_SEGMENTS = 17      # measured: rmem_alloc steps by 1448 for 16 segments after
                                  # the first, then a fresh skb (2280) (paced-noread)
LINUX_PUSH_SEGMENTS = (5, 10, 20, 35, 50)  # measured: PSH positions in a large write that
                                  # bulk-100k and bulk-200k share (data-loss-*, loss-*: 5 and
                                  # 10; later ones vary with the ACK clock: docs/linux-facts.md §13.7)

LINUX = Profile(
    name="linux",
    timestamps=True,              # net.ipv4.tcp_timestamps = 1
    sack=True,                    # net.ipv4.tcp_sack = 1
    wscale=10,                    # ilog2(max(tcp_rmem[2] = 32 MiB, rmem_max)) - 15, measured
    syn_retries=6,                # net.ipv4.tcp_syn_retries
    synack_retries=5,             # net.ipv4.tcp_synack_retries
    syn_linear_timeouts=4,        # net.ipv4.tcp_syn_linear_timeouts (measured: 6.18)
    syn_give_up_by_time=True,     # net/ipv4/tcp_timer.c retransmits_timed_out(), measured
    handshake="three-way",
    isn_strategy="rfc6528",       # net/core/secure_seq.c secure_tcp_seq()
    initial_rto_s=TCP_TIMEOUT_INIT,
    min_rto_s=TCP_RTO_MIN,
    max_rto_s=TCP_RTO_MAX,
    retries2=15,                  # net.ipv4.tcp_retries2
    tail_loss_probe=True,         # net.ipv4.tcp_early_retrans = 3
    initial_cwnd_segments=TCP_INIT_CWND,
    nagle_minshall=True,          # net/ipv4/tcp_output.c tcp_nagle_check() -> tcp_minshall_check(), measured
    rto_var_floor=True,           # net/ipv4/tcp_input.c tcp_rtt_estimator(), tcp_set_rto()
    bound_to_half_window=True,    # measured: 32741-byte segments on lo (docs/linux-facts.md §10)
    delayed_ack=True,
    delayed_ack_s=TCP_DELACK_MIN,
    quickacks=TCP_MAX_QUICKACKS,
    quickack_after_idle=True,     # net/ipv4/tcp_input.c tcp_event_data_recv()
    pingpong=True,                # measured: a close is often 3 segments (docs/linux-facts.md)
    ack_on_read=True,             # measured: bulk-100k's 88-byte tail ACKed at once
    rcvbuf=131072,                # net.ipv4.tcp_rmem[1]; autotuning (to tcp_rmem[2]) not modelled
    sndbuf=1 << 30,               # tcp_wmem autotuning is not modelled: no limit unless a
                                  # scenario sets sndbuf (SO_SNDBUF)
    rcv_mss_estimate=True,        # net/ipv4/tcp_input.c tcp_measure_rcv_mss()
    window_round_up=True,         # measured: windows 76, 75, 74 ... (docs/linux-facts.md)
    rcv_window_growth=True,       # net/ipv4/tcp_input.c tcp_grow_window()
    time_wait_s=TCP_TIMEWAIT_LEN,
    fin_timeout_s=60.0,           # net.ipv4.tcp_fin_timeout
    seq_check_from_rcv_wup=True,  # net/ipv4/tcp_input.c tcp_sequence()
    rcv_skb_overhead=LINUX_SKB_OVERHEAD,
    rcv_coalesce_segments=LINUX_COALESCE_SEGMENTS,
    simultaneous_synack_ack=True,  # measured: simultaneous-open.pcap (docs/linux-facts.md §13.4)
    push_every_segments=LINUX_PUSH_SEGMENTS,
    zero_window_probe_old_seq=True,  # net/ipv4/tcp_output.c tcp_write_wakeup(), measured
    rack=True,                    # net.ipv4.tcp_recovery = 1; measured: reorder, loss-*
    sack_blocks_by_recency=True,  # measured: loss-20pct (docs/linux-facts.md §13.6)
    merge_unsent_writes=True,     # measured: paced-noread (docs/linux-facts.md §13.3)
    read_0_when_ended=True,       # measured: recv ECONNRESET, then 0 (docs/linux-facts.md §6)
    syn_sent_bad_ack_rearm_s=TCP_TIMEOUT_MIN,  # measured: interview-syn-established (the SYN
                                  # again 11.8 ms after the RST, not 1 s)
    bound_port_tw_checks=True,    # measured: tests/test_kernel_connections.py
)

RFC9293 = Profile(
    name="rfc9293",
    timestamps=False,
    sack=False,
    wscale=None,
    syn_retries=6,
    synack_retries=5,
    syn_linear_timeouts=0,
    syn_give_up_by_time=False,
    handshake="three-way",
    isn_strategy="clock",         # RFC 9293 §3.4.1: a 4 µs clock
    initial_rto_s=1.0,            # RFC 6298 §2.1
    min_rto_s=1.0,                # RFC 6298 §2.4
    max_rto_s=60.0,               # RFC 6298 §2.5: a maximum of at least 60 s
    retries2=15,
    tail_loss_probe=False,
    initial_cwnd_segments=TCP_INIT_CWND,
    nagle_minshall=False,         # RFC 9293 §3.7.4: hold while any data is unacknowledged
    rto_var_floor=False,          # RFC 6298 §2.3-2.4
    bound_to_half_window=False,
    delayed_ack=False,            # scenario option delayed_ack turns RFC 9293 §3.8.6.3 on
    delayed_ack_s=0.2,            # RFC 9293 §3.8.6.3: less than 0.5 s; 200 ms is customary
    quickacks=0,
    quickack_after_idle=False,
    pingpong=False,
    ack_on_read=False,
    rcvbuf=65535,
    sndbuf=1 << 30,
    rcv_mss_estimate=False,       # RFC 9293 §3.8.6.2.2 uses the MSS
    window_round_up=False,
    rcv_window_growth=False,
    time_wait_s=2 * MSL_RFC9293,  # RFC 9293 §3.6.1: 2 MSL
    fin_timeout_s=None,
)

PROFILES = {"linux": LINUX, "rfc9293": RFC9293}
