"""Capture reading speed (tcpsim.pcap): prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_pcap.py [--packets N] [--repeat R]

Builds a capture of about 100 000 packets (a simulated bulk transfer with 1 % loss, so
there are SACK options, duplicate ACKs and retransmissions to label), writes it with
``write_pcap`` into a temporary directory, then times, in this one process:

* bare dpkt: ``dpkt.pcap.Reader`` plus the Ethernet / IP / TCP decode of every packet,
  the least any dpkt-based reader can do (the baseline);
* ``tcpsim.read_pcap`` (everything: connections, rows, labels, states);
* scapy's ``rdpcap``, if scapy is importable (``pip install scapy`` into the venv; it is
  not a tcpsim dependency).

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bulk.pcap")
        start = time.perf_counter()
        trace = simulate(args.packets)
        simulated = time.perf_counter() - start
        start = time.perf_counter()
        write_pcap(trace.doc, path)
        written = time.perf_counter() - start
        packets = len(trace.doc["segments"])
        print(f"capture: {packets} packets, {os.path.getsize(path) / 1e6:.1f} MB "
              f"(simulated in {simulated:.2f} s, written by write_pcap in {written:.2f} s)")

        bare = best_of(lambda: bare_dpkt(path), args.repeat)
        ours = best_of(lambda: tcpsim.read_pcap(path), args.repeat)
        print(f"bare dpkt iteration + decode : {bare:.3f} s  ({packets / bare:,.0f} packets/s)")
        print(f"tcpsim.read_pcap             : {ours:.3f} s  ({packets / ours:,.0f} packets/s)"
              f"  = {ours / bare:.2f}x bare dpkt (target <= 2x)")
        try:
            logging.getLogger("scapy").setLevel(logging.ERROR)
            from scapy.all import rdpcap      # scapy.all loads the layers (Ether, IP, TCP)
        except ImportError:
            print("scapy rdpcap                 : (scapy not installed: "
                  ".venv/bin/pip install scapy)")
            return
        scapy = best_of(lambda: rdpcap(path), 1)
        print(f"scapy rdpcap                 : {scapy:.3f} s  ({packets / scapy:,.0f} packets/s)"
              f"  read_pcap is {scapy / ours:.1f}x faster (target >= 5x)")


if __name__ == "__main__":
    main()
