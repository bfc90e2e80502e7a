"""``python -m tcpsim``: run scenarios and read captures from the command line."""
from __future__ import annotations

import argparse
import json
import sys

from .errors import CaptureError, ScenarioError

DESCRIPTION = """\
tcpsim: a deterministic TCP connection simulator (see docs/ and ../shared/tcpsim-json.md).

  python -m tcpsim run scenario.json      simulate; print the trace JSON
  python -m tcpsim run - < scenario.json  the scenario from standard input
  python -m tcpsim pcap capture.pcap      a real capture as the same trace JSON

An invalid scenario or capture prints one line naming the field or byte offset
and exits with status 2.
"""


def _parser():
    parser = argparse.ArgumentParser(prog="python -m tcpsim", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="simulate a scenario and print its trace JSON",
                           description="Simulate a scenario file (or - for stdin) and print "
                                       "the trace JSON of the contract.")
    run_p.add_argument("file", help="scenario JSON file, or - for standard input")
    run_p.add_argument("--indent", type=int, default=None, help="pretty-print with this indent")
    pcap_p = sub.add_parser("pcap", help="read a real capture and print its trace JSON",
                            description="Read a pcap/pcapng capture and print the trace JSON.")
    pcap_p.add_argument("file", help="capture file (.pcap or .pcapng)")
    pcap_p.add_argument("--stream", default=None,
                        help="which connection: an index from --list, or ADDR:PORT-ADDR:PORT")
    pcap_p.add_argument("--list", action="store_true", help="list the connections in the file")
    pcap_p.add_argument("--indent", type=int, default=None, help="pretty-print with this indent")
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            from .simulator import run
            source = args.file
            if source == "-":
                try:
                    source = json.loads(sys.stdin.read())
                except json.JSONDecodeError as err:
                    raise ScenarioError(f"(stdin): invalid JSON at line {err.lineno} "
                                        f"column {err.colno}: {err.msg}") from None
            print(run(source).to_json(indent=args.indent))
        elif args.command == "pcap":
            from . import pcap
            if args.list:
                for line in pcap.list_streams(args.file):
                    print(line)
            else:
                print(pcap.read_pcap(args.file, stream=args.stream).to_json(indent=args.indent))
    except (ScenarioError, CaptureError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return 0
