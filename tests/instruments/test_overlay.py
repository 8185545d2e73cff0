"""Overlays: a unit hides optional items and adds its own, while core items stay locked.

Rules (issue "Instrument management in the web", local adaptation without forking;
reference/cpims.md sections 2.3 and 2.8):

- OV1 applying an overlay hides the listed items and places the added ones after ``after``
      (or last, or on the page of ``after``); everything else is the instrument unchanged
- OV2 a required item, an item scoring reads (score, stage, activity, organisation type,
      counts, recommendations) or a rubric cannot be hidden, nor one whose answer a kept
      item's skip logic reads; the message names the item and says what to do
- OV3 an added item can count in no score: no scored role, no scored type (it may name a
      node, to be asked on its page), and its id is new
- OV4 every problem is located ``FILE:LINE:COLUMN: CODE message`` like an instrument's,
      including schema errors inside an added item and cross-checks of the adapted
      instrument (skip logic of an added item)
- OV5 an overlay names the instrument and version it adapts; another one is refused
- OV6 the adapted instrument scores exactly as the instrument for the same answers
"""

from __future__ import annotations

import re
from pathlib import Path
from textwrap import dedent

import pytest

from instruments.errors import InstrumentInvalid
from instruments.loader import load_instrument_file, parse_instrument
from instruments.overlay import apply_overlay, parse_overlay
from scoring import Answer, Responses, score

WORKED_EXAMPLE = Path(__file__).parent / "data" / "worked_example.yaml"
README = Path(__file__).resolve().parents[2] / "instruments" / "README.md"

OVERLAY = dedent("""\
    key: car-local
    version: "1"
    instrument: mini-coordination
    instrument_version: "1.0"
    title: {en: CAR local questions, fr: Questions locales RCA}
    hide:
      - {questionnaire: partner, item: q22, reason: Asked in the CAR monthly survey instead}
    add:
      - questionnaire: partner
        after: q11
        item:
          id: car.q1
          type: yes_no
          text: {en: Did you attend the sub-national meeting?, fr: Avez-vous assisté ?}
      - questionnaire: partner
        item:
          id: car.q2
          type: text
          role: comment
          relevant: "${car.q1} = 'yes'"
          text: Which one?
    """)


@pytest.fixture(scope="module")
def base() -> object:
    return load_instrument_file(WORKED_EXAMPLE).instrument


def problems_of(text: str, base: object) -> list[str]:
    with pytest.raises(InstrumentInvalid) as raised:
        parse_overlay(text.encode(), "car.yaml", base)  # type: ignore[arg-type]
    return [problem.format() for problem in raised.value.problems]


def test_an_overlay_hides_and_adds_items(base: object) -> None:
    """OV1: q22 is gone, car.q1 follows q11, car.q2 comes last; nodes and scoring untouched."""
    loaded = parse_overlay(OVERLAY.encode(), "car.yaml", base)  # type: ignore[arg-type]
    adapted = apply_overlay(base, loaded.overlay)  # type: ignore[arg-type]
    ids = [item.id for item in adapted.questionnaires[0].items]
    assert ids == ["org_type", "q11", "car.q1", "q12", "q21", "car.q2"]
    assert adapted.nodes == base.nodes  # type: ignore[attr-defined]
    assert adapted.scoring == base.scoring  # type: ignore[attr-defined]
    assert loaded.hidden == ("partner/q22",)
    assert loaded.added == ("partner/car.q1", "partner/car.q2")
    assert len(loaded.sha256) == 64
    # The adapted instrument is a valid instrument in its own right.
    assert adapted.questionnaires[0].items[2].text["fr"] == "Avez-vous assisté ?"


