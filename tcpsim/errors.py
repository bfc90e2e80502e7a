"""The exceptions that bad input (or a run that never settles) raises.

Both are ``ValueError`` subclasses whose message is one line naming the field
(``actions[3].bytes: must be a positive integer``) or the byte offset
(``capture.pcap: packet 17 at byte 2311 is truncated``). The CLI prints that
line and exits with status 2.
"""


class ScenarioError(ValueError):
    """A scenario document is invalid. The message names the offending field."""


class SimulationStuck(ScenarioError):
    """A run that does not settle (a livelock): one line naming what kept repeating.

    A ``ScenarioError`` so that the CLI and the widgets show its one line like any other
    refusal; its message says whether the scenario asked for it (``on: eof`` actions that
    reconnect for ever) or it is a tcpsim bug to report."""


class CaptureError(ValueError):
    """A capture file cannot be read. The message names the file and byte offset."""
