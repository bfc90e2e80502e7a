"""Close sequences (fact 5) with `ss` state polling.

Modes (argv[2]):
  a   request/response of 10 B, then client close(); server close() 0.5 s later
  b   request/response, client close(); server close() as soon as recv() returns 0
  b2  client sends 10 B only (server never sent data), client close(); server closes on EOF
  c   simultaneous close: both sides call close() at (almost) the same moment
      (on loopback the first FIN is delivered before the 2nd close() -> not truly crossing)
  c2  crossing FINs: an nftables input rule drops every FIN for 100 ms while both sides
      close(); both are in FIN-WAIT-1 when the retransmitted FINs arrive
  d   client shutdown(SHUT_WR) after its request; server then sends 3 x 1000 B
      (100 ms apart), then closes; client reads to EOF then closes
Run: ip netns exec t1 python3 exp_close.py /work/main/data/captures/raw/close-a-mtu1500.pcap a
The ss lines printed show state changes (polled every 5 ms) incl. timer:(timewait,...).
"""
import socket
import subprocess
import sys
import threading
import time

from common import HOST, SSPoller, capture, log, pcap_arg

MODE = sys.argv[2] if len(sys.argv) > 2 else "a"
PORT = {"a": 5061, "b": 5062, "b2": 5063, "c": 5064, "c2": 5066, "d": 5065}[MODE]
M = b"0123456789"
go = threading.Event()


def server(ls):
    c, _ = ls.accept()
    c.recv(10)
    if MODE == "b2":
        c.recv(10)
        log("server got EOF -> close"); c.close(); return
    if MODE == "d":
        c.sendall(M)
        assert c.recv(10) == b""
        log("server got EOF (half-close), now sending 3 x 1000 B")
        for _ in range(3):
            c.sendall(b"d" * 1000); time.sleep(0.1)
        c.close(); return
    c.sendall(M)
    if MODE in ("c", "c2"):
        go.wait(); log("server close (simultaneous)"); c.close(); return
    d = c.recv(10)
    log(f"server recv -> {d!r}")
    if MODE == "a":
        time.sleep(0.5)
    log("server close"); c.close()


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((HOST, PORT))
    ls.listen()
    with capture(pcap_arg(), f"tcp port {PORT}"):
        poller = SSPoller(f"'( sport = :{PORT} or dport = :{PORT} )'", interval=0.005, duration=4.5)
        t = threading.Thread(target=server, args=(ls,))
        t.start()
        c = socket.create_connection((HOST, PORT))
        c.sendall(M)
        if MODE != "b2":
            c.recv(10)
        time.sleep(0.2)
        poller.start()
        time.sleep(0.05)
        if MODE == "c":
            go.set(); log("client close (simultaneous)"); c.close()
        elif MODE == "c2":
            subprocess.run(["nft", "-f", "-"], text=True, check=True, input=(
                "table inet f {\n chain in {\n  type filter hook input priority 0;\n"
                f"  tcp sport {PORT} tcp flags & fin == fin counter drop\n"
                f"  tcp dport {PORT} tcp flags & fin == fin counter drop\n }}\n}}\n"))
            go.set(); log("client close (FINs dropped for 100 ms)"); c.close()
            time.sleep(0.1)
            subprocess.run(["nft", "list", "table", "inet", "f"])
            subprocess.run(["nft", "delete", "table", "inet", "f"]); log("drop rule removed")
        elif MODE == "d":
            log("client shutdown(SHUT_WR)"); c.shutdown(socket.SHUT_WR)
            n = 0
            while True:
                d = c.recv(4096)
                if not d:
                    break
                n += len(d)
            log(f"client read {n} then EOF; close"); c.close()
        else:
            log("client close"); c.close()
        t.join()
        time.sleep(1.0)
        poller.stop = True
        poller.join()
    ls.close()


if __name__ == "__main__":
    main()
