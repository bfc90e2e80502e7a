"""The scenarios the benchmarks share: a lossy bulk transfer, closed by both sides."""


def bulk(n_bytes, *, seed=3, loss_p=0.01, loss_from=None, delay_s=None, send_at=0.01,
         close_at=0.01, until=None):
    """The client sends ``n_bytes`` at MTU 1500 through random loss, then both sides close."""
    loss = {"p": loss_p, **({"from": loss_from} if loss_from else {})}
    link = {"mtu": 1500, **({"delay": delay_s} if delay_s is not None else {})}
    doc = {"profile": "linux", "seed": seed, "link": link,
           "hosts": {"client": {"port": 40000}, "server": {"port": 5001}},
           "actions": [{"at": 0, "host": "server", "do": "listen"},
                       {"at": 0, "host": "client", "do": "connect", "to": "server"},
                       {"at": send_at, "host": "client", "do": "send", "bytes": n_bytes},
                       {"at": close_at, "host": "client", "do": "close"},
                       {"on": "eof", "host": "server", "do": "close"}],
           "faults": [{"loss": loss}]}
    if until is not None:
        doc["until"] = until
    return doc
