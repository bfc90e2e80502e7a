"""Handshake options/windows and a small bulk transfer (facts 1 and 3).

Sequence: client connects; sends 100 B; server replies 50 B; client sends
100 kB in one sendall(); server reads everything; client close(); server
close() as soon as recv() returns 0.

Run (root):
    ip netns exec t1 python3 exp_handshake_data.py /work/main/data/captures/raw/handshake-data-mtu1500.pcap [port]
    python3 exp_handshake_data.py /work/main/data/captures/raw/handshake-data-mtu65536.pcap [port]
Then:  tcpdump -nn -v -tt -r <pcap>
"""
import socket
import sys
import threading
import time

from common import HOST, capture, log, pcap_arg

PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 5001
BULK = 100_000


def server(ls):
    c, _ = ls.accept()
    got = c.recv(100)
    log(f"server got {len(got)}")
    c.sendall(b"s" * 50)
    total = 0
    while True:
        d = c.recv(65536)
        if not d:
            break
        total += len(d)
    log(f"server read {total} then EOF, closing")
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
        log(f"client MSS option value TCP_MAXSEG={c.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)}")
        c.sendall(b"c" * 100)
        r = c.recv(50)
        log(f"client got {len(r)}")
        time.sleep(0.2)
        c.sendall(b"x" * BULK)
        log("client sendall done")
        time.sleep(0.3)
        c.close()
        t.join()
        time.sleep(0.3)
    ls.close()


if __name__ == "__main__":
    main()
