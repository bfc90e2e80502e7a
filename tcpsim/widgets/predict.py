"""``Predict``: predict, commit, then see.

    from tcpsim import widgets
    widgets.predict("How many segments does the handshake take?", choices=["2", "3", "4"],
                    check=exercises.check_handshake_count,
                    reveal=lambda: widgets.player(trace))

The student picks one of ``choices`` (a list, or a dict {letter: text} as the course's
exercises give them: the check then gets the letter), or types a number when ``choices`` is
None, and
presses Commit. Only then is the answer locked, ``check(answer)`` called and its feedback
shown, and ``reveal()`` called and shown below. Before that, nothing of the result is
on the page.

``check`` returns an object with ``.correct`` (bool) and ``.message`` (str: a hint when the
answer is wrong, never the solution), and possibly ``_repr_html_`` (then that is shown).
"""
from __future__ import annotations

import html
import re

import ipywidgets as widgets
from matplotlib.figure import Figure

from ..plots.style import OKABE_ITO
from ._pictures import figure_png, png_pixels, stack, text_pixels


def as_widget(thing) -> widgets.Widget:
    """What ``reveal()`` returned, as a widget: a Figure becomes a PNG image, a widget
    stays itself, anything else is shown as HTML (``_repr_html_``) or as text."""
    if isinstance(thing, widgets.Widget):
        return thing
    if isinstance(thing, Figure):
        image = widgets.Image(value=figure_png(thing), format="png",
                              layout=widgets.Layout(flex="0 0 auto"))
        image.add_class("tcpsim-picture")
        return image
    if hasattr(thing, "_repr_html_"):
        return widgets.HTML(thing._repr_html_())
    return widgets.HTML(str(thing))


def choice_options(choices) -> list:
    """[(label, value)]: a dict {letter: text} gives ("a) text", "a"); a list gives its
    items as both label and value (None: no choices)."""
    if choices is None:
        return []
    if isinstance(choices, dict):
        return [(f"{key}) {text}", key) for key, text in choices.items()]
    return [(str(choice), choice) for choice in choices]


def feedback_html(result) -> str:
    """The check's result as HTML: its own ``_repr_html_`` if it has one."""
    if hasattr(result, "_repr_html_"):
        return result._repr_html_()
    if result.correct:
        mark, colour = "\u2714 Right.", OKABE_ITO["bluish_green"]
    else:
        mark, colour = "\u2718 Not quite.", OKABE_ITO["vermillion"]
    return (f"<div style='padding:4px 0'><b style='color:{colour}'>{mark}</b> "
            f"{html.escape(result.message or '')}</div>")


def plain(text_html) -> str:
    """HTML as plain text (tags removed), for the static picture."""
    return html.unescape(re.sub(r"<[^>]+>", "", text_html))


class Predict(widgets.VBox):
    """A prediction question. Attributes: ``answer_input`` (RadioButtons or Text),
    ``commit_button``, ``feedback`` (HTML, empty before Commit), ``revealed`` (a Box, empty
    before Commit), ``committed``, ``answer`` and ``result`` (after Commit)."""

    def __init__(self, question, choices=None, check=None, reveal=None):
        super().__init__()
        self.add_class("tcpsim-predict")
        self.check, self.reveal = check, reveal
        self.committed, self.answer, self.result = False, None, None
        self.question = widgets.HTML(f"<b>{question}</b>")
        self.choices = choice_options(choices)
        if choices is not None:
            self.answer_input = widgets.RadioButtons(options=self.choices, value=None,
                                                     layout=widgets.Layout(width="auto"))
        else:
            self.answer_input = widgets.Text(placeholder="type a number")
        self.commit_button = widgets.Button(description="Commit", button_style="primary",
                                            tooltip="lock your answer and see the result")
        self.commit_button.on_click(lambda _: self.commit())
        self.feedback = widgets.HTML()
        self.revealed = widgets.VBox()
        self.children = [self.question, self.answer_input, self.commit_button, self.feedback,
                         self.revealed]

    def read_answer(self):
        """The answer given so far (a choice, or a number), or None if there is none yet."""
        value = self.answer_input.value
        if isinstance(self.answer_input, widgets.RadioButtons):
            return value
        try:
            return float(str(value).strip().replace(",", "."))
        except ValueError:
            return None

    def commit(self):
        """Lock the answer, check it and reveal the result (once)."""
        if self.committed:
            return
        answer = self.read_answer()
        if answer is None:
            wanted = "pick an answer" if isinstance(self.answer_input, widgets.RadioButtons) \
                else "type a number (for example 3 or 0.25)"
            self.feedback.value = f"<i>First {wanted}, then press Commit.</i>"
            return
        self.committed, self.answer = True, answer
        self.answer_input.disabled = True
        self.commit_button.disabled = True
        self.commit_button.description = "Committed"
        self.feedback.value = ""
        if self.check is not None:
            self.result = self.check(answer)
            self.feedback.value = feedback_html(self.result)
        if self.reveal is not None:
            self.revealed.children = [as_widget(self.reveal())]

    # --- the static fallback
    def snapshot(self):
        """One matplotlib Figure: the question, the answer so far, the feedback and what
        was revealed."""
        lines = [plain(self.question.value)]
        if isinstance(self.answer_input, widgets.RadioButtons):
            for label, value in self.choices:
                mark = "(\u2022)" if value == self.answer_input.value else "(  )"
                lines.append(f"  {mark} {label}")
        else:
            lines.append(f"  answer: {self.answer_input.value or '...'}")
        if not self.committed:
            lines.append("(press Commit to lock the answer and see the result)")
        elif self.feedback.value:
            lines.append(plain(self.feedback.value))
        rows = [[text_pixels(lines, 950)]]
        for shown in self.revealed.children:
            if isinstance(shown, widgets.Image):
                rows.append([png_pixels(shown.value)])
            elif hasattr(shown, "snapshot"):
                rows.append([png_pixels(figure_png(shown.snapshot()))])
            elif isinstance(shown, widgets.HTML):
                rows.append([text_pixels([plain(shown.value)], 950)])
        return stack(rows)

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["image/png"] = figure_png(self.snapshot())
        bundle["text/plain"] = plain(self.question.value)
        return bundle


def predict(question, choices=None, check=None, reveal=None) -> Predict:
    """A ``Predict`` widget (see ``Predict``)."""
    return Predict(question, choices=choices, check=check, reveal=reveal)
