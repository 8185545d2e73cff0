"""The engine as a whole: method registry, purity, determinism, frozen results.

Rules (issue "Scoring engine"; DESIGN.md "Architecture"):

- SE1  every method an instrument file may name is registered; registering a name twice fails
- SE2  ``scoring`` is pure: importing and running it loads no Flask, SQLAlchemy or web code
- SE3  results are frozen, and the same instrument and answers give the same bytes
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import typing
from collections.abc import Callable
from pathlib import Path

import pytest

from instruments.schema import Instrument, ScoringMethod
from scoring import AnswersInvalid, ScoreReport, registered
from scoring.methods import register
from tests.scoring.inline import MINI_CCPM, load

Run = Callable[..., ScoreReport]
ROOT = Path(__file__).resolve().parents[2]


def test_every_schema_method_is_registered() -> None:
    """SE1: a method named in a file always has code behind it (schema ``ScoringMethod``)."""
    assert set(typing.get_args(ScoringMethod)) == set(registered())


def test_registering_a_name_twice_fails_loudly() -> None:
    """SE1: two implementations of one method would make results depend on import order."""
    with pytest.raises(ValueError, match="`rubric_total` is registered twice"):
        register("rubric_total")(lambda context, rule, nodes: {})


def test_scoring_loads_no_web_or_database_code() -> None:
    """SE2: scoring is pure (DESIGN.md "Architecture"): checked in a fresh interpreter."""
    probe = (
        "import sys, yaml\n"
        "from tests.scoring.inline import MINI_CCPM, load\n"
        "from scoring import Answer, Responses, score\n"
        "from scoring.responses import parse_responses\n"
        "score(load(MINI_CCPM), Responses.of([Answer('a', 'partner', 'p1', 3)]))\n"
        "print(sorted(m for m in ('flask', 'sqlalchemy', 'werkzeug', 'surveyapp', 'reports')"
        " if m in sys.modules))\n"
    )
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    assert output.stdout.strip() == "[]"


def test_results_are_frozen(ccpm: Instrument, run: Run) -> None:
    """SE3: a report handed to reports or the web cannot be altered after scoring."""
    report = run(ccpm, [("a", "partner", "p1", 3)])
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.results[0].score = 0  # type: ignore[misc]


def test_same_answers_same_bytes(ccpm: Instrument, run: Run) -> None:
    """SE3: same instrument sha256 and answers -> identical output (DESIGN.md workflow step 4)."""
    rows = [("c", "coordinator", "c1", 4), ("a", "partner", "p1", 2), ("b", "partner", "p1", 99)]
    first = run(ccpm, rows, sha256="ab" * 32).to_json()
    assert run(ccpm, list(reversed(rows)), sha256="ab" * 32).to_json() == first
    assert '"sha256": "' + "ab" * 32 + '"' in first


def test_yes_no_answers_drive_skip_logic_as_yes_and_no(run: Run) -> None:
    """Skip logic compares a yes/no answer as `yes`/`no` (XLSForm's values), as the web app
    stores it; 1/0 is only its score. An answer to the item it reveals is therefore accepted."""
    instrument = load(MINI_CCPM.replace(
        "questionnaires:\n",
        "questionnaires:\n  - id: extra\n    role: partner\n    title: Extra\n    items:\n"
        "      - id: met\n        type: yes_no\n        text: 'Did the cluster meet?'\n"
        "      - id: how\n        type: text\n        text: 'How?'\n"
        "        relevant: \"${met} = 'yes'\"\n", 1))
    report = run(instrument, [("r1", "extra", "met", "yes"), ("r1", "extra", "how", "weekly")])
    assert isinstance(report, ScoreReport)
    with pytest.raises(AnswersInvalid):
        run(instrument, [("r1", "extra", "met", "no"), ("r1", "extra", "how", "weekly")])
