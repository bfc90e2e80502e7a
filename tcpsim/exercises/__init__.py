"""Checked exercises for the notebooks.

    from tcpsim import exercises
    STUDENT_ID = exercises.student_id("your student id")
    STUDENT_SEED = exercises.student_seed(STUDENT_ID)
    exercises.check_handshake_numbers(synack_ack, third_seq, third_ack, seed=STUDENT_SEED)

A ``check_…`` function, called in a graded cell, *displays* feedback on the student's answer
and returns nothing; the ``judge_…`` function behind it returns that :class:`Feedback`
(``correct``, ``message``). A wrong answer gets a hint naming the idea it missed, never the
expected value nor how far off it is. The hidden tests run the same judges in a fresh
process (``python -I -m tcpsim.exercises.grade``). What counts as right is decided in one
place, ``answers.py``. One module per notebook, named for its topic:

    00 start_here.py     01 segments.py   02 handshake.py      03 isn.py
    04 why_three_way.py  05 buffers.py    06 loss.py           07 closing.py
    08 timewait.py       09 captures.py   10 interview.py

(a notebook whose module is not there yet has no graded exercises yet). How to write a new exercise: instructors/writing-exercises.md.
"""
from .answers import student_seed
from .buffers import (ONE_ACK_CHOICES, WINDOW_CHOICES, WriteQuestion, check_ack_count,
                      check_kth_segment, check_one_ack, check_stall_scenarios, judge_ack_count,
                      judge_kth_segment, judge_stall_scenarios, judge_unread_window,
                      reveal_unread_window, unread_window_reveal, unread_window_table,
                      window_choices, write_question)
from .captures import (CLOSED_FIRST_CHOICES, CaptureQuestion, capture_question,
                       check_capture_findings, check_handshake_rtt, closed_first_choices,
                       judge_capture_findings, judge_closed_first, judge_handshake_rtt,
                       reveal_closed_first, rtt_question, VANTAGE_CHOICES, check_vantage,
                       vantage_reveal)
from .closing import (FOUR_OR_THREE_CHOICES, READ_AFTER_RST_CHOICES, CloseQuestion,
                      check_close_states, check_close_wait_leak, check_four_or_three,
                      check_simultaneous_close, close_question, judge_close_states,
                      judge_close_wait_leak, judge_read_after_rst, judge_simultaneous_close,
                      leak_trace, read_after_rst_choices, read_after_rst_reveal,
                      reveal_read_after_rst)
from .feedback import Feedback, show, student_id, wrong_tries
from .handshake import (REFUSED_CHOICES, SYNACK_LOSS_CHOICES, THIRD_SEGMENT_CHOICES, Choices,
                        HandshakeQuestion, Reveal, check_capture_syn_seq, check_etimedout_scenario,
                        check_first_data, check_handshake_numbers, check_refused,
                        check_third_segment_reason, handshake_question, judge_capture_syn_seq,
                        judge_etimedout_scenario, judge_first_data, judge_handshake_numbers,
                        judge_synack_loss, judge_third_segment_reason, reveal_synack_loss,
                        synack_loss_choices, synack_loss_reveal, third_segment_choices)
from .isn import (COOKIE_ACK_LOSS_CHOICES, STALE_CHOICES, check_cookie_ack_loss,
                  check_cookie_mss, check_next_clock_isn, check_spoof_scenarios,
                  clock_question, cookie_question, judge_cookie_mss, judge_next_clock_isn,
                  judge_spoof_scenarios, judge_stale_segment, reveal_stale_segment,
                  stale_choices, stale_question, stale_reveal)
from .interview import SelfTestItem, check_self_test, judge_self_test, self_test
from .loss import (CAPTURE_POOL, REORDER_CHOICES, RecoveryQuestion, RtoQuestion,
                   check_reorder, retransmissions_capture,
                   check_capture_retransmissions, check_rto, check_wireshark_wrong,
                   judge_capture_retransmissions, judge_recovery, judge_rto,
                   judge_wireshark_wrong, recovery_question, recovery_reveal, reveal_recovery,
                   rto_question)
from .segments import (SYNACK_CHOICES, check_decoded_header, check_fin_frames, check_rst,
                       check_seq_spaces, check_synack_segments, decode_question, fin_question,
                       judge_decoded_header, judge_fin_frames, judge_rst, judge_seq_spaces,
                       rst_question, seq_space_question)
from .start_here import (CONNECT_RETURNS_CHOICES, CONNECT_RETURNS_QUESTION,
                         check_connect_returns)
from .why_three_way import (HALF_OPEN_CHOICES, check_half_open, check_ghost_count, check_ghost_scenario, ghost_trace,
                            judge_ghost_count, judge_ghost_scenario, judge_rst_seq,
                            reveal_rst_seq, rst_reveal, rst_seq_question,
                            show_ghost_trace)
