"""Loss of data segments during a 100 kB transfer (facts 7c, 7d, 7f) and of a FIN (7e).

nftables input rules (in the netns) drop chosen client->server segments:
  mid   drop exactly the 20th full-sized data segment (quota trick, see RULES)
  tail  drop the last data segment (the 88 B one: ip length 140) once
  fin   drop the client's FIN once (server reads to EOF and closes)
  rto   drop ALL client data for 3 s (RTO backoff)  [bulk reduced to 20 kB]
  iw    drop the server's pure ACKs for 3 s (shows the initial window and TLP/RTO)
Optional argv[3] = pacing rate in bytes/s (SO_MAX_PACING_RATE) for the client.
Run: ip netns exec t1 python3 exp_data_drop.py /work/main/data/captures/raw/drop-mid-mtu1500.pcap mid
"""
import socket
import subprocess
import sys
import threading
import time

from common import HOST, SSPoller, capture, log, pcap_arg

MODE = sys.argv[2]
PORT = {"mid": 5091, "tail": 5092, "fin": 5093, "rto": 5094, "iw": 5095}[MODE]
RATE = int(sys.argv[3]) if len(sys.argv) > 3 else None
BULK = 20_000 if MODE == "rto" else 100_000
P = f"tcp dport {PORT}"
RULES = {
    # "quota until N bytes" matches while the rule's byte count stays <= N (then stops matching):
    # the first rule lets 19 full 1500-byte packets through, the second drops the next one only.
    "mid": [f"{P} meta length 1500 quota until 28500 bytes accept",
            f"{P} meta length 1500 quota until 1500 bytes counter drop"],
    "tail": [f"{P} ip length 140 quota until 140 bytes counter drop"],
    "fin": [f"{P} tcp flags & fin == fin quota until 52 bytes counter drop"],
    "rto": [f"{P} meta length > 52 counter drop"],
    "iw": [f"tcp sport {PORT} meta length 52 counter drop"],
}[MODE]
DROP_FOR = 3.0 if MODE in ("rto", "iw") else None


def nft_load():
    body = "".join(f"  {r}\n" for r in RULES)
    subprocess.run(["nft", "-f", "-"], text=True, check=True, input=(
        "table inet f {\n chain in {\n  type filter hook input priority 0;\n" + body + " }\n}\n"))


def server(ls):
    c, _ = ls.accept()
    n = 0
    while True:
        d = c.recv(65536)
        if not d:
            break
        n += len(d)
    log(f"server read {n} B, EOF, close")
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
        if RATE:
            c.setsockopt(socket.SOL_SOCKET, 47, RATE)
        time.sleep(0.1)
        nft_load()
        log("rules loaded, sending")
        if MODE == "iw":
            poller = SSPoller(f"'( dport = :{PORT} )'", interval=0.02, duration=8)
            poller.start()
        c.sendall(b"x" * BULK)
        log("sendall returned")
        if DROP_FOR:
            time.sleep(DROP_FOR)
            subprocess.run(["nft", "delete", "table", "inet", "f"]); log("drop rule removed")
        time.sleep(0.5 if MODE != "rto" else 5)
        log("client close"); c.close()
        t.join()
        time.sleep(1.5)
        subprocess.run(["nft", "list", "table", "inet", "f"])
        subprocess.run(["nft", "delete", "table", "inet", "f"], stderr=subprocess.DEVNULL)
    ls.close()


if __name__ == "__main__":
    main()
