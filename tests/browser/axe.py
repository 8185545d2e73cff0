"""Accessibility checks with axe-core, run inside the page the test has open.

axe-core comes from the npm registry: ``make axe`` (part of ``make test``) installs the
version pinned in the Makefile into ``.cache/axe``. The pages allow no script but their
own (surveyapp/security.py), so the script is evaluated by Playwright rather than added
as a ``<script>`` element. The rules are those of WCAG 2.0 and 2.1, levels A and AA.

Any page test can call ``assert_no_serious_axe_violations(page)`` once the page shows
what it should.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.conftest import in_ci

AXE_SCRIPT = (Path(__file__).resolve().parents[2] / ".cache" / "axe" / "node_modules"
              / "axe-core" / "axe.min.js")
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map((violation) => ({
    id: violation.id, impact: violation.impact, help: violation.help,
    nodes: violation.nodes.slice(0, 5).map((node) => ({
      target: node.target.join(" "), summary: node.failureSummary})),
  }));
}"""


@cache
def axe_source() -> str:
    if not AXE_SCRIPT.exists():
        message = f"axe-core is not installed at {AXE_SCRIPT}: run `make axe`"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AXE_SCRIPT.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, object]]:
    """Every WCAG 2.1 A/AA violation axe finds in the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate(RUN_AXE, WCAG_AA)


def assert_no_serious_axe_violations(page: Page) -> None:
    """Fail, listing them, on the serious and critical violations of the open page."""
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core found on {page.url}:\n" + json.dumps(
        blocking, indent=2, ensure_ascii=False)
