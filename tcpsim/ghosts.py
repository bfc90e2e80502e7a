"""Why three segments: old duplicate SYNs against a two-way and a three-way handshake.

Notebook 04. RFC 9293 §3.5: "The principal reason for the three-way handshake is to
prevent old duplicate connection initiations from causing confusion." An *old duplicate
SYN* is a SYN of an earlier incarnation of the same 4-tuple (same addresses and ports)
that the network held back and delivers late. Sequence numbers say nothing about it: the
receiver of a first SYN "has no way of knowing whether the segment was an old one or not"
(§3.4.1). Only the other side can say, by answering the SYN-ACK.

* :func:`old_duplicate_scenario`: RFC 9293 Figure 8's story as a scenario. The client
  connects, its SYN is slow, and an old SYN of the same ports reaches the server first.
  The server's application greets every connection it accepts (``GREETING``, as an SMTP
  server does), so a connection the client never opened shows up as a greeting sent to
  nobody. With ``handshake="two-way"`` (the teaching variant: a server is ESTABLISHED as
  soon as it answers a SYN) the server accepts the old SYN; with the real three-way
  handshake the client's RST (SEQ = the bogus SYN-ACK's ACK) sends the server back to
  LISTEN before anything reaches its application.
* :func:`ghosts`: the connections a server's application accepted that no ``connect()``
  of the client opened (their SYN-ACK acknowledges a SYN the client's connections did not
  send): the *ghosts*.
* :func:`monte_carlo`: many runs with a random old-SYN delay and random loss, with a
  ``tqdm`` progress bar: how often each handshake lets a ghost in.
* :func:`ghost_widget`: sliders for the loss and the delays, and the fractions as bars.

Logic only here; the notebook shows the results.
"""
from __future__ import annotations

import random
import time

from .segment import SEQ_MASK
from .simulator import run

HANDSHAKES = ("two-way", "three-way")
CLIENT_PORT, SERVER_PORT = 40000, 5001
OLD_SYN_SEQ = 1_000_000        # the old incarnation's SYN: any number will do (widgets.controls)
GREETING = "220 ready\r\n"     # what the server's application sends on each accepted connection
DELAY_S = 0.01                 # one-way delay: 10 ms, a LAN across a city
MONTE_CARLO_RUNS = 200         # runs per handshake by default: about a second for both
MAX_OLD_SYN_DELAY_S = 2.0      # the old SYN arrives up to this long after it was sent


def _check_handshake(handshake):
    if handshake not in HANDSHAKES:
        raise ValueError(f"handshake: {handshake!r} is not one of {HANDSHAKES}")


def _check_number(name, value, lo, hi=None):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value \
            or value < lo or (hi is not None and value > hi):
        span = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
        raise ValueError(f"{name}: a number {span}, not {value!r}")
    return float(value)


def old_duplicate_scenario(handshake="three-way", *, profile="linux", old_syn_arrival_s=0.11,
                           client_syn_extra_s=0.05, connect_at_s=0.1, delay_s=DELAY_S,
                           loss_p=0.0, seed=1, until_s=3.0):
    """RFC 9293 Figure 8 as a scenario dict: the server listens at 0 and greets every
    connection it accepts; the client connects at ``connect_at_s`` and its SYN is held
    ``client_syn_extra_s`` more than the link's ``delay_s``; an old duplicate SYN from the
    client's port (sequence number ``OLD_SYN_SEQ``) reaches the server at
    ``old_syn_arrival_s`` (None: no old SYN, for an explorer whose ``old_syn_at`` control
    adds one). The client sends 100 bytes once connected and closes at 1 s;
    the server closes when it has read them. ``handshake`` applies to both hosts;
    ``loss_p``: random loss on every segment (the old SYN too), drawn from ``seed``."""
    _check_handshake(handshake)
    arrival = None if old_syn_arrival_s is None else \
        _check_number("old_syn_arrival_s", old_syn_arrival_s, 0)
    delay = _check_number("delay_s", delay_s, 0)
    extra = _check_number("client_syn_extra_s", client_syn_extra_s, 0)
    loss = _check_number("loss_p", loss_p, 0, 1)
    connect_at = _check_number("connect_at_s", connect_at_s, 0)
    options = {"handshake": handshake}
    sent_at = max(0.0, arrival - delay) if arrival is not None else None
    faults = [] if arrival is None else [
        {"inject": {"at": sent_at, "from": "client", "flags": "S", "seq": OLD_SYN_SEQ}}]
    if extra > 0:
        # the client's first SYN is the first SYN from its port unless the old one left
        # earlier (at the same instant the connect() runs first: actions before faults)
        nth = 2 if sent_at is not None and sent_at < connect_at else 1
        faults.append({"delay": {"from": "client", "flags": "S", "nth": [nth], "extra": extra}})
    if loss > 0:
        faults.append({"loss": {"p": loss}})
    return {
        "tcpsim": 1, "profile": profile, "seed": seed,
        "name": f"an old duplicate SYN, {handshake} handshake",
        "link": {"delay": delay, "mtu": 1500},
        "hosts": {"client": {"port": CLIENT_PORT, "options": dict(options)},
                  "server": {"port": SERVER_PORT, "options": dict(options)}},
        "actions": [
            {"at": 0.0, "host": "server", "do": "listen"},
            {"at": connect_at, "host": "client", "do": "connect", "to": "server"},
            {"after": "accept", "host": "server", "do": "send", "data": GREETING},
            {"after": "connect", "host": "client", "delay": 0.05, "do": "send", "bytes": 100},
            {"at": 1.0, "host": "client", "do": "close"},
            {"on": "eof", "host": "server", "do": "close"},
        ],
        "faults": faults,
        "until": _check_number("until_s", until_s, 0),
    }


