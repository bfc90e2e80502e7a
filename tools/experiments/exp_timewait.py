"""TIME-WAIT behaviour when the peer retransmits its FIN (fact 8).

Client closes first, server closes on EOF (3-segment close). An nft input rule
drops the client's pure ACKs (52-byte segments to the server port) for 3 s, so
the server (LAST-ACK) retransmits its FIN several times and the client, already
in TIME-WAIT, answers each one. `ss -tano` is printed every 0.25 s to show the
TIME-WAIT timer being restarted.
Run: ip netns exec t1 python3 exp_timewait.py /work/main/data/captures/raw/timewait-finrtx-mtu1500.pcap
"""
import socket
import subprocess
import threading
import time

from common import HOST, capture, log, pcap_arg

PORT = 5096


def server(ls):
    c, _ = ls.accept()
    c.recv(10)
    c.sendall(b"0123456789")
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
        c.sendall(b"0123456789"); c.recv(10)
        time.sleep(0.2)
        subprocess.run(["nft", "-f", "-"], text=True, check=True, input=(
            "table inet f {\n chain in {\n  type filter hook input priority 0;\n"
            f"  tcp dport {PORT} meta length 52 tcp flags == ack counter drop\n }}\n}}\n"))
        log("client close (its final ACKs will be dropped for 3 s)")
        c.close()
        t0 = time.time()
        removed = False
        while time.time() - t0 < 6:
            if not removed and time.time() - t0 > 3:
                subprocess.run(["nft", "list", "table", "inet", "f"])
                subprocess.run(["nft", "delete", "table", "inet", "f"]); removed = True
                log("rule removed")
            out = subprocess.run(f"ss -tano state all '( sport = :{PORT} or dport = :{PORT} )'",
                                 shell=True, capture_output=True, text=True).stdout
            for l in out.splitlines()[1:]:
                if "LISTEN" not in l:
                    print(f"  +{time.time() - t0:5.2f}s", " ".join(l.split()))
            time.sleep(0.25)
        t.join()
    ls.close()


if __name__ == "__main__":
    main()
