"""The evidence store: files kept under their sha256, outside any static folder.

A file lives at ``UPLOAD_DIR/ab/cd/<sha256>``: the name comes from the content alone, never
from anything the uploader sent, so the same document uploaded twice is stored once and no
file name can reach outside the store. An upload is streamed into a temporary file inside
the store (the same filesystem, so the final ``os.replace`` is atomic) while it is hashed;
the caller's check runs on that temporary file, and only a file that passes every check is
moved into place. On any refusal or error the temporary file is deleted: a refused upload
leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from flask import current_app
from flask_babel import gettext as _

from surveyapp.services import ServiceError

#: Read and hash uploads this many bytes at a time.
CHUNK_SIZE = 1024 * 1024
#: Temporary files being received live here, inside the store.
INCOMING_DIR = "incoming"
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")

Checked = TypeVar("Checked")


class UploadRefused(ServiceError):
    """The upload is not accepted; the message says why and what to do instead."""


@dataclass(frozen=True)
class StoredFile:
    """A file now in the store."""

    sha256: str
    size: int


def readable_size(size: int) -> str:
    """A size as people read it on a page, e.g. ``20 MB``, ``300 KB``, ``12 bytes``."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


class EvidenceStore:
    """Content-addressed files under one root directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        """Where the file with this sha256 lives; refuses anything but 64 hex digits."""
        if not _SHA256_HEX.match(sha256):
            raise ValueError(f"not a sha256 content address: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def incoming_dir(self) -> Path:
        return self.root / INCOMING_DIR

    def stored_files(self) -> Iterator[Path]:
        """Every file under the root except those being received, in a stable order."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.is_relative_to(self.incoming_dir()):
                yield path

    def address_of(self, path: Path) -> str | None:
        """The sha256 a stored file's place names, or None for a file the store did not make."""
        name = path.name
        if _SHA256_HEX.match(name) and path == self.path_of(name):
            return name
        return None

    def put(
        self, stream: BinaryIO, *, max_bytes: int, check: Callable[[Path], Checked]
    ) -> tuple[StoredFile, Checked]:
        """Store ``stream`` if ``check`` accepts it; return the stored file and what it found.

        ``check`` reads the complete temporary file and raises (``UploadRefused``) to refuse.

        :raises UploadRefused: the file is empty or larger than ``max_bytes``, or ``check``
            refused it. Nothing is stored then.
        """
        incoming = self.incoming_dir()
        incoming.mkdir(parents=True, exist_ok=True)
        handle, temporary_name = tempfile.mkstemp(dir=incoming, prefix="upload-")
        temporary = Path(temporary_name)
        try:
            with os.fdopen(handle, "wb") as temporary_file:
                digest, size = _copy_hashing(stream, temporary_file, max_bytes)
                temporary_file.flush()
                os.fsync(temporary_file.fileno())
            if size == 0:
                raise UploadRefused(
                    _("The file is empty. Choose the document itself and try again."))
            found = check(temporary)
            self._move_into_place(temporary, digest)
        finally:
            temporary.unlink(missing_ok=True)
        return StoredFile(digest, size), found

    def _move_into_place(self, temporary: Path, sha256: str) -> None:
        """Rename into the content address; an identical file already there is kept."""
        target = self.path_of(sha256)
        if target.is_file():
            # The same bytes are stored already: keep one copy, made recent again so that
            # cleaning up unreferenced files (surveyapp check --repair) leaves it alone
            # while the row that will refer to it is being written.
            os.utime(target)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, target)
        _fsync_directory(target.parent)


def file_sha256(path: Path) -> str:
    """The sha256 of a file's content, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_hashing(source: BinaryIO, target: BinaryIO, max_bytes: int) -> tuple[str, int]:
    """Copy in chunks while hashing; stop as soon as the copy passes ``max_bytes``."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK_SIZE):
        size += len(chunk)
        if size > max_bytes:
            raise UploadRefused(
                _("The file is larger than the %(max_bytes)s limit for evidence. Upload a "
                  "smaller version (for example a PDF of the relevant pages), or add the "
                  "document as a link.", max_bytes=readable_size(max_bytes))
            )
        digest.update(chunk)
        target.write(chunk)
    return digest.hexdigest(), size


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable, not only the file's content."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def evidence_store() -> EvidenceStore:
    """The store of the current app (``UPLOAD_DIR``)."""
    return EvidenceStore(Path(current_app.config["UPLOAD_DIR"]))


def evidence_max_bytes() -> int:
    """The size limit for one evidence file (``EVIDENCE_MAX_BYTES``)."""
    return int(current_app.config["EVIDENCE_MAX_BYTES"])
