"""Instrument load against pyxform: reading ccpm.yaml cold vs converting its partner XLSForm.

Data: the bundled CCPM instrument (instruments/library/ccpm.yaml), no generator. Its partner
questionnaire is exported once, as ``surveyapp xlsform export ccpm -q partner`` does
(``build_xlsform`` then ``workbook_bytes``), into a temporary folder.

Baseline, run side by side in turns: ``pyxform.xls2xform.convert`` of that .xlsx file to an
XForm (no ODK Validate, no Enketo Validate: those are external Java/Node processes). It is
what KoboToolbox or ODK Central runs when the form is uploaded, so it is the cost any tool
of that family pays to turn a questionnaire file into something it can serve.
Ours: ``parse_instrument`` of the ccpm.yaml bytes with the cache cleared first (YAML, the
pydantic schema and the cross-checks of every questionnaire, scale and node, both
questionnaires, not only the partner one).
Target (issue "Benchmark suite"): ours at most 0.5x pyxform's time.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pyxform.xls2xform import convert

from instruments.loader import clear_cache, load_instrument, parse_instrument
from instruments.xlsform import build_xlsform

REPEATS = 5
TARGET_RATIO = 0.5


def _fastest_in_turns(*actions: Callable[[], object]) -> list[float]:
    """Each action's fastest run in milliseconds, run in turns so that a busy spell of the
    shared machine falls on all of them alike."""
    timings: list[list[float]] = [[] for _ in actions]
    for _ in range(REPEATS):
        for action, found in zip(actions, timings, strict=True):
            started = time.perf_counter()
            action()
            found.append((time.perf_counter() - started) * 1000)
    return [min(found) for found in timings]


def run() -> list[dict[str, object]]:
    loaded = load_instrument("ccpm")
    source = Path(loaded.path)
    data = source.read_bytes()
    form = build_xlsform(loaded.instrument, "partner")
    with tempfile.TemporaryDirectory() as folder:
        exported = Path(folder) / f"{form.form_id}.xlsx"
        exported.write_bytes(form.workbook_bytes())
        xform = convert(str(exported)).xform
        if "<h:html" not in xform:
            raise RuntimeError(f"pyxform produced no XForm from {exported.name}")

        def ours() -> None:
            clear_cache()
            parse_instrument(data, source.name)

        our_ms, pyxform_ms = _fastest_in_turns(ours, lambda: convert(str(exported)))
    questions = sum(1 for row in form.survey if not row["type"].startswith(("begin_", "end_")))
    ratio = our_ms / pyxform_ms
    print(f"xlsform: ccpm.yaml {len(data):,} bytes; partner form {questions} questions, "
          f"{len(form.choices)} choices; XForm {len(xform):,} characters")
    return [
        {"name": f"ccpm.yaml cold load vs pyxform on its partner XLSForm ({questions} questions)",
         "value": round(our_ms, 2), "unit": "ms",
         "baseline": "pyxform.xls2xform.convert of the exported .xlsx (no validators)",
         "baseline_value": round(pyxform_ms, 2), "ratio": round(ratio, 3),
         "target": f"ratio <= {TARGET_RATIO}", "met": ratio <= TARGET_RATIO},
    ]
