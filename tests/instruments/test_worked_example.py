"""The worked example of instruments/README.md is a real, valid instrument, and the guide
shows exactly the text of tests/instruments/data/worked_example.yaml, so the two cannot drift.
The guide's field tables and error codes are also checked against the schema and the loader's
codes, since the guide is meant to be derived from them exactly.
"""

from __future__ import annotations

import re
import typing
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from instruments.checks import missing_translations
from instruments.errors import ErrorCode, InstrumentInvalid
from instruments.expressions import evaluate, parse_expression
from instruments.loader import load_instrument_file, parse_instrument
from instruments.schema import Instrument

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "instruments" / "README.md"
EXAMPLE = ROOT / "tests" / "instruments" / "data" / "worked_example.yaml"

# The guide splits the example into steps; each step is a block fenced as ```yaml worked-example.
STEP_BLOCK = re.compile(r"^```yaml worked-example\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def _example() -> Instrument:
    return Instrument.model_validate(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))


def test_worked_example_validates_with_the_schema() -> None:
    example = _example()
    assert example.key == "mini-coordination"
    assert example.languages == ("en", "fr")
    assert [node.id for node in example.nodes] == ["1", "2"]
    partner = example.questionnaires[0]
    assert [item.id for item in partner.items] == ["org_type", "q11", "q12", "q21", "q22"]


def test_worked_example_passes_the_loader_cross_checks() -> None:
    loaded = load_instrument_file(EXAMPLE)
    assert loaded.key == "mini-coordination"
    # Section 14: the example is complete in French.
    assert missing_translations(loaded.instrument, "fr") == []


def test_the_guides_deliberate_mistake_is_reported_where_it_says() -> None:
    """Section 16: skip logic naming `q13`, which is no item, gives I041 at `relevant`."""
    text = EXAMPLE.read_text(encoding="utf-8")
    good = 'relevant: "${q11} >= 1 and ${q11} <= 4"'
    assert text.count(good) == 1
    with pytest.raises(InstrumentInvalid) as raised:
        parse_instrument(text.replace(good, 'relevant: "${q13} >= 1"').encode(), "example.yaml")
    (problem,) = raised.value.problems
    line = next(number for number, content in enumerate(text.splitlines(), start=1)
                if good in content)
    assert (problem.code, problem.line) == (ErrorCode.SKIP_LOGIC_UNKNOWN_ITEM, line)
    assert "${q13}" in problem.message


def test_readme_shows_the_worked_example_file_verbatim() -> None:
    steps = STEP_BLOCK.findall(_readme())
    assert len(steps) == 6, "the guide presents the example in six steps"
    # Steps are separated by one blank line in the file.
    assert "\n".join(steps) == EXAMPLE.read_text(encoding="utf-8")


def test_worked_example_skip_rule_behaves_as_the_guide_says() -> None:
    """Section 16: q12 is asked for codes 1-4 of q11, skipped for Never (0) and Don't know (99)."""
    items = {item.id: item for item in _example().questionnaires[0].items}
    relevant = items["q12"].relevant
    assert relevant is not None
    rule = parse_expression(relevant)
    asked = {code for code in (0, 1, 2, 3, 4, 99) if evaluate(rule, {"q11": code})}
    assert asked == {1, 2, 3, 4}


def test_worked_example_bands_cover_the_percent_range_of_its_rule() -> None:
    """Section 11: bands run from scale_min to scale_max, times percent_factor."""
    example = _example()
    rule = example.scoring[0]
    bands = next(band_set for band_set in example.bands if band_set.id == rule.bands).bands
    assert rule.scale_min is not None and rule.scale_max is not None
    assert rule.percent_factor is not None
    assert bands[0].lower == rule.scale_min * rule.percent_factor
    assert bands[-1].upper == rule.scale_max * rule.percent_factor
    assert all(before.upper == after.lower for before, after in pairwise(bands))


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    """Collect every model reachable from ``model`` through its fields."""
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        for inner in _inner_models(field.annotation):
            _models(inner, seen)


def _inner_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in typing.get_args(annotation) for model in _inner_models(argument)]


def _literal_values(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return [str(value) for value in typing.get_args(annotation)]
    arguments = typing.get_args(annotation)
    return [value for argument in arguments for value in _literal_values(argument)]


def test_readme_documents_every_field_and_choice_of_the_schema() -> None:
    readme = _readme()
    models: set[type[BaseModel]] = set()
    _models(Instrument, models)
    undocumented = sorted(
        f"{model.__name__}.{field.alias or name}"
        for model in models
        for name, field in model.model_fields.items()
        if f"`{field.alias or name}`" not in readme
    )
    assert undocumented == []
    choices = {
        value
        for model in models
        for field in model.model_fields.values()
        for value in _literal_values(field.annotation)
    }
    assert sorted(value for value in choices if f"`{value}`" not in readme) == []


def test_readme_error_codes_match_the_loader() -> None:
    readme = _readme()
    by_code = {code.code: code.meaning for code in ErrorCode}
    mentioned = set(re.findall(r"\bI\d{3}\b", readme))
    assert mentioned, "the guide names error codes"
    assert sorted(mentioned - set(by_code)) == []
    table_rows = re.findall(r"^\| (I\d{3}) \| ([^|]+) \|", readme, re.MULTILINE)
    assert table_rows, "the guide has an error-code table"
    for code, meaning in table_rows:
        assert meaning.strip() == by_code[code], code
