"""What the notebooks share: the real captures shipped with the course.

    from tcpsim import course
    course.capture("handshake")            # the real kernel's trace (read from the pcap)
    course.scenario("handshake")           # the scenario it ran (a dict, for tcpsim.run)
    course.simulate("handshake")           # that scenario through the simulator

The captures live in ``data/captures/`` at the top of the repository (see its README): each
is a scenario ``NAME.json``, the pcap the Linux kernel produced for it, and the applications'
results ``NAME.events.json``. Notebooks call these functions instead of writing paths, so a
notebook works wherever it is opened from (``notebooks/``, an nbgrader release folder, ...).
"""
from __future__ import annotations

import json
from pathlib import Path

CAPTURES_DIR = Path(__file__).resolve().parent.parent / "data" / "captures"


def _path(name: str, suffix: str) -> Path:
    path = CAPTURES_DIR / f"{name}{suffix}"
    if not path.is_file():
        known = ", ".join(names()) or "none"
        raise FileNotFoundError(f"no shipped capture {name!r} (known: {known})")
    return path


def names() -> list[str]:
    """The shipped captures, by name."""
    if not CAPTURES_DIR.is_dir():
        return []
    return sorted(p.stem for p in CAPTURES_DIR.glob("*.pcap"))


def capture_path(name: str) -> Path:
    """The pcap file of a shipped capture (for Wireshark, tcpdump -r, tcpsim.read_pcap)."""
    return _path(name, ".pcap")


def capture(name: str):
    """The real capture ``name`` as a Trace (``tcpsim.read_pcap``)."""
    from .pcap import read_pcap
    return read_pcap(capture_path(name))


def scenario(name: str) -> dict:
    """The scenario that was run on the real kernel to make capture ``name``."""
    return json.loads(_path(name, ".json").read_text())


def simulate(name: str, profile: str = "linux"):
    """The capture's scenario run through the simulator (``profile`` linux or rfc9293)."""
    from .simulator import run
    doc = scenario(name)
    doc["profile"] = profile
    return run(doc)


def events(name: str) -> list[dict]:
    """What the applications saw on the real kernel (call, result, time)."""
    return json.loads(_path(name, ".events.json").read_text())["events"]
