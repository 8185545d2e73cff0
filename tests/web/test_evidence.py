"""Evidence per item (cycles issue, "Evidence"): files and links, reuse, versions, downloads.

EVI01 an accepted upload is stored once by sha256 outside static, recorded with its type
      read from the bytes, attached to the item, audited.
EVI02 hostile uploads (executables, renamed HTML, SVG, polyglots, archives, zip and pixel
      bombs, path-traversal, control and direction-changing names, double extensions,
      empty, oversize, wrong magic, macros, the EICAR test file) are refused with a clear
      message and leave nothing: no row, no file, no temporary file, no audit event.
EVI03 downloads are attachments with a sanitised UTF-8 name, the detected type, nosniff and a
      sandboxing CSP; a PDF/HTML polyglot is served as a PDF attachment, never as a page.
EVI04 previews are inline only for PDFs and raster images, for validators and coordinators.
EVI05 links are http(s) only; evidence is reused across items of the cycle, replaced by a new
      version that keeps the old one, removed from an item, confirmed after carry-over.
EVI06 every route refuses the wrong role, the wrong unit and the wrong state.
EVI07 the questionnaire page's evidence costs the same number of queries for 10 or 100 items.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask, render_template
from flask.testing import FlaskClient
from flask_login import login_user
from sqlalchemy import event, func, select

from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    AuditEvent,
    CycleState,
    Evidence,
    EvidenceKind,
    EvidenceLink,
    Response,
    ResponseState,
    Unit,
    User,
)
from surveyapp.services.evidence import evidence_for_answers
from surveyapp.services.instrument_versions import loaded_instrument
from tests.web.evidence_world import (
    CSV,
    EICAR,
    ELF,
    GIF,
    HTML,
    JPEG,
    LATIN1_CSV,
    PDF,
    PE,
    PNG,
    POLYGLOT,
    SCRIPT,
    SVG,
    TEXT,
    WEBP,
    CycleIds,
    World,
    build_world,
    declared_bomb,
    gif_of,
    jpeg_of,
    make_cycle,
    office_file,
    ole_file,
    plain_zip,
    png_of,
    ratio_bomb,
    set_cycle_state,
    stored_files,
    upload,
    webp_of,
)


@pytest.fixture
def world(make_unit: Callable[..., Unit], make_user: Callable[..., User]) -> World:
    return build_world(make_unit, make_user)


@pytest.fixture
def ids(app: Flask, world: World) -> CycleIds:
    return make_cycle(app, world)


def evidence_rows(app: Flask) -> list[Evidence]:
    with app.app_context():
        return list(db.session.scalars(select(Evidence).order_by(Evidence.id)))


def audit_actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --- EVI01: accepted uploads ------------------------------------------------------------


ACCEPTED = [
    ("report.pdf", PDF, "application/pdf"),
    ("plan.docx", office_file("docx"),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("budget.xlsx", office_file("xlsx"),
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("slides.pptx", office_file("pptx"),
     "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("old.doc", ole_file("WordDocument"), "application/msword"),
    ("old.xls", ole_file("Workbook"), "application/vnd.ms-excel"),
    ("old.ppt", ole_file("PowerPoint Document"), "application/vnd.ms-powerpoint"),
    ("chart.png", PNG, "image/png"),
    ("photo.JPG", JPEG, "image/jpeg"),
    ("photo.jpeg", JPEG, "image/jpeg"),
    ("anim.gif", GIF, "image/gif"),
    ("picture.webp", WEBP, "image/webp"),
    ("targets.csv", CSV, "text/csv"),
    ("minutes.txt", TEXT, "text/plain"),
    ("Rapport annuel – résumé.pdf", PDF, "application/pdf"),
    ("A4 scan.png", png_of(2480, 3508), "image/png"),
    ("photo-800x600.jpg", jpeg_of(800, 600), "image/jpeg"),
    ("banner.gif", gif_of(1200, 300), "image/gif"),
    ("wide.webp", webp_of(4000, 3000), "image/webp"),
    ("تقرير سنوي.pdf", PDF, "application/pdf"),
]


@pytest.mark.parametrize(("filename", "data", "media_type"), ACCEPTED,
                         ids=[name for name, _, _ in ACCEPTED])
def test_accepted_upload_is_stored_by_hash(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
    filename: str, data: bytes, media_type: str,
) -> None:
    """EVI01."""
    login(world.focal_point)
    page = upload(client, ids.cycle, ids.response, filename, data)
    assert page.status_code == 200
    assert f"“{filename}” is attached." in page.get_data(as_text=True)
    digest = hashlib.sha256(data).hexdigest()
    [evidence] = evidence_rows(app)
    assert (evidence.kind, evidence.sha256, evidence.size, evidence.media_type,
            evidence.original_name) == (EvidenceKind.file, digest, len(data), media_type, filename)
    assert evidence.description == "Annual report, chapter 3"
    assert evidence.document_date.isoformat() == "2025-06-30"
    assert stored_files(app) == [Path(app.config["UPLOAD_DIR"], digest[:2], digest[2:4], digest)]
    assert "static" not in str(stored_files(app)[0])
    with app.app_context():
        answer = db.session.scalars(select(Answer)).one()
        assert (answer.response_id, answer.item_id, answer.value) == (ids.response, "1.1", None)
        assert [link.answer_id for link in db.session.scalars(select(EvidenceLink))] == [answer.id]
    assert audit_actions(app) == ["evidence.added"]


def test_same_file_twice_is_stored_once(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    """EVI01: deduplication by content, one row per upload."""
    login(world.focal_point)
    upload(client, ids.cycle, ids.response, "report.pdf", PDF)
    upload(client, ids.cycle, ids.response, "same-report.pdf", PDF, item_id="1.2")
    rows = evidence_rows(app)
    assert [row.original_name for row in rows] == ["report.pdf", "same-report.pdf"]
    assert rows[0].sha256 == rows[1].sha256
    assert len(stored_files(app)) == 1


# --- EVI02: hostile uploads --------------------------------------------------------------


HOSTILE = [
    ("elf-named-pdf", "report.pdf", ELF, "program or a script"),
    ("pe-named-pdf", "budget.pdf", PE, "program or a script"),
    ("exe-extension", "setup.exe", PE, "Files ending .exe are not accepted"),
    ("no-extension", "tool", ELF, "Files without an extension are not accepted"),
    ("html-renamed-pdf", "report.pdf", HTML, "web page markup (HTML, SVG or XML)"),
    ("html-extension", "page.html", HTML, "Files ending .html are not accepted"),
    ("svg-with-script", "chart.svg", SVG, "Files ending .svg are not accepted"),
    ("svg-renamed-png", "chart.png", SVG, "web page markup (HTML, SVG or XML)"),
    ("zip-named-pdf", "report.pdf", plain_zip(), "The file is a ZIP archive"),
    ("docx-named-pdf", "report.pdf", office_file("docx"), "its content is a Word document"),
    ("docx-declared-bomb", "plan.docx", declared_bomb(), "refused as a possible decompression"),
    ("docx-ratio-bomb", "plan.docx", ratio_bomb(), "compressed more than 200 times over"),
    ("macro-document", "plan.docx", office_file("docm"), "contains macros"),
    ("vba-part", "plan.docx", office_file("docx", extra={"word/vbaProject.bin": b"\x00"}),
     "contains macros"),
    ("ole-macros", "old.doc", ole_file("WordDocument") + "_VBA_PROJECT".encode("utf-16-le"),
     "contains macros"),
    ("ole-not-office", "old.doc", ole_file("SummaryInformation"), "not a Word, Excel"),
    ("path-traversal", "../../x.pdf", PDF, "plain name, without folders"),
    ("windows-path", "..\\..\\x.pdf", PDF, "plain name, without folders"),
    ("hidden-name", ".htaccess.pdf", PDF, "leading dot"),
    ("empty", "report.pdf", b"", "The file is empty"),
    ("jpeg-named-png", "photo.png", JPEG, "named “photo.png”, but its content is a JPEG image"),
    ("garbage-named-png", "photo.png", bytes(range(256)) * 4, "not a type we accept"),
    ("shell-script-txt", "notes.txt", SCRIPT, "program or a script"),
    ("latin1-csv", "data.csv", LATIN1_CSV, "Text files must be saved as UTF-8"),
    ("no-file-chosen", "", b"", "Choose a file to upload."),
    ("rtl-override-name", "photo\u202egnp.pdf", PDF, "change the direction of the text"),
    ("escape-in-name", "report\x1b[8m.pdf", PDF, "control characters"),
    ("double-extension-exe-pdf", "report.exe.pdf", PE, "program or a script"),
    ("double-extension-pdf-exe", "report.pdf.exe", PDF, "Files ending .exe are not accepted"),
    ("trailing-dot", "report.pdf.", PDF, "Files without an extension are not accepted"),
    ("png-pixel-bomb", "chart.png", png_of(100_000, 100_000), "100000 x 100000 pixels"),
    ("gif-pixel-bomb", "anim.gif", gif_of(65_535, 65_535), "possible decompression bomb"),
    ("jpeg-pixel-bomb", "photo.jpg", jpeg_of(65_000, 65_000), "possible decompression bomb"),
    ("webp-pixel-bomb", "picture.webp", webp_of(20_000, 20_000), "possible decompression"),
    ("xlsx-ratio-bomb", "budget.xlsx", ratio_bomb("xlsx"), "compressed more than 200 times"),
    ("xlsx-with-macros", "budget.xlsx",
     office_file("xlsx", extra={"xl/vbaProject.bin": b"\x00"}), "contains macros"),
    ("eicar-test-file", "notes.txt", EICAR, "program or a script"),
    ("html-with-bom-named-txt", "notes.txt", b"\xef\xbb\xbf" + HTML, "web page markup"),
    ("utf16-html-named-txt", "notes.txt", HTML.decode().encode("utf-16"),
     "not a type we accept"),
    ("html-in-a-csv", "data.csv", b"name,value\n<script>alert(1)</script>,1\n",
     "web page markup"),
    ("pdf-named-docx", "plan.docx", PDF, "its content is a PDF document"),
    ("java-class-named-pdf", "report.pdf", b"\xca\xfe\xba\xbe" + bytes(40), "program or a"),
]


@pytest.mark.parametrize(("filename", "data", "message"),
                         [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE])
def test_hostile_upload_is_refused_and_leaves_nothing(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
    filename: str, data: bytes, message: str,
) -> None:
    """EVI02."""
    login(world.focal_point)
    page = upload(client, ids.cycle, ids.response, filename, data)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert message in text, text
    assert 'class="flash flash-error"' in text
    assert evidence_rows(app) == []
    assert stored_files(app) == []
    assert audit_actions(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count(Answer.id))) == 0


def test_upload_refusals_read_in_arabic(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    """docs/i18n.md: the evidence pages are respondent pages; their refusals have Arabic."""
    login(world.focal_point)
    client.post("/language", data={"language": "ar"})
    macros = upload(client, ids.cycle, ids.response, "plan.docx", office_file("docm"))
    text = macros.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in text
    assert "يحتوي ملف Office على وحدات ماكرو (برامج)، وهي غير مقبولة أبدًا." in text
    turned = upload(client, ids.cycle, ids.response, "photo\u202egnp.pdf", PDF)
    assert "يحتوي اسم الملف على محارف غير مرئية تغيّر اتجاه النص" in turned.get_data(
        as_text=True)
    assert evidence_rows(app) == [] and stored_files(app) == []


@pytest.mark.app_config(EVIDENCE_MAX_BYTES=1000)
def test_oversize_upload_is_refused_and_leaves_nothing(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    """EVI02: the limit comes from EVIDENCE_MAX_BYTES; the stream stops once past it."""
    login(world.focal_point)
    page = upload(client, ids.cycle, ids.response, "big.pdf", PDF + bytes(2000))
    assert "larger than the 1000 bytes limit" in page.get_data(as_text=True)
    assert evidence_rows(app) == [] and stored_files(app) == []
    accepted = upload(client, ids.cycle, ids.response, "small.pdf", PDF)
    assert "“small.pdf” is attached." in accepted.get_data(as_text=True)


def test_nul_byte_in_the_name_is_refused(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    """EVI02: a name with a NUL byte, sent as raw multipart (test clients refuse to build it)."""
    login(world.focal_point)
    boundary = "surveyappboundary"
    parts = [(b'name="response_id"', str(ids.response).encode()),
             (b'name="item_id"', b"1.1"), (b'name="description"', b"Report"),
             (b'name="file"; filename="report\x00.pdf"\r\nContent-Type: application/pdf', PDF)]
    body = b"".join(
        b"--" + boundary.encode() + b"\r\nContent-Disposition: form-data; " + header
        + b"\r\n\r\n" + content + b"\r\n" for header, content in parts
    ) + b"--" + boundary.encode() + b"--\r\n"
    page = client.post(f"/cycles/{ids.cycle}/evidence/upload", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}",
                       follow_redirects=True)
    assert "The file name contains control characters" in page.get_data(as_text=True)
    assert evidence_rows(app) == [] and stored_files(app) == []


def test_description_is_required_and_nothing_is_stored(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    login(world.focal_point)
    page = upload(client, ids.cycle, ids.response, "report.pdf", PDF, description="  ")
    assert "Describe the evidence" in page.get_data(as_text=True)
    future = upload(client, ids.cycle, ids.response, "report.pdf", PDF, document_date="2999-01-01")
    assert "is in the future" in future.get_data(as_text=True)
    wrong = upload(client, ids.cycle, ids.response, "report.pdf", PDF, document_date="31/12/2025")
    assert "year-month-day" in wrong.get_data(as_text=True)
    assert evidence_rows(app) == [] and stored_files(app) == []


# --- EVI03/EVI04: downloads and previews -------------------------------------------------


def _uploaded(app: Flask, client: FlaskClient, ids: CycleIds, filename: str, data: bytes) -> int:
    upload(client, ids.cycle, ids.response, filename, data)
    return evidence_rows(app)[-1].id


def test_download_is_a_sandboxed_attachment(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    """EVI03."""
    login(world.focal_point)
    evidence_id = _uploaded(app, client, ids, "Rapport annuel – résumé.pdf", PDF)
    response = client.get(f"/evidence/{evidence_id}/download")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Rapport annuel _ resume.pdf\"; "
        "filename*=UTF-8''Rapport%20annuel%20%E2%80%93%20r%C3%A9sum%C3%A9.pdf")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_polyglot_pdf_html_is_served_as_a_pdf_attachment(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    """EVI03: bytes starting %PDF are a PDF; served as one, they can never run as a page."""
    login(world.focal_point)
    evidence_id = _uploaded(app, client, ids, "polyglot.pdf", POLYGLOT)
    response = client.get(f"/evidence/{evidence_id}/download")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")


def test_text_download_declares_utf8(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    login(world.focal_point)
    evidence_id = _uploaded(app, client, ids, "targets.csv", CSV)
    response = client.get(f"/evidence/{evidence_id}/download")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data == CSV


@pytest.mark.parametrize(("filename", "data", "policy_part"), [
    ("report.pdf", PDF, "frame-ancestors 'self'"),
    ("chart.png", PNG, "sandbox"),
])
def test_preview_is_inline_for_validators(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
    filename: str, data: bytes, policy_part: str,
) -> None:
    """EVI04."""
    login(world.focal_point)
    evidence_id = _uploaded(app, client, ids, filename, data)
    validator = app.test_client()
    login(world.validator, client=validator)
    response = validator.get(f"/evidence/{evidence_id}/preview")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert policy_part in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_no_preview_for_office_or_text(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    login(world.focal_point)
    evidence_id = _uploaded(app, client, ids, "minutes.txt", TEXT)
    validator = app.test_client()
    login(world.validator, client=validator)
    response = validator.get(f"/evidence/{evidence_id}/preview")
    assert response.status_code == 404
    assert "download the file instead" in response.get_data(as_text=True)


@pytest.mark.parametrize(("filename", "data", "media_type"), ACCEPTED,
                         ids=[case[0] for case in ACCEPTED])
def test_no_stored_type_is_served_for_a_browser_to_run(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
    filename: str, data: bytes, media_type: str,
) -> None:
    """EVI03/EVI04 for every type we store (issue 11, "nothing served inline that a
    browser would execute"): downloads are sandboxed attachments of the detected type;
    only PDFs and raster images are ever inline, and only in a policy without scripts."""
    login(world.focal_point)
    evidence_id = _uploaded(app, client, ids, filename, data)
    download = client.get(f"/evidence/{evidence_id}/download")
    assert download.status_code == 200 and download.data == data
    assert download.mimetype == media_type
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    validator = app.test_client()
    login(world.validator, client=validator)
    preview = validator.get(f"/evidence/{evidence_id}/preview")
    if media_type == "application/pdf" or media_type.startswith("image/"):
        assert preview.status_code == 200 and preview.mimetype == media_type
        policy = preview.headers["Content-Security-Policy"]
        assert policy.startswith("sandbox;") or media_type == "application/pdf"
        assert "default-src 'none'" in policy and "script" not in policy
        assert preview.headers["X-Content-Type-Options"] == "nosniff"
    else:
        assert preview.status_code == 404


def test_missing_stored_file_is_explained(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    login(world.focal_point)
    evidence_id = _uploaded(app, client, ids, "report.pdf", PDF)
    stored_files(app)[0].unlink()
    response = client.get(f"/evidence/{evidence_id}/download")
    assert response.status_code == 404
    assert "missing from the evidence store" in response.get_data(as_text=True)


# --- EVI05: links, reuse, versions, removal, confirmation --------------------------------


def _link(client: FlaskClient, ids: CycleIds, url: str, item_id: str = "1.1") -> str:
    return client.post(f"/cycles/{ids.cycle}/evidence/link", data={
        "response_id": str(ids.response), "item_id": item_id, "url": url,
        "description": "The published strategy"}, follow_redirects=True).get_data(as_text=True)


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "file:///etc/passwd", "ftp://example.org/x.pdf", "/relative/path",
    "https://", "https://example.org/a b", "data:text/html,<script>alert(1)</script>",
])
def test_only_web_links_are_accepted(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
    url: str,
) -> None:
    login(world.focal_point)
    page = _link(client, ids, url)
    assert "Copy the address from the browser" in page
    assert evidence_rows(app) == []


def test_link_is_attached(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    login(world.focal_point)
    assert "The link is attached." in _link(client, ids, "https://example.org/strategy?v=2")
    [evidence] = evidence_rows(app)
    assert (evidence.kind, evidence.url) == (EvidenceKind.link, "https://example.org/strategy?v=2")
    listing = client.get(f"/cycles/{ids.cycle}/evidence").get_data(as_text=True)
    assert 'href="https://example.org/strategy?v=2" rel="noopener noreferrer"' in listing
    assert client.get(f"/evidence/{evidence.id}/download").status_code == 404


def test_reuse_across_items_and_removal(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    """EVI05: one document supports several items; removing it from one keeps it."""
    login(world.focal_point)
    evidence_id = _uploaded(app, client, ids, "report.pdf", PDF)
    attach = {"evidence_id": str(evidence_id), "response_id": str(ids.response),
              "item_id": "1.2"}
    page = client.post(f"/cycles/{ids.cycle}/evidence/attach", data=attach,
                       follow_redirects=True).get_data(as_text=True)
    assert "now supports this question too" in page
    again = client.post(f"/cycles/{ids.cycle}/evidence/attach", data=attach,
                        follow_redirects=True).get_data(as_text=True)
    assert "already attached to that question" in again
    with app.app_context():
        answers = {a.item_id: a.id for a in db.session.scalars(select(Answer))}
        assert {a: len(e) for a, e in evidence_for_answers(answers.values()).items()} == {
            answers["1.1"]: 1, answers["1.2"]: 1}
    listing = client.get(f"/cycles/{ids.cycle}/evidence").get_data(as_text=True)
    assert "<strong>1.1</strong>" in listing and "<strong>1.2</strong>" in listing
    removed = client.post(f"/evidence/{evidence_id}/detach", data={"answer_id": answers["1.2"]},
                          follow_redirects=True).get_data(as_text=True)
    assert "no longer supports this question" in removed
    with app.app_context():
        assert list(evidence_for_answers([answers["1.2"]])) == []
    assert len(evidence_rows(app)) == 1 and len(stored_files(app)) == 1
    assert audit_actions(app) == ["evidence.added", "evidence.attached", "evidence.detached"]


def test_evidence_of_another_cycle_cannot_be_attached(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    login(world.focal_point)
    other = make_cycle(app, world, title="UNDP RBM 2027")
    upload(client, other.cycle, other.response, "report.pdf", PDF)
    evidence_id = evidence_rows(app)[0].id
    response = client.post(f"/cycles/{ids.cycle}/evidence/attach", data={
        "evidence_id": str(evidence_id), "response_id": str(ids.response), "item_id": "1.1"})
    assert response.status_code == 404


def test_new_version_keeps_the_old_one(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    """EVI05: the items move to the new version; the old row and file stay, downloadable."""
    login(world.focal_point)
    first = _uploaded(app, client, ids, "plan-v1.pdf", PDF)
    newer_pdf = PDF + b"% revised\n"
    page = client.post(f"/evidence/{first}/version", data={
        "file": (io.BytesIO(newer_pdf), "plan-v2.pdf"), "description": ""},
        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "“plan-v2.pdf” replaces the earlier version, which is kept." in page
    old, new = evidence_rows(app)
    assert new.supersedes_id == old.id
    assert new.description == old.description and new.document_date == old.document_date
    assert len(stored_files(app)) == 2
    with app.app_context():
        answer_id = db.session.scalars(select(Answer.id)).one()
        assert [e.id for e in evidence_for_answers([answer_id])[answer_id]] == [new.id]
    assert client.get(f"/evidence/{old.id}/download").data == PDF
    listing = client.get(f"/cycles/{ids.cycle}/evidence").get_data(as_text=True)
    assert "1 earlier version" in listing and "plan-v1.pdf" in listing
    same = client.post(f"/evidence/{new.id}/version", data={
        "file": (io.BytesIO(newer_pdf), "plan-v3.pdf")},
        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "same file as the current version" in same
    replaced_again = client.post(f"/evidence/{old.id}/version", data={
        "file": (io.BytesIO(PDF + b"%3"), "plan-v3.pdf")},
        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "A newer version of this document exists already" in replaced_again
    assert len(evidence_rows(app)) == 2 and len(stored_files(app)) == 2


def test_confirming_carried_over_evidence(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    login(world.focal_point)
    evidence_id = _uploaded(app, client, ids, "report.pdf", PDF)
    with app.app_context():
        db.session.get_one(Evidence, evidence_id).carried_over = True
        answer_id = db.session.scalars(select(Answer.id)).one()
        db.session.commit()
    page = client.get(f"/cycles/{ids.cycle}/evidence/item?response={ids.response}&item=1.1")
    assert "Still valid: keep it" in page.get_data(as_text=True)
    confirmed = client.post(f"/evidence/{evidence_id}/confirm", data={"answer_id": answer_id},
                            follow_redirects=True).get_data(as_text=True)
    assert "confirmed as still valid" in confirmed
    assert evidence_rows(app)[0].carried_over is False
    twice = client.post(f"/evidence/{evidence_id}/confirm", data={"answer_id": answer_id},
                        follow_redirects=True).get_data(as_text=True)
    assert "nothing to confirm" in twice


def test_returned_response_changes_only_returned_items(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In review, a returned response may change the evidence of its returned items only."""
    ids = make_cycle(app, world, state=CycleState.in_review,
                     response_state=ResponseState.returned)
    monkeypatch.setattr("surveyapp.services.answers.returned_items",
                        lambda response: {("1.2", "")})
    login(world.focal_point)
    refused = upload(client, ids.cycle, ids.response, "report.pdf", PDF)
    assert "Only the items the validator returned can change" in refused.get_data(as_text=True)
    assert evidence_rows(app) == [] and stored_files(app) == []
    accepted = upload(client, ids.cycle, ids.response, "report.pdf", PDF, item_id="1.2")
    assert "“report.pdf” is attached." in accepted.get_data(as_text=True)


def test_unknown_item_is_a_bad_request(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    login(world.focal_point)
    page = upload(client, ids.cycle, ids.response, "report.pdf", PDF, item_id="9.9")
    assert page.status_code == 400
    assert "The questionnaire has no question “9.9”" in page.get_data(as_text=True)
    assert stored_files(app) == []


def test_next_stays_on_this_site(
    client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    login(world.focal_point)
    response = client.post(f"/cycles/{ids.cycle}/evidence/link", data={
        "response_id": str(ids.response), "item_id": "1.1", "url": "https://example.org",
        "description": "Site", "next": "https://evil.example/phish"})
    assert response.headers["Location"] == "/"
    local = client.post(f"/cycles/{ids.cycle}/evidence/link", data={
        "response_id": str(ids.response), "item_id": "1.2", "url": "https://example.org",
        "description": "Site", "next": "/cycles/1/respond/self_assessment/page/2#evidence-1.2"})
    assert local.headers["Location"] == "/cycles/1/respond/self_assessment/page/2#evidence-1.2"


# --- EVI06: who may do what, where and when ----------------------------------------------


@contextmanager
def signed_in(app: Flask, login: Callable[..., object], user: User) -> Iterator[FlaskClient]:
    client = app.test_client()
    login(user, client=client)
    yield client


def _seed_with(app: Flask, login: Callable[..., object], world: World, ids: CycleIds
               ) -> tuple[int, int]:
    """A PDF attached to item 1.1 by the focal point: (evidence id, answer id)."""
    with signed_in(app, login, world.focal_point) as client:
        upload(client, ids.cycle, ids.response, "report.pdf", PDF)
    with app.app_context():
        evidence = db.session.scalars(select(Evidence)).one()
        return evidence.id, evidence.links[0].answer_id


def _route(name: str, ids: CycleIds, evidence_id: int, answer_id: int
           ) -> tuple[str, str, dict[str, object]]:
    """(method, path, form) of each route, with a valid request body."""
    target = {"response_id": str(ids.response), "item_id": "1.2"}
    routes: dict[str, tuple[str, str, dict[str, object]]] = {
        "upload": ("POST", f"/cycles/{ids.cycle}/evidence/upload",
                   {**target, "description": "Report", "file": (PDF, "report2.pdf")}),
        "link": ("POST", f"/cycles/{ids.cycle}/evidence/link",
                 {**target, "description": "Site", "url": "https://example.org"}),
        "attach": ("POST", f"/cycles/{ids.cycle}/evidence/attach",
                   {**target, "evidence_id": str(evidence_id)}),
        "detach": ("POST", f"/evidence/{evidence_id}/detach", {"answer_id": str(answer_id)}),
        "confirm": ("POST", f"/evidence/{evidence_id}/confirm", {"answer_id": str(answer_id)}),
        "version": ("POST", f"/evidence/{evidence_id}/version",
                    {"file": (PDF + b"%v2", "report-v2.pdf")}),
        "item": ("GET", f"/cycles/{ids.cycle}/evidence/item?response={ids.response}&item=1.1",
                 {}),
        "index": ("GET", f"/cycles/{ids.cycle}/evidence", {}),
        "download": ("GET", f"/evidence/{evidence_id}/download", {}),
        "preview": ("GET", f"/evidence/{evidence_id}/preview", {}),
    }
    return routes[name]


def _call(client: FlaskClient, method: str, path: str, form: dict[str, object]) -> int:
    if method == "GET":
        return client.get(path).status_code
    data = {key: ((io.BytesIO(value[0]), value[1]) if isinstance(value, tuple)
                  else value) for key, value in form.items()}
    return client.post(path, data=data, content_type="multipart/form-data").status_code


#: (route, who, cycle state or None for open, expected status). Changes answer with 302.
ACCESS = [
    # The respondent, in the right state, may.
    *[(route, "focal_point", None, 302)
      for route in ("upload", "link", "attach", "detach", "version")],
    ("item", "focal_point", None, 200),
    ("index", "focal_point", None, 200),
    ("download", "focal_point", None, 200),
    # Wrong role.
    *[(route, who, None, 403)
      for route in ("upload", "link", "attach", "detach", "confirm", "version", "item")
      for who in ("viewer", "validator", "coordinator", "second_focal_point")
      if not (route == "version" and who == "second_focal_point")],
    ("index", "unassigned_focal_point", None, 403),
    ("download", "unassigned_focal_point", None, 403),
    ("preview", "viewer", None, 403),
    ("preview", "focal_point", None, 403),
    ("preview", "validator", None, 200),
    ("preview", "coordinator", None, 200),
    ("index", "viewer", None, 200),
    ("download", "viewer", None, 200),
    # Wrong unit: the cycle does not exist for them.
    *[(route, "stranger_focal_point", None, 404)
      for route in ("upload", "link", "attach", "detach", "confirm", "version", "item", "index",
                    "download", "preview")],
    ("index", "stranger_coordinator", None, 404),
    # Wrong state: answers are locked once the cycle is past answering.
    *[(route, "focal_point", state, 403)
      for route in ("upload", "link", "attach", "detach", "confirm", "item")
      for state in (CycleState.draft, CycleState.submitted, CycleState.validated,
                    CycleState.closed)],
    ("version", "focal_point", CycleState.validated, 403),
    ("version", "focal_point", CycleState.closed, 403),
    # Reading stays possible in every state.
    ("download", "viewer", CycleState.closed, 200),
    ("index", "coordinator", CycleState.closed, 200),
]


@pytest.mark.parametrize(("route", "who", "state", "status"), ACCESS,
                         ids=[f"{r}-{w}-{s or 'open'}-{c}" for r, w, s, c in ACCESS])
def test_route_access(
    app: Flask, login: Callable[..., object], world: World, ids: CycleIds,
    route: str, who: str, state: CycleState | None, status: int,
) -> None:
    """EVI06."""
    evidence_id, answer_id = _seed_with(app, login, world, ids)
    if state is not None:
        set_cycle_state(app, ids.cycle, state)
    method, path, form = _route(route, ids, evidence_id, answer_id)
    with signed_in(app, login, getattr(world, who)) as client:
        assert _call(client, method, path, form) == status


def test_someone_elses_answer_cannot_be_targeted_by_id(
    app: Flask, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    """The second focal point of the same cycle may not touch the first one's answers."""
    _evidence_id, answer_id = _seed_with(app, login, world, ids)
    with signed_in(app, login, world.second_focal_point) as client:
        response = client.post(f"/cycles/{ids.cycle}/evidence/link", data={
            "answer_id": str(answer_id), "url": "https://example.org", "description": "x"})
        assert response.status_code == 403
    assert len(evidence_rows(app)) == 1


def test_anonymous_visitors_are_sent_to_sign_in(
    app: Flask, client: FlaskClient, login: Callable[..., object], world: World, ids: CycleIds,
) -> None:
    evidence_id, _answer_id = _seed_with(app, login, world, ids)
    for path in (f"/evidence/{evidence_id}/download", f"/cycles/{ids.cycle}/evidence"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# --- EVI07: the questionnaire page's evidence in constant queries ------------------------


@contextmanager
def counted_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", count)


def _answers_with_evidence(app: Flask, ids: CycleIds, count: int) -> list[int]:
    with app.app_context():
        response = db.session.get_one(Response, ids.response)
        answers = [Answer(response=response, item_id=f"q{n}", value=n) for n in range(count)]
        db.session.add_all(answers)
        db.session.flush()
        for answer in answers:
            evidence = Evidence(cycle_id=ids.cycle, kind=EvidenceKind.link,
                                url=f"https://example.org/{answer.item_id}",
                                description=f"About {answer.item_id}")
            evidence.links.append(EvidenceLink(answer=answer))
            db.session.add(evidence)
        db.session.commit()
        return [answer.id for answer in answers]


@pytest.mark.parametrize("count", [10, 100])
def test_item_evidence_costs_constant_queries(
    app: Flask, world: World, ids: CycleIds, count: int,
) -> None:
    """EVI07: one query for the answers' evidence, one for the reuse list, whatever the size."""
    answer_ids = _answers_with_evidence(app, ids, count)
    with app.app_context():
        response = db.session.get_one(Response, ids.response)
        cycle = response.cycle
        item = loaded_instrument(cycle.instrument_version).instrument.questionnaires[0].items[0]
        answers = list(db.session.scalars(select(Answer).where(Answer.id.in_(answer_ids))))
    with app.test_request_context(f"/cycles/{ids.cycle}/respond/self_assessment/page/1"), \
            counted_queries(app) as statements:
        login_user(db.session.get_one(User, world.focal_point.id))
        statements.clear()
        found = evidence_for_answers(answer_ids)
        pages = [render_template("evidence/_item_evidence.html", cycle=cycle, response=response,
                                 item=item, answer=answer, evidence_list=found[answer.id],
                                 editable=True) for answer in answers]
    assert len(found) == count
    assert len(statements) == 2, statements
    assert all("Add more evidence" in page for page in pages)
    assert f"https://example.org/q{count - 1}" in "".join(pages)