def test_added_items_join_the_page_of_their_anchor() -> None:
    """OV1: with explicit pages, an added item goes on the page of ``after``."""
    text = WORKED_EXAMPLE.read_text().replace(
        "    items:\n      - id: org_type",
        "    pages:\n      - {id: p1, title: First, items: [org_type, q11]}\n"
        "      - {id: p2, title: Second, items: [q12, q21, q22]}\n"
        "    items:\n      - id: org_type", 1)
    base = parse_instrument(text.encode(), "paged.yaml").instrument
    overlay = OVERLAY.replace("after: q11", "after: q21")
    adapted = apply_overlay(base, parse_overlay(overlay.encode(), "car.yaml", base).overlay)
    pages = adapted.questionnaires[0].pages
    assert [page.items for page in pages] == [("org_type", "q11"), ("q12", "q21", "car.q1")]


@pytest.mark.parametrize(("item", "reason"), [
    ("q11", "it is required"),
    ("org_type", "it is required"),
    ("q21", "it is a `score` item"),
])
def test_core_items_cannot_be_hidden(base: object, item: str, reason: str) -> None:
    """OV2: the item is named, with why it is locked and what to do."""
    text = OVERLAY.replace("item: q22,", f"item: {item},")
    [line] = problems_of(text, base)
    assert line.startswith("car.yaml:7:30: I070 ")
    assert f"item `{item}` cannot be hidden: {reason}" in line
    assert "remove this entry" in line


def test_an_item_read_by_kept_skip_logic_cannot_be_hidden(base: object) -> None:
    """OV2: q22 asks only when q23 was answered yes, so q23 goes only together with q22."""
    text = WORKED_EXAMPLE.read_text().replace(
        "      - id: q22\n        type: text",
        "      - id: q22\n        type: text\n        relevant: \"${q23} = 'yes'\"", 1
    ).replace("      - id: q22", "      - {id: q23, type: yes_no, text: Any remark?}\n"
              "      - id: q22", 1)
    base = parse_instrument(text.encode(), "skip.yaml").instrument
    overlay = OVERLAY.replace("item: q22,", "item: q23,")
    [line] = problems_of(overlay, base)
    assert "I070 item `q23` cannot be hidden: the skip logic of `q22` reads its answer" in line
    assert "Hide `q22` as well" in line
    both = overlay.replace("add:\n", "  - {questionnaire: partner, item: q22}\nadd:\n")
    assert parse_overlay(both.encode(), "car.yaml", base).hidden == ("partner/q23",
                                                                    "partner/q22")


@pytest.mark.parametrize("role", ["score", "organisation_type", "activity"])
def test_added_items_cannot_have_a_scored_role(base: object, role: str) -> None:
    """OV3."""
    text = OVERLAY.replace("      type: yes_no\n", f"      type: yes_no\n      role: {role}\n", 1)
    [line] = problems_of(text, base)
    assert line.startswith(f"car.yaml:14:7: I070 an added item cannot have the role `{role}`: "
                           "added items are narrative only")


def test_added_items_cannot_be_of_a_scored_type(base: object) -> None:
    """OV3: stage and rubric items are scored by their type."""
    text = OVERLAY.replace("      type: yes_no\n", "      type: stage\n      stages:\n"
                           "        - {stage: 1, title: A, descriptor: B}\n"
                           "        - {stage: 2, title: C, descriptor: D}\n", 1)
    [line] = problems_of(text, base)
    assert line.startswith("car.yaml:13:7: I070 an added item cannot be of type stage")


def test_added_items_need_ids_of_their_own(base: object) -> None:
    """OV3: an id the instrument uses is refused, with a prefix suggested."""
    [line] = problems_of(OVERLAY.replace("id: car.q1", "id: q12").replace(
        "${car.q1}", "${q12}"), base)
    assert line.startswith("car.yaml:12:7: I020 `q12` is already an item of questionnaire "
                           "`partner`")
    assert "`local.q12`" in line


