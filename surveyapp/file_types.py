"""What an uploaded file really is, read from its bytes, and whether evidence may be one.

The name a browser sends proves nothing: an HTML page renamed ``report.pdf`` is still a
page that could run scripts. So the type is read from the content (signatures, the parts
list of Office files, UTF-8 for text), and the file is accepted only when the content is
a kind we take AND agrees with the extension of its name. Executables, scripts, markup
(HTML, SVG, XML), plain ZIP archives, macro-enabled Office files, archives that would
expand to absurd sizes and images whose declared size would fill the memory of whoever
opens them are refused, each with a message that says what to do instead.
"""

from __future__ import annotations

import codecs
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from surveyapp.storage import CHUNK_SIZE, UploadRefused, readable_size


@dataclass(frozen=True)
class FileKind:
    """A kind of document we accept: its media type and how to name it to people."""

    key: str
    media_type: str
    #: Translated when shown, in the language of the page.
    description: LazyString


PDF = FileKind("pdf", "application/pdf", _l("a PDF document"))
DOCX = FileKind(
    "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    _l("a Word document"),
)
XLSX = FileKind(
    "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    _l("an Excel workbook"),
)
PPTX = FileKind(
    "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    _l("a PowerPoint presentation"),
)
DOC = FileKind("doc", "application/msword", _l("a Word 97-2003 document"))
XLS = FileKind("xls", "application/vnd.ms-excel", _l("an Excel 97-2003 workbook"))
PPT = FileKind("ppt", "application/vnd.ms-powerpoint", _l("a PowerPoint 97-2003 presentation"))
PNG = FileKind("png", "image/png", _l("a PNG image"))
JPEG = FileKind("jpeg", "image/jpeg", _l("a JPEG image"))
GIF = FileKind("gif", "image/gif", _l("a GIF image"))
WEBP = FileKind("webp", "image/webp", _l("a WebP image"))
CSV = FileKind("csv", "text/csv", _l("a CSV table"))
TEXT = FileKind("txt", "text/plain", _l("a plain text file"))

#: The extensions evidence may have, and the kind of content each must hold.
KIND_BY_EXTENSION: dict[str, FileKind] = {
    "pdf": PDF,
    "docx": DOCX,
    "xlsx": XLSX,
    "pptx": PPTX,
    "doc": DOC,
    "xls": XLS,
    "ppt": PPT,
    "png": PNG,
    "jpg": JPEG,
    "jpeg": JPEG,
    "gif": GIF,
    "webp": WEBP,
    "csv": CSV,
    "txt": TEXT,
}
ACCEPTED_TYPES_TEXT = (
    _l("PDF, Word, Excel or PowerPoint (.docx, .xlsx, .pptx, or the older .doc, .xls, .ppt), "
       "PNG, JPEG, GIF or WebP images, CSV or plain text")
)
#: Kinds a browser may show inline (validators' preview): documents and raster images only.
PREVIEWABLE_MEDIA_TYPES = frozenset(
    kind.media_type for kind in (PDF, PNG, JPEG, GIF, WEBP)
)

#: An Office file may not expand beyond this, however small it is compressed.
OFFICE_MAX_UNCOMPRESSED = 200 * 1024 * 1024
#: A part compressed more than this many times over is a decompression bomb, not a document.
OFFICE_MAX_RATIO = 200
#: The ratio is only judged on parts bigger than this (tiny parts compress oddly).
OFFICE_RATIO_MIN_PART = 1024 * 1024
OFFICE_MAX_PARTS = 10_000
#: Content types of the main part of each Office Open XML document we accept.
OOXML_MAIN_PARTS = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
#: Macro-enabled main parts (docm, xlsm, pptm): documents that carry programs.
OOXML_MACRO_MARKER = b"macroEnabled"
CONTENT_TYPES_PART = "[Content_Types].xml"
CONTENT_TYPES_MAX_BYTES = 1024 * 1024

