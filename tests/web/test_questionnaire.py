"""Questionnaire pages from instruments: layout, the question-type registry, skip logic,
and a page whose number of SQL queries does not grow with its number of questions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from instruments import load_instrument, parse_instrument
from surveyapp.extensions import db
from surveyapp.services.questionnaire import (
    AnswerRejected,
    FrameworkEntry,
    build_layout,
    display_value,
    expression_json,
    parse_rubric,
    parse_value,
    slot_relevance,
)
from tests.web.cycles_world import MINI, World, make_cycle, many_items


def mini_layout(questionnaire: str = "self", framework: tuple[FrameworkEntry, ...] = ()) -> Any:
    return build_layout(parse_instrument(MINI.encode(), "mini").instrument, questionnaire,
                        framework)


# --------------------------------------------------------------------------- layout


def test_jiu_self_assessment_has_one_page_per_component() -> None:
    """JIU: 17 components, each judged as a whole (reference/jiu_framework.md section 4)."""
    layout = build_layout(load_instrument("jiu-rbm").instrument, "self_assessment")
    assert len(layout.pages) == 17
    first = layout.pages[0]
    assert first.label("en") == "1.1 Results-based management strategy"
    assert [slot.key for slot in first.slots][:3] == ["1.1", "1.1.rationale", "1.1.evidence"]
    assert {slot.question.item.node for page in layout.pages for slot in page.slots} == {
        page.node.id for page in layout.pages if page.node
    }
    assert len(first.slots[0].question.stages) == 5  # the component's own stage descriptors


def test_ccpm_pages_group_indicators_by_sub_function_and_function() -> None:
    """CCPM: indicators are grouped by sub-function (or function when it has none), and a
    closing comment on a function joins the function's last page."""
    layout = build_layout(load_instrument("ccpm").instrument, "partner")
    labels = [page.label("en") for page in layout.pages]
    assert labels[0] == "General questions"
    assert [slot.item_id for slot in layout.pages[0].slots] == ["q012", "q014"]
    assert labels[1].startswith("1.1 ")
    assert labels[11].startswith("5 ")  # function 5 has indicators directly below it
    assert layout.page_of("q124") == layout.page_of("q123")  # comment on function 1
    assert labels[-1] == "General questions"


def test_outcomes_questionnaire_pages_follow_the_families_of_item_ids() -> None:
    layout = build_layout(load_instrument("jiu-rbm").instrument, "outcomes")
    firsts = [page.slots[0].item_id for page in layout.pages]
    assert firsts == ["out.p1.q1", "out.a1.q1", "out.a2.q1", "out.a3.q1", "out.a4a.q1",
                      "out.a4b.q1", "out.a5.q1"]
    assert sum(len(page.slots) for page in layout.pages) == 56


def test_cpas_pages_cover_every_output_then_outcome_then_impact() -> None:
    """CPAS: the working group answers per output, then per outcome and impact
    (instrument cpas-red, questionnaire introduction)."""
    framework = (
        FrameworkEntry("I1", "impact", "Safer west"),
        FrameworkEntry("O1", "outcome", "Disputes settled", "I1"),
        FrameworkEntry("OP1", "output", "Training", "O1", "Civil Affairs"),
        FrameworkEntry("OP2", "output", "Forums", "O1"),
    )
    layout = build_layout(load_instrument("cpas-red").instrument, "red", framework)
    assert [page.framework_entry.code for page in layout.pages] == ["OP1", "OP2", "O1", "I1"]
    assert layout.pages[0].slots[0].key == "red@OP1"
    assert layout.slot("red", "OP2") is not None
    assert layout.slot("red", "O1") is None  # RED is scored on outputs only


def test_a_cycle_without_framework_nodes_has_no_per_level_pages() -> None:
    assert mini_layout("rubric").pages == ()


# --------------------------------------------------------------------------- the registry


@pytest.mark.parametrize(
    ("item_id", "raw", "stored"),
    [
        ("a_stage", "2", 2),
        ("a_choice", "99", 99),
        ("a_yes", "no", "no"),
        ("b_number", " 42 ", 42),
        ("b_number", "", None),
        ("b_date", "2026-03-31", "2026-03-31"),
        ("b_text", "  short  ", "short"),
    ],
)
def test_raw_input_becomes_the_stored_value(item_id: str, raw: str, stored: object) -> None:
    question = mini_layout().slot(item_id).question
    assert parse_value(question, raw) == stored


