"""Files and people for the tests of the instrument pages.

The instrument is the worked example of instruments/README.md (``mini-coordination``, a
partner questionnaire in English and French); version 1.1 renames item q21 to q23, with or
without the crosswalk entry that says so. People: an administrator and a coordinator of a
top-level unit, a coordinator of a cluster below it, a focal point, and a coordinator of
another top-level unit.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask.testing import FlaskClient
from openpyxl import load_workbook
from werkzeug.test import TestResponse

from instruments.excel import instrument_to_workbook
from instruments.loader import parse_instrument
from surveyapp.models import Role, Unit, UnitKind, User

WORKED_EXAMPLE = Path(__file__).parents[1] / "instruments" / "data" / "worked_example.yaml"
V1 = WORKED_EXAMPLE.read_text(encoding="utf-8")
#: Version 1.1 renames q21 to q23 and says nothing about it.
V2_NO_CROSSWALK = V1.replace('version: "1.0"', 'version: "1.1"').replace("id: q21", "id: q23")
CROSSWALK = """crosswalk:
  - from_version: "1.0"
    entries:
      - {questionnaire: partner, from: q21, to: q23, note: renumbered}
"""
V2 = V2_NO_CROSSWALK + CROSSWALK


def workbook(text: str = V1, *, broken: bool = False) -> bytes:
    """The instrument as the Excel workbook; ``broken`` answers q12's ``required`` column
    with a word that is neither yes nor no (cell H4)."""
    data = instrument_to_workbook(parse_instrument(text.encode(), "x.yaml").instrument)
    if not broken:
        return data
    book = load_workbook(io.BytesIO(data))
    sheet = book["items"]
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index("id")].value == "q12":
            row[header.index("required")].value = "maybe"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client: FlaskClient, data: bytes | str, name: str = "mini.yaml",
           path: str = "/instruments/upload") -> TestResponse:
    content = data.encode() if isinstance(data, str) else data
    return client.post(path, data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


@dataclass(frozen=True)
class People:
    country: Unit
    cluster: Unit
    other_country: Unit
    admin: User
    coordinator: User
    cluster_coordinator: User
    focal_point: User
    other_coordinator: User


def build_people(make_unit: Callable[..., Unit], make_user: Callable[..., User]) -> People:
    country = make_unit("CAR", kind=UnitKind.country)
    cluster = make_unit("CAR-HEALTH", kind=UnitKind.cluster, parent=country)
    other = make_unit("MALI", kind=UnitKind.country)
    return People(
        country=country, cluster=cluster, other_country=other,
        admin=make_user("admin@example.org", role=Role.admin, unit=country),
        coordinator=make_user("coord@example.org", role=Role.coordinator, unit=country),
        cluster_coordinator=make_user("health@example.org", role=Role.coordinator,
                                      unit=cluster),
        focal_point=make_user("fp@example.org", role=Role.focal_point, unit=cluster),
        other_coordinator=make_user("mali@example.org", role=Role.coordinator, unit=other),
    )
