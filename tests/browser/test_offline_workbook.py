"""A partner works offline in Excel on a phone: downloads their workbook, uploads it with a
mistake and reads the list of problems, then uploads it corrected; the offline page reads
right to left in Arabic. axe-core finds no serious violation on these pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Answer, Response
from surveyapp.services.answer_workbook import COLUMNS
from tests.browser.axe import assert_no_serious_axe_violations
from tests.browser.test_partner_journey import fits_the_phone, partner_links

pytestmark = pytest.mark.browser


def answered(workbook: Path, answers: dict[str, str], target: Path) -> Path:
    """The downloaded workbook with answers typed in the Answer column, by question id."""
    book = load_workbook(workbook)
    sheet = book["Answers"]
    for cells in sheet.iter_rows(min_row=2):
        if cells[0].value in answers:
            cells[COLUMNS.index("answer")].value = answers[cells[0].value]
    book.save(target)
    return target


def test_partner_fills_the_workbook_offline_and_uploads_it(
    live_app: Flask, live_server: str, problem_page: Page, tmp_path: Path
) -> None:
    page = problem_page
    cycle_id, [link] = partner_links(live_app, 1)
    page.goto(f"{live_server}{link}")
    page.get_by_label("International NGO", exact=True).check()
    page.get_by_role("button", name="Start").click()
    page.get_by_text("All pages and what is left on each").click()
    page.get_by_role("link", name="Work offline in Excel: download or upload a workbook").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("work offline in Excel")
    fits_the_phone(page)
    assert_no_serious_axe_violations(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the workbook (.xlsx)").click()
    blank = tmp_path / download.value.suggested_filename
    download.value.save_as(blank)
    assert blank.name.startswith("ccpm-partner-cycle")
    rows = {cells[0]: cells for cells in load_workbook(blank)["Answers"].iter_rows(
        min_row=2, values_only=True)}
    assert rows["q012"][COLUMNS.index("answer")] == "International NGO"

    page.get_by_label("The workbook you filled in (.xlsx)").set_input_files(
        answered(blank, {"q111": "Very good", "q112": "12"}, tmp_path / "mistakes.xlsx"))
    page.get_by_role("button", name="Upload and save the answers").click()
    expect(page.get_by_role("heading", level=2, name="The workbook was not saved: 2 "
                            "problems to fix")).to_be_visible()
    problems = page.locator("ol.workbook-problems li")
    expect(problems).to_have_count(2)
    expect(problems.first).to_have_text(
        "Answers!E4 (Answer, question q111): Choose one of the answers offered. Pick one from "
        "the cell's list.")
    page.screenshot(path=str(tmp_path / "workbook-problems.png"), full_page=True)
    assert_no_serious_axe_violations(page)

    page.get_by_label("The workbook you filled in (.xlsx)").set_input_files(
        answered(blank, {"q111": "Very satisfied", "q112": "Often"}, tmp_path / "good.xlsx"))
    page.get_by_role("button", name="Upload and save the answers").click()
    expect(page.get_by_text("The workbook was read: 2 answers changed and saved.")
           ).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("review and submit")
    fits_the_phone(page)

    with live_app.app_context():
        values = dict(db.session.execute(select(Answer.item_id, Answer.value).join(Response)
                                         .where(Response.cycle_id == cycle_id)).all())
    assert (values["q012"], values["q111"], values["q112"]) == (1, 4, 3)

    # The offline page in Arabic, right to left.
    page.goto(f"{live_server}{link}offline")
    page.locator('.language-switcher button[value="ar"]').click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_contain_text("العمل دون اتصال في Excel")
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    fits_the_phone(page)
    assert_no_serious_axe_violations(page)
