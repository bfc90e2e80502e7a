"""Two nbgrader preprocessors for this course, configured in nbgrader_config.py.

* :class:`OverwriteCellsKnowingHiddenTests` (autograde). nbgrader records a graded cell's
  checksum *with* its hidden tests, but the students get the cell *without* them, so every
  honest submission raises "Attribute 'checksum' for cell ... has changed!" for every cell
  with hidden tests (nbgrader issue #1961, open). This subclass first puts the hidden tests
  back into a cell that is exactly what the release gave the student; nbgrader then finds
  the checksum right and says nothing. A cell the student changed is left to nbgrader,
  which restores it and warns, so a real change still stands out.
* :class:`HideTracebacks` (generate_feedback). A failed test's traceback prints the test's
  lines, which are the expected formula; the feedback keeps only "this test did not pass".
  :class:`ClearHiddenTestsFromFeedback` (nbgrader's ClearHiddenTests) removes the hidden
  tests from the cells themselves.
"""
from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from nbformat.notebooknode import from_dict
from nbgrader import utils
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, OverwriteCells
from traitlets import Bool, List

FAILED_TEXT = ("This test did not pass. Your answer's check, above, says which idea it "
               "missed; the test itself is not shown.")


class OverwriteCellsKnowingHiddenTests(OverwriteCells):
    """OverwriteCells that does not mistake a release cell for a changed one."""

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and utils.is_locked(cell):
            try:
                source_cell = self.gradebook.find_source_cell(
                    grade_id, self.notebook_id, self.assignment_id)
            except MissingEntry:
                source_cell = None
            if source_cell is not None and cell.source == released_source(source_cell.source):
                cell.source = source_cell.source
        return super().preprocess_cell(cell, resources, cell_index)


def released_source(source: str) -> str:
    """What nbgrader's generate_assignment leaves of a cell's source: hidden tests removed."""
    cell = from_dict({"cell_type": "code", "source": source, "metadata": {}})
    ClearHiddenTests(enforce_metadata=False)._remove_hidden_test_region(cell)
    return cell.source


class ClearHiddenTestsFromFeedback(ClearHiddenTests):
    """nbgrader's ClearHiddenTests, for the feedback step. nbgrader's preprocessors declare
    ``display_data_priority`` without making it configurable, so the HTML exporter's
    setting of it draws a "Config option not recognized" warning; this one takes it."""
    display_data_priority = List([]).tag(config=True)


class HideTracebacks(Preprocessor):
    """Replace every error output (its traceback shows the test's lines) with one sentence."""
    enabled = Bool(True)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["ename"] = "Not yet"
                    output["evalue"] = FAILED_TEXT
                    output["traceback"] = [FAILED_TEXT]
        return cell, resources
