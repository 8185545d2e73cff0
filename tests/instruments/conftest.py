"""Fixtures of the instrument tests: a small valid instrument that uses most of the format.

The instrument is written out here rather than taken from the bundled library so that
each test can see exactly which lines it changes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

MINI_INSTRUMENT = """\
key: mini
version: "1"
title:
  en: Mini coordination survey
  fr: Mini-enquête sur la coordination
languages: [en, fr]
scales:
  - id: frequency
    options:
      - code: 0
        label: {en: Never, fr: Jamais}
        score: 0
      - code: 4
        label: {en: Always, fr: Toujours}
        score: 4
      - code: 99
        label: {en: "Don't know", fr: Ne sait pas}
        excluded: dont_know
bands:
  - id: performance
    bands:
      - key: weak
        lower: 0
        upper: 50
        label: {en: Weak, fr: Faible}
        colour: "#C0392B"
      - key: good
        lower: 50
        upper: 100
        label: {en: Good, fr: Bon}
        colour: "#1E7B45"
scoring:
  - id: percent
    method: median_of_respondent_means
    scale_min: 0
    scale_max: 4
    percent_factor: 25
    bands: performance
nodes:
  - id: "1"
    level: function
    title: {en: Meetings, fr: Réunions}
    scoring: percent
    children:
      - id: "1.1"
        level: sub_function
        title: {en: Frequency, fr: Fréquence}
        scoring: percent
questionnaires:
  - id: coordinator
    role: coordinator
    title: {en: Coordinator questionnaire, fr: Questionnaire du coordinateur}
    items:
      - id: q1
        type: single_choice
        node: "1.1"
        scale: frequency
        text: {en: "How often do partners meet?", fr: "Les partenaires se voient-ils souvent ?"}
      - id: q2
        type: text
        relevant: ${q1} = 0
        text: {en: "Why do they never meet?", fr: "Pourquoi ne se réunissent-ils jamais ?"}
      - id: q3
        type: number
        minimum: 0
        maximum: 100
        integer: true
        text: {en: "How many partners attend?", fr: "Combien de partenaires participent ?"}
    pages:
      - id: p1
        title: {en: Meetings, fr: Réunions}
        items: [q1, q2, q3]
"""


@pytest.fixture(scope="session")
def mini_text() -> str:
    """A valid instrument in English and French (``key: mini``, version 1)."""
    return MINI_INSTRUMENT


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Return ``write(name, content) -> path``: a file under the test's temporary folder."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.write_bytes(data)
        return path

    return write
