"""Ephemeral-port exhaustion: a client that opens short connections to one server port.

    from tcpsim import exhaustion
    exhaustion.scenario(rate_per_s=4.0, port_range=(40000, 40199))   # one run, as a dict
    exhaustion.sweep([1, 2, 3, 4, 5])      # one row per rate (a tqdm progress bar)
    exhaustion.limit_per_s((32768, 60999))  # 470.5: ports / TIME-WAIT length

Each connection of the client (``"port": null``: an ephemeral port each time, chosen as
Linux's ``__inet_hash_connect()`` does, tcpsim/ports.py) sends a little data and closes
first, so the client is the active closer and keeps every connection's 4-tuple in
TIME-WAIT for 60 s (``TCP_TIMEWAIT_LEN``). The 4-tuple's only free part is the client's
port: once every port of ``port_range`` is held, ``connect()`` fails at once with
EADDRNOTAVAIL (RFC 6056 §3.3.4; docs/scenario.md, "Ports"). The addresses are not
loopback, so ``tcp_tw_reuse``'s default (2: loopback only) does not apply.

What a run shows, for each rate: how many ``connect()`` calls failed, and the most
connections the client held in TIME-WAIT at once. The limit is the back-of-envelope
``ports / TIME-WAIT length``: above it, failures.
"""
from __future__ import annotations

from .ports import LINUX_DEFAULT_PORT_RANGE
from .timewait import TCP_TIMEWAIT_LEN_S

SERVER_PORT = 8080
CLOSE_AFTER_CONNECT_S = 0.002    # the client sends 100 B at once and closes 2 ms later
REQUEST_BYTES = 100
SWEEP_PORT_RANGE = (40000, 40199)   # 200 ports: the sweep fills them in seconds, not hours
SWEEP_DURATION_S = 120.0


def usable_ports(port_range) -> int:
    """How many ports ``connect()`` can use in ``[lo, hi]``: Linux rounds the range's size
    down to an even number (``__inet_hash_connect()``: ``remaining &= ~1``)."""
    lo, hi = port_range
    size = hi - lo + 1
    return size & ~1 if size > 1 else size


def limit_per_s(port_range=LINUX_DEFAULT_PORT_RANGE,
                time_wait_s: float = TCP_TIMEWAIT_LEN_S) -> float:
    """New connections per second to one server address and port that a client can keep
    up for ever: each one holds its port for the TIME-WAIT length after it closes."""
    return usable_ports(port_range) / time_wait_s


def scenario(rate_per_s: float, port_range=SWEEP_PORT_RANGE,
             duration_s: float = SWEEP_DURATION_S, seed: int = 8,
             closer: str = "client") -> dict:
    """A client that calls ``connect()`` ``rate_per_s`` times a second for ``duration_s``.

    ``closer``: who closes each connection first, and so holds its TIME-WAIT: the
    ``"client"`` (2 ms after its connect() returned, having sent 100 B), or the
    ``"server"`` (2 ms after accept(); the client then closes when it reads the end)."""
    if not (isinstance(rate_per_s, (int, float)) and rate_per_s > 0):
        raise ValueError(f"rate_per_s: must be a number > 0, not {rate_per_s!r}")
    if closer not in ("client", "server"):
        raise ValueError(f"closer: 'client' or 'server', not {closer!r}")
    count = int(duration_s * rate_per_s)
    if count < 1:
        raise ValueError(f"duration_s: {duration_s} s at {rate_per_s}/s makes no connection")
    connects = [{"at": round(0.1 + k / rate_per_s, 6), "host": "client", "do": "connect",
                 "to": "server"} for k in range(count)]
    return {"name": f"{rate_per_s:g} connections/s from ports {port_range[0]}-{port_range[1]}",
            "profile": "linux", "seed": seed, "link": {"mtu": 1500},
            "hosts": {"client": {"port": None, "addr": "10.0.0.1",
                                 "options": {"port_range": list(port_range)}},
                      "server": {"port": SERVER_PORT, "addr": "10.0.0.2"}},
            "actions": [{"at": 0.0, "host": "server", "do": "listen"}, *connects,
                        {"after": "connect", "host": "client", "do": "send",
                         "bytes": REQUEST_BYTES},
                        {"after": "connect" if closer == "client" else "accept",
                         "delay": CLOSE_AFTER_CONNECT_S, "host": closer, "do": "close"},
                        {"on": "eof", "host": "server" if closer == "client" else "client",
                         "do": "close"}],
            "until": round(0.1 + duration_s + 1.0, 6)}


