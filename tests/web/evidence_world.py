"""A small world for the evidence, invitation and carry-forward tests, and sample files.

People: in organisation UNDP (under the UN system) a focal point assigned to the cycle, a
second assigned focal point (the wrong respondent), a focal point of the unit who is not
assigned, a validator assigned to the cycle, a coordinator of the UN system and a viewer;
in UNICEF, a coordinator and focal point: the wrong unit.

Files: minimal but real examples of every accepted type, built here from their formats'
signatures (PDF header, PNG/JPEG/GIF/WebP magic, Office Open XML packages with their
content-types part, a Compound File with a WordDocument stream name), and hostile ones.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from surveyapp.extensions import db
from surveyapp.models import (
    Cycle,
    CycleParticipant,
    CycleState,
    ParticipantRole,
    Response,
    ResponseState,
    Role,
    Unit,
    UnitKind,
    User,
)
from surveyapp.services.instrument_versions import ensure_bundled_versions


@dataclass(frozen=True)
class World:
    unit: Unit
    other_unit: Unit
    focal_point: User
    second_focal_point: User
    unassigned_focal_point: User
    validator: User
    coordinator: User
    viewer: User
    stranger_coordinator: User
    stranger_focal_point: User


def build_world(make_unit: Callable[..., Unit], make_user: Callable[..., User]) -> World:
    system = make_unit("UN", kind=UnitKind.un_system)
    unit = make_unit("UNDP", kind=UnitKind.organisation, parent=system)
    other = make_unit("UNICEF", kind=UnitKind.organisation, parent=system)
    return World(
        unit=unit,
        other_unit=other,
        focal_point=make_user("fp@example.org", role=Role.focal_point, unit=unit),
        second_focal_point=make_user("fp2@example.org", role=Role.focal_point, unit=unit),
        unassigned_focal_point=make_user("fp3@example.org", role=Role.focal_point, unit=unit),
        validator=make_user("val@example.org", role=Role.validator, unit=unit),
        coordinator=make_user("coord@example.org", role=Role.coordinator, unit=system),
        viewer=make_user("viewer@example.org", role=Role.viewer, unit=unit),
        stranger_coordinator=make_user("coord@unicef.example.org", role=Role.coordinator,
                                       unit=other),
        stranger_focal_point=make_user("fp@unicef.example.org", role=Role.focal_point,
                                       unit=other),
    )


@dataclass(frozen=True)
class CycleIds:
    cycle: int
    response: int


def make_cycle(
    app: Flask,
    world: World,
    *,
    key: str = "jiu-rbm",
    questionnaire: str = "self_assessment",
    state: CycleState = CycleState.open,
    response_state: ResponseState = ResponseState.draft,
    anonymous: bool = False,
    title: str = "UNDP RBM 2026",
    unit: Unit | None = None,
) -> CycleIds:
    """A cycle of a bundled instrument with both focal points and the validator assigned,
    and an empty response of the first focal point."""
    with app.app_context():
        version = next(v for v in ensure_bundled_versions() if v.key == key)
        cycle = Cycle(unit_id=(unit or world.unit).id, instrument_version=version, title=title,
                      period_start=date(2026, 1, 1), period_end=date(2026, 12, 31),
                      state=state, anonymous=anonymous)
        cycle.participants += [
            CycleParticipant(user_id=world.focal_point.id, role=ParticipantRole.focal_point),
            CycleParticipant(user_id=world.second_focal_point.id,
                             role=ParticipantRole.focal_point),
            CycleParticipant(user_id=world.validator.id, role=ParticipantRole.validator),
        ]
        response = Response(cycle=cycle, questionnaire=questionnaire,
                            respondent_id=world.focal_point.id, state=response_state)
        db.session.add(response)
        db.session.commit()
        return CycleIds(cycle.id, response.id)


def set_cycle_state(app: Flask, cycle_id: int, state: CycleState) -> None:
    with app.app_context():
        db.session.get_one(Cycle, cycle_id).state = state
        db.session.commit()


def stored_files(app: Flask) -> list[Path]:
    """Every file anywhere under the evidence store, temporary ones included."""
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def upload(
    client: FlaskClient,
    cycle_id: int,
    response_id: int,
    filename: str,
    data: bytes,
    *,
    item_id: str = "1.1",
    description: str = "Annual report, chapter 3",
    document_date: str = "2025-06-30",
    follow: bool = True,
) -> TestResponse:
    """Upload through the real route, returning to the cycle's evidence list."""
    return client.post(
        f"/cycles/{cycle_id}/evidence/upload",
        data={"response_id": str(response_id), "item_id": item_id, "framework_node": "",
              "description": description, "document_date": document_date,
              "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data", follow_redirects=follow)


# --- Sample files ------------------------------------------------------------------------

PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n"
       b"%%EOF\n")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32) + b"\xff\xd9"
