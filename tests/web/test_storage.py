"""The content-addressed evidence store (surveyapp/storage.py), without the web.

STO01 a file is stored at ab/cd/<sha256>, the name derived from the content alone.
STO02 identical content is stored once.
STO03 any refusal (empty, too large, the caller's check) or error leaves no file at all,
      not even a temporary one.
STO04 only a 64-digit lower-case hex address can name a stored file.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from surveyapp.storage import CHUNK_SIZE, EvidenceStore, UploadRefused


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def accept(_path: Path) -> str:
    return "checked"


def test_file_is_stored_under_its_sha256(tmp_path: Path) -> None:
    """STO01."""
    store = EvidenceStore(tmp_path / "store")
    data = b"%PDF-1.4 evidence\n" * 1000
    stored, found = store.put(io.BytesIO(data), max_bytes=1_000_000, check=accept)
    digest = hashlib.sha256(data).hexdigest()
    assert (stored.sha256, stored.size, found) == (digest, len(data), "checked")
    target = tmp_path / "store" / digest[:2] / digest[2:4] / digest
    assert files_under(tmp_path / "store") == [target]
    assert target.read_bytes() == data
    assert store.has(digest)


def test_large_file_is_hashed_across_chunks(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    data = bytes(range(256)) * (CHUNK_SIZE // 256 * 2 + 7)
    stored, _ = store.put(io.BytesIO(data), max_bytes=len(data), check=accept)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert store.path_of(stored.sha256).read_bytes() == data


def test_same_content_is_stored_once(tmp_path: Path) -> None:
    """STO02."""
    store = EvidenceStore(tmp_path)
    first, _ = store.put(io.BytesIO(b"same bytes"), max_bytes=100, check=accept)
    second, _ = store.put(io.BytesIO(b"same bytes"), max_bytes=100, check=accept)
    assert first == second
    assert len(files_under(tmp_path)) == 1


def refuse(_path: Path) -> str:
    raise UploadRefused("not this one")


def explode(_path: Path) -> str:
    raise RuntimeError("the check itself failed")


@pytest.mark.parametrize(("data", "max_bytes", "check", "error", "message"), [
    (b"", 100, accept, UploadRefused, "The file is empty"),
    (b"x" * 101, 100, accept, UploadRefused, "larger than the 100 bytes limit"),
    (b"x" * (CHUNK_SIZE + 1), CHUNK_SIZE, accept, UploadRefused, "larger than the 1 MB limit"),
    (b"content", 100, refuse, UploadRefused, "not this one"),
    (b"content", 100, explode, RuntimeError, "the check itself failed"),
])
def test_refusals_leave_nothing(
    tmp_path: Path, data: bytes, max_bytes: int, check: object, error: type[Exception],
    message: str,
) -> None:
    """STO03."""
    store = EvidenceStore(tmp_path)
    with pytest.raises(error, match=message):
        store.put(io.BytesIO(data), max_bytes=max_bytes, check=check)  # type: ignore[arg-type]
    assert files_under(tmp_path) == []


def test_the_check_sees_the_complete_temporary_file(tmp_path: Path) -> None:
    seen: list[bytes] = []

    def look(path: Path) -> None:
        seen.append(path.read_bytes())
        assert path.parent == tmp_path / "incoming"

    EvidenceStore(tmp_path).put(io.BytesIO(b"all of it"), max_bytes=100, check=look)
    assert seen == [b"all of it"]


@pytest.mark.parametrize("address", [
    "../../etc/passwd", "ABCDEF" + "0" * 58, "0" * 63, "0" * 65, "g" * 64, "",
])
def test_only_sha256_addresses(tmp_path: Path, address: str) -> None:
    """STO04."""
    with pytest.raises(ValueError, match="not a sha256 content address"):
        EvidenceStore(tmp_path).path_of(address)