def _other_host(trace, host):
    names = list(trace.doc["hosts"])
    if host not in names:
        raise ValueError(f"server: {host!r} is not a host of this trace ({', '.join(names)})")
    return names[1] if names[0] == host else names[0]


def client_isns(trace, client="client") -> set:
    """The sequence numbers of the SYNs ``client``'s own connections sent (not injected)."""
    seg = trace.segments
    mine = seg[(seg["src"] == client) & (seg["flags"] == "S")]
    if "injected" in mine:
        mine = mine[~mine["injected"].fillna(False).astype(bool)]
    return {int(s) for s in mine["seq"]}


def ghosts(trace, server="server"):
    """The connections ``server``'s application accepted whose peer ISN is no ISN of the
    other host's own connections: a DataFrame with ``conn``, ``accepted_at`` (s),
    ``peer_isn`` (the ISN the server believes its peer chose) and ``ended_at`` (when the
    server's side of it reached CLOSED; NaN if it was still open when the run stopped)."""
    import pandas as pd
    columns = ["conn", "accepted_at", "peer_isn", "ended_at"]
    seg, states, events = trace.segments, trace.states, trace.events
    isns = client_isns(trace, _other_host(trace, server))
    if events.empty:
        return pd.DataFrame([], columns=columns)
    accepted = events[(events["host"] == server) & (events["call"] == "accept")]
    rows = []
    for _, ev in accepted.iterrows():
        conn = ev["conn"]
        synacks = seg[(seg["src"] == server) & (seg["conn"] == conn) & (seg["flags"] == "SA")]
        if synacks.empty:
            continue
        peer_isn = (int(synacks["ack"].iloc[0]) - 1) & SEQ_MASK
        if peer_isn in isns:
            continue
        ends = states[(states["host"] == server) & (states["conn"] == conn)
                      & (states["to"] == "CLOSED")]
        rows.append({"conn": int(conn), "accepted_at": float(ev["t"]), "peer_isn": peer_isn,
                     "ended_at": float(ends["t"].iloc[0]) if not ends.empty else float("nan")})
    return pd.DataFrame(rows, columns=columns)


def count_ghosts(trace, server="server") -> int:
    """How many ghost connections ``server``'s application accepted (:func:`ghosts`)."""
    return len(ghosts(trace, server))


