"""Free text not tied to a node: open questionnaires (JIU outcomes) and general comments.

The JIU outcomes questionnaire is answered in words, not ratings
(JIU/NOTE/2017/1 annex X; reference/instruments.md section 2.4): each
question is printed with every answer. When consecutive questions share their
help text (the annex X part or outcome area they belong to), that text heads
them once.
"""

from __future__ import annotations

from instruments.schema import Item, Questionnaire
from reports.blocks import Block, Heading, Paragraph, Section
from reports.sections import Context


def _unattached(item: Item) -> bool:
    return not item.node_ids and item.per_level is None


def sections(ctx: Context) -> list[Section]:
    found = [section for questionnaire in ctx.labels.instrument.questionnaires
             if (section := _open_answers(ctx, questionnaire)) is not None]
    comments = _general_comments(ctx)
    return found + ([comments] if comments else [])


def _open_answers(ctx: Context, questionnaire: Questionnaire) -> Section | None:
    t = ctx.t
    items = [item for item in questionnaire.items
             if item.role == "open_answer" and _unattached(item)]
    if not items:
        return None
    content: list[Block] = []
    if questionnaire.introduction:
        content.append(Paragraph(t.local(questionnaire.introduction), "note"))
    group = ""
    for item in items:
        help_text = t.local(item.help)
        if help_text and help_text != group:
            content.append(Heading(2, help_text))
            group = help_text
        quotes = [quote for quote in ctx.index.quotes(("open_answer",), None)
                  if quote.questionnaire == questionnaire.id and quote.item == item.id]
        content.append(ctx.quotes(t.local(item.text), quotes, empty=t("open.no_answer")))
    return Section(Heading(1, t.local(questionnaire.title), f"open-{questionnaire.id}"),
                   tuple(content))


def _general_comments(ctx: Context) -> Section | None:
    """Comments about no node in particular (CCPM q014, q81), grouped by question."""
    t = ctx.t
    content: list[Block] = []
    for questionnaire in ctx.labels.instrument.questionnaires:
        for item in questionnaire.items:
            if item.role != "comment" or not _unattached(item):
                continue
            quotes = [quote for quote in ctx.index.quotes(("comment",), None)
                      if quote.questionnaire == questionnaire.id and quote.item == item.id]
            if quotes:
                content.append(ctx.quotes(t.local(item.text), quotes))
    if not content:
        return None
    return Section(Heading(1, t("comments.general"), "comments"), tuple(content))