#: Compound File Binary (legacy Office) signature, and the stream names that tell them apart.
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OLE_STREAMS: tuple[tuple[str, FileKind], ...] = (
    ("WordDocument", DOC),
    ("Workbook", XLS),
    ("Book", XLS),
    ("PowerPoint Document", PPT),
)
OLE_MACRO_STREAMS = ("_VBA_PROJECT", "VBA")

#: Programs of every common platform, and scripts: "#!" starts a Unix script.
EXECUTABLE_SIGNATURES = (
    b"\x7fELF",  # Linux and most Unix
    b"MZ",  # Windows .exe, .dll
    b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",  # macOS
    b"\xca\xfe\xba\xbe",  # macOS universal binaries and Java classes
    b"#!",
    # The EICAR anti-virus test file is a DOS program made of printable characters: refusing
    # it shows an administrator that the upload screening works.
    b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!",
)
#: An image may not declare more pixels than this (a 100-megapixel photograph): a few
#: bytes can declare a picture that takes gigabytes to open (a decompression bomb).
IMAGE_MAX_PIXELS = 100_000_000
#: Markup that a browser would render and run scripts in, looked for near the start.
MARKUP = re.compile(
    rb"<\s*(?:!doctype|html|head|body|script|svg|iframe|object|embed|\?xml)\b", re.IGNORECASE
)
MARKUP_WINDOW = 4096
HEAD_BYTES = 8192


def extension_of(filename: str) -> str:
    """The lower-cased extension without its dot, or ``""``."""
    stem, dot, extension = filename.rpartition(".")
    return extension.lower() if dot and stem else ""


def kind_for_name(filename: str) -> FileKind:
    """The kind of content a file of this name must hold.

    :raises UploadRefused: the extension is missing or not one we accept.
    """
    extension = extension_of(filename)
    kind = KIND_BY_EXTENSION.get(extension)
    if kind is None:
        if extension:
            raise UploadRefused(_("Files ending .%(extension)s are not accepted as evidence. "
                                  "Accepted: %(accepted)s.",
                                  extension=extension, accepted=ACCEPTED_TYPES_TEXT))
        raise UploadRefused(_("Files without an extension are not accepted as evidence. "
                              "Accepted: %(accepted)s.", accepted=ACCEPTED_TYPES_TEXT))
    return kind


def check_content(path: Path, filename: str) -> FileKind:
    """Read what the file at ``path`` is and check it is what ``filename`` says it is.

    :raises UploadRefused: with a message naming the problem.
    """
    expected = kind_for_name(filename)
    found = detect(path)
    if found is TEXT and expected in (TEXT, CSV):
        return expected  # a CSV table is text: its bytes cannot tell the two apart
    if found is not expected:
        raise UploadRefused(
            _("The file is named “%(filename)s”, but its content is %(description)s. Upload the "
              "document in the format its name says, or rename it to match its content.",
              filename=filename, description=found.description)
        )
    return found


def detect(path: Path) -> FileKind:
    """The kind of the file from its bytes (any UTF-8 text is ``TEXT``).

    :raises UploadRefused: for programs, scripts, markup, archives and unknown content.
    """
    with path.open("rb") as file:
        head = file.read(HEAD_BYTES)
    if head.startswith(EXECUTABLE_SIGNATURES):
        raise UploadRefused(
            _("The file is a program or a script, which is never accepted as evidence. Upload "
              "the document itself (PDF, Office, image, CSV or text).")
        )
    if head.startswith(b"%PDF-"):
        return PDF
    image = _image_kind(head)
    if image is not None:
        _refuse_huge_image(image, head)
        return image
    if head.startswith(OLE_SIGNATURE):
        return _legacy_office_kind(path)
    if head.startswith(b"PK\x03\x04"):
        return _office_open_xml_kind(path)
    if _is_utf8_text(path):
        if MARKUP.search(head[:MARKUP_WINDOW]):
            raise UploadRefused(
                _("The file contains web page markup (HTML, SVG or XML), which a browser could "
                  "run scripts from, so it is not accepted as evidence. Save or print it as PDF "
                  "and upload the PDF.")
            )
        return TEXT
    raise UploadRefused(
        _("The content of the file is not a type we accept. Accepted: %(accepted_types_text)s. "
          "Text files must be saved as UTF-8.", accepted_types_text=ACCEPTED_TYPES_TEXT)
    )


