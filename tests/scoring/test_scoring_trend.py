"""Trends across cycles, mapped through the crosswalk when instrument versions differ.

Rules (DESIGN.md "How work flows" step 7: "trends show across cycles, even across instrument
versions (a declared crosswalk maps old items to new)"; instruments/README.md, crosswalk):

- ST1  the same node lines up across cycles, under the newest instrument's ids
- ST2  a renamed node or item follows its crosswalk entry; `to: null` lists it as removed
- ST3  versions chain through intermediate crosswalks (1 -> 2 -> 3)
- ST4  no crosswalk between versions, or different instruments: a clear error
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from instruments.schema import Instrument
from scoring import Cycle, PercentResult, ScoreReport, TrendError, trend
from tests.scoring.inline import MINI_CCPM, load

Run = Callable[..., ScoreReport]

VERSION_2 = MINI_CCPM.replace('version: "1"', 'version: "2"').replace(
    '"1.1.2"', '"1.1.3"').replace("id: c2,", "id: c2b,") + """
crosswalk:
  - from_version: "1"
    entries:
      - {from: "1.1.2", to: "1.1.3", note: indicator renumbered}
      - {questionnaire: coordinator, from: c2, to: c2b, note: question reworded}
      - {from: p2, to: null, note: question dropped}
"""

VERSION_3 = VERSION_2.replace('version: "2"', 'version: "3"').replace(
    'from_version: "1"', 'from_version: "2"').replace(
    '{from: "1.1.2", to: "1.1.3", note: indicator renumbered}', '{from: "2", to: null}')


def scores(run: Run, instrument: Instrument, c2: str, value: int) -> ScoreReport:
    return run(instrument, [("c", "coordinator", "c1", 4), ("c", "coordinator", c2, value),
                            ("a", "partner", "p1", 2), ("a", "partner", "p2", 3)])


def test_same_version_lines_up_node_by_node(ccpm: Instrument, run: Run) -> None:
    """ST1: 1.1.2 was 0 (weak) in 2023 and 100 (good) in 2024."""
    cycles = [Cycle("2023", ccpm, scores(run, ccpm, "c2", 0)),
              Cycle("2024", ccpm, scores(run, ccpm, "c2", 4))]
    line = trend(cycles).node("1.1.2")
    assert [(p.cycle, p.result.to_dict()["score"]) for p in line.points] == [
        ("2023", 0.0), ("2024", 100.0)]


def test_crosswalk_maps_renamed_nodes_and_items(ccpm: Instrument, run: Run) -> None:
    """ST2: 1.1.2 (version 1) is 1.1.3 (version 2); c2 is c2b; p2 was dropped."""
    newer = load(VERSION_2)
    result = trend([Cycle("2023", ccpm, scores(run, ccpm, "c2", 1)),
                    Cycle("2024", newer, scores(run, newer, "c2b", 3))])
    line = result.node("1.1.3")
    assert [(p.cycle, p.version, p.source_node) for p in line.points] == [
        ("2023", "1", "1.1.2"), ("2024", "2", "1.1.3")]
    old = line.points[0].result
    assert isinstance(old, PercentResult)
    assert (old.node, old.parent, old.score) == ("1.1.3", "1.1", 25.0)
    c2b = next(entry for entry in result.items if entry.item == "c2b")
    assert [(cycle, d.item) for cycle, d in c2b.points] == [("2023", "c2b"), ("2024", "c2b")]
    assert ("2023", "partner/p2") in result.removed
    assert [entry.node for entry in result.nodes][:4] == ["1", "1.1", "1.1.1", "1.1.3"]
    assert result.to_dict()["version"] == "2"


def test_crosswalks_chain_through_intermediate_versions(ccpm: Instrument, run: Run) -> None:
    """ST3: version 3 maps from 2 only; the version 2 cycle supplies the step from 1."""
    second, third = load(VERSION_2), load(VERSION_3)
    result = trend([Cycle("2022", ccpm, scores(run, ccpm, "c2", 0)),
                    Cycle("2023", second, scores(run, second, "c2b", 2)),
                    Cycle("2024", third, scores(run, third, "c2b", 4))])
    assert [p.source_node for p in result.node("1.1.3").points] == ["1.1.2", "1.1.3", "1.1.3"]
    removed_function = [entry for entry in result.removed if entry[1] == "2"]
    assert removed_function == [("2022", "2"), ("2023", "2")]


def test_missing_crosswalk_is_an_error(ccpm: Instrument, run: Run) -> None:
    """ST4: without a declared crosswalk, old ids cannot be trusted to mean the same thing."""
    orphan = load(MINI_CCPM.replace('version: "1"', 'version: "9"'))
    with pytest.raises(TrendError, match="no crosswalk leads from version 1 to version 9"):
        trend([Cycle("2023", ccpm, scores(run, ccpm, "c2", 0)),
               Cycle("2024", orphan, scores(run, orphan, "c2", 0))])


def test_different_instruments_are_an_error(ccpm: Instrument, run: Run) -> None:
    """ST4: a trend compares cycles of one instrument."""
    other = load(MINI_CCPM.replace("key: mini-ccpm", "key: other"))
    with pytest.raises(TrendError, match="different instruments"):
        trend([Cycle("a", ccpm, scores(run, ccpm, "c2", 0)),
               Cycle("b", other, scores(run, other, "c2", 0))])
