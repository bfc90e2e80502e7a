"""What notebook 01 tells students, checked against the captures, dpkt and the simulator.

Each test quotes the claim it checks. If a capture, the decoder or the simulator changes so
that a sentence of the notebook becomes false, a test here fails. (That the checksums agree
with tshark's is tests/test_header.py's job.)
"""
import pytest

from tcpsim import course, header
from tcpsim.exercises import segments as ex01

MOD = 2 ** 32


@pytest.fixture(scope="module")
def handshake():
    return course.capture("handshake")


@pytest.fixture(scope="module")
def every_capture():
    return {name: course.capture(name).segments for name in course.names()}


def test_the_syn_field_by_field():
    """"the source port 40001 is `9c 41`, because 0x9c41 = 40001"; "The header is 40 bytes
    long: data offset 10 ... of which the last 20 are options (MSS, SACK-permitted,
    timestamps, window scale)"; "A segment without options has data offset 5" (section 1)."""
    syn = header.from_capture("handshake", frame=1)
    assert syn.header_bytes[0:2].hex(" ") == "9c 41"
    assert int.from_bytes(syn.header_bytes[0:2], "big") == 40001 == syn.sport
    assert syn.flags == "S" and syn.offset == 10 and len(syn.header_bytes) == 40
    assert set(syn.options) == {"mss", "sack_perm", "ts", "wscale"}
    assert header.build(1, 2, 3, options={}).offset == 5


def test_builder_things_to_try():
    """Section 2: ticking ACK beside SYN changes byte 13 (by 0x10); unticking MSS takes the
    data offset from 6 to 5 (24 to 20 bytes); a port one higher changes the checksum; port
    or window 70000 is not a segment (16 bits)."""
    syn = header.build(40001, 5201, 1000, flags="S", options={"mss": 1460})
    synack = header.build(40001, 5201, 1000, flags="SA", options={"mss": 1460})
    changed = [k for k in range(24) if syn.header_bytes[k] != synack.header_bytes[k]]
    assert 13 in changed and synack.header_bytes[13] - syn.header_bytes[13] == 0x10
    assert set(changed) <= {13, 16, 17}                           # the flags, the checksum
    assert (syn.offset, len(syn.header_bytes)) == (6, 24)
    assert header.build(40001, 5201, 1000, flags="S", options={}).offset == 5
    assert header.build(40002, 5201, 1000, flags="S", options={"mss": 1460}).checksum != \
        syn.checksum
    for field in ("sport", "window"):
        with pytest.raises(header.HeaderError, match=f"{field}: 70000 does not fit in 16 bits"):
            header.build(**{"sport": 1, "dport": 2, "seq": 3, field: 70000})


def test_the_pseudo_header():
    """"the source and destination IP addresses, a zero byte, the protocol number (6 for
    TCP) and the TCP length"; "A segment delivered to the wrong address therefore fails its
    checksum even if its own bytes arrived intact" (section 2)."""
    seg = header.build(40001, 5201, 7, flags="PA", payload=b"abc")
    ph = seg.pseudo_header
    assert ph[:4] == bytes([10, 0, 0, 1]) and ph[4:8] == bytes([10, 0, 0, 2])
    assert ph[8] == 0 and ph[9] == 6 and int.from_bytes(ph[10:12], "big") == len(seg.raw)
    elsewhere = header.decode(seg.raw, src="10.0.0.1", dst="10.0.0.3")
    assert elsewhere.raw == seg.raw and elsewhere.checksum_status == "wrong"


def test_checksum_offload_in_the_captures():
    """"the checksum in the captured header is not the one computed over the segment";
    "the field holds exactly the pseudo-header's sum"; the no-socket reset (`refused`,
    frame 2) "does carry a complete checksum" (section 3; myth 5)."""
    table = header.checksum_table("handshake", frames=5)
    assert len(table) == 5 and set(table["status"]) == {"offloaded"}
    assert (table["in the header"] == table["pseudo-header sum"]).all()
    assert (table["in the header"] != table["computed"]).all()
    refused = header.checksum_table("refused")
    assert list(refused["status"]) == ["offloaded", "correct"] and refused["flags"][1] == "RA"


def test_each_flag_has_a_real_segment(every_capture):
    """The table of section 4 (who sets each flag) and "no shipped capture has URG set"."""
    examples = header.flag_examples().set_index("flag")
    assert list(examples.index) == ["SYN", "ACK", "PSH", "FIN", "RST", "ECE", "CWR"]
    for flag, row in examples.iterrows():
        letter = {v: k for k, v in header.FLAG_NAME.items()}[flag]
        assert letter in row["flags"]
    assert examples.loc["SYN", "frame"] == 1 and examples.loc["RST", "capture"] == "refused"
    assert not any(s["flags"].str.contains("U").any() for s in every_capture.values())
    assert header.flag_bits_table(["U"])["byte 13 (hex)"][0] == "0x20"


def test_ack_is_on_after_the_first_syn(every_capture):
    """"every segment after the first SYN" has ACK; "In the shipped captures only SYNs and
    some RSTs lack it" (section 4, myth 3)."""
    for name, segs in every_capture.items():
        without = segs[~segs["flags"].str.contains("A")]
        assert set(without["flags"]) <= {"S", "SEC", "R"}, name
        # the only ACK-less segments are SYNs without ACK (client or simultaneous-open side)
        later = segs.iloc[1:]
        plain_syns = later["flags"].isin(["S", "SEC"])
        assert (later[~plain_syns]["flags"].str.contains("A") |
                later[~plain_syns]["flags"].str.contains("R")).all(), name


