"""Reading a file's type from its bytes (surveyapp/file_types.py), edge cases of EVI02.

The common accepted and hostile files go through the upload route in test_evidence.py;
these are the cases that need a file built for them.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from surveyapp.file_types import (
    CSV,
    DOCX,
    OFFICE_MAX_PARTS,
    TEXT,
    XLSX,
    check_content,
    detect,
    extension_of,
    kind_for_name,
)
from surveyapp.storage import UploadRefused
from tests.web.evidence_world import PDF, office_file


def written(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "upload"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("name", "extension"), [
    ("report.PDF", "pdf"), ("archive.tar.gz", "gz"), ("README", ""), (".pdf", ""),
    ("trailing.", ""),
])
def test_extension_of(name: str, extension: str) -> None:
    assert extension_of(name) == extension


def test_utf8_text_with_byte_order_mark_is_text(tmp_path: Path) -> None:
    path = written(tmp_path, "\ufeffindicateur;valeur\nréunions;4\n".encode())
    assert detect(path) is TEXT
    assert check_content(path, "data.csv") is CSV
    assert check_content(path, "data.txt") is TEXT


def test_text_with_a_nul_byte_is_not_text(tmp_path: Path) -> None:
    with pytest.raises(UploadRefused, match="not a type we accept"):
        detect(written(tmp_path, b"looks like text\x00but is not\n"))


def test_utf8_cut_in_the_middle_of_a_character_is_not_text(tmp_path: Path) -> None:
    with pytest.raises(UploadRefused, match="saved as UTF-8"):
        detect(written(tmp_path, "résumé".encode()[:2]))


@pytest.mark.parametrize("markup", [
    b"  \n<HTML><body>hi</body></HTML>", b"<?xml version='1.0'?><data/>",
    b"Title\n<iframe src='https://evil.example'></iframe>", b"< script >alert(1)</script>",
])
def test_markup_anywhere_near_the_start_is_refused(tmp_path: Path, markup: bytes) -> None:
    with pytest.raises(UploadRefused, match="web page markup"):
        detect(written(tmp_path, markup))


def test_text_mentioning_angle_brackets_is_text(tmp_path: Path) -> None:
    assert detect(written(tmp_path, b"target < 5 and baseline > 2\n")) is TEXT


def test_office_kinds_come_from_the_content_types_part(tmp_path: Path) -> None:
    assert detect(written(tmp_path, office_file("docx"))) is DOCX
    assert detect(written(tmp_path, office_file("xlsx"))) is XLSX
    with pytest.raises(UploadRefused, match="its content is an Excel workbook"):
        check_content(written(tmp_path, office_file("xlsx")), "plan.docx")


def test_damaged_office_file_is_refused_clearly(tmp_path: Path) -> None:
    truncated = office_file("docx")[:60]
    with pytest.raises(UploadRefused, match="cannot be read"):
        detect(written(tmp_path, truncated))


def test_package_that_is_not_word_excel_or_powerpoint(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", b'<Types><Default Extension="xml" '
                                                b'ContentType="application/xml"/></Types>')
    with pytest.raises(UploadRefused, match="not a Word, Excel or PowerPoint document"):
        detect(written(tmp_path, buffer.getvalue()))


@pytest.mark.slow
def test_archive_with_absurdly_many_parts_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for number in range(OFFICE_MAX_PARTS + 1):
            package.writestr(f"part{number}.xml", b"")
    with pytest.raises(UploadRefused, match="possible decompression bomb"):
        detect(written(tmp_path, buffer.getvalue()))


def test_pdf_is_a_pdf_whatever_follows(tmp_path: Path) -> None:
    assert check_content(written(tmp_path, PDF + b"<html>"), "x.pdf").media_type == (
        "application/pdf")


@pytest.mark.parametrize("name", ["x.exe", "x.svg", "x.html", "x.js", "x.zip", "x.docm", "x"])
def test_names_we_never_accept(name: str) -> None:
    with pytest.raises(UploadRefused, match="not accepted as evidence"):
        kind_for_name(name)
