"""Delayed ACK / quickack / pingpong behaviour (fact 4) plus Nagle interplay.

Phases (client C, server S, 10-byte messages, each phase ~0.3-1.2 s apart):
  A  fresh connection: C sends 10 B, S reads it but replies only after 1 s.
  B  3 quick request/response exchanges (S replies at once), 100 ms apart.
  C  C sends 10 B, S reads it and replies only after 1 s.
  D  S sends 10 B unsolicited; C reads it, never replies.
  E  C writes 10 B twice back-to-back (Nagle on), S answers after 20 B.
  F  same as E with TCP_NODELAY on the client.
  then C closes, S closes on EOF.
Run: ip netns exec t1 python3 exp_delack.py /work/main/data/captures/raw/delack-mtu1500.pcap [port]
Read with: tcpdump -nn -ttt -r <pcap>  (the script prints phase timestamps)
"""
import socket
import sys
import threading
import time

from common import HOST, capture, log, pcap_arg

PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 5050
M = b"0123456789"


def recvn(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            return b
        b += d
    return b


def server(ls):
    c, _ = ls.accept()
    recvn(c, 10); time.sleep(1.0); c.sendall(M)          # A
    for _ in range(3):                                   # B
        recvn(c, 10); c.sendall(M)
    recvn(c, 10); time.sleep(1.0); c.sendall(M)          # C
    time.sleep(0.5); c.sendall(M)                         # D
    recvn(c, 20); c.sendall(M)                            # E
    recvn(c, 20); c.sendall(M)                            # F
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
        time.sleep(0.3)
        log("A: send 10, server replies after 1 s"); c.sendall(M); recvn(c, 10)
        time.sleep(0.3)
        for i in range(3):
            log(f"B{i}: quick exchange"); c.sendall(M); recvn(c, 10); time.sleep(0.1)
        time.sleep(0.2)
        log("C: send 10, server replies after 1 s"); c.sendall(M); recvn(c, 10)
        recvn(c, 10); log("D: got unsolicited 10 B")
        time.sleep(1.0)
        log("E: two back-to-back 10 B writes (Nagle)"); c.sendall(M); c.sendall(M); recvn(c, 10)
        time.sleep(0.5)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        log("F: same with TCP_NODELAY"); c.sendall(M); c.sendall(M); recvn(c, 10)
        time.sleep(0.5)
        log("close"); c.close()
        t.join()
    ls.close()


if __name__ == "__main__":
    main()