@pytest.mark.parametrize(
    ("item_id", "raw", "message"),
    [
        ("a_stage", "4", "Choose one of the stages 1 to 3."),
        ("a_choice", "3", "Choose one of the answers offered."),
        ("a_yes", "maybe", "Choose yes or no."),
        ("b_number", "twelve", "Enter a whole number from 0 to 100, in figures (e.g. 12)."),
        ("b_number", "4.5", "Enter a whole number from 0 to 100: no decimals."),
        ("b_number", "101", "Enter a whole number from 0 to 100."),
        ("b_date", "31/03/2026", "Enter a date as year-month-day, e.g. 2026-03-31."),
        ("b_text", "x" * 21, "Use at most 20 characters here; this text has 21."),
    ],
)
def test_unreadable_input_is_refused_with_what_to_enter(
    item_id: str, raw: str, message: str
) -> None:
    question = mini_layout().slot(item_id).question
    with pytest.raises(AnswerRejected) as refused:
        parse_value(question, raw)
    assert str(refused.value) == message


def test_rubric_levels_are_read_criterion_by_criterion() -> None:
    framework = (FrameworkEntry("O1", "outcome", "Outcome"),
                 FrameworkEntry("OP1", "output", "Output", "O1"))
    question = mini_layout("rubric", framework).slot("red", "OP1").question
    assert parse_rubric(question, {"relevance": "2", "extent": "7"}) == (
        {"relevance": 2}, {"extent": "Choose a level from 1 to 2."})
    assert display_value(question, {"relevance": 2, "extent": 1}) == (
        "Relevance 2, Extent 1, total 3")


def test_excluded_options_are_listed_apart() -> None:
    question = mini_layout().slot("a_choice").question
    assert [o.code for o in question.scored_options] == [1, 2]
    assert [o.code for o in question.excluded_options] == [99]
    assert display_value(question, 99) == "Don't know"
    assert display_value(question, 2, "fr") == "D'accord"


# --------------------------------------------------------------------------- skip logic


CHAIN = """\
key: chain
version: "1"
title: Chained skip logic
questionnaires:
  - id: q
    role: focal_point
    title: Q
    items:
      - {id: x, type: yes_no, text: X?}
      - {id: y, type: number, text: Y?, relevant: "${x} = 'yes'"}
      - {id: z, type: text, text: Z?, relevant: "${y} != 5"}
"""


def test_skip_logic_is_evaluated_in_order_and_ruled_out_items_count_as_blank() -> None:
    """As in XLSForm: an item that does not apply is blank for the items after it."""
    layout = build_layout(parse_instrument(CHAIN.encode(), "chain").instrument, "q")
    assert slot_relevance(layout, {("x", ""): "yes", ("y", ""): 5}) == {
        "x": True, "y": True, "z": False}
    # y keeps its stored 5, but no longer applies: z sees it blank, and applies.
    assert slot_relevance(layout, {("x", ""): "no", ("y", ""): 5}) == {
        "x": True, "y": False, "z": True}


def test_ccpm_partner_skip_logic() -> None:
    layout = build_layout(load_instrument("ccpm").instrument, "partner")
    relevance = slot_relevance(layout, {("q121", ""): 1, ("q122", ""): 999})
    assert (relevance["q122"], relevance["q123"]) == (True, False)
    relevance = slot_relevance(layout, {("q111", ""): 0})
    assert [relevance[key] for key in ("q112", "q113", "q114", "q115")] == [False] * 4


def test_skip_logic_goes_to_the_browser_as_a_tree() -> None:
    expression = mini_layout().slot("a_follow").question.relevance
    assert expression_json(expression) == {
        "op": "=", "left": {"ref": "a_choice"}, "right": {"value": 2.0}}


# --------------------------------------------------------------------------- query counts


@contextmanager
def counted_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def answer_everything(client: FlaskClient, cycle_id: int, count: int) -> None:
    """Answer every question of the page, so each answer and its evidence list is loaded."""
    form: dict[str, str] = {"action": "save"}
    for n in range(count):
        kind = n % 4
        form[f"i{n}"] = {0: "1", 1: f"Answer {n}", 2: str(n), 3: "yes"}[kind]
        if kind == 1:
            form[f"i{n}~comment"] = "A comment"
    response = client.post(f"/cycles/{cycle_id}/respond/self/page/1", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def test_a_page_issues_as_many_queries_for_100_questions_as_for_10(
    app: Flask, client: FlaskClient, world: World, login: Callable[..., Any]
) -> None:
    counts = {}
    login(world.focal_point)
    for size in (10, 100):
        cycle_id = make_cycle(app, many_items(size), world.cluster, world.coordinator,
                              focal_points=[world.focal_point])
        answer_everything(client, cycle_id, size)
        with counted_queries(app) as statements:
            page = client.get(f"/cycles/{cycle_id}/respond/self/page/1")
        assert page.status_code == 200
        assert page.get_data(as_text=True).count(' data-slot="') == size
        counts[size] = len(statements)
    assert counts[10] == counts[100], counts
