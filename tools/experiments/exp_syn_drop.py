"""SYN retransmission schedule (fact 7a): every SYN to the listener is dropped.

An nftables input rule drops all SYNs to PORT; the client connect()s (optionally
with TCP_SYNCNT=argv[3]) and the script reports when/with which errno connect fails.
Use a dedicated netns because the script owns `table inet f` for the whole run.
Run: ip netns exec t2 python3 exp_syn_drop.py /work/main/data/captures/raw/syn-drop-default-mtu1500.pcap 5081
     ip netns exec t2 python3 exp_syn_drop.py /work/main/data/captures/raw/syn-drop-syncnt2-mtu1500.pcap 5082 2
"""
import errno
import socket
import sys
import time

from common import HOST, capture, log, nft, pcap_arg

PORT = int(sys.argv[2])
SYNCNT = int(sys.argv[3]) if len(sys.argv) > 3 else None


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((HOST, PORT))
    ls.listen()
    rules = ("table inet f {\n chain in {\n  type filter hook input priority 0;\n"
             f"  tcp dport {PORT} tcp flags & (syn|ack) == syn counter drop\n }}\n}}\n")
    with nft(rules), capture(pcap_arg(), f"tcp port {PORT}"):
        c = socket.socket()
        if SYNCNT is not None:
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, SYNCNT)
        t0 = time.time()
        log("connect()")
        try:
            c.connect((HOST, PORT))
            log("connected?!")
        except OSError as e:
            log(f"connect failed after {time.time() - t0:.3f} s: errno={e.errno} "
                f"({errno.errorcode.get(e.errno)})")
    ls.close()


if __name__ == "__main__":
    main()