def time_wait_count(states, host: str = "client"):
    """(times, how many of ``host``'s connections were in TIME-WAIT just after each) from a
    trace's ``states`` table."""
    rows = states[states["host"] == host]
    entering = (rows["to"] == "TIME-WAIT") & (rows["from"] != "TIME-WAIT")
    leaving = (rows["from"] == "TIME-WAIT") & (rows["to"] != "TIME-WAIT")
    change = entering.astype(int) - leaving.astype(int)
    return rows["t"], change.cumsum()


def summary(trace, rate_per_s: float, port_range) -> dict:
    """One row of the sweep's table, from a run of :func:`scenario`."""
    events = trace.events
    connects = events[(events["host"] == "client") & (events["call"] == "connect")]
    failed = connects[connects["result"] == "EADDRNOTAVAIL"]
    _, held = time_wait_count(trace.states)
    return {"rate_per_s": rate_per_s, "connects": len(connects), "failures": len(failed),
            "first_failure_s": float(failed["t"].iloc[0]) if len(failed) else None,
            "max_time_wait": int(held.max()) if len(held) else 0,
            "limit_per_s": limit_per_s(port_range)}


def sweep(rates, port_range=SWEEP_PORT_RANGE, duration_s: float = SWEEP_DURATION_S,
          progress: bool = True):
    """Run :func:`scenario` for each rate; a pandas DataFrame, one row per rate (columns
    rate_per_s, connects, failures, first_failure_s, max_time_wait, limit_per_s)."""
    import pandas as pd
    from tqdm.auto import tqdm

    from .simulator import run
    rates = list(rates)
    if not rates:
        raise ValueError("rates: give at least one rate (connections per second)")
    rows = []
    for rate in tqdm(rates, desc="rates", unit="run", disable=not progress):
        rows.append(summary(run(scenario(rate, port_range, duration_s)), rate, port_range))
    return pd.DataFrame(rows)


def time_wait_peaks(trace) -> dict:
    """{host: the most of its connections in TIME-WAIT at once} over a run."""
    peaks = {}
    for host in dict.fromkeys(trace.states["host"]):
        _, held = time_wait_count(trace.states, host)
        peaks[host] = int(held.max()) if len(held) else 0
    return peaks


def who_pays(rate_per_s: float = 50.0, duration_s: float = 60.0, progress: bool = True):
    """The same stream of short connections (default port range, ``rate_per_s`` a second for
    ``duration_s``), once with the client closing first and once with the server: a pandas
    DataFrame with each side's peak of TIME-WAIT connections and the failed connects."""
    import pandas as pd
    from tqdm.auto import tqdm

    from .simulator import run
    rows = []
    for closer in tqdm(("client", "server"), desc="who closes first", unit="run",
                       disable=not progress):
        trace = run(scenario(rate_per_s, LINUX_DEFAULT_PORT_RANGE, duration_s, closer=closer))
        peaks = time_wait_peaks(trace)
        connects = trace.events[trace.events["call"] == "connect"]
        rows.append({"closes first": closer, "connections": len(connects),
                     "client's TIME-WAIT peak": peaks.get("client", 0),
                     "server's TIME-WAIT peak": peaks.get("server", 0),
                     "failed connects": int((connects["result"] != "ok").sum())})
    return pd.DataFrame(rows)


def reuse_table(traces):
    """One row per connection (``course.capture_streams(name)``, or the connections of a
    run): the client's port, its SYN's and its FIN's sequence numbers, and, where an
    earlier connection used the same port, how far this SYN lies beyond that one's FIN
    (``tcp_twsk_unique()`` puts a takeover at FIN + 1 + 65537)."""
    import pandas as pd
    rows, last_fin = [], {}
    for k, trace in enumerate(traces):
        seg = trace.segments
        client = seg[seg["src"] == "client"]
        syn = client[client["flags"] == "S"]
        fin = client[client["flags"].str.contains("F")]
        port = int(client["sport"].iloc[0])
        syn_seq = int(syn["seq"].iloc[0]) if len(syn) else None
        beyond = None
        if syn_seq is not None and port in last_fin:
            beyond = (syn_seq - last_fin[port]) % 2**32
        if len(fin):
            last_fin[port] = int(fin["seq"].iloc[0])
        rows.append({"connection": k, "client port": port, "SYN seq": syn_seq,
                     "FIN seq": int(fin["seq"].iloc[0]) if len(fin) else None,
                     "SYN beyond the port's last FIN": beyond})
    return pd.DataFrame(rows).astype({"SYN seq": "Int64", "FIN seq": "Int64",
                                      "SYN beyond the port's last FIN": "Int64"})
