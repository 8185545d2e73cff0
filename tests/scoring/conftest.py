"""Fixtures for the scoring tests: the inline instruments and a function that scores rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from instruments.schema import Instrument
from scoring import Answer, FrameworkNode, Responses, ScoreReport, score
from tests.scoring.inline import MINI_CCPM, MINI_CPAS, MINI_JIU, load


@pytest.fixture(scope="session")
def ccpm() -> Instrument:
    return load(MINI_CCPM)


@pytest.fixture(scope="session")
def jiu() -> Instrument:
    return load(MINI_JIU)


@pytest.fixture(scope="session")
def cpas() -> Instrument:
    return load(MINI_CPAS)


@pytest.fixture
def run() -> Callable[..., ScoreReport]:
    """Score answers given as tuples ``(respondent, questionnaire, item, value[, comment])``."""

    def run_score(
        instrument: Instrument,
        rows: list[tuple[Any, ...]],
        framework: tuple[FrameworkNode, ...] = (),
        **options: Any,
    ) -> ScoreReport:
        answers = [Answer(*row) for row in rows]
        return score(instrument, Responses.of(answers, framework), **options)

    return run_score


@pytest.fixture
def write_instrument(tmp_path: Path) -> Callable[[str], Path]:
    """Save inline YAML as an instrument file the CLI can load by path."""

    def write(text: str) -> Path:
        path = tmp_path / "instrument.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write
