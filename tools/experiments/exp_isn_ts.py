"""ISN and TSval randomisation (fact 2).

Opens N short connections to the same listener (sequentially, 50 ms apart),
some from a fixed source port (SO_REUSEADDR + bind, after the previous one
was aborted with RST so no TIME-WAIT blocks the reuse), and prints nothing:
read the pcap with summarize.sh / tcpdump -nn -tt -v.
Run: ip netns exec t1 python3 exp_isn_ts.py /work/main/data/captures/raw/isn-ts-mtu1500.pcap
"""
import socket
import struct
import sys
import time

from common import HOST, capture, pcap_arg

PORT = 5030


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((HOST, PORT))
    ls.listen(16)
    with capture(pcap_arg(), f"tcp port {PORT} and tcp[tcpflags] & tcp-syn != 0"):
        for i in range(8):
            c = socket.socket()
            c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if i >= 4:
                c.bind((HOST, 40000))  # same 4-tuple each time
            c.connect((HOST, PORT))
            s, _ = ls.accept()
            for x in (c, s):  # abort both -> no TIME-WAIT
                x.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                x.close()
            time.sleep(0.05)
    ls.close()


if __name__ == "__main__":
    main()
