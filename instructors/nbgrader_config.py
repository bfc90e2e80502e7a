"""nbgrader's configuration for the tcpsim course.

nbgrader reads this file when it runs from this folder (``instructors/``); the course
directory it works in is ``instructors/course/`` (gitignored: it holds the gradebook and the
students' submissions). ``build_release.py`` (``make release``) fills its ``source/`` from
``instructors/source/`` and writes ``release/`` (and ``notebooks/`` from it). See README.md beside this file.
"""
import os

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
