"""Nagle + delayed-ACK stall (fact 4 addendum).

The server is first put in pingpong mode by a quick request/response; 10 ms
later the client writes 10 B twice back-to-back (Nagle on, default). The
server only answers once it has 20 B. Repeated 3 times, 300 ms apart.
Run: ip netns exec t1 python3 exp_nagle.py /work/main/data/captures/raw/nagle-stall-mtu1500.pcap
"""
import socket
import threading
import time

from common import HOST, capture, log, pcap_arg

PORT = 5098
M = b"0123456789"


def recvn(s, n):
    b = b""
    while len(b) < n:
        b += s.recv(n - len(b))
    return b


def server(ls):
    c, _ = ls.accept()
    for _ in range(3):
        recvn(c, 10); c.sendall(M)
        recvn(c, 20); c.sendall(M)
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
        for i in range(3):
            time.sleep(0.3)
            c.sendall(M); recvn(c, 10)
            time.sleep(0.01)
            t0 = time.time()
            c.sendall(M); c.sendall(M); recvn(c, 10)
            log(f"round {i}: two writes + reply took {1000 * (time.time() - t0):.1f} ms")
        c.close()
        t.join()
    ls.close()


if __name__ == "__main__":
    main()
