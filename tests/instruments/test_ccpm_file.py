"""The CCPM instrument encodes the GHC 2015 questionnaires' facts exactly.

The facts are compared with the data file itself, reference/ccpm/ccpm_ghc_2015_questionnaires.json
("the JSON" below), studied in reference/instruments.md section 1 ("§1.x" below).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from instruments.expressions import parse_expression, references
from instruments.schema import Instrument, Item, Node, Option, Questionnaire

ROOT = Path(__file__).resolve().parents[2]
CCPM_FILE = ROOT / "instruments" / "library" / "ccpm.yaml"
# The shared folder sits beside the checkout (as in CI).
REFERENCE = ROOT.parent / "shared" / "reference" / "ccpm" / "ccpm_ghc_2015_questionnaires.json"

COUNTED_ROLES = {"score", "member_count", "attendance_count"}
EXCLUDED_REASON = {99: "dont_know", 999: "does_not_exist", 9999: "not_applicable"}
# Coordinator q311 labels code 99 "Not applicable" (the JSON, surveys.coordinator.items.q311).
EXCLUDED_REASON_EXCEPTIONS = {("coordinator", "q311", 99): "not_applicable"}
# §1.5 "Quirk in S5": the item list of function 6 holds the free-text comment q66.
COMMENT_IN_SECTION_MAP = {("6", "coordinator"): {"q66"}}


@pytest.fixture(scope="module")
def ccpm() -> Instrument:
    """The bundled CCPM file, validated by the schema."""
    return Instrument.model_validate(yaml.safe_load(CCPM_FILE.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def source() -> dict:
    """The extracted questionnaires; skipped where the shared reference folder is absent."""
    if not REFERENCE.is_file():
        pytest.skip(f"{REFERENCE} is not on this machine")
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def item_id(code: str) -> str:
    """The file's id for a JSON code: brackets become underscores (q222[1] -> q222_1)."""
    return code.replace("[", "_").replace("]", "")


def questionnaire(instrument: Instrument, questionnaire_id: str) -> Questionnaire:
    return next(q for q in instrument.questionnaires if q.id == questionnaire_id)


def items_by_id(instrument: Instrument, questionnaire_id: str) -> dict[str, Item]:
    return {item.id: item for item in questionnaire(instrument, questionnaire_id).items}


def options_of(instrument: Instrument, item: Item) -> tuple[Option, ...]:
    if item.scale is None:
        return item.options
    return next(scale.options for scale in instrument.scales if scale.id == item.scale)


def walk(nodes: tuple[Node, ...]) -> Iterator[Node]:
    for node in nodes:
        yield node
        yield from walk(node.children)


def descendant_indicators(node: Node) -> list[str]:
    return [n.id for n in walk(node.children) if n.level == "indicator"]


