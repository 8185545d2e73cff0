"""Fixtures for the interop tests: the CLI groups driven through click, and file helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from surveyapp.commands.interop import responses
from surveyapp.commands.scoring import command as score_command

Convert = Callable[..., tuple[Result, Path]]


@pytest.fixture
def convert(tmp_path: Path) -> Convert:
    """Run ``surveyapp responses convert`` on export bytes; return the result and output."""

    def run(data: bytes, name: str, key: str, questionnaire: str, *options: str
            ) -> tuple[Result, Path]:
        source = tmp_path / name
        source.write_bytes(data)
        output = tmp_path / f"{Path(name).stem}.long.csv"
        result = CliRunner().invoke(responses, [
            "convert", "--from", "xlsform-submissions", str(source), "--instrument", key,
            "--questionnaire", questionnaire, "-o", str(output), *options])
        return result, output

    return run


@pytest.fixture
def score_json(tmp_path: Path) -> Callable[[str, str], str]:
    """``surveyapp score KEY FILE --json`` on long-format CSV text; its exact stdout."""

    def run(key: str, long_csv: str) -> str:
        path = tmp_path / "scored.csv"
        path.write_text(long_csv, encoding="utf-8")
        result = CliRunner().invoke(score_command, [key, str(path), "--json"])
        assert result.exit_code == 0, result.output
        return result.stdout

    return run
