"""Flow control over time: what the sender's program wrote, sent and had acknowledged, and
what the receiver offered (its window) and held unread, for one direction of a connection.

    from tcpsim import plots
    plots.flow(course.capture("paced-noread"))          # client -> server
    plots.flow_data(trace)                             # the numbers drawn

Everything comes from the wire and the programs' calls (``trace.events``), so a real
capture from ``tools/capture.py`` and a simulation draw the same way:

* top panel, the sender: **written** (the bytes its program's ``send()`` calls queued),
  **sent** (one past the highest byte sent, SND.NXT as the wire shows it) and **acked**
  (the receiver's cumulative ack, SND.UNA), in bytes of the stream;
* bottom panel, the receiver: the **window** it advertised (bytes, scaled by its window
  scale, RFC 7323 §2.3) and the bytes **unread**: acknowledged but not yet read by its
  program (received minus what its ``read()`` calls returned). Zero windows are marked.
"""
from __future__ import annotations

from ._common import as_trace
from .style import FONT, MUTED, OKABE_ITO, WINDOW_COLOUR, host_colours, new_figure, text_kw

FLOW_HEIGHT_IN = 5.6


def _scale(rows, host, peer) -> int:
    from ..acks import _scale as scale
    return scale(rows, host, peer)


def flow_data(trace, sender: str = "client", receiver: str = "server") -> dict:
    """The step curves ``flow`` draws: each a list of (t, bytes), times on the trace's clock.

    ``written``, ``sent``, ``acked`` (sender, relative bytes of the stream: byte 1 is the
    first after the SYN, so a curve at n means n bytes), ``window`` and ``unread``
    (receiver, bytes), ``zero_windows`` (times the receiver advertised 0)."""
    trace = as_trace(trace)
    doc = trace.doc
    rows = [r for r in doc["segments"] if not r.get("dropped")]
    hosts = {r["src"] for r in rows}
    for name, host in (("sender", sender), ("receiver", receiver)):
        if host not in hosts:
            raise ValueError(f"{name}: no host {host!r} sends in this trace "
                             f"(hosts: {', '.join(sorted(hosts)) or 'none'})")
    conns = [r.get("conn") for r in rows if r.get("conn") is not None]
    if conns:
        rows = [r for r in rows if r.get("conn") in (conns[0], None)]
    scale = _scale(rows, receiver, sender)
    events = doc.get("events") or []
    written, sent, acked, window, unread, zero = [], [], [], [], [], []
    total = 0
    for e in events:
        if e.get("host") == sender and e.get("call") == "send" and isinstance(e.get("result"), int):
            total += e["result"]
            written.append((float(e["t"]), total))
    reads = [(float(e["t"]), e["result"]) for e in events if e.get("host") == receiver and
             e.get("call") == "read" and isinstance(e.get("result"), int) and e["result"] > 0]
    high = 0
    for r in rows:
        if r["src"] == sender and r["len"] > 0:
            end = int(r["rel_seq"]) + int(r["len"]) - 1      # bytes of data, not counting SYN
            if end > high:
                high = end
                sent.append((float(r["t"]), high))
    received = []
    for r in rows:
        if r["src"] != receiver or "A" not in r["flags"] or r.get("rel_ack") is None:
            continue
        t = float(r["t"])
        got = max(0, int(r["rel_ack"]) - 1 - (1 if _fin_acked(rows, sender, r) else 0))
        if not acked or got > acked[-1][1]:
            acked.append((t, got))
        received.append((t, got))
        win = int(r["win"]) << (0 if "S" in r["flags"] else scale)
        window.append((t, win))
        if win == 0 and "S" not in r["flags"] and "R" not in r["flags"]:
            zero.append(t)
    # unread = received - read, at every instant either changes
    points = sorted([(t, "rcv", n) for t, n in received] + [(t, "read", n) for t, n in reads])
    got, read = 0, 0
    for t, kind, n in points:
        if kind == "rcv":
            got = max(got, n)
        else:
            read += n
        unread.append((t, max(0, got - read)))
    return {"sender": sender, "receiver": receiver, "written": written, "sent": sent,
            "acked": acked, "window": window, "unread": unread, "zero_windows": zero}


