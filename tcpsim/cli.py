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
  python -m tcpsim ladder FILE -o out.svg a ladder diagram (also: states, timeseq) of a
                                          scenario, a trace JSON, or a .pcap/.pcapng

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
    for kind, what in (("ladder", "a ladder (sequence) diagram"),
                       ("states", "the state graph with one host's path"),
                       ("timeseq", "a time-sequence graph")):
        plot_p = sub.add_parser(kind, help=f"draw {what} (PNG or SVG, for slides)",
                                description=f"Draw {what} of a scenario (simulated first), a "
                                            "trace JSON, or a capture, into -o (.png or .svg).")
        plot_p.add_argument("file", help="scenario JSON, trace JSON, or .pcap/.pcapng capture")
        plot_p.add_argument("-o", "--output", required=True, help="output file (.png or .svg)")
        plot_p.add_argument("--host", default=None, help="whose path / data (default: the first host)")
        plot_p.add_argument("--t", type=float, default=None, help="states: the time to show")
        plot_p.add_argument("--absolute", action="store_true", help="ladder: absolute seq/ack")
        plot_p.add_argument("--options", action="store_true", help="ladder: show TCP options")
        plot_p.add_argument("--segments", default=None, metavar="FIRST:STOP|all",
                            help="ladder: which segments to draw, like a slice (0:10, 50:) or "
                                 "'all' (default: the first 50, with a note when there are more)")
    return parser


def _segments(text):
    """The ladder's ``segments=`` from the --segments text ("all", "0:10", "50:")."""
    if text is None or text == "all":
        return text
    first, sep, stop = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return (int(first) if first else None, int(stop) if stop else None)
    except ValueError:
        raise ScenarioError(f"--segments: expected FIRST:STOP (e.g. 0:10, 50:) or 'all', "
                            f"got {text!r}") from None


def _load_trace(path):
    """A trace from a capture, a trace JSON, or a scenario (which is simulated)."""
    from .trace import Trace
    if path.endswith((".pcap", ".pcapng")):
        from .pcap import read_pcap
        return read_pcap(path)
    try:
        with open(path) as fh:
            doc = json.load(fh)
    except OSError as err:
        raise ScenarioError(f"{path}: {err.strerror.lower()}") from None
    except json.JSONDecodeError as err:
        raise ScenarioError(f"{path}: invalid JSON at line {err.lineno} column {err.colno}: "
                            f"{err.msg}") from None
    if isinstance(doc, dict) and "segments" in doc:
        return Trace(doc)
    from .simulator import run
    return run(doc)


def _draw(args):
    import matplotlib
    matplotlib.use("Agg")
    from . import plots
    trace = _load_trace(args.file)
    if args.command == "ladder":
        segments = _segments(args.segments)
        try:
            fig = plots.ladder(trace, labels="absolute" if args.absolute else "relative",
                               options=args.options, segments=segments)
        except ValueError as err:        # a window that selects no segment, say
            raise ScenarioError(f"--segments: {err}") from None
    elif args.command == "states":
        fig = plots.state_graph(trace, host=args.host, t=args.t)
    else:
        fig = plots.time_sequence(trace, host=args.host)
    fig.savefig(args.output)


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
        elif args.command in ("ladder", "states", "timeseq"):
            _draw(args)
    except (ScenarioError, CaptureError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return 0
