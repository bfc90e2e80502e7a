"""The two exceptions that bad input raises.

Both are ``ValueError`` subclasses whose message is one line naming the field
(``actions[3].bytes: must be a positive integer``) or the byte offset
(``capture.pcap: packet 17 at byte 2311 is truncated``). The CLI prints that
line and exits with status 2.
"""


class ScenarioError(ValueError):
    """A scenario document is invalid. The message names the offending field."""


class CaptureError(ValueError):
    """A capture file cannot be read. The message names the file and byte offset."""