def _fin_acked(rows, sender, ack_row) -> bool:
    """Does this ACK cover the sender's FIN (which takes a sequence number, not a byte)?"""
    fin = next((r for r in rows if r["src"] == sender and "F" in r["flags"]), None)
    if fin is None:
        return False
    return int(ack_row["rel_ack"]) > int(fin["rel_seq"]) + int(fin["len"])


def _steps(ax, points, t_end, **kw):
    if not points:
        return None
    ts = [t for t, _ in points] + [t_end]
    ys = [y for _, y in points] + [points[-1][1]]
    (line,) = ax.step(ts, ys, where="post", **kw)
    return line


def flow(trace, sender: str = "client", receiver: str = "server", tlim=None, title=True):
    """Draw ``flow_data``: two panels over time (Figure). ``tlim`` = (t0, t1) zooms; by
    default from the sender's first write to the last ACK. ``fig.tcpsim`` holds the numbers."""
    trace = as_trace(trace)
    d = flow_data(trace, sender, receiver)
    times = [t for key in ("written", "sent", "acked") for t, _ in d[key]]
    if tlim is None:
        start = d["written"][0][0] if d["written"] else (min(times) if times else 0.0)
        end = d["acked"][-1][0] if d["acked"] else start + 1.0
        pad = max(0.02, 0.04 * (end - start))
        tlim = (start - pad, end + pad)
    fig = new_figure(FLOW_HEIGHT_IN)
    fig.subplots_adjust(left=0.12, right=0.97, top=0.9 if title else 0.96, bottom=0.1,
                        hspace=0.32)
    top = fig.add_subplot(2, 1, 1)
    bottom = fig.add_subplot(2, 1, 2, sharex=top)
    colours = host_colours(trace)
    t_end = tlim[1]
    _steps(top, d["written"], t_end, color=MUTED, lw=2.2, label="written by the program")
    _steps(top, d["sent"], t_end, color=colours.get(sender, OKABE_ITO["blue"]), lw=1.8,
           label="sent (SND.NXT)")
    _steps(top, d["acked"], t_end, color=OKABE_ITO["bluish_green"], lw=1.6, ls="--",
           label="acknowledged (SND.UNA)")
    top.set_ylabel("bytes of the stream", **text_kw("small"))
    top.set_title(f"{sender}: its program writes, its TCP sends", loc="left",
                  **text_kw("text"))
    _steps(bottom, d["window"], t_end, color=WINDOW_COLOUR, lw=1.8,
           label="window it advertises")
    _steps(bottom, d["unread"], t_end, color=colours.get(receiver, OKABE_ITO["vermillion"]),
           lw=1.8, label="received, not yet read")
    zeros = [t for t in d["zero_windows"] if tlim[0] <= t <= tlim[1]]
    if zeros:
        bottom.plot(zeros, [0] * len(zeros), ls="none", marker="v", ms=7,
                    color=OKABE_ITO["vermillion"], label="window 0")
    bottom.set_ylabel("bytes", **text_kw("small"))
    bottom.set_xlabel("time (s)", **text_kw("small"))
    bottom.set_title(f"{receiver}: what its TCP offers, what its program has not read",
                     loc="left", **text_kw("text"))
    for ax in (top, bottom):
        ax.set_xlim(*tlim)
        ax.set_ylim(bottom=0)
        ax.grid(True, color="#EEEEEE", lw=0.8)
        ax.tick_params(labelsize=FONT["tiny"])
        ax.legend(loc="upper left", fontsize=FONT["tiny"], framealpha=0.9)
    if title:
        fig.suptitle(trace.doc.get("name") or "flow control", x=0.12, ha="left",
                     **text_kw("label"))
    fig.tcpsim = {"numbers": d, "top": top, "bottom": bottom, "tlim": tlim}
    return fig
