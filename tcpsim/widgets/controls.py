"""The explorer's built-in controls: for each name, a widget and how its value changes the
scenario.

Each ``make_<name>(base)`` takes the base scenario (a dict) and returns ``(widget, apply)``:
the widget starts at the base scenario's value, and ``apply(scenario, value)`` changes a
copy of the scenario in place. ``BUILT_IN`` lists them in the order they are applied.

The ``drop`` control is not here: its choices depend on the run itself (see explorer.py).
"""
from __future__ import annotations

import math

import ipywidgets as widgets

FIXED_ISNS = (1000, 5000)          # the "fixed value" ISNs: first host, second host
OLD_SYN_SEQ = 1_000_000            # sequence number of the old duplicate SYN
MTUS = (576, 1280, 1500, 9000, 65536)
MSS_CHOICES = (("from the MTU", 0), ("88", 88), ("256", 256), ("536", 536), ("1000", 1000),
               ("1460", 1460))
WIDE = {"description_width": "initial"}


# ----------------------------------------------------------------- reading the scenario
def host_names(scenario) -> list:
    return list(scenario["hosts"])


def host_spec(scenario, name) -> dict:
    """The host's entry, created if it is empty (``null`` or missing)."""
    if not scenario["hosts"].get(name):
        scenario["hosts"][name] = {}
    return scenario["hosts"][name]


def host_options(scenario, name) -> dict:
    """The host's ``options`` object, created if it is empty."""
    spec = host_spec(scenario, name)
    if not spec.get("options"):
        spec["options"] = {}
    return spec["options"]


def link(scenario) -> dict:
    if not scenario.get("link"):
        scenario["link"] = {}
    return scenario["link"]


def faults(scenario) -> list:
    if not scenario.get("faults"):
        scenario["faults"] = []
    return scenario["faults"]


def connecting_host(scenario) -> str:
    """The host whose application calls connect() (the first one), else the first host."""
    for action in scenario.get("actions") or []:
        if action.get("do") == "connect":
            return action["host"]
    return host_names(scenario)[0]


def last_action_time(scenario) -> float:
    times = [a["at"] for a in scenario.get("actions") or [] if a.get("at") is not None]
    return max(times, default=0.0)


# ------------------------------------------------------------------------ the controls
def make_profile(base):
    widget = widgets.ToggleButtons(options=["linux", "rfc9293"],
                                   value=base.get("profile") or "linux", description="profile")

    def apply(scenario, value):
        scenario["profile"] = value
    return widget, apply


def make_seed(base):
    seed = base.get("seed") or 0
    widget = widgets.IntSlider(value=seed, min=0, max=max(99, seed), description="seed",
                               continuous_update=False)

    def apply(scenario, value):
        scenario["seed"] = value
    return widget, apply


def make_delay_ms(base):
    """One-way link delay in milliseconds, on a log scale from 0.01 ms (loopback) to 1 s."""
    delay_ms = 1000 * ((base.get("link") or {}).get("delay") or 0.00001)
    widget = widgets.FloatLogSlider(value=min(max(delay_ms, 0.01), 1000), base=10, min=-2,
                                    max=3, step=0.05, readout_format=".3g",
                                    description="delay (ms)", style=WIDE,
                                    continuous_update=False)

    def apply(scenario, value):
        link(scenario)["delay"] = value / 1000
    return widget, apply


def make_loss(base):
    """Random loss of every segment with this probability (drawn from the scenario's seed)."""
    widget = widgets.FloatSlider(value=0.0, min=0.0, max=0.5, step=0.01, readout_format=".2f",
                                 description="loss", continuous_update=False)

    def apply(scenario, value):
        if value > 0:
            faults(scenario).append({"loss": {"p": value}})
    return widget, apply


def make_mtu(base):
    mtu = (base.get("link") or {}).get("mtu") or 65536
    widget = widgets.SelectionSlider(options=sorted(set(MTUS) | {mtu}), value=mtu,
                                     description="MTU", continuous_update=False)

    def apply(scenario, value):
        link(scenario)["mtu"] = value
    return widget, apply


def make_mss(base):
    """Both hosts announce at most this MSS (``options.mss``); "from the MTU" leaves it."""
    widget = widgets.SelectionSlider(options=MSS_CHOICES, value=0, description="MSS",
                                     continuous_update=False)

    def apply(scenario, value):
        if value:
            for name in host_names(scenario):
                host_options(scenario, name)["mss"] = value
    return widget, apply


def make_isn(base):
    """How both hosts choose their initial sequence numbers."""
    fixed = any((spec or {}).get("isn") is not None for spec in base["hosts"].values())
    zero = any(((spec or {}).get("options") or {}).get("isn_strategy") == "zero"
               for spec in base["hosts"].values())
    widget = widgets.Dropdown(options=[("random (RFC 6528)", "rfc6528"),
                                       ("fixed value", "fixed"), ("zero", "zero")],
                              value="fixed" if fixed else ("zero" if zero else "rfc6528"),
                              description="ISN")

    def apply(scenario, value):
        for k, name in enumerate(host_names(scenario)):
            spec = host_spec(scenario, name)
            if value == "fixed":
                if spec.get("isn") is None:        # keep a value the scenario fixed
                    spec["isn"] = FIXED_ISNS[k]
            else:
                spec["isn"] = None
                host_options(scenario, name)["isn_strategy"] = value
    return widget, apply


def make_old_syn_at(base):
    """When an old duplicate SYN (an earlier incarnation's, sequence number ``OLD_SYN_SEQ``)
    from the connecting host arrives at the other host: an ``inject`` fault."""
    end = last_action_time(base) + 1.0
    # it left at t >= 0, so it cannot arrive before one link delay: from there on every
    # step of the slider moves it (below, they all sent it at 0 and drew the same run)
    delay = link(base).get("delay")
    first = math.ceil(round((0.00001 if delay is None else delay) * 100, 6)) / 100
    widget = widgets.FloatSlider(value=first, min=first, max=round(max(end, first + 0.01), 2),
                                 step=0.01, readout_format=".2f",
                                 description="old SYN arrives at (s)", style=WIDE,
                                 continuous_update=False)

    def apply(scenario, value):
        delay = link(scenario).get("delay")
        delay = 0.00001 if delay is None else delay
        faults(scenario).append({"inject": {"at": max(0.0, value - delay),
                                            "from": connecting_host(scenario), "flags": "S",
                                            "seq": OLD_SYN_SEQ}})
    return widget, apply


BUILT_IN = {
    "profile": make_profile,
    "seed": make_seed,
    "delay_ms": make_delay_ms,
    "loss": make_loss,
    "mtu": make_mtu,
    "mss": make_mss,
    "isn": make_isn,
    "old_syn_at": make_old_syn_at,
}