from .timewait import (FIN_IN_TIME_WAIT_CHOICES, RST_IN_TIME_WAIT_CHOICES, RateQuestion,
                       check_corrupting_scenario, check_rst_in_time_wait, check_sustained_rate,
                       fin_in_time_wait_choices, fin_in_time_wait_reveal,
                       judge_corrupting_scenario, judge_fin_in_time_wait, judge_sustained_rate,
                       old_segments_accepted, rate_question, reveal_fin_in_time_wait)

__all__ = ["Feedback", "student_id", "student_seed", "show", "wrong_tries", "Choices",
           "HandshakeQuestion", "handshake_question",
           "check_handshake_numbers", "judge_handshake_numbers",
           "check_first_data", "judge_first_data",
           "check_capture_syn_seq", "judge_capture_syn_seq",
           "THIRD_SEGMENT_CHOICES", "third_segment_choices", "check_third_segment_reason",
           "judge_third_segment_reason",
           "SYNACK_LOSS_CHOICES", "synack_loss_choices", "judge_synack_loss",
           "reveal_synack_loss", "synack_loss_reveal", "Reveal",
           "check_etimedout_scenario", "judge_etimedout_scenario",
           "REFUSED_CHOICES", "check_refused", "CONNECT_RETURNS_QUESTION",
           "CONNECT_RETURNS_CHOICES", "check_connect_returns",
           "decode_question", "check_decoded_header", "judge_decoded_header",
           "rst_question", "check_rst", "judge_rst",
           "fin_question", "check_fin_frames", "judge_fin_frames",
           "seq_space_question", "check_seq_spaces", "judge_seq_spaces",
           "SYNACK_CHOICES", "check_synack_segments",
           "CloseQuestion", "close_question", "check_close_states", "judge_close_states",
           "leak_trace", "check_close_wait_leak", "judge_close_wait_leak",
           "READ_AFTER_RST_CHOICES", "read_after_rst_choices", "judge_read_after_rst",
           "reveal_read_after_rst", "read_after_rst_reveal",
           "check_simultaneous_close", "judge_simultaneous_close",
           "FOUR_OR_THREE_CHOICES", "check_four_or_three",
           "clock_question", "check_next_clock_isn", "judge_next_clock_isn",
           "check_spoof_scenarios", "judge_spoof_scenarios",
           "cookie_question", "check_cookie_mss", "judge_cookie_mss",
           "STALE_CHOICES", "stale_question", "stale_choices", "judge_stale_segment",
           "reveal_stale_segment", "stale_reveal",
           "COOKIE_ACK_LOSS_CHOICES", "check_cookie_ack_loss",
           "SelfTestItem", "self_test", "check_self_test", "judge_self_test",
           "ghost_trace", "show_ghost_trace", "check_ghost_count", "judge_ghost_count",
           "rst_seq_question", "reveal_rst_seq", "rst_reveal", "judge_rst_seq",
           "check_ghost_scenario", "judge_ghost_scenario", "HALF_OPEN_CHOICES",
           "check_half_open",
           "RateQuestion", "rate_question", "check_sustained_rate", "judge_sustained_rate",
           "FIN_IN_TIME_WAIT_CHOICES", "fin_in_time_wait_choices", "judge_fin_in_time_wait",
           "reveal_fin_in_time_wait", "fin_in_time_wait_reveal",
           "check_corrupting_scenario", "judge_corrupting_scenario", "old_segments_accepted",
           "RST_IN_TIME_WAIT_CHOICES", "check_rst_in_time_wait",
           "WriteQuestion", "write_question", "check_kth_segment", "judge_kth_segment",
           "check_ack_count", "judge_ack_count", "WINDOW_CHOICES", "window_choices",
           "judge_unread_window", "reveal_unread_window", "unread_window_reveal",
           "unread_window_table", "check_stall_scenarios", "judge_stall_scenarios",
           "ONE_ACK_CHOICES", "check_one_ack",
           "CaptureQuestion", "capture_question", "check_capture_findings",
           "judge_capture_findings", "rtt_question", "check_handshake_rtt",
           "judge_handshake_rtt", "CLOSED_FIRST_CHOICES", "closed_first_choices",
           "judge_closed_first", "reveal_closed_first", "VANTAGE_CHOICES", "check_vantage",
           "vantage_reveal"]
__all__ += ["RtoQuestion", "rto_question", "check_rto", "judge_rto",   # notebook 06
            "CAPTURE_POOL", "retransmissions_capture", "check_capture_retransmissions",
            "judge_capture_retransmissions", "RecoveryQuestion", "recovery_question",
            "judge_recovery", "reveal_recovery", "recovery_reveal", "check_wireshark_wrong",
            "judge_wireshark_wrong", "REORDER_CHOICES", "check_reorder"]
