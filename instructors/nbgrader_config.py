"""nbgrader's configuration for the tcpsim course.

nbgrader reads this file when it runs from this folder (``instructors/``); the course
directory it works in is ``instructors/course/`` (gitignored: it holds the gradebook and the
students' submissions). ``build_release.py`` (``make release``) fills its ``source/`` from
``instructors/source/`` and writes ``release/`` (and ``notebooks/`` from it). See README.md beside this file.
"""
import os
import sys

c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "tcpsim"
c.CourseDirectory.root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "course")

# Autograding executes each submitted notebook: the simulator is fast, but a cell that draws
# a picture may take a few seconds on a loaded machine.
c.Execute.timeout = 120

# What replaces a ### BEGIN/END SOLUTION region in the release. nbgrader's default adds
# `raise NotImplementedError()`, which stops a student's "Run All" at the first exercise;
# our answer cells already show a placeholder line (`synack_ack = ...`) above the region,
# and the check cell below tells a student what is missing, so the rest of the notebook
# (players, explorer) still runs.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE"}

# The course's two preprocessors (nbgrader_plugins.py beside this file).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nbgrader_plugins import (ClearHiddenTestsFromFeedback, HideTracebacks,  # noqa: E402
                              OverwriteCellsKnowingHiddenTests)
from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, DeduplicateIds,  # noqa: E402
                                    GetGrades, OverwriteKernelspec)
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402

# Autograde: nbgrader's default sanitizing steps, with OverwriteCells replaced by one that
# knows a release cell lacks its hidden tests, so that the "checksum has changed" warning
# appears only for a cell the student really changed (nbgrader issue #1961).
c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec,
                                      OverwriteCellsKnowingHiddenTests, CheckCellMetadata]

# Feedback: nbgrader's default steps, plus removing the hidden tests from the cells and the
# tracebacks (which quote the tests) from the outputs: the feedback shows the score, the
# student's answers and the checks' hints, never the expected values.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTestsFromFeedback, HideTracebacks,
                                    CSSHTMLHeaderPreprocessor]

# Quiet autograding, so that a real warning stands out (tests/test_grading.py checks that an
# honest submission's run prints none):
# * the kernel that runs a submission talks to nbgrader over local IPC sockets, as
#   ipykernel's warning "Kernel is running over TCP without encryption" advises (on POSIX;
#   the socket files need an absolute path, for the kernel runs in the submission's folder);
if os.name == "posix":
    import atexit  # noqa: E402
    import shutil  # noqa: E402
    import tempfile  # noqa: E402
    _sockets = tempfile.mkdtemp(prefix="tcpsim-grading-")
    atexit.register(shutil.rmtree, _sockets, ignore_errors=True)
    c.KernelManager.transport = "ipc"
    c.KernelManager.ip = os.path.join(_sockets, "kernel")
# * SQLAlchemy 2 warns while nbgrader's Gradebook.add_submission builds a new submission
#   ("Object of type <SubmittedAssignment> not in session, add operation along ... will not
#   proceed"): the objects are added to the session right after, and the scores are right
#   (tests/test_grading.py). Only that message is silenced.
import warnings  # noqa: E402

warnings.filterwarnings("ignore", message=r"Object of type <Submitted\w+> not in session, "
                        r"add operation along '\w+\.submissions' will not proceed")
