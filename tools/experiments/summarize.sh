#!/bin/sh
# Compact one-line-per-segment listing of a pcap (relative seq/ack, raw window field).
# Usage: summarize.sh file.pcap
tshark -r "$1" -T fields -E separator=' ' \
  -e frame.time_relative -e tcp.srcport -e tcp.dstport -e tcp.flags.str -e tcp.seq -e tcp.ack -e tcp.len \
  -e tcp.window_size_value -e tcp.options.timestamp.tsval -e tcp.options.timestamp.tsecr -e tcp.options.sack_le -e tcp.options.sack_re 2>/dev/null |
awk '{printf "%10.6f %5s>%-5s %-12s seq=%-7s ack=%-7s len=%-6s win=%-6s tsv=%s tse=%s %s %s\n",$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12}'
