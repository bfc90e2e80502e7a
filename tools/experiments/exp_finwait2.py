"""Orphaned FIN-WAIT-2 lifetime (fact 9).

Client close()s, the server never closes. The orphaned client socket sits in
FIN-WAIT-2 with a timer of tcp_fin_timeout; after it expires the socket vanishes
silently. The server then close()s: its FIN reaches no socket -> RST.
Shorten the timeout first (per-netns sysctl) to keep the run short:
    ip netns exec t1 sysctl -w net.ipv4.tcp_fin_timeout=5
    ip netns exec t1 python3 exp_finwait2.py /work/main/data/captures/raw/finwait2-timeout5-mtu1500.pcap
    ip netns exec t1 sysctl -w net.ipv4.tcp_fin_timeout=60
"""
import socket
import subprocess
import threading
import time

from common import HOST, capture, log, pcap_arg

PORT = 5097


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((HOST, PORT))
    ls.listen()
    with capture(pcap_arg(), f"tcp port {PORT}"):
        c = socket.create_connection((HOST, PORT))
        s, _ = ls.accept()
        c.sendall(b"0123456789"); s.recv(10); s.sendall(b"0123456789"); c.recv(10)
        time.sleep(0.2)
        log("client close; server keeps its socket open")
        c.close()
        t0 = time.time()
        last = None
        while time.time() - t0 < 8:
            out = subprocess.run(f"ss -tano state all '( sport = :{PORT} or dport = :{PORT} )'",
                                 shell=True, capture_output=True, text=True).stdout
            lines = [" ".join(l.split()) for l in out.splitlines()[1:] if "LISTEN" not in l]
            if lines != last or int((time.time() - t0) * 4) % 4 == 0:
                for l in lines:
                    print(f"  +{time.time() - t0:5.2f}s {l}")
                last = lines
            time.sleep(0.25)
        log("server close() now")
        s.close()
        time.sleep(0.5)
    ls.close()


if __name__ == "__main__":
    main()
