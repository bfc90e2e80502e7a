"""The answers and feedback of the course's choice questions, in clear: for instructors only.

The package (what students install) holds them only sealed, in
``tcpsim/exercises/sealed.py``: the right choice as a salted digest, and the feedback of
every choice unreadable without that choice (``tcpsim.exercises.answers.seal``). After
editing this file, run

    .venv/bin/python instructors/seal_answers.py

which rewrites ``sealed.py``; ``tests/test_grading.py`` fails while the two disagree.

Each question: ``right``, the key of the right choice (the keys are those of the choices'
texts in ``tcpsim/exercises/``; for a question whose order is shuffled per student, the
letter a student sees is not the key), and ``feedback``, one text for every key: for the
right one, why it is right; for a wrong one, the idea that was missed (never "one more than
the answer", never the right choice).
"""

QUESTIONS = {
    # notebook 02, exercise 4: why the server's connection exists only after the third segment
    "02-ex4": {
        "right": "b",   # RFC 9293 §3.5, Figure 9 (old duplicate SYN); RFC 4987
        "feedback": {
            "a": "Look at the capture: on Linux the third segment has len = 0, yet accept() "
                 "returns when it arrives.",
            "b": "The ACK of the third segment can only be right if the client saw the "
                 "SYN-ACK, so the client is alive, at that address, and wants *this* "
                 "connection (RFC 9293 §3.5). Until then the server keeps only a small "
                 "request entry, which also limits what a SYN flood can cost it.",
            "c": "The client's window is already in its SYN (not scaled there, RFC 7323 §2.2).",
            "d": "That is how SYN cookies work, a special mode Linux uses only under a SYN "
                 "flood (RFC 4987 §3.6). Normally the server stores its ISN in the request "
                 "entry.",
        },
    },
    # notebook 02, exercise 5: the server's first SYN-ACK is lost; what does the server do?
    "02-ex5": {
        "right": "b",   # Linux TCP_TIMEOUT_INIT = 1 s (include/net/tcp.h), RFC 6298 §2.1
        "feedback": {
            "a": "The server does not just wait: a connection in SYN-RECEIVED has sent "
                 "something (its SYN) that must be acknowledged, and RFC 9293 §3.8.1 says "
                 "every segment that occupies sequence space is retransmitted until "
                 "acknowledged.",
            "b": "A listener keeps the half-open connection in SYN-RECEIVED with its own "
                 "retransmission timer, which starts at 1 s (RFC 6298 §2.1). The client's "
                 "SYN timer also runs out at about 1 s, so the client retransmits its SYN "
                 "too, and the server answers that SYN with one more SYN-ACK.",
            "c": "Which RFC sets the first retransmission timeout, and which year is it "
                 "from? RFC 1122 (1989) and RFC 6298 §2.1 (2011) disagree, and Linux "
                 "follows the newer one (TCP_TIMEOUT_INIT in include/net/tcp.h).",
            "d": "A retransmission re-sends the same sequence space: a new ISN would be a "
                 "new connection, and the client's ACK of the first one would no longer "
                 "match.",
        },
    },
    # notebook 02, section 6 (ungraded quick check): connect() to a port nobody listens on
    "02-refused": {
        "right": "b",   # RFC 9293 §3.10.7.1 (segment arrives in state CLOSED)
        "feedback": {
            "a": "That is what a firewall that drops packets causes. A host whose TCP gets a "
                 "SYN for a port without a listener answers it itself: RFC 9293 §3.10.7.1.",
            "b": "RFC 9293 §3.10.7.1: a segment for a connection that does not exist "
                 "(state CLOSED) is answered with a reset. The SYN had no ACK, so the reset "
                 "carries ACK = the SYN's seq + 1 and seq 0.",
            "c": "A SYN-ACK would mean that somebody listens on that port.",
            "d": "ICMP port unreachable is how a host answers UDP to a closed port. TCP has "
                 "its own way to say no.",
        },
    },
    # notebook 01, section 4 (ungraded quick check): how does a server answer a SYN?
    "01-synack": {
        "right": "a",   # RFC 9293 §3.5 (Figure 6, line 3: <SEQ=300><ACK=101><CTL=SYN,ACK>)
        "feedback": {
            "a": "A SYN-ACK is one segment whose flags byte has two bits set, SYN (0x02) and "
                 "ACK (0x10): 0x12. RFC 9293 §3.5, Figure 6, line 3: <CTL=SYN,ACK>.",
            "b": "The ACK and the SYN travel in the same segment: every TCP segment has room "
                 "for all eight control bits, and the server sets two of them at once. Look "
                 "at the capture's second frame.",
            "c": "The SYN and the ACK travel in the same segment: the flags are bits of one "
                 "header, not separate messages. Count the segments from the server in the "
                 "capture.",
        },
    },
    # notebook 07, exercise 3: the server closed with unread data (a RST); the client's read()
    "07-ex3": {
        "right": "b",   # RFC 9293 §3.10.7.4 (RST in a synchronized state: "connection
        #                 reset"); measured: docs/linux-facts.md §6 (ECONNRESET 104 once)
        "feedback": {
            "a": "0 is what read() returns after a FIN: an orderly end, all the data "
                 "delivered. A RST says the opposite: the peer threw the connection away, "
                 "possibly with data nobody read.",
            "b": "A RST in an established connection makes the TCP report \"connection "
                 "reset\" to the application (RFC 9293 §3.10.7.4): ECONNRESET, once. Linux "
                 "then returns 0 from later reads, and a send() fails with EPIPE.",
            "c": "The RST arrived, and the client's TCP processed it at once: there is no "
                 "connection left to wait on.",
            "d": "A RST carries no data, and the server's unread bytes are simply dropped: "
                 "this is why closing with unread data is dangerous.",
        },
    },
    # notebook 07, section 3 (ungraded quick check): why four segments, and why often three?
    "07-four-or-three": {
        "right": "b",   # RFC 9293 §3.6; Linux pingpong after a FIN (docs/linux-facts.md §5)
        "feedback": {
            "a": "Look at the capture of the three-segment close: the middle segment is a "
                 "FIN that also acknowledges the first FIN.",
            "b": "The ACK belongs to the TCP, the FIN to the application: RFC 9293 §3.6 lets "
                 "a side keep sending after the peer's FIN, so the two can be far apart. "
                 "Linux delays the ACK of a FIN by up to 40 ms, and an application that "
                 "closes within that time sends one FIN+ACK.",
            "c": "The close is not always three: in the four-segment capture the server's "
                 "application closed 0.5 s later, and its TCP had ACKed the FIN long before.",
            "d": "A pure ACK takes no sequence number and is never acknowledged; that is "
                 "why the last ACK can be lost, notebook 08's subject.",
        },
    },
    # notebook 00 (ungraded practice question): when does connect() return?
    "00-connect-returns": {
        "right": "a",   # RFC 9293 §3.5
        "feedback": {
            "a": "Once the SYN-ACK arrives the client knows all it needs: the server's ISN, "
                 "and that its own SYN arrived. It sends the third segment and connect() "
                 "returns at once (RFC 9293 §3.5).",
            "b": "The third segment is a pure ACK, and nobody acknowledges a pure ACK: it "
                 "takes no sequence number.",
            "c": "A connection is open before any data flows; the server may never send any.",
        },
    },
}
