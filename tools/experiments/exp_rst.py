"""RST generation (fact 6).

Modes (argv[2]):
  a  connect() to a port with no listener -> RST, errno
  b  server close() with 100 unread bytes in its receive buffer -> RST; client recv() errno
  c  server SO_LINGER {1,0} close() with nothing unread -> RST; client recv() errno
  d  client close() normally (FIN), server then writes 10 B to the orphaned client socket
     (FIN-WAIT-2) -> client kernel answers with RST; server's 2nd send() errno
  e  segment for a connection that no longer exists: the server aborts (SO_LINGER 0) while an
     nft rule drops the RST, then the client sends 10 B -> RST from the no-socket path
Run: ip netns exec t1 python3 exp_rst.py /work/main/data/captures/raw/rst-a-mtu1500.pcap a
"""
import errno
import socket
import struct
import subprocess
import sys
import time

from common import HOST, capture, log, pcap_arg

MODE = sys.argv[2] if len(sys.argv) > 2 else "a"
PORT = {"a": 5071, "b": 5072, "c": 5073, "d": 5074, "e": 5075}[MODE]
M = b"0123456789"


def err(e):
    return f"{type(e).__name__} errno={e.errno} ({errno.errorcode.get(e.errno)})"


def main():
    with capture(pcap_arg(), f"tcp port {PORT}"):
        if MODE == "a":
            c = socket.socket()
            try:
                c.connect((HOST, PORT))
            except OSError as e:
                log(f"connect: {err(e)}")
            return
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((HOST, PORT))
        ls.listen()
        c = socket.create_connection((HOST, PORT))
        s, _ = ls.accept()
        c.sendall(M); s.recv(10); s.sendall(M); c.recv(10)
        time.sleep(0.2)
        if MODE == "b":
            c.sendall(b"u" * 100); time.sleep(0.1)
            log("server close() with 100 unread bytes"); s.close()
        elif MODE == "c":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            log("server close() with SO_LINGER {1,0}"); s.close()
        elif MODE == "d":
            log("client close()"); c.close(); time.sleep(0.1)
            log("server send 10 B to closed peer"); s.sendall(M); time.sleep(0.1)
            try:
                s.sendall(M); log("2nd send ok")
            except OSError as e:
                log(f"server 2nd send: {err(e)}")
            try:
                log(f"server recv -> {s.recv(10)!r}")
            except OSError as e:
                log(f"server recv: {err(e)}")
            return
        elif MODE == "e":
            subprocess.run(["nft", "-f", "-"], text=True, check=True, input=(
                "table inet f {\n chain in {\n  type filter hook input priority 0;\n"
                f"  tcp sport {PORT} tcp flags & rst == rst counter drop\n }}\n}}\n"))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            log("server abort (RST dropped)"); s.close(); time.sleep(0.1)
            subprocess.run(["nft", "delete", "table", "inet", "f"])
            log("client sends 10 B"); c.sendall(M); time.sleep(0.1)
        time.sleep(0.1)
        for op in ("recv", "recv", "send"):
            try:
                r = c.recv(10) if op == "recv" else c.send(M)
                log(f"client {op} -> {r!r}")
            except OSError as e:
                log(f"client {op}: {err(e)}")
        time.sleep(0.1)


if __name__ == "__main__":
    main()
