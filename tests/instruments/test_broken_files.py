"""Every broken instrument in ``broken/`` gives exactly its expected located lines.

The issue asks that ``surveyapp instruments validate`` print one
``FILE:LINE:COLUMN: CODE message`` line per problem and never a traceback, for at least
40 broken files. Each file in ``broken/`` holds one deliberate defect, named in its first
line where the file can hold a comment; ``broken/expected.txt`` lists the lines it must
give. Files in ``KNOWN_GAPS`` are cases where the loader is still wrong: they stay in the
corpus, marked as strict expected failures, so the gap stays visible until it is fixed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from instruments.loader import library_files
from surveyapp.commands.instruments import command

BROKEN = Path(__file__).parent / "broken"
EXPECTED = BROKEN / "expected.txt"
MINIMUM_CORPUS = 45

LOCATED_LINE = re.compile(
    r"(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<code>I\d{3}) (?P<message>.+)"
)

KNOWN_GAPS: dict[str, str] = {}


@dataclass(frozen=True)
class ExpectedLine:
    """One output line: its exact location and code, and an excerpt of its message."""

    line: int
    column: int
    code: str
    excerpt: str


def read_expectations() -> dict[str, list[ExpectedLine]]:
    """Parse ``expected.txt`` (``FILE<TAB>LINE:COLUMN: CODE excerpt``, ``#`` comments)."""
    row_pattern = re.compile(r"(?P<line>\d+):(?P<column>\d+): (?P<code>I\d{3}) (?P<excerpt>.+)")
    expectations: dict[str, list[ExpectedLine]] = {}
    for number, row in enumerate(EXPECTED.read_text(encoding="utf-8").splitlines(), start=1):
        if not row.strip() or row.startswith("#"):
            continue
        name, _, rest = row.partition("\t")
        match = row_pattern.fullmatch(rest)
        assert match, f"expected.txt:{number}: not FILE<TAB>LINE:COLUMN: CODE excerpt: {row!r}"
        expectations.setdefault(name, []).append(ExpectedLine(
            int(match["line"]), int(match["column"]), match["code"], match["excerpt"]))
    return expectations


EXPECTATIONS = read_expectations()


def corpus_params() -> list[object]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[name]))
        if name in KNOWN_GAPS else name
        for name in sorted(EXPECTATIONS)
    ]


def validate(*arguments: str) -> Result:
    return CliRunner().invoke(command, ["validate", *arguments])


def assert_lines_match(output: str, expected: list[tuple[str, ExpectedLine]]) -> None:
    """Each output line is ``FILE:LINE:COLUMN: CODE message`` exactly as expected, in order."""
    lines = output.splitlines()
    assert len(lines) == len(expected), f"expected {len(expected)} line(s), got:\n{output}"
    for line, (file, want) in zip(lines, expected, strict=True):
        match = LOCATED_LINE.fullmatch(line)
        assert match, f"not a located problem line: {line!r}"
        got = (match["file"], int(match["line"]), int(match["column"]), match["code"])
        assert got == (file, want.line, want.column, want.code), line
        assert want.excerpt in match["message"], line


def test_corpus_is_large_and_every_file_has_its_expected_lines() -> None:
    files = sorted(path.name for path in BROKEN.iterdir() if path != EXPECTED)
    assert len(files) >= MINIMUM_CORPUS
    assert files == sorted(EXPECTATIONS)
    assert set(KNOWN_GAPS) <= set(files)


@pytest.mark.parametrize("name", corpus_params())
def test_broken_file_gives_its_located_lines(name: str) -> None:
    path = str(BROKEN / name)
    result = validate(path)
    # CliRunner catches what the command raises: anything but SystemExit(1) is a crash.
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert_lines_match(result.output, [(path, want) for want in EXPECTATIONS[name]])


def test_real_command_on_the_corpus_folder(tmp_path: Path) -> None:
    """The installed entry point, on a folder: every expected line, in file order, on stdout."""
    folder = tmp_path / "broken"
    folder.mkdir()
    names = sorted(name for name in EXPECTATIONS if name not in KNOWN_GAPS)
    for name in names:
        shutil.copyfile(BROKEN / name, folder / name)
    surveyapp = shutil.which("surveyapp", path=str(Path(sys.executable).parent))
    assert surveyapp is not None, "surveyapp is not installed in this environment"
    completed = subprocess.run([surveyapp, "instruments", "validate", str(folder)],
                               capture_output=True, text=True, check=False, timeout=120)
    assert completed.returncode == 1
    assert completed.stderr == ""
    assert_lines_match(completed.stdout, [(str(folder / name), want)
                                          for name in names for want in EXPECTATIONS[name]])


def test_bundled_instruments_validate() -> None:
    files = library_files()
    assert files, "the library holds no instrument file"
    result = validate(*map(str, files))
    assert result.exit_code == 0, result.output
    assert result.output == f"{len(files)} instrument file(s) valid\n"


def test_validate_without_paths_checks_the_bundled_library() -> None:
    result = validate()
    assert result.exit_code == 0, result.output
    assert result.output == f"{len(library_files())} instrument file(s) valid\n"