def _image_kind(head: bytes) -> FileKind | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def image_dimensions(kind: FileKind, head: bytes) -> tuple[int, int] | None:
    """Width and height as the image's header declares them; None when it does not say."""
    try:
        if kind is PNG and head[12:16] == b"IHDR":
            return struct.unpack(">II", head[16:24])  # type: ignore[return-value]
        if kind is GIF:
            return struct.unpack("<HH", head[6:10])  # type: ignore[return-value]
        if kind is WEBP:
            return _webp_dimensions(head)
        if kind is JPEG:
            return _jpeg_dimensions(head)
    except struct.error:
        return None  # a header cut short declares nothing
    return None


def _webp_dimensions(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X":  # extended: 24-bit canvas size minus one
        return (int.from_bytes(head[24:27], "little") + 1,
                int.from_bytes(head[27:30], "little") + 1)
    if chunk == b"VP8L" and head[20:21] == b"\x2f":  # lossless: 14-bit sizes minus one
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":  # lossy key frame
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


#: JPEG frame markers (SOF0-SOF15 but DHT, JPG and DAC), which carry the image size.
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_dimensions(head: bytes) -> tuple[int, int] | None:
    """Walk the segments at the start of a JPEG to its frame header."""
    position = 2
    while position + 9 <= len(head) and head[position] == 0xFF:
        marker = head[position + 1]
        if marker in _JPEG_FRAMES:
            height, width = struct.unpack(">HH", head[position + 5:position + 9])
            return width, height
        (length,) = struct.unpack(">H", head[position + 2:position + 4])
        if length < 2:
            return None
        position += 2 + length
    return None


def _refuse_huge_image(kind: FileKind, head: bytes) -> None:
    dimensions = image_dimensions(kind, head)
    if dimensions is None:
        return
    width, height = dimensions
    if width * height > IMAGE_MAX_PIXELS:
        raise UploadRefused(
            _("The image declares %(width)s x %(height)s pixels, more than the %(megapixels)s "
              "megapixels allowed; opening it could exhaust a computer's memory, so it is "
              "refused as a possible decompression bomb. Save a smaller copy and upload that.",
              width=width, height=height, megapixels=IMAGE_MAX_PIXELS // 1_000_000)
        )


def _is_utf8_text(path: Path) -> bool:
    """UTF-8 all the way through (a byte order mark allowed) and no NUL byte."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_SIZE):
            if b"\x00" in chunk:
                return False
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _contains_any(path: Path, needles: tuple[bytes, ...]) -> set[bytes]:
    """Which of ``needles`` occur in the file, read in chunks that overlap by a needle."""
    overlap = max(len(needle) for needle in needles)
    found: set[bytes] = set()
    tail = b""
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_SIZE):
            window = tail + chunk
            found.update(needle for needle in needles if needle in window)
            tail = window[-overlap:]
    return found


def _legacy_office_kind(path: Path) -> FileKind:
    """Word, Excel or PowerPoint 97-2003, told apart by their streams' names (UTF-16)."""
    names = {name: name.encode("utf-16-le") for name, _kind in OLE_STREAMS}
    macro_names = tuple(name.encode("utf-16-le") for name in OLE_MACRO_STREAMS)
    found = _contains_any(path, (*names.values(), *macro_names))
    if found & set(macro_names):
        raise UploadRefused(
            _("The Office file contains macros (programs), which are never accepted. "
              "Save it without macros, or as PDF, and upload that.")
        )
    for name, kind in OLE_STREAMS:
        if names[name] in found:
            return kind
    raise UploadRefused(
        _("The file is an old-style Office container but not a Word, Excel or PowerPoint "
          "document. Save it as PDF, or in a current Office format, and upload that.")
    )


def _office_open_xml_kind(path: Path) -> FileKind:
    """A .docx, .xlsx or .pptx, checked from the archive's directory without unpacking it."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            _refuse_bombs(parts)
            names = {part.filename for part in parts}
            if CONTENT_TYPES_PART not in names:
                raise UploadRefused(
                    _("The file is a ZIP archive, which is not accepted as evidence. Attach the "
                      "documents it holds one by one.")
                )
            with archive.open(CONTENT_TYPES_PART) as part:
                content_types = part.read(CONTENT_TYPES_MAX_BYTES)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError) as error:
        raise UploadRefused(
            _("The file looks like an Office document or ZIP archive but cannot be read "
              "(%(error)s). Open it, save it again, and upload the new copy.", error=error)
        ) from error
    if OOXML_MACRO_MARKER in content_types or any(
        name.lower().endswith("vbaproject.bin") for name in names
    ):
        raise UploadRefused(
            _("The Office file contains macros (programs), which are never accepted. "
              "Save it as .docx, .xlsx or .pptx (without macros), or as PDF, and upload that.")
        )
    for marker, kind in OOXML_MAIN_PARTS.items():
        if marker in content_types:
            return kind
    raise UploadRefused(
        _("The file is a ZIP-based package but not a Word, Excel or PowerPoint document. "
          "Save it as PDF and upload that.")
    )


def _refuse_bombs(parts: list[zipfile.ZipInfo]) -> None:
    """Refuse archives that would expand to absurd sizes (decompression bombs)."""
    if len(parts) > OFFICE_MAX_PARTS:
        raise UploadRefused(
            _("The file holds %(count)s parts, more than any real Office document "
              "(%(office_max_parts)s); it is refused as a possible decompression bomb.",
              count=len(parts), office_max_parts=OFFICE_MAX_PARTS)
        )
    expanded = sum(part.file_size for part in parts)
    if expanded > OFFICE_MAX_UNCOMPRESSED:
        raise UploadRefused(
            _("The file would expand to %(expanded)s when opened, more than the "
              "%(office_max_uncompressed)s allowed for an Office document; it is refused as a "
              "possible decompression bomb. Save it as PDF and upload that.",
              expanded=readable_size(expanded),
              office_max_uncompressed=readable_size(OFFICE_MAX_UNCOMPRESSED))
        )
    for part in parts:
        if (
            part.file_size > OFFICE_RATIO_MIN_PART
            and part.file_size > OFFICE_MAX_RATIO * max(part.compress_size, 1)
        ):
            raise UploadRefused(
                _("A part of the file (%(filename)s) is compressed more than "
                  "%(office_max_ratio)s times over, which no real document is; it is refused as "
                  "a possible decompression bomb. Save it as PDF and upload that.",
                  filename=part.filename, office_max_ratio=OFFICE_MAX_RATIO)
            )


def refuse_archive_bombs(stream: BinaryIO) -> None:
    """Refuse a ZIP-based file that would expand to absurd sizes, before anything unpacks it.

    For files the app reads itself rather than stores (a Kobo .xlsx export, ODK Central's
    .zip of CSV tables), which are archives by design.

    :raises UploadRefused: a decompression bomb, or an archive that cannot be read.
    """
    try:
        with zipfile.ZipFile(stream) as archive:
            _refuse_bombs(archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError) as error:
        raise UploadRefused(
            _("The file looks like a ZIP archive or an Office workbook but cannot be read "
              "(%(error)s). Export it again and upload the new copy.", error=error)
        ) from error