GIF = b"GIF89a" + bytes(20) + b";"
WEBP = b"RIFF" + struct.pack("<I", 20) + b"WEBPVP8 " + bytes(12)
CSV = "indicator,baseline,target\nMeetings held,4,12\nRéunions,1,2\n".encode()
TEXT = b"Minutes of the strategic advisory group, 12 March 2025.\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(56)
PE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(56) + b"This program cannot be run in DOS mode."
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
       b"<script>alert(1)</script></svg>")
POLYGLOT = b"%PDF-1.4\n<html><script>alert(document.domain)</script></html>\n%%EOF\n"
SCRIPT = b"#!/bin/sh\nrm -rf ~\n"
#: The EICAR anti-virus test file, put together here so that no scanner flags this source.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!" + b"$H+H*"
LATIN1_CSV = "pays,valeur\nRépublique centrafricaine,3\n".encode("latin-1")

_MAIN_TYPES = {
    "docx": ("word/document.xml",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
    "docm": ("word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
}


def office_file(kind: str, *, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal Office Open XML package: the content-types part and the main part."""
    part, content_type = _MAIN_TYPES[kind]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Override PartName="/' + part + '" ContentType="'
            + content_type + '"/></Types>').encode())
        package.writestr(part, b"<document/>")
        for name, content in (extra or {}).items():
            package.writestr(name, content)
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("report.pdf", PDF)
    return buffer.getvalue()


def declared_bomb() -> bytes:
    """A .docx whose directory declares a part of nearly 4 GB (a lying zip bomb)."""
    data = bytearray(office_file("docx", extra={"word/media/big.bin": b"x" * 100}))
    entry = data.rfind(b"PK\x01\x02")  # the central directory entry of the last part
    data[entry + 24:entry + 28] = struct.pack("<I", 0xFFFF_FFF0)  # its uncompressed size
    return bytes(data)


def ratio_bomb(kind: str = "docx") -> bytes:
    """An Office file with a 4 MiB part of zeros that compresses about a thousand times over."""
    return office_file(kind, extra={"media/zeros.bin": bytes(4 * 1024 * 1024)})


# Images whose headers declare a size (a few bytes can declare gigapixels).


def png_of(width: int, height: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + struct.pack(">II", width, height) + bytes(9)


def gif_of(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + bytes(16) + b";"


def jpeg_of(width: int, height: int) -> bytes:
    """Start of image, a JFIF segment, and a baseline frame header with the size."""
    jfif = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01" + bytes(7)
    frame = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + bytes(9)
    return b"\xff\xd8" + jfif + frame + b"\xff\xd9"


def webp_of(width: int, height: int) -> bytes:
    """An extended (VP8X) WebP header: the canvas size, minus one, in 24 bits each."""
    canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 22) + b"WEBPVP8X" + struct.pack("<I", 10) + bytes(4) + canvas


def ole_file(stream_name: str) -> bytes:
    """A Compound File header followed by a directory entry carrying ``stream_name``."""
    return (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
            + stream_name.encode("utf-16-le") + bytes(64))
