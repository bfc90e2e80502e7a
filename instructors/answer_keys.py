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
    # notebook 03, section 5 (ungraded quick check): a cookie SYN-ACK, the third segment lost
    "03-cookie-ack-loss": {
        "right": "b",   # syncookies-ack-loss (real capture); net/ipv4/syncookies.c
        "feedback": {
            "a": "Retransmitting needs the SYN-ACK's ISN, and a listener that sent a cookie "
                 "kept nothing of the SYN: what would it retransmit, and when?",
            "b": "The cookie was the only copy of the state, and it went to the client. The "
                 "listener has no request, so no timer and nothing to send; only a segment "
                 "from the client carrying ack = cookie + 1 (its data, in the capture) makes "
                 "the connection.",
            "c": "A timer needs a request to belong to; a listener that answered with a "
                 "cookie has none for this SYN.",
            "d": "A new cookie would need a new SYN: the cookie is computed from the SYN's "
                 "fields, and the listener no longer has them.",
        },
    },
    # notebook 04, section 6 (ungraded quick check): a restarted client's SYN meets its old,
    # half-open connection on the server
    "04-half-open": {
        "right": "b",   # RFC 9293 §3.5.1 Figure 9; RFC 5961 §4; capture interview-syn-established
        "feedback": {
            "a": "The ports are taken by the old connection, which the server still believes "
                 "in: a SYN reaches that connection, not the listener.",
            "b": "A SYN on a synchronized connection gets an ACK of the current numbers (RFC "
                 "5961 §4, the challenge ACK). It acknowledges nothing the new SYN sent, so "
                 "the client resets it, and its next SYN finds the ports free (RFC 9293 "
                 "Figure 9).",
            "c": "The server answers at once; only the client's reset ends the old "
                 "connection, and no timer is needed.",
            "d": "A reset comes from the side that has no connection, here the restarted "
                 "client; the server still has one, and answers as a connection does.",
        },
    },
    # notebook 05, exercise 3: the program stops reading; the window after 16 more segments
    "05-ex3": {
        "right": "c",   # data/captures/paced-noread: 77 -> 62 units; __tcp_select_window()
        "feedback": {
            "a": "The window is not the buffer's size but what the receiver can still take "
                 "(RFC 9293 §3.8.6.2.2): data that nobody reads stays in the buffer and "
                 "takes room.",
            "b": "That is the textbook receiver (RCV.WND = buffer minus unread bytes, the "
                 "rfc9293 profile). Linux counts its buffer in memory, and each segment's "
                 "bookkeeping costs memory too, so it offers only a share of the free memory "
                 "as window, and it never moves the window's right edge back.",
            "c": "Linux offers a fixed share of its free buffer memory as window (about two "
                 "thirds here: the rest pays for each segment's bookkeeping, "
                 "tcp_win_from_space()), "
                 "so each unread 1448-byte segment takes about 1 KB off the window, not "
                 "1448 bytes; the textbook receiver of RFC 9293 takes off every byte.",
            "d": "The window closes only when the buffer is (nearly) full: here it falls "
                 "step by step for hundreds of milliseconds before it reaches 0 (section 6).",
        },
    },
    # notebook 05, section 3 (ungraded quick check): how many ACKs for 21 full segments?
    "05-one-ack": {
        "right": "c",   # RFC 9293 §3.8.6.3, RFC 5681 §4.2; docs/linux-facts.md §4, §13.1
        "feedback": {
            "a": "RFC 5681 §4.2 asks for an ACK for at least every second full-sized "
                 "segment, and Linux sends one for every segment at the start of a "
                 "connection: a burst gets many ACKs.",
            "b": "RFC 9293 §3.8.6.3 lets a receiver delay ACKs, and Linux does, except at "
                 "the start of a connection (its quick-ACKs).",
            "c": "Linux ACKs every segment at once at the start (quick-ACK mode), every second "
                 "full segment in interactive (pingpong) mode, and a lone segment after its "
                 "40 ms delayed-ACK timer; a read can send a pending ACK too.",
            "d": "The receiving TCP sends ACKs whether or not the program reads; a read can "
                 "only send an ACK that was still pending.",
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
    # notebook 08, exercise 2: the last ACK is lost; the server's FIN comes again
    "08-ex2": {
        "right": "b",   # RFC 9293 §3.10.7.4 TIME-WAIT: "Acknowledge it, and restart the
        #                 2 MSL timeout"; linux tcp_timewait_state_process() (measured:
        #                 data/captures/timewait-last-ack-lost)
        "feedback": {
            "a": "TIME-WAIT exists for exactly this segment: if the client only waited, the "
                 "server would retransmit its FIN until it gave up, and end in error.",
            "b": "RFC 9293 §3.10.7.4: in TIME-WAIT \"the only thing that can arrive ... is a "
                 "retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL "
                 "timeout.\" The new ACK may be lost too, so the client again waits long "
                 "enough to answer one more FIN.",
            "c": "A RST is what a host with no connection answers. The client still has the "
                 "connection, in TIME-WAIT: that is the point of the state.",
            "d": "The ACK is right, the timer is not: this ACK may be lost as well, and the "
                 "wait has to cover one more FIN after it.",
        },
    },
    # notebook 09, section 3 (ungraded quick check): a capture on the server; which gap is the RTT?
    "09-vantage": {
        "right": "b",   # RFC 9293 §3.5: the SYN-ACK answers the SYN at once, the ACK comes back
        "feedback": {
            "a": "On the server the SYN arrives and the SYN-ACK leaves at once: that gap is "
                 "the server's own reaction time, microseconds.",
            "b": "The server sees its SYN-ACK leave and the client's ACK come back: there and "
                 "back. (On the client it is the other gap, SYN to SYN-ACK.)",
            "c": "That adds the server's reaction time to the round trip: close, but the "
                 "round trip is the part between a segment leaving and its answer coming back.",
            "d": "Any capture shows one round trip in the handshake: the one that starts with "
                 "a segment its own host sends.",
        },
    },
    # notebook 09, exercise 3: a server's ss shows one TIME-WAIT socket per finished request
    "09-ex3": {
        "right": "b",   # RFC 9293 §3.6 (the side that sends the first FIN goes through TIME-WAIT)
        "feedback": {
            "a": "Who connected says nothing about who closes: only whose FIN goes first "
                 "does. Which side's state does the TIME-WAIT belong to?",
            "b": "TIME-WAIT is the state of the side that sent the first FIN (RFC 9293 §3.6): "
                 "a server that closes each connection after its answer (HTTP/1.0, or a "
                 "server-side timeout) keeps one TIME-WAIT socket per request, 60 s each on "
                 "Linux.",
            "c": "A simultaneous close puts *both* sides in TIME-WAIT; an ordinary close "
                 "gives it to one side only.",
            "d": "A reset ends a connection at once, with no TIME-WAIT on either side.",
        },
    },
    # notebook 08, section 8 (ungraded quick check): an RST at RCV.NXT reaches TIME-WAIT
    "08-rst-in-time-wait": {
        "right": "b",   # linux tcp_timewait_state_process() with tcp_rfc1337 = 0 (default);
        #                 RFC 9293 §3.10.7.4; measured: data/captures/timewait-rst-rfc1337-off
        "feedback": {
            "a": "That is RFC 1337's proposed fix, which Linux has only with tcp_rfc1337 = 1. "
                 "Its default, 0, follows RFC 9293 §3.10.7.4: a valid RST closes the "
                 "connection, in TIME-WAIT too.",
            "b": "RFC 9293 §3.10.7.4 lets a valid RST close a connection in TIME-WAIT, and "
                 "Linux does so by default (tcp_rfc1337 = 0): the 4-tuple is free again at "
                 "once, before old segments have died out. RFC 1337 calls it TIME-WAIT "
                 "assassination.",
            "c": "TIME-WAIT answers segments that carry sequence space (a FIN) or fall outside "
                 "the window; a RST is never answered, or two hosts could reset each other "
                 "for ever.",
            "d": "That is what a retransmitted FIN does. A RST at exactly RCV.NXT is a valid "
                 "reset, and a valid reset does not keep a connection alive.",
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
    # notebook 10, self-test item 1: why three segments and not two
    "10-q1": {
        "right": "b",   # RFC 9293 §3.5 ("to prevent old duplicate connection initiations")
        "feedback": {
            "a": "Testing both directions is a consequence, not the reason RFC 9293 §3.5 "
                 "gives. Think of a SYN that arrives late, from a connection the client gave "
                 "up long ago: what would a two-segment handshake do with it?",
            "b": "RFC 9293 §3.5: the principal reason is to keep old duplicate SYNs from "
                 "opening connections. Only the ACK of the server's ISN, which the client can "
                 "send only if it saw the SYN-ACK, proves that the client wants this "
                 "connection now.",
            "c": "The client's window is already in its SYN (unscaled there, RFC 7323 §2.2).",
            "d": "On Linux the third segment usually carries no data at all, yet the "
                 "server's accept() returns when it arrives.",
        },
    },
    # notebook 10, self-test item 2: SYNs sent before ETIMEDOUT (randomized tcp_syn_retries)
    "10-q2": {
        "right": "a",   # linux tcp_syn_linear_timeouts = 4 and retransmits_timed_out(): measured
        "feedback": {
            "a": "Linux 6.18 sends its first SYN retransmissions 1 s apart "
                 "(tcp_syn_linear_timeouts = 4), and gives up by time: at the first expiry "
                 "after the time that tcp_syn_retries doublings from 1 s would take "
                 "(retransmits_timed_out()), so it sends more SYNs than tcp_syn_retries + 1.",
            "b": "Count the first SYN too, not only its retransmissions.",
            "c": "That is the textbook count, one per retry plus the first. Linux gives up by "
                 "time, not by count, and its first retransmissions are 1 s apart, not "
                 "doubling: look at the run of section 3.",
            "d": "The first SYN is not a retry, and Linux does not stop at the count: it "
                 "gives up by time.",
        },
    },
    # notebook 10, self-test item 3: the third segment of the handshake is lost
    "10-q3": {
        "right": "a",   # linux tcp_check_req(); capture interview-ack-loss
        "feedback": {
            "a": "Every segment after the SYN carries the ACK flag and the same "
                 "acknowledgment number, so the first data segment does what the lost ACK "
                 "would have done (RFC 9293 §3.10.7.4; Linux tcp_check_req()).",
            "b": "The client is already ESTABLISHED: it saw the SYN-ACK. What does its next "
                 "segment carry besides the data?",
            "c": "A segment with a valid ACK completes a handshake in SYN-RECEIVED, data or "
                 "not (RFC 9293 §3.10.7.4, fifth check).",
            "d": "A pure ACK takes no sequence number, so nobody acknowledges it and nothing "
                 "retransmits it. The server, in SYN-RECEIVED, would retransmit its SYN-ACK.",
        },
    },
    # notebook 10, self-test item 4: a SYN on an established connection
    "10-q4": {
        "right": "a",   # RFC 5961 §4; RFC 9293 §3.10.7.4; capture interview-syn-established
        "feedback": {
            "a": "RFC 5961 §4 (now in RFC 9293 §3.10.7.4): a SYN in a synchronized state gets "
                 "a challenge ACK. A rebooted client, in SYN-SENT, finds that ACK "
                 "unacceptable and answers with an RST at its ack number, which ends the old "
                 "connection; Linux then sends the SYN again a few ms later.",
            "b": "Before RFC 5961 it was an RST. An RST at once would let anyone who can "
                 "guess the ports reset a connection with one blind SYN.",
            "c": "The server cannot know that the SYN is not forged or old: it must not throw "
                 "away a live connection for it.",
            "d": "Look at the capture interview-syn-established: the server does answer.",
        },
    },
    # notebook 10, self-test item 5: TIME-WAIT length on Linux (randomized tcp_fin_timeout)
    "10-q5": {
        "right": "a",   # include/net/tcp.h TCP_TIMEWAIT_LEN; capture time-wait-fin-timeout5
        "feedback": {
            "a": "TIME-WAIT on Linux is TCP_TIMEWAIT_LEN, 60 s, a constant of the kernel "
                 "(include/net/tcp.h); tcp_fin_timeout is the limit of an orphaned "
                 "FIN-WAIT-2.",
            "b": "tcp_fin_timeout limits an orphaned FIN-WAIT-2, not TIME-WAIT: look at the "
                 "capture time-wait-fin-timeout5.",
            "c": "No sysctl sets TIME-WAIT on Linux, and tcp_fin_timeout is not an MSL.",
            "d": "That is RFC 9293's 2 × MSL. Linux does not use an MSL: its TIME-WAIT is a "
                 "constant of the kernel.",
        },
    },
    # notebook 10, self-test item 6: where TIME-WAITs pile up
    "10-q6": {
        "right": "a",   # RFC 9293 §3.6; notebook 07's table of captures
        "feedback": {
            "a": "The side that sends the first FIN waits in TIME-WAIT, client or server. A "
                 "server that closes first collects them; they hold little memory and no "
                 "port of the server, as every one of them uses the listening port.",
            "b": "A peer that never closes leaves sockets in CLOSE-WAIT, not TIME-WAIT.",
            "c": "tcp_tw_reuse acts on connect(): it lets a client take over its own "
                 "TIME-WAIT 4-tuple. A server's TIME-WAITs were accepted, not connected.",
            "d": "Every one of them has the server's listening port on its side; ephemeral "
                 "ports are the connecting side's problem.",
        },
    },
    # notebook 10, self-test item 7: CLOSE-WAITs
    "10-q7": {
        "right": "a",   # RFC 9293 §3.6: CLOSE-WAIT waits for the local close; close-wait-leak
        "feedback": {
            "a": "CLOSE-WAIT means: the peer's FIN arrived and was ACKed, and the local "
                 "program has not called close(). No timer ends it; only the program can.",
            "b": "The server has not sent a FIN yet: that is what CLOSE-WAIT means.",
            "c": "tcp_fin_timeout ends an orphaned FIN-WAIT-2 on the other side; nothing "
                 "ends CLOSE-WAIT but close(). Look at the capture close-wait-leak.",
            "d": "A socket is in CLOSE-WAIT because the peer's FIN did arrive.",
        },
    },
    # notebook 10, self-test item 8: what SYN cookies cost
    "10-q8": {
        "right": "a",   # RFC 4987 §3.6; linux cookie_v4_init_sequence(); syncookies-no-ts
        "feedback": {
            "a": "A cookie is the server's ISN: 32 bits that hold a MAC, a time counter and "
                 "an MSS index (two bits: four MSS values). With timestamps Linux hides the "
                 "window scale and SACK in the timestamp; without them they are lost "
                 "(RFC 4987 §3.6; capture syncookies-no-ts).",
            "b": "Linux (tcp_syncookies = 1, the default) sends cookies only when the SYN "
                 "queue is full, because they do cost something.",
            "c": "The cookie is a keyed hash, as unpredictable as a normal ISN.",
            "d": "The handshake has its three segments as usual: the cost is in what the "
                 "cookie can remember.",
        },
    },
    # notebook 10, self-test item 9: keepalive and a vanished peer (randomized settings)
    "10-q9": {
        "right": "a",   # linux tcp_keepalive_timer(); capture keepalive-dead-peer
        "feedback": {
            "a": "The first probe leaves after TCP_KEEPIDLE of silence, then one every "
                 "TCP_KEEPINTVL; when TCP_KEEPCNT probes have gone unanswered and one more "
                 "interval has passed, the kernel gives up, sends an RST and reports "
                 "ETIMEDOUT.",
            "b": "After the last probe the kernel waits one more interval for its answer.",
            "c": "The probes start only after the idle time.",
            "d": "Without keepalive that is true: an idle connection to a vanished peer "
                 "stays ESTABLISHED for ever. SO_KEEPALIVE is what makes it send probes.",
        },
    },
    # notebook 10, self-test item 10: shutdown(SHUT_WR) against close()
    "10-q10": {
        "right": "a",   # RFC 9293 §3.6.1 (half-closed); capture half-close
        "feedback": {
            "a": "SHUT_WR sends a FIN and closes only the sending direction (RFC 9293 "
                 "§3.6.1): the program still reads until the peer's FIN, as in the capture "
                 "half-close.",
            "b": "close() gives up the socket; shutdown(SHUT_WR) keeps it open for reading.",
            "c": "The FIN leaves at the shutdown() call: that is what SHUT_WR is for.",
            "d": "An RST comes from close() with unread data or with SO_LINGER 0, not from "
                 "shutdown().",
        },
    },
    # notebook 06, section 3 (ungraded quick check): a segment overtaken by three later ones
    "06-reorder": {
        "right": "b",   # RFC 8985 §6.2 (RACK), RFC 2883 (D-SACK); capture reorder
        "feedback": {
            "a": "That is the textbook's rule (RFC 5681 §3.2). Linux with SACK does not count "
                 "duplicate ACKs: look at when the re-send left in the capture.",
            "b": "RACK (RFC 8985 §6.2) marks the segment lost as soon as one sent after it is "
                 "SACKed and the reordering window has passed: one duplicate ACK was enough. "
                 "The original arrived anyway, and the receiver's D-SACK (RFC 2883) told the "
                 "sender that the re-send was not needed.",
            "c": "The timer is the last resort, for when no ACK comes at all. Here ACKs with "
                 "SACK blocks came within a millisecond.",
            "d": "A receiver keeps segments that arrive beyond a gap in its out-of-order "
                 "queue (RFC 9293 §3.10.7.4) and SACKs them: only the missing one is re-sent.",
        },
    },
    # notebook 10, section 15 (ungraded quick check): read() on the old connection when the
    # rebooted client's RST (its answer to the challenge ACK) arrives
    "10-reset-read": {
        "right": "b",   # RFC 9293 §3.10.7.4 (RST at RCV.NXT); capture interview-syn-established
        "feedback": {
            "a": "0 means a FIN arrived: an orderly end. What did the client send in answer "
                 "to the challenge ACK?",
            "b": "The client's RST carries exactly the server's RCV.NXT (the challenge ACK's "
                 "ack), so the server accepts it (RFC 9293 §3.10.7.4) and reports "
                 "\"connection reset\" to its program, as the real kernel did.",
            "c": "The challenge ACK brings an answer at once: the client's RST, which ends "
                 "the old connection.",
            "d": "The new connection is a new socket, which the listener hands to accept(), "
                 "not to the old socket's read().",
        },
    },
}