def test_problems_are_located_like_instrument_problems(base: object) -> None:
    """OV4: a misspelt key inside an added item, and an unknown questionnaire."""
    text = OVERLAY.replace("      type: text\n", "      typ: text\n").replace(
        "{questionnaire: partner, item: q22", "{questionnaire: partners, item: q22")
    lines = problems_of(text, base)
    # The missing key is reported where its mapping starts, the misspelt one where it is.
    assert lines == [
        "car.yaml:16:5: I011 `type` is required at add[1].item: add it",
        "car.yaml:18:7: I010 unknown key `typ` at add[1].item.typ: did you mean `type`?",
    ]
    [line] = problems_of(OVERLAY.replace("{questionnaire: partner, item: q22",
                                         "{questionnaire: partners, item: q22"), base)
    assert line.startswith("car.yaml:7:6: I021 no questionnaire has the id `partners`: "
                           "did you mean `partner`?")


def test_the_adapted_instrument_is_cross_checked(base: object) -> None:
    """OV4: an added item's skip logic may read only earlier answers, located in the overlay."""
    text = OVERLAY.replace("${car.q1} = 'yes'", "${car.q3} = 'yes'")
    [line] = problems_of(text, base)
    assert line.startswith("car.yaml:20:7: I041 skip logic of `car.q2` reads `${car.q3}`")


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("instrument: mini-coordination", "instrument: ccpm",
     "car.yaml:3:1: I071 this overlay adapts `ccpm`, not `mini-coordination`"),
    ('instrument_version: "1.0"', 'instrument_version: "0.9"',
     "car.yaml:4:1: I071 this overlay was written for version 0.9 of mini-coordination, not 1.0"),
    ('instrument_version: "1.0"', "instrument_version: 1.0",
     "car.yaml:4:1: I012 instrument_version 1.0 was read as a number"),
])
def test_an_overlay_names_what_it_adapts(base: object, old: str, new: str,
                                         expected: str) -> None:
    """OV5."""
    [line] = problems_of(OVERLAY.replace(old, new), base)
    assert line.startswith(expected)


def test_an_empty_or_idle_overlay_is_refused(base: object) -> None:
    assert problems_of("", base) == [
        "car.yaml:1:1: I001 the overlay file is empty: start from the example in "
        "instruments/README.md"]
    idle = OVERLAY.split("hide:")[0]
    [line] = problems_of(idle, base)
    assert line.endswith("I011 the overlay changes nothing: add `hide:` or `add:` entries")


def test_the_adapted_instrument_scores_as_the_instrument(base: object) -> None:
    """OV6: the same answers to core items give the same report, byte for byte, also with
    an added item attached to a scored node."""
    attached = OVERLAY.replace("      role: comment\n", '      role: comment\n      node: "1"\n')
    adapted = apply_overlay(base, parse_overlay(attached.encode(), "car.yaml", base).overlay)
    assert adapted.questionnaires[0].items[-1].node == "1"
    answers = [Answer(f"R{n}", "partner", item, value)
               for n, values in enumerate(((1, 4, 3, 2), (2, 3, 3, 4), (3, 2, 1, 0)))
               for item, value in zip(("org_type", "q11", "q12", "q21"), values, strict=True)]
    local = [Answer("R0", "partner", "car.q1", "yes"), Answer("R0", "partner", "car.q2", "Bangui")]
    plain = score(base, Responses.of(answers), sha256="x")  # type: ignore[arg-type]
    with_overlay = score(adapted, Responses.of(answers + local), sha256="x")
    assert with_overlay.to_json() == plain.to_json()


def test_the_guides_example_is_a_valid_overlay_of_the_worked_example(base: object) -> None:
    """instruments/README.md section 19 shows a real overlay, checked like any other."""
    [block] = re.findall(r"^```yaml overlay-example\n(.*?)^```$",
                         README.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    loaded = parse_overlay(block.encode(), "car-ccpm.yaml", base)  # type: ignore[arg-type]
    assert loaded.hidden == ("partner/q22",)
    assert loaded.added == ("partner/car.subnational", "partner/car.subnational_where")
    adapted = apply_overlay(base, loaded.overlay)  # type: ignore[arg-type]
    assert [item.id for item in adapted.questionnaires[0].items] == [
        "org_type", "q11", "q12", "car.subnational", "q21", "car.subnational_where"]
