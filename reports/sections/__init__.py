"""Section builders: results, answers and the unit's review turned into report blocks.

Each module handles one kind of result, so a report shows whatever its
instrument's methods produce, in any combination: percent scores
(``percent``), judged stages (``stages``), rubric totals (``rubric``), free
text (``texts``), then the action plan. Nothing branches on a framework name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reports import answers
from reports.answers import AnswerIndex
from reports.blocks import Cell, Heading, Quote, Quotes
from reports.i18n import Translator
from reports.labels import Labels, Rating
from reports.model import ReportData


@dataclass(frozen=True)
class Context:
    """What every section builder reads."""

    data: ReportData
    t: Translator
    labels: Labels
    index: AnswerIndex

    @classmethod
    def of(cls, data: ReportData) -> Context:
        t = Translator(data.context.language)
        return cls(data, t, Labels(data.instrument.instrument, data.scores.framework, t),
                   AnswerIndex(data.instrument.instrument, data.responses))

    def node_heading(self, level: int, node: str) -> Heading:
        """``1.1 Providing a platform...``, anchored by node id for the contents."""
        return Heading(level, f"{node} {self.labels.title(node)}", anchor=f"node-{node}")

    def rating(self, node: str, level: str, key: str | None) -> Rating:
        return self.labels.rating(node, level, key)

    def rating_cell(self, node: str, level: str, key: str | None) -> Cell:
        rating = self.labels.rating(node, level, key)
        return Cell(rating.words, rating=rating)

    def who(self, quote: answers.Quote) -> str:
        """Who wrote an answer: the role only for anonymous questionnaires, else the respondent."""
        questionnaire = self.labels.questionnaire(quote.questionnaire)
        role = self.labels.role_name(quote.questionnaire)
        if questionnaire is not None and questionnaire.anonymous:
            return self.t("anonymous", questionnaire=role)
        return f"{role}: {quote.respondent}"

    def quotes(self, title: str, found: Iterable[answers.Quote], empty: str = "") -> Quotes:
        return Quotes(title, tuple(Quote(self.who(quote), quote.text) for quote in found),
                      empty)
