"""Opening ZIP-based files safely: workbooks and ODK Central's .zip exports.

Every reader of such a file (instrument workbooks here, responses workbooks and
Kobo/ODK exports in ``scoring``) asks :func:`archive_problem` first, so that a
damaged file or a zip bomb is refused from the archive's directory alone,
before anything expands, and catches :data:`UNREADABLE_WORKBOOK` around
openpyxl, so that damage found while reading becomes a message, not a traceback.
"""

from __future__ import annotations

import io
import zipfile
from xml.etree.ElementTree import ParseError

ZIP_MAGIC = b"PK\x03\x04"
#: A workbook (or an ODK .zip) may not expand beyond this when opened: no zip bombs.
ARCHIVE_MAX_EXPANDED = 200 * 1024 * 1024
#: What openpyxl raises for a damaged workbook: a bad archive, missing parts, bad XML.
UNREADABLE_WORKBOOK = (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError,
                       ParseError)


def archive_problem(data: bytes) -> str | None:
    """Why a ZIP-based file cannot be opened safely; None if it can.

    Only the archive's directory is read, so a zip bomb is refused before it expands.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as error:
        return f"its ZIP container is damaged ({error.__class__.__name__})"
    if expanded > ARCHIVE_MAX_EXPANDED:
        return (f"it would expand to {expanded // (1024 * 1024)} MB when opened, more than "
                f"{ARCHIVE_MAX_EXPANDED // (1024 * 1024)} MB (a possible zip bomb)")
    return None
