"""Checked exercises for the notebooks.

    from tcpsim import exercises
    STUDENT_SEED = exercises.student_seed("your student id")
    exercises.check_handshake_numbers(synack_ack, third_seq, third_ack, seed=STUDENT_SEED)

Every ``check_…`` function takes the student's answer and returns a :class:`Feedback`
(``correct``, ``message``; true when correct, so an autograder can ``assert`` it). A wrong
answer gets a hint about *that* answer, never the expected value. One module per notebook:
``start_here.py`` is notebook 00, ``handshake.py`` notebook 02.
"""
from .feedback import Feedback, choice_check, student_seed
from .handshake import (REFUSED_CHOICES, SYNACK_LOSS_CHOICES, THIRD_SEGMENT_CHOICES,
                        HandshakeQuestion, Reveal, check_capture_syn_seq, check_etimedout_scenario,
                        check_first_data, check_handshake_numbers, check_refused,
                        check_synack_loss, check_third_segment_reason, handshake_question,
                        reveal_synack_loss)
from .start_here import (CONNECT_RETURNS_CHOICES, CONNECT_RETURNS_QUESTION,
                         check_connect_returns)

__all__ = ["Feedback", "student_seed", "choice_check", "HandshakeQuestion", "handshake_question",
           "check_handshake_numbers", "check_first_data", "check_capture_syn_seq",
           "SYNACK_LOSS_CHOICES", "check_synack_loss", "reveal_synack_loss", "Reveal",
           "check_etimedout_scenario", "THIRD_SEGMENT_CHOICES", "check_third_segment_reason",
           "REFUSED_CHOICES", "check_refused", "CONNECT_RETURNS_QUESTION",
           "CONNECT_RETURNS_CHOICES", "check_connect_returns"]
