"""SYN-ACK loss (fact 7b): every SYN-ACK from the listener is dropped on input.

Shows the server's SYN-ACK retransmission schedule (tcp_synack_retries) and the
client's SYN retransmissions, until connect() fails. Polls `ss` for the
SYN-RECV request socket. Use a dedicated netns (the script owns `table inet f`).
Run: ip netns exec t3 python3 exp_synack_drop.py /work/main/data/captures/raw/synack-drop-mtu1500.pcap 5083 [syncnt]
"""
import errno
import socket
import sys
import time

from common import HOST, SSPoller, capture, log, nft, pcap_arg

PORT = int(sys.argv[2])
SYNCNT = int(sys.argv[3]) if len(sys.argv) > 3 else None


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((HOST, PORT))
    ls.listen()
    rules = ("table inet f {\n chain in {\n  type filter hook input priority 0;\n"
             f"  tcp sport {PORT} tcp flags & (syn|ack) == syn|ack counter drop\n }}\n}}\n")
    with nft(rules), capture(pcap_arg(), f"tcp port {PORT}"):
        poller = SSPoller(f"'( sport = :{PORT} or dport = :{PORT} )'", interval=0.2, duration=200)
        poller.start()
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
        time.sleep(1)
        poller.stop = True
    ls.close()


if __name__ == "__main__":
    main()
