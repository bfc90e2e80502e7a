"""tcpsim.ghosts: RFC 9293 Figure 8 under the two handshakes, the ghost finder, and the
Monte Carlo. Expectations are derived from each run's own segments, not copied."""
from __future__ import annotations

import math

import pytest

import tcpsim
from tcpsim import ghosts as g

SEQ_SPACE = 2 ** 32


def run(handshake, **kw):
    return tcpsim.run(g.old_duplicate_scenario(handshake, **kw))


def rows(trace, **where):
    seg = trace.segments
    for key, value in where.items():
        seg = seg[seg[key] == value]
    return seg


@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_three_way_recovers_as_figure_8(profile):
    """Figure 8: the server answers the old SYN; the client RSTs the SYN-ACK with SEQ = its
    ACK; the server goes SYN-RECEIVED -> LISTEN; the client's own SYN then opens the one
    connection, accepted once."""
    t = run("three-way", profile=profile)
    old = rows(t, src="client", flags="S")
    old = old[old["injected"].fillna(False).astype(bool)].iloc[0]
    bogus = rows(t, src="server", flags="SA").iloc[0]
    assert bogus["ack"] == (old["seq"] + 1) % SEQ_SPACE
    rst = rows(t, src="client", flags="R").iloc[0]
    assert rst["seq"] == bogus["ack"] and rst["t"] == pytest.approx(bogus["arrival"])
    st = t.states[(t.states["host"] == "server") & (t.states["conn"] == 0)]
    assert list(st["to"]) == ["SYN-RECEIVED", "LISTEN"]
    assert st["t"].iloc[-1] == pytest.approx(rst["arrival"])
    assert g.count_ghosts(t) == 0
    ev = t.events
    assert list(ev[(ev["host"] == "server") & (ev["call"] == "accept")]["result"]) == ["ok"]
    assert list(ev[(ev["host"] == "client") & (ev["call"] == "connect")]["result"]) == ["ok"]
    # the greeting went to the real connection only
    greet = rows(t, src="server")
    greet = greet[greet["len"] == len(g.GREETING)]
    assert set(greet["conn"]) == {1}


def test_two_way_accepts_the_old_syn():
    """Two-way: the server is ESTABLISHED on the old SYN, its application accepts it and
    greets nobody; the client believes in one connection, the server accepted two."""
    t = run("two-way")
    found = g.ghosts(t)
    assert len(found) == 1
    ghost = found.iloc[0]
    old = rows(t, src="client", flags="S")
    old = old[old["injected"].fillna(False).astype(bool)].iloc[0]
    assert ghost["peer_isn"] == old["seq"] == g.OLD_SYN_SEQ
    assert ghost["accepted_at"] == pytest.approx(old["arrival"])
    greet = rows(t, src="server", conn=ghost["conn"])
    assert (greet["len"] == len(g.GREETING)).any()
    ev = t.events
    assert (ev[(ev["host"] == "server")]["call"] == "accept").sum() == 2
    assert (ev[(ev["host"] == "client")]["call"] == "connect").sum() == 1
    # the client's RST ends it here (its ack is exactly the ghost's RCV.NXT)
    rst = rows(t, src="client", flags="R").iloc[0]
    assert ghost["ended_at"] == pytest.approx(rst["arrival"])


def test_ghost_columns_and_server_name():
    t = run("three-way")
    assert list(g.ghosts(t).columns) == ["conn", "accepted_at", "peer_isn", "ended_at"]
    with pytest.raises(ValueError, match="server: 'nobody' is not a host"):
        g.ghosts(t, server="nobody")


@pytest.mark.parametrize("bad, message", [
    (dict(handshake="four-way"), "handshake: 'four-way' is not one of"),
    (dict(loss_p=2), "loss_p: a number from 0 to 1"),
    (dict(old_syn_arrival_s=-1), "old_syn_arrival_s: a number at least 0"),
    (dict(delay_s="fast"), "delay_s: a number at least 0"),
])
def test_bad_arguments_name_the_field(bad, message):
    handshake = bad.pop("handshake", "two-way")
    with pytest.raises(ValueError, match=message):
        g.old_duplicate_scenario(handshake, **bad)


