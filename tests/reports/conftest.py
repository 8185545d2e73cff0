"""Helpers for the report tests: run ``surveyapp report``, read PDFs and workbooks back.

PDFs are read with poppler's ``pdftotext -layout`` and rendered with ``pdftoppm``
(Debian poppler-utils, installed by ``make test``); pixels are read with Pillow.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy
import pytest
from click.testing import CliRunner, Result
from PIL import Image, ImageStat

from instruments.loader import load_instrument
from scoring import ScoreReport, score
from scoring.responses import parse_responses
from surveyapp.cli import cli

#: Reports are dated by the caller; the tests fix the date so that output is reproducible.
DATE = "2026-11-22"


@dataclass(frozen=True)
class ReportRun:
    """A finished ``surveyapp report`` run and the folder its files were written to."""

    result: Result
    folder: Path

    @property
    def pdf(self) -> Path:
        return self.folder / "report.pdf"

    @property
    def xlsx(self) -> Path:
        return self.folder / "report.xlsx"


Reporter = Callable[..., ReportRun]


def run_report(folder: Path, key: str, rows: str, *options: str,
               outputs: bool = True) -> ReportRun:
    """Write the responses into ``folder``, run ``surveyapp report KEY FILE --pdf --xlsx ...``."""
    responses = folder / "answers.csv"
    responses.write_text(rows, encoding="utf-8")
    files = ["--pdf", str(folder / "report.pdf"), "--xlsx", str(folder / "report.xlsx")]
    arguments = ["report", key, str(responses), "--date", DATE,
                 *(files if outputs else []), *options]
    return ReportRun(CliRunner().invoke(cli, arguments), folder)


@pytest.fixture
def report(tmp_path: Path) -> Reporter:
    """``run_report`` in the test's own folder."""

    def run(key: str, rows: str, *options: str, outputs: bool = True) -> ReportRun:
        return run_report(tmp_path, key, rows, *options, outputs=outputs)

    return run


def scores_of(key: str, rows: str) -> ScoreReport:
    """What the scoring engine computes for the same rows: the figures the report must show."""
    loaded = load_instrument(key)
    return score(loaded.instrument, parse_responses(loaded.instrument, rows.encode(), "a.csv"),
                 sha256=loaded.sha256)


@pytest.fixture(scope="session")
def poppler(require_tool: Callable[[bool, str], None]) -> None:
    require_tool(shutil.which("pdftotext") is not None and shutil.which("pdftoppm") is not None,
                 "poppler-utils (pdftotext, pdftoppm) not found: apt-get install poppler-utils")


def pdf_text(pdf: Path) -> str:
    """The PDF's text, laid out as on the page (``pdftotext -layout``)."""
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout


def body(text: str) -> str:
    """The pages after the table of contents (whose entries repeat every heading), without
    their running heads and footers, so that a paragraph broken across pages reads on."""
    pages = text.split("\f")
    contents = next(number for number, page in enumerate(pages)
                    if {"Contents", "Sommaire"} & {line.strip() for line in page.splitlines()})
    kept = []
    for page in pages[contents + 1:]:
        lines = [line for line in page.splitlines() if not re.search(r"Page \d+ / \d+$", line)]
        first = next((number for number, line in enumerate(lines) if line.strip()), len(lines))
        kept.append("\n".join(lines[first + 1:]))
    return "\f".join(kept)


def running_heads(text: str) -> set[str]:
    """The first line of every page but the cover: the report's status, repeated."""
    pages = [page for page in text.split("\f")[1:] if page.strip()]
    return {next(line.strip() for line in page.splitlines() if line.strip()) for page in pages}


def flat(text: str) -> str:
    """Text with every run of white space made one space, for sentences that wrap; a line
    broken after a hyphen (``results-`` / ``based``) is joined again."""
    return re.sub(r"(?<=\w)-\s+(?=\w)", "-", re.sub(r"\s+", " ", text))


def page_image(pdf: Path, page: int, folder: Path) -> Image.Image:
    """One page rendered at 50 dpi by ``pdftoppm``."""
    prefix = folder / f"page{page}"
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", str(page), "-l", str(page),
                    "-singlefile", str(pdf), str(prefix)], check=True)
    return Image.open(prefix.with_suffix(".png")).convert("RGB")


def is_drawn(image: Image.Image) -> bool:
    """A page that is more than a blank sheet: its grey levels vary."""
    return max(ImageStat.Stat(image.convert("L")).stddev) > 10


def has_colour(image: Image.Image, colour: str, tolerance: int = 12) -> bool:
    """Whether some pixel is within ``tolerance`` of ``#rrggbb`` on every channel."""
    wanted = numpy.array([int(colour[position:position + 2], 16) for position in (1, 3, 5)])
    pixels = numpy.asarray(image, dtype=int)
    return bool((numpy.abs(pixels - wanted) <= tolerance).all(axis=-1).any())