def texts(value: object, path: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Every multilingual text in the model, with where it is."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from texts(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, tuple):
        for index, entry in enumerate(value):
            yield from texts(entry, f"{path}[{index}]")
    elif isinstance(value, dict) and "en" in value:
        yield path, value


def band_key(instrument: Instrument, percent: float) -> str:
    """The band a percentage falls in, read over (lower, upper] as the schema defines."""
    (band_set,) = instrument.bands
    first = band_set.bands[0]
    if percent == first.lower:
        return first.key
    return next(b.key for b in band_set.bands if b.lower < percent <= b.upper)


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_file_passes_the_loader_cross_checks() -> None:
    pytest.importorskip("instruments.checks", reason="the loader's cross-checks are not built yet")
    from instruments.loader import load_instrument_file

    assert load_instrument_file(CCPM_FILE).key == "ccpm"


def test_identity(ccpm: Instrument) -> None:
    assert ccpm.key == "ccpm"
    assert ccpm.version == "2015.2"  # the GHC 2015 questionnaires (§1.2, §1.4)
    assert ccpm.languages == ("en", "fr")
    assert ccpm.title == {
        "en": "Cluster Coordination Performance Monitoring (CCPM)",
        "fr": "Suivi de la performance de la coordination des clusters (CCPM)",
    }


def test_item_counts(ccpm: Instrument) -> None:
    # §1.4: coordinator survey 67825 has 78 scored or context items, partner survey 22814 has 42.
    for questionnaire_id, expected in (("coordinator", 78), ("partner", 42)):
        items = questionnaire(ccpm, questionnaire_id).items
        assert sum(item.role in COUNTED_ROLES for item in items) == expected
    coordinator = questionnaire(ccpm, "coordinator").items
    assert sum(item.role == "score" for item in coordinator) == 66
    # §1.4: q012[1..6] organisations per type, q013[1..6] average attendance per type.
    assert [item.id for item in coordinator if item.role == "member_count"] == [
        f"q012_{k}" for k in range(1, 7)
    ]
    assert [item.id for item in coordinator if item.role == "attendance_count"] == [
        f"q013_{k}" for k in range(1, 7)
    ]


def test_every_code_and_option_matches_the_source(ccpm: Instrument, source: dict) -> None:
    # §1.4 "Answer design": the option code is the score on 0-4; 99, 999 and 9999 are excluded.
    for questionnaire_id, survey in source["surveys"].items():
        items = items_by_id(ccpm, questionnaire_id)
        counted = {key for key, item in items.items() if item.role in COUNTED_ROLES}
        assert counted == {item_id(code) for code in survey["items"]}, questionnaire_id
        for code, entry in survey["items"].items():
            item = items[item_id(code)]
            assert item.source is not None and item.source.endswith(
                f"#surveys.{questionnaire_id}.items.{code}"
            )
            if not entry["answers"]:  # the q012/q013 counts: a whole number, not a choice
                assert (item.type, item.integer, item.minimum) == ("number", True, 0)
                assert item.help is not None and item.help["en"].startswith("Organisation type:")
                continue
            assert (item.type, item.role, item.required) == ("single_choice", "score", False)
            options = options_of(ccpm, item)
            codes = [int(c) for c in entry["answers"]]
            assert [o.code for o in options] == codes, f"{questionnaire_id} {code}: order"
            for option in options:
                if option.code <= 4:
                    assert (option.score, option.excluded) == (option.code, None), code
                else:
                    expected = EXCLUDED_REASON_EXCEPTIONS.get(
                        (questionnaire_id, code, option.code), EXCLUDED_REASON[option.code]
                    )
                    assert (option.score, option.excluded) == (None, expected), code


def test_partner_q113_offers_only_2_and_4(ccpm: Instrument) -> None:
    # §1.4 "partner q113 only offers 2 and 4".
    q113 = items_by_id(ccpm, "partner")["q113"]
    assert [o.score for o in options_of(ccpm, q113) if o.score is not None] == [2, 4]


def test_item_to_indicator_map_equals_the_source(ccpm: Instrument, source: dict) -> None:
    # §1.4 indicator -> item table; the JSON section_question_map, per questionnaire.
    section_map = source["section_question_map"]
    nodes = {node.id: node for node in walk(ccpm.nodes)}
    feeds: dict[tuple[str, str], set[str]] = {}
    for q in ccpm.questionnaires:
        for item in q.items:
            if item.role == "score":
                assert len(item.node_ids) == 1, item.id  # no source item feeds two indicators
                for node_id in item.node_ids:
                    assert nodes[node_id].level == "indicator", item.id
                    feeds.setdefault((node_id, q.id), set()).add(item.id)
    for key, per_survey in section_map.items():
        node = nodes[key]
        for questionnaire_id, codes in per_survey.items():
            expected = {item_id(c) for c in codes} - COMMENT_IN_SECTION_MAP.get(
                (key, questionnaire_id), set()
            )
            if node.level == "indicator":
                assert feeds.get((key, questionnaire_id), set()) == expected, key
            else:  # a sub-function, or function 5, 6 or 7: the union over its indicators
                union = set().union(
                    *(feeds.get((i, questionnaire_id), set()) for i in descendant_indicators(node))
                )
                assert union == expected, key
    indicator_ids = {n.id for n in walk(ccpm.nodes) if n.level == "indicator"}
    assert indicator_ids == {k for k in section_map if k.count(".") == 2}


def test_q66_quirk_is_a_comment(ccpm: Instrument) -> None:
    q66 = items_by_id(ccpm, "coordinator")["q66"]
    assert (q66.type, q66.role, q66.node) == ("text", "comment", "6")


def test_tree_follows_ccpm_numbering(ccpm: Instrument, source: dict) -> None:
    # §1.3: functions 1-7, exact names; sub-functions of 1-4 only.
    assert [(n.id, n.title["en"]) for n in ccpm.nodes] == [
        ("1", "Supporting service delivery"),
        ("2", "Informing strategic decision-making of the HC/HCT"),
        ("3", "Planning and strategy development"),
        ("4", "Advocacy"),
        ("5", "Monitoring and reporting on implementation of cluster strategy and results"),
        ("6", "Contingency planning / preparedness / capacity building"),
        ("7", "Accountability to affected populations"),
    ]
    levels = {n.id: n.level for n in walk(ccpm.nodes)}
    sub_functions = [k for k, level in levels.items() if level == "sub_function"]
    assert sub_functions == ["1.1", "1.2", "2.1", "2.2", "2.3", "3.1", "3.2", "3.3", "4.1", "4.2"]
    for function in ccpm.nodes[4:]:
        assert {child.level for child in function.children} == {"indicator"}, function.id
    # Indicators in the order of the JSON indicator_labels, each under its parent number.
    indicators = [n for n in walk(ccpm.nodes) if n.level == "indicator"]
    assert [n.id for n in indicators] == list(source["indicator_labels"])
    for node in walk(ccpm.nodes):
        for child in node.children:
            parent = child.id.rsplit(".", 1)[0]
            assert parent == node.id or (node.id in {"5", "6", "7"} and parent == node.id + ".1")


def test_every_node_is_scored_and_characterised(ccpm: Instrument) -> None:
    # §1.5: indicators and sub-functions are scored; functions 5-7 at function level.
    nodes = list(walk(ccpm.nodes))
    assert {n.scoring for n in nodes} == {"ccpm_percent"}
    # §1.7: indicative characteristics per sub-function and for functions 5, 6 and 7.
    characterised = [n.id for n in nodes if n.characteristics is not None]
    assert characterised == ["1.1", "1.2", "2.1", "2.2", "2.3", "3.1", "3.2", "3.3", "4.1",
                             "4.2", "5", "6", "7"]


def test_cross_cutting_issue_names_are_exact(ccpm: Instrument) -> None:
    # §1.4: q223[1..8] and q315[1..8], the eight cross-cutting issues, in this order.
    names = ["Age", "Gender", "Diversity", "Human rights",
             "Protection including gender-based violence", "Environment", "HIV/AIDS", "Disability"]
    titles = {n.id: n.title["en"] for n in walk(ccpm.nodes)}
    for first in (7, 5):
        prefix = "2.2" if first == 7 else "3.1"
        for offset, name in enumerate(names):
            assert name in titles[f"{prefix}.{first + offset}"]


def test_bands(ccpm: Instrument) -> None:
    # §1.5: <= 25 weak, <= 50 unsatisfactory, <= 75 satisfactory, else good; S5 legend colours.
    (band_set,) = ccpm.bands
    assert band_set.id == "ccpm_status" and not band_set.convention
    assert [(b.key, b.lower, b.upper, b.label["en"], b.label["fr"], b.colour) for b in
            band_set.bands] == [
        ("weak", 0, 25, "Weak", "Faible", "#e0301e"),
        ("unsatisfactory", 25, 50, "Unsatisfactory", "Insatisfaisant", "#ff9400"),
        ("satisfactory", 50, 75, "Satisfactory", "Satisfaisant", "#ffe003"),
        ("good", 75, 100, "Good", "Bon", "#1fc63c"),
    ]
    assert all(before.upper == after.lower for before, after in pairwise(band_set.bands))
    for band in band_set.bands:  # WCAG AA
        assert contrast(band.text_colour, band.colour) >= 4.5, band.key
    expected = {0: "weak", 25: "weak", 25.01: "unsatisfactory", 50: "unsatisfactory",
                50.5: "satisfactory", 75: "satisfactory", 75.01: "good", 100: "good"}
    assert {p: band_key(ccpm, p) for p in expected} == expected


def test_scoring_rule(ccpm: Instrument) -> None:
    # §1.5: median of per-respondent means, pooled, x 25, 2 decimals.
    (rule,) = ccpm.scoring
    assert rule.model_dump() == {
        "id": "ccpm_percent", "method": "median_of_respondent_means", "scale_min": 0,
        "scale_max": 4, "percent_factor": 25, "decimals": 2, "min_respondents": 1,
        "bands": "ccpm_status", "pooled_questionnaires": (),
        "source": "reference/instruments.md#1.5",
    }


def test_partner_context_items(ccpm: Instrument, source: dict) -> None:
    partner = questionnaire(ccpm, "partner")
    assert partner.anonymous
    q012 = items_by_id(ccpm, "partner")["q012"]
    assert (q012.type, q012.role, q012.required) == ("single_choice", "organisation_type", True)
    # §1.4 and the JSON org_type_codes_partner_q012; labels in the singular.
    assert [(o.code, o.score) for o in q012.options] == [(int(c), None) for c in
                                                          source["org_type_codes_partner_q012"]]
    assert [o.label["en"] for o in q012.options] == [
        "International NGO", "National NGO", "UN agency", "National authority", "Donor", "Other"
    ]


def test_free_text_comments(ccpm: Instrument, source: dict) -> None:
    # §1.4 "Free-text comments"; the JSON free_text_comment_items.
    for key, per_survey in source["free_text_comment_items"].items():
        for questionnaire_id, code in per_survey.items():
            item = items_by_id(ccpm, questionnaire_id)[code]
            assert (item.type, item.role, item.multiline) == ("text", "comment", True)
            assert item.node == (key if key.isdigit() else None), code


def test_items_follow_the_questionnaire_function_by_function(ccpm: Instrument) -> None:
    for q in ccpm.questionnaires:
        functions = [item.node_ids[0][0] for item in q.items if item.node_ids]
        assert functions == sorted(functions), q.id


def test_skip_logic_refers_to_earlier_items(ccpm: Instrument) -> None:
    # instruments/README.md section 10: only earlier items of the same questionnaire.
    for q in ccpm.questionnaires:
        seen: set[str] = set()
        for item in q.items:
            if item.relevant:
                assert set(references(parse_expression(item.relevant))) <= seen, item.id
            seen.add(item.id)
        items = items_by_id(ccpm, q.id)
        for k in range(1, 9):  # the analysis items are asked only after joint analyses
            assert items[f"q223_{k}"].relevant == "${q221} = 4"
        for k in range(1, 6):
            assert items[f"q222_{k}"].relevant == "${q221} = 4"


def test_every_text_is_in_english_and_french(ccpm: Instrument) -> None:
    found = list(texts(ccpm, "ccpm"))
    assert len(found) > 500  # titles, items, options, scales, characteristics, bands ...
    missing = [path for path, text in found if set(text) != {"en", "fr"}]
    assert missing == []


def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", text.lower()))


def _closest(words: tuple[str, ...], originals: set[tuple[str, ...]]) -> float:
    """The highest word-level similarity (0-1) of ``words`` to any original text."""
    matcher = difflib.SequenceMatcher(None, b=words, autojunk=False)
    best = 0.0
    for original in originals:
        matcher.set_seq1(original)
        if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:
            best = max(best, matcher.ratio())
    return best


def test_descriptive_text_is_not_the_source_wording(ccpm: Instrument, source: dict) -> None:
    # The source wording is proprietary-derived (§1.2 licence caveat): every stem, anchor,
    # indicator label and characteristic of four words or more is rewritten, not lightly edited.
    # One word changed in a ten-word sentence scores 0.9; the file's closest text scores 0.71.
    originals: set[tuple[str, ...]] = set()
    for survey in source["surveys"].values():
        for entry in survey["items"].values():
            originals.add(_words(entry["text"]))
            originals.update(_words(a) for a in (entry["answers"] or {}).values())
    originals.update(_words(label) for label in source["indicator_labels"].values())
    originals.update(_words(c["characteristics"]) for c in source["indicative_characteristics"])
    too_close = [
        (path, text["en"]) for path, text in texts(ccpm, "ccpm")
        if len(_words(text["en"])) >= 4 and _closest(_words(text["en"]), originals) >= 0.85
    ]
    assert too_close == []