def monte_carlo(runs=MONTE_CARLO_RUNS, *, loss_p=0.0, max_old_syn_delay_s=MAX_OLD_SYN_DELAY_S,
                max_client_syn_extra_s=0.1, handshakes=HANDSHAKES, profile="linux", seed=0,
                progress=True):
    """``runs`` runs of :func:`old_duplicate_scenario` per handshake. Run ``i`` draws,
    from ``seed`` and ``i`` (the same draws for both handshakes): when the old SYN arrives
    (uniform in 0 … ``max_old_syn_delay_s``), how long the client's SYN is held (uniform
    in 0 … ``max_client_syn_extra_s``) and the seed of the random loss ``loss_p``. A tqdm
    progress bar unless ``progress=False``.

    A DataFrame, one row per run: ``handshake``, ``run``, ``old_syn_arrival_s``,
    ``client_syn_extra_s``, ``ghosts`` (:func:`count_ghosts`), ``ghost_open_at_end``
    (ghosts still open when the run stopped) and ``connected`` (the client's connect()
    returned ok). ``DataFrame.attrs["seconds"]``: how long the runs took."""
    import pandas as pd
    from tqdm.auto import tqdm
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ValueError(f"runs: a positive whole number of runs, not {runs!r}")
    for handshake in handshakes:
        _check_handshake(handshake)
    loss_p = _check_number("loss_p", loss_p, 0, 1)
    top = _check_number("max_old_syn_delay_s", max_old_syn_delay_s, 0)
    top_extra = _check_number("max_client_syn_extra_s", max_client_syn_extra_s, 0)
    draws = []
    for i in range(runs):
        rng = random.Random(f"ghosts:{seed}:{i}")
        draws.append((round(rng.uniform(0, top), 6), round(rng.uniform(0, top_extra), 6),
                      rng.randrange(1, 2**31)))
    rows = []
    started = time.perf_counter()
    jobs = [(h, i) for h in handshakes for i in range(runs)]
    for handshake, i in tqdm(jobs, desc="runs", disable=not progress):
        arrival, extra, run_seed = draws[i]
        trace = run(old_duplicate_scenario(handshake, profile=profile, old_syn_arrival_s=arrival,
                                           client_syn_extra_s=extra, loss_p=loss_p,
                                           seed=run_seed))
        found = ghosts(trace)
        connects = trace.events[(trace.events["host"] == "client")
                                & (trace.events["call"] == "connect")]
        rows.append({"handshake": handshake, "run": i, "old_syn_arrival_s": arrival,
                     "client_syn_extra_s": extra, "ghosts": len(found),
                     "ghost_open_at_end": int(found["ended_at"].isna().sum()),
                     "connected": bool((connects["result"] == "ok").any())})
    df = pd.DataFrame(rows, columns=["handshake", "run", "old_syn_arrival_s",
                                     "client_syn_extra_s", "ghosts", "ghost_open_at_end",
                                     "connected"])
    df.attrs["seconds"] = time.perf_counter() - started
    return df


def ghost_fractions(results):
    """The fraction of runs with at least one ghost, by handshake (a pandas Series)."""
    return (results["ghosts"] > 0).groupby(results["handshake"]).mean()


def fractions_figure(results, ax=None):
    """A bar chart of :func:`ghost_fractions`, one bar per handshake."""
    from .plots._common import get_ax
    fig, ax = get_ax(ax, 2.4, 7.0)
    fractions = ghost_fractions(results)
    names = [h for h in HANDSHAKES if h in fractions.index]
    values = [float(fractions[h]) for h in names]
    bars = ax.barh(names, values, color=["#C0392B", "#2E86C1"][:len(names)])
    for bar, value in zip(bars, values):
        ax.text(min(value + 0.02, 0.9), bar.get_y() + bar.get_height() / 2, f"{value:.0%}",
                va="center")
    ax.set_xlim(0, 1)
    ax.set_xlabel("fraction of runs in which the server accepted a ghost")
    runs = int(results["run"].nunique())
    ax.set_title(f"{runs} runs per handshake, {results.attrs.get('seconds', 0):.1f} s",
                 fontsize=10)
    ax.invert_yaxis()
    fig.tight_layout()
    return fig


def ghost_widget(runs=50, loss_p=0.1, max_old_syn_delay_s=MAX_OLD_SYN_DELAY_S):
    """Sliders (loss, how late the old SYN may arrive, runs) and a button that runs
    :func:`monte_carlo` and draws :func:`fractions_figure`. It runs once when made."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display
    style = {"description_width": "initial"}
    loss = widgets.FloatSlider(value=loss_p, min=0.0, max=0.3, step=0.05, style=style,
                               description="random loss on every segment",
                               continuous_update=False)
    late = widgets.FloatSlider(value=max_old_syn_delay_s, min=0.1, max=3.0, step=0.1,
                               style=style, description="old SYN arrives up to (s)",
                               continuous_update=False)
    count = widgets.IntSlider(value=runs, min=20, max=400, step=20, style=style,
                              description="runs per handshake", continuous_update=False)
    button = widgets.Button(description="run", button_style="primary")
    out = widgets.Output()

    def redraw(_=None):
        with out:
            out.clear_output(wait=True)
            results = monte_carlo(count.value, loss_p=loss.value,
                                  max_old_syn_delay_s=late.value)
            fig = fractions_figure(results)
            display(fig)
            plt.close(fig)

    button.on_click(redraw)
    box = widgets.VBox([loss, late, count, button, out])
    box.redraw = redraw
    redraw()
    return box


def handshake_control(value="two-way"):
    """An explorer control ``(widget, apply)``: the handshake of both hosts, two-way or
    three-way (``widgets.explorer(..., extra={"handshake": handshake_control()})``)."""
    import ipywidgets as widgets
    _check_handshake(value)
    toggle = widgets.ToggleButtons(options=list(HANDSHAKES), value=value,
                                   description="handshake")

    def apply(scenario, choice):
        for spec in scenario["hosts"].values():
            if spec.get("options") is None:
                spec["options"] = {}
            spec["options"]["handshake"] = choice

    return toggle, apply