def real_syn_arrival(trace):
    syns = rows(trace, src="client", flags="S")
    syns = syns[~syns["injected"].fillna(False).astype(bool) & ~syns["dropped"]]
    return float(syns["arrival"].min())


def server_holds(trace):
    """(from, to): when the server's real connection held the client's ports."""
    st = trace.states
    real = st[(st["host"] == "server") & (st["socket"] == "server")]
    opened = float(real[real["to"].isin(["ESTABLISHED", "SYN-RECEIVED"])]["t"].min())
    closed = real[real["to"] == "CLOSED"]["t"]
    return opened, float(closed.max()) if not closed.empty else math.inf


def test_monte_carlo_two_way_ghost_exactly_when_the_ports_are_free():
    """Without loss, a two-way run has a ghost exactly when the old SYN reaches the server
    while no connection of the server holds the client's ports; three-way never has one."""
    results = g.monte_carlo(60, progress=False)
    assert set(results["handshake"]) == {"two-way", "three-way"}
    assert (results[results["handshake"] == "three-way"]["ghosts"] == 0).all()
    two = results[results["handshake"] == "two-way"]
    assert 0 < (two["ghosts"] > 0).mean() < 1
    for _, r in two.iterrows():
        t = tcpsim.run(g.old_duplicate_scenario(
            "two-way", old_syn_arrival_s=r["old_syn_arrival_s"],
            client_syn_extra_s=r["client_syn_extra_s"]))
        arrival = r["old_syn_arrival_s"]
        ghost = g.ghosts(t)
        if ghost.empty:
            opened, closed = real_syn_arrival(t), server_holds(t)[1]
            assert opened <= arrival + 1e-9 and arrival <= closed + 1e-9, r
        else:
            assert ghost["accepted_at"].iloc[0] == pytest.approx(arrival)
    assert results.attrs["seconds"] > 0
    fractions = g.ghost_fractions(results)
    assert fractions["three-way"] == 0 and fractions["two-way"] == (two["ghosts"] > 0).mean()


def test_monte_carlo_with_loss_still_no_ghost_under_three_way():
    results = g.monte_carlo(60, loss_p=0.2, progress=False, seed=3)
    assert (results[results["handshake"] == "three-way"]["ghosts"] == 0).all()
    assert (results[results["handshake"] == "two-way"]["ghosts"] > 0).any()


def test_monte_carlo_same_draws_for_both_handshakes_and_reproducible():
    a = g.monte_carlo(10, progress=False, seed=5)
    b = g.monte_carlo(10, progress=False, seed=5)
    cols = ["handshake", "run", "old_syn_arrival_s", "client_syn_extra_s", "ghosts"]
    assert a[cols].equals(b[cols])
    two, three = (a[a["handshake"] == h].reset_index(drop=True) for h in g.HANDSHAKES)
    assert two["old_syn_arrival_s"].equals(three["old_syn_arrival_s"])
    with pytest.raises(ValueError, match="runs: a positive whole number"):
        g.monte_carlo(0)


def test_fractions_figure_and_widget(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    results = g.monte_carlo(10, progress=False)
    fig = g.fractions_figure(results)
    fig.savefig(tmp_path / "fractions.png")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["two-way", "three-way"]
    box = g.ghost_widget(runs=20)
    assert len(box.children) == 5


def test_handshake_control_sets_both_hosts():
    toggle, apply = g.handshake_control("three-way")
    assert list(toggle.options) == list(g.HANDSHAKES) and toggle.value == "three-way"
    sc = g.old_duplicate_scenario("two-way")
    sc["hosts"]["client"]["options"] = None
    apply(sc, "three-way")
    assert {h["options"]["handshake"] for h in sc["hosts"].values()} == {"three-way"}
    assert g.count_ghosts(tcpsim.run(sc)) == 0
    with pytest.raises(ValueError, match="handshake"):
        g.handshake_control("one-way")