def test_ecn_negotiation_in_the_real_capture():
    """"the client's SYN carries ECE and CWR, the server's SYN-ACK ECE"; "the default, 2,
    accepts it but never asks" (the default-settings captures have no E or C at all); "the
    same scenario simulated gives the same segments without those two bits" (section 4)."""
    real = course.capture("ecn").segments
    assert list(real["flags"][:3]) == ["SEC", "SAE", "A"]
    assert not real["flags"].iloc[2:].str.contains("[EC]").any()
    assert not course.capture("handshake").segments["flags"].str.contains("[EC]").any()
    assert course.scenario("ecn")["kernel_sysctls"] == {"net.ipv4.tcp_ecn": 1}
    simulated = course.simulate("ecn").segments
    plain = [f.replace("E", "").replace("C", "") for f in real["flags"]]
    assert list(simulated["flags"]) == plain
    assert list(simulated["len"]) == list(real["len"])
    syn = header.from_capture("ecn", frame=1)
    assert syn.flags_byte == 0xC2


def test_a_synack_is_one_segment_with_two_bits(handshake):
    """"The SYN-ACK's flags byte is 0x12: the SYN bit (0x02) and the ACK bit (0x10) of the
    same byte, in one segment"; the quick check's right answer is (a) (section 5)."""
    synack = header.from_capture("handshake", frame=2)
    assert synack.flags == "SA" and synack.flags_byte == 0x12 == 0x02 | 0x10
    server_first = handshake.segments[handshake.segments["src"] == "server"].iloc[0]
    assert server_first["flags"] == "SA" and server_first["frame"] == 2
    from tcpsim.exercises import check_synack_segments
    assert check_synack_segments("a")
    table = header.flag_bits_table(["FA", "PA", "RA", "SEC", "SAE"])
    assert list(table["byte 13 (hex)"]) == ["0x11", "0x18", "0x14", "0xc2", "0x52"]


@pytest.mark.parametrize("source", ["real", "simulated"])
def test_sequence_space_walk(source):
    """Section 6: "the client's SYN occupies one number ... the server's SYN-ACK acknowledges
    ISN + 1"; "pure ACKs occupy nothing: the client's third segment and its first data
    segment have the same seq"; "100 bytes of data occupy 100 numbers, and the FIN one more";
    "In every row, ack is the next_seq of the last segment the other side sent"; and the
    notebook's pandas check is True. In the capture and in the simulation alike."""
    trace = course.capture("handshake") if source == "real" else course.simulate("handshake")
    numbers = header.sequence_space(trace.segments[["src", "flags", "seq", "ack", "len",
                                                    "rel_seq"]])
    rows = numbers.to_dict("records")
    assert rows[0]["space"] == 1 and rows[1]["ack"] == (rows[0]["seq"] + 1) % MOD
    third, first_data = rows[2], next(r for r in rows if r["src"] == "client" and r["len"])
    assert third["space"] == 0 and third["seq"] == first_data["seq"]
    assert first_data["len"] == 100 and first_data["space"] == 100
    fin = next(r for r in rows if "F" in r["flags"])
    assert fin["space"] == 1
    for k, row in enumerate(rows[1:], start=1):
        last_other = next(r for r in reversed(rows[:k]) if r["src"] != row["src"])
        assert row["ack"] == last_other["next_seq"], k
    for side in ("client", "server"):
        mine = numbers[numbers["src"] == side]
        assert (mine["seq"].iloc[1:].values == mine["next_seq"].iloc[:-1].values).all()
    assert rows[0]["rel_seq"] == 0 and first_data["rel_seq"] == 1      # myth 1: relative


def test_psh_is_rare_in_a_bulk_transfer():
    """Myth 4: "One send() of 100 000 bytes gave 70 segments of which 6 had PSH"."""
    segs = course.capture("bulk-100k").segments
    data = segs[(segs["src"] == "client") & (segs["len"] > 0)]
    assert len(data) == 70 and data["flags"].str.contains("P").sum() == 6
    assert data["len"].sum() == 100_000
    assert course.scenario("bulk-100k")["actions"][2] == \
        {"at": 0.3, "host": "client", "do": "send", "bytes": 100000}


def test_exercise_pools_are_what_the_text_says():
    """Exercise 1: "one real segment from the course's captures"; exercise 3: each capture
    has FINs "from both sides and retransmissions"; exercise 2: "every one of which has
    arrived" (the question's last client segment is not yet acknowledged in the table)."""
    names = set(course.names())
    assert set(ex01.DECODE_CAPTURES) <= names
    for name in ex01.FIN_CAPTURES:
        segs = course.capture(name).segments
        assert ex01._frames_and_flags(name) == dict(zip(segs["frame"], segs["flags"]))
        fins = segs[segs["flags"].str.contains("F")]
        assert set(fins["src"]) == {"client", "server"}, name
    assert any(len(course.capture(n).segments.pipe(lambda s: s[s["flags"].str.contains("F")]))
               > 2 for n in ex01.FIN_CAPTURES)
    q = ex01.rst_question(12345)
    assert q.segments[-1][0] == "client" and q.segments[-1][4] > 0
