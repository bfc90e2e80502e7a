"""Handshake option layout under different sysctls (fact 1, variants).

Connect, client sends 10 B, server echoes 10 B, both close.  The caller sets
per-netns sysctls first, e.g. (in netns t1; the sysctls are per-netns):
    ip netns exec t1 sysctl -w net.ipv4.tcp_timestamps=0
    ip netns exec t1 python3 exp_handshake_opts.py /work/main/data/captures/raw/handshake-nots-mtu1500.pcap 5002
    ip netns exec t1 sysctl -w net.ipv4.tcp_timestamps=1 net.ipv4.tcp_sack=0
    ...
Then: tcpdump -nn -v -tt -r <pcap>
"""
import socket
import sys
import threading
import time

from common import HOST, capture, pcap_arg

PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 5002


def server(ls):
    c, _ = ls.accept()
    c.sendall(c.recv(10))
    time.sleep(0.2)
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
        c.sendall(b"0123456789")
        c.recv(10)
        time.sleep(0.1)
        c.close()
        t.join()
    ls.close()


if __name__ == "__main__":
    main()
