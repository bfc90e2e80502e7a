"""Delayed-ACK delay distribution in pingpong mode (fact 4).

Repeats 8 times: one quick request/response (server replies at once, which puts
the server into pingpong mode), then 50 ms later a request the server answers
only after 300 ms.  The server's pure ACK of that request is the delayed ACK.
Also issues requests 10 ms apart (gap < 40 ms) to see if ato grows.
Run: ip netns exec t1 python3 exp_delack_repeat.py /work/main/data/captures/raw/delack-repeat-mtu1500.pcap [port]
"""
import socket
import sys
import threading
import time

from common import HOST, capture, pcap_arg

PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 5051
M = b"0123456789"
N = 8


def server(ls):
    c, _ = ls.accept()
    for _ in range(N):
        c.recv(10); c.sendall(M)
        c.recv(10); time.sleep(0.3); c.sendall(M)
    while c.recv(100):
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
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(N):
            c.sendall(M); c.recv(10)
            time.sleep(0.05 if i % 2 == 0 else 0.01)
            c.sendall(M); c.recv(10)
        c.close()
        t.join()
    ls.close()


if __name__ == "__main__":
    main()
