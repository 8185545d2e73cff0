"""``surveyapp report jiu-rbm``: all 17 components, self-assessed and validated, read back.

The answers are generated here: component number n (0-16 in annex IX order) is
self-assessed at stage 1 + (3n mod 5) and validated one stage lower when n is a
multiple of 4 (never below 1), else at the same stage; every component has a
rationale, two evidence documents and a validator's comment; a senior manager answers
the first outcomes question. Rules checked (DESIGN.md "Scoring rules";
reference/jiu_framework.md 4.3): stages side by side, never averaged; pillars as a
distribution; descriptors of the stage reached and the next; actions quote the next
stage's descriptor for components below the target stage.
"""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from instruments.loader import load_instrument
from instruments.schema import Node
from scoring import StageResult
from tests.reports.conftest import (
    Reporter,
    ReportRun,
    body,
    flat,
    pdf_text,
    run_report,
    scores_of,
)

pytestmark = pytest.mark.usefixtures("poppler")


def components() -> list[Node]:
    return [component for pillar in load_instrument("jiu-rbm").instrument.nodes
            for component in pillar.children]


def stages(position: int) -> tuple[int, int]:
    self_stage = 1 + (3 * position) % 5
    return self_stage, max(1, self_stage - 1) if position % 4 == 0 else self_stage


def rows() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["respondent", "questionnaire", "item", "value", "comment"])
    for position, component in enumerate(components()):
        self_stage, validated = stages(position)
        node = component.id
        writer.writerows([
            ("focal", "self_assessment", node, self_stage, ""),
            ("focal", "self_assessment", f"{node}.rationale", f"Why {node} sits at this stage", ""),
            ("focal", "self_assessment", f"{node}.evidence",
             f"Policy paper {node}\nBoard decision {node}", ""),
            ("jiu", "validation", node, validated, ""),
            ("jiu", "validation", f"{node}.comment", f"Evidence for {node} reviewed", ""),
        ])
        if component.activities:
            writer.writerow(("focal", "self_assessment", f"{node}.a1", 3, ""))
    writer.writerow(("dg", "outcomes", "out.p1.q1", "Decisions now cite evaluation findings", ""))
    return buffer.getvalue()


ROWS = rows()


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> ReportRun:
    """The English report of ROWS, written once for the tests that only read it."""
    run = run_report(tmp_path_factory.mktemp("jiu"), "jiu-rbm", ROWS)
    assert run.result.exit_code == 0, run.result.output
    return run


def test_profile_shows_self_and_validated_stage_of_every_component(report: Reporter) -> None:
    run = report("jiu-rbm", ROWS, "--unit", "UNDP")
    assert run.result.exit_code == 0, run.result.output
    text = body(pdf_text(run.pdf))
    profile = text[text.index("Stage profile"):text.index("Configuration")]
    scores = scores_of("jiu-rbm", ROWS)
    for position, component in enumerate(components()):
        result = scores.result(component.id)
        assert isinstance(result, StageResult)
        assert (result.self_stage, result.validated_stage) == stages(position)
        line = next(line for line in profile.splitlines()  # the table row, not the chart's
                    if line.strip().startswith(f"{component.id} ")
                    and component.title["en"][:20] in line)
        difference = f"{result.difference:+d}" if result.difference else "0"
        assert line.split()[-3:] == [str(result.self_stage), str(result.validated_stage),
                                     difference], line


def test_configuration_is_a_distribution_never_an_average(default: ReportRun) -> None:
    text = body(pdf_text(default.pdf))
    configuration = text[text.index("Configuration"):text.index("Component by component")]
    scores = scores_of("jiu-rbm", ROWS)
    overall = scores.configuration
    assert overall is not None
    lines = configuration[configuration.index("All"):].splitlines()
    validated = next(line for line in lines if line.strip().startswith("Validated"))
    counts = [str(count.count) for count in overall.validated.counts]
    assert validated.split()[-5:] == counts
    assert "17/17" in validated
    assert "average" not in flat(configuration).lower()


def test_each_component_quotes_descriptors_rationale_evidence_and_validator(
    default: ReportRun,
) -> None:
    text = flat(body(pdf_text(default.pdf)))
    for position, component in enumerate(components()):
        _, validated = stages(position)
        reached = component.stages[validated - 1]
        assert flat(reached.descriptor["en"]) in text, component.id
        if validated < 5:
            assert flat(component.stages[validated].descriptor["en"]) in text, component.id
        for quoted in (f"Why {component.id} sits at this stage", f"Policy paper {component.id}",
                       f"Board decision {component.id}", f"Evidence for {component.id} reviewed"):
            assert quoted in text
    assert "Decisions now cite evaluation findings" in text


def test_actions_quote_the_next_stage_below_the_target(report: Reporter) -> None:
    workbook = load_workbook(report("jiu-rbm", ROWS, "--target-stage", "3").xlsx)
    rows = list(workbook["Action plan"].iter_rows(min_row=2, values_only=True))
    below = [(component, stages(position)[1]) for position, component in enumerate(components())
             if stages(position)[1] < 3]
    assert [row[1] for row in rows] == [component.id for component, _ in below]
    for (component, stage), row in zip(below, rows, strict=True):
        following = component.stages[stage]
        assert row[0].endswith(following.descriptor["en"])
        assert f"stage {stage} (validated); target 3" == row[2]
        assert row[6] == "draft"


def test_evidence_and_comments_sheets(default: ReportRun) -> None:
    workbook = load_workbook(default.xlsx)
    evidence = list(workbook["Evidence"].iter_rows(min_row=2, values_only=True))
    assert len(evidence) == 2 * 17
    assert ("1.1", "Results-based management strategy", "Focal point", "focal",
            "Policy paper 1.1") in evidence
    comments = list(workbook["Comments"].iter_rows(min_row=2, values_only=True))
    kinds = {row[5] for row in comments}
    assert {"comment", "rationale", "open answer"} <= kinds
    header = [cell.value for cell in workbook["Scores"][1]]
    assert {"Self-assessed stage", "Validated stage", "Validated: median"} <= set(header)
