"""The one practice question of notebook 00 (how predict-then-reveal works)."""
from .feedback import choice_check

CONNECT_RETURNS_QUESTION = "The client's connect() returns when its TCP has received ...?"
CONNECT_RETURNS_CHOICES = {
    "a": "the server's SYN-ACK",
    "b": "an acknowledgment of the client's third segment",
    "c": "the first data from the server",
}
check_connect_returns = choice_check(
    CONNECT_RETURNS_CHOICES, answer="a",
    right_message="Once the SYN-ACK arrives the client knows all it needs: the server's ISN, "
                  "and that its own SYN arrived. It sends the third segment and connect() "
                  "returns at once (RFC 9293 §3.5).",
    hints={"b": "The third segment is a pure ACK, and nobody acknowledges a pure ACK: it "
                "takes no sequence number.",
           "c": "A connection is open before any data flows; the server may never send any."})
