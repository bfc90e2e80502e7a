"""Capture reading speed (tcpsim.pcap): prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_pcap.py [--packets N] [--repeat R]

Builds a capture of about 100 000 packets (a simulated bulk transfer with 1 % loss, so
there are SACK options, duplicate ACKs and retransmissions to label), writes it with
``write_pcap`` into a temporary directory, then times, in this one process:

* bare dpkt: ``dpkt.pcap.Reader`` plus the Ethernet / IP / TCP decode of every packet,
  the least any dpkt-based reader can do (the baseline);
* ``tcpsim.read_pcap`` (everything: connections, rows, labels, states);
* scapy's ``rdpcap``, if scapy is importable: ``make benchmarks`` installs it from
  benchmarks/requirements.txt (a benchmark-only dependency, never the students').

Targets: read_pcap <= 2x bare dpkt, and >= 5x faster than scapy. The dpkt and read_pcap
figures are the best of R runs (3), to keep other processes' noise out; scapy runs once.
"""
from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time

import dpkt

import tcpsim
from tcpsim.pcap import write_pcap

from scenarios import bulk

MSS_PAYLOAD = 1448          # bytes per full segment at MTU 1500 with timestamps


def simulate(packets):
    """A trace of about ``packets`` segments: a first guess, then one corrected run."""
    size = packets * MSS_PAYLOAD // 2
    trace = tcpsim.run(bulk(size, seed=11))
    got = len(trace.doc["segments"])
    if abs(got - packets) > packets // 20:
        trace = tcpsim.run(bulk(int(size * packets / got), seed=11))
    return trace


def bare_dpkt(path):
    n = 0
    with open(path, "rb") as f:
        for _ts, frame in dpkt.pcap.Reader(f):
            tcp = dpkt.ethernet.Ethernet(frame).data.data
            n += tcp.__class__ is dpkt.tcp.TCP
    return n


def best_of(fn, repeat):
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best


def run(quick=False, packets=100_000, repeat=3) -> dict:
    """The figures for a capture of about ``packets`` packets (2 000 with ``quick``)."""
    if quick:
        packets, repeat = 2_000, 1
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bulk.pcap")
        start = time.perf_counter()
        trace = simulate(packets)
        figures["capture: simulated s"] = round(time.perf_counter() - start, 3)
        start = time.perf_counter()
        write_pcap(trace.doc, path)
        figures["capture: written by write_pcap s"] = round(time.perf_counter() - start, 3)
        packets = len(trace.doc["segments"])
        figures["capture: packets"] = packets
        figures["capture: MB"] = round(os.path.getsize(path) / 1e6, 1)

        bare = best_of(lambda: bare_dpkt(path), repeat)
        ours = best_of(lambda: tcpsim.read_pcap(path), repeat)
        figures.update({"bare dpkt iteration + decode: s": round(bare, 3),
                        "bare dpkt: packets/s": round(packets / bare),
                        "tcpsim.read_pcap: s": round(ours, 3),
                        "tcpsim.read_pcap: packets/s": round(packets / ours),
                        "read_pcap / bare dpkt (target <= 2)": round(ours / bare, 2)})
        try:
            logging.getLogger("scapy").setLevel(logging.ERROR)
            from scapy.all import rdpcap      # scapy.all loads the layers (Ether, IP, TCP)
        except ImportError:
            figures["scapy rdpcap"] = ("not installed (benchmarks/requirements.txt; "
                                       "make benchmarks installs it)")
            return figures
        scapy = best_of(lambda: rdpcap(path), 1)
        figures.update({"scapy rdpcap: s": round(scapy, 3),
                        "scapy rdpcap: packets/s": round(packets / scapy),
                        "scapy / read_pcap (target >= 5)": round(scapy / ours, 1)})
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for name, value in run(packets=args.packets, repeat=args.repeat).items():
        print(f"  {name:45s} {value}")


if __name__ == "__main__":
    main()
