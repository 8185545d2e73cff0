"""Differences between two versions of an instrument, and the crosswalk that links them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from instruments.diff import Change, diff_instruments, uncovered_removals
from instruments.loader import parse_instrument
from instruments.schema import Instrument
from surveyapp.commands.instruments import command

WriteFile = Callable[[str, str | bytes], Path]

OLD = """\
key: mini
version: "1"
title: Mini survey
nodes:
  - id: "1"
    level: function
    title: Meetings
    children:
      - id: "1.1"
        level: sub_function
        title: Frequency
  - id: "2"
    level: function
    title: Planning
questionnaires:
  - id: coordinator
    role: coordinator
    title: Coordinator questionnaire
    items:
      - id: q1
        type: yes_no
        node: "1.1"
        text: Are meetings held?
      - id: q2
        type: text
        text: Who chairs them?
      - id: q3
        type: yes_no
        text: Are minutes shared?
      - id: q4
        type: single_choice
        text: How often?
        options:
          - {code: 0, label: Never, score: 0}
          - {code: 4, label: Always, score: 4}
      - id: q5
        type: yes_no
        text: Is there a work plan?
  - id: partner
    role: partner
    title: Partner questionnaire
    items:
      - id: p1
        type: yes_no
        text: Do you attend?
"""

NEW = """\
key: mini
version: "2"
title: Mini survey
nodes:
  - id: "1"
    level: function
    title: Coordination meetings
    children:
      - id: "1.1"
        level: sub_function
        title: Frequency
  - id: "3"
    level: function
    title: Strategy
questionnaires:
  - id: coordinator
    role: coordinator
    title: Coordinator questionnaire
    items:
      - id: q1
        type: yes_no
        node: "1.1"
        text: Are coordination meetings held?
      - id: chair
        type: text
        text: Who chairs them?
      - id: q4
        type: single_choice
        text: How often?
        options:
          - {code: 0, label: Never, score: 0}
          - {code: 4, label: Always, score: 3}
      - id: q6
        type: date
        text: When was the last meeting?
  - id: validator
    role: validator
    title: Validator questionnaire
    items:
      - id: v1
        type: yes_no
        text: Is the evidence sufficient?
crosswalk:
  - from_version: "1"
    entries:
      - {questionnaire: coordinator, from: q2, to: chair}
      - {questionnaire: coordinator, from: q3, to: null, note: merged into q1}
"""


def instrument(text: str) -> Instrument:
    return parse_instrument(text.encode("utf-8"), "mini.yaml").instrument


def formatted(changes: list[Change]) -> list[str]:
    return [change.format() for change in changes]


def test_every_kind_of_change_in_file_order() -> None:
    assert formatted(diff_instruments(instrument(OLD), instrument(NEW))) == [
        "changed  node 1: title",
        "removed  node 2",
        "added    node 3",
        "changed  item coordinator/q1: text",
        "renamed  item coordinator/q2: now chair",
        "removed  item coordinator/q3",
        "changed  item coordinator/q4: options",
        "removed  item coordinator/q5: not covered by the crosswalk",
        "added    item coordinator/q6",
        "removed  questionnaire partner",
        "added    questionnaire validator",
    ]


def test_only_removals_the_crosswalk_ignores_are_uncovered() -> None:
    assert uncovered_removals(instrument(OLD), instrument(NEW)) == [
        Change("removed", "item", "coordinator", "q5", "not covered by the crosswalk"),
    ]


def test_identical_versions_have_no_differences() -> None:
    assert diff_instruments(instrument(OLD), instrument(OLD)) == []


def test_renamed_item_that_also_changed_reports_both() -> None:
    new = NEW.replace("        text: Who chairs them?", "        text: Who chairs the meetings?")
    changes = formatted(diff_instruments(instrument(OLD), instrument(new)))
    assert changes[4:6] == ["renamed  item coordinator/q2: now chair",
                            "changed  item coordinator/chair: text"]


def test_crosswalk_entry_without_questionnaire_applies_to_every_questionnaire() -> None:
    new = NEW.replace("{questionnaire: coordinator, from: q2, to: chair}", "{from: q2, to: chair}")
    assert "renamed  item coordinator/q2: now chair" in formatted(
        diff_instruments(instrument(OLD), instrument(new)))


def test_crosswalk_from_another_version_is_not_applied() -> None:
    new = NEW.replace('from_version: "1"', 'from_version: "0.9"')
    old, newer = instrument(OLD), instrument(new)
    changes = formatted(diff_instruments(old, newer))
    assert "removed  item coordinator/q2: not covered by the crosswalk" in changes
    assert "added    item coordinator/chair" in changes
    assert [change.identifier for change in uncovered_removals(old, newer)] == ["q2", "q3", "q5"]


def test_node_renamed_through_the_crosswalk() -> None:
    new = NEW.replace('  - id: "3"\n    level: function\n    title: Strategy\n',
                      '  - id: "2b"\n    level: function\n    title: Planning\n')
    new += '      - {from: "2", to: "2b"}\n'
    changes = formatted(diff_instruments(instrument(OLD), instrument(new)))
    assert changes[:2] == ["changed  node 1: title", "renamed  node 2: now 2b"]


def test_answer_and_scoring_fields_count_as_changes() -> None:
    new = OLD.replace("      - id: q2\n        type: text\n",
                      "      - id: q2\n        type: text\n        required: true\n"
                      "        relevant: ${q1} = 'no'\n")
    new = new.replace('        node: "1.1"\n', "")
    assert formatted(diff_instruments(instrument(OLD), instrument(new))) == [
        "changed  item coordinator/q1: nodes",
        "changed  item coordinator/q2: required, relevant",
    ]


def test_cli_diff_prints_the_versions_and_each_change(write_file: WriteFile) -> None:
    old, new = write_file("v1.yaml", OLD), write_file("v2.yaml", NEW)
    result = CliRunner().invoke(command, ["diff", str(old), str(new)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "mini 1 -> mini 2"
    assert lines[1:] == formatted(diff_instruments(instrument(OLD), instrument(NEW)))
    assert "removed  item coordinator/q5: not covered by the crosswalk" in lines


def test_cli_diff_of_identical_files_says_so(write_file: WriteFile) -> None:
    old = write_file("v1.yaml", OLD)
    result = CliRunner().invoke(command, ["diff", str(old), str(old)])
    assert result.exit_code == 0
    assert result.output == "mini 1 -> mini 1\nno differences in nodes or items\n"


def test_cli_diff_of_a_bundled_key_with_itself() -> None:
    result = CliRunner().invoke(command, ["diff", "ccpm", "ccpm"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == ["no differences in nodes or items"]


def test_cli_diff_with_an_invalid_file_prints_its_problems(write_file: WriteFile) -> None:
    old = write_file("v1.yaml", OLD)
    new = write_file("v2.yaml", NEW.replace("type: date", "type: when"))
    result = CliRunner().invoke(command, ["diff", str(old), str(new)])
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{new}:34:9: I012 questionnaires[0].items[3].type: Input should be")
