"""Receiver ACK policy and window growth with a paced sender (fact 3).

Loopback delivers a whole burst before the receiver runs, which hides the
per-segment ACK policy.  Here the client caps its pacing rate with
SO_MAX_PACING_RATE (default 1.5 MB/s, ~1 segment per ms at MTU 1500) so every
segment arrives on its own; the server reads continuously.
Client sends 100 B, server answers 50 B, then client sends BULK bytes, closes.
Run: ip netns exec t1 python3 exp_bulk_paced.py /work/main/data/captures/raw/bulk-paced-mtu1500.pcap [rate] [bulk] [noreq]
"""
import socket
import sys
import threading
import time

from common import HOST, capture, log, pcap_arg

PORT = 5040
SO_MAX_PACING_RATE = getattr(socket, "SO_MAX_PACING_RATE", 47)
RATE = int(sys.argv[2]) if len(sys.argv) > 2 else 1_500_000
BULK = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
# 4th arg "noreq": skip the 100 B / 50 B exchange, bulk right after connect
NOREQ = len(sys.argv) > 4 and sys.argv[4] == "noreq"


def server(ls):
    c, _ = ls.accept()
    if not NOREQ:
        c.recv(100)
        c.sendall(b"s" * 50)
    while c.recv(65536):
        pass
    c.close()


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((HOST, PORT))
    ls.listen()
    with capture(pcap_arg(), f"tcp port {PORT}"):
        t = threading.Thread(target=server, args=(ls,))
        t.start()
        c = socket.create_connection((HOST, PORT))
        c.setsockopt(socket.SOL_SOCKET, SO_MAX_PACING_RATE, RATE)
        if not NOREQ:
            c.sendall(b"c" * 100)
            c.recv(50)
            time.sleep(0.1)
        c.sendall(b"x" * BULK)
        log("sendall done")
        time.sleep(0.2)
        c.close()
        t.join()
    ls.close()


if __name__ == "__main__":
    main()
