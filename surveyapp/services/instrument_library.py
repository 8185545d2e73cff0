"""The instrument library in the web: upload, replace a draft, publish, retire, delete, compare.

Instruments are shared by every unit, so who may change them is decided on top-level units
(docs/instruments-web.md "Who may do what"):

- administrators and coordinators of any unit read the library, preview and compare;
- administrators and coordinators of a top-level unit upload drafts, and replace or
  delete the drafts they uploaded;
- administrators of a top-level unit publish and retire versions, and replace or delete
  any draft.

A file is stored only once it is valid (reference/cpims.md section 6, item 2: "rejected
with a readable list of errors, and the live version is left unchanged"); the problems
are the loader's and the workbook reader's own, printed as the command line prints them.
A published version never changes (the database refuses it too, see
``models.instruments``); it is retired, never deleted, and its cycles keep it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from instruments import LoadedInstrument, parse_instrument
from instruments.diff import Change, diff_heading, diff_instruments, uncovered_removals
from instruments.excel import workbook_to_yaml
from surveyapp.extensions import db
from surveyapp.models import (
    Cycle,
    InstrumentOverlay,
    InstrumentStatus,
    InstrumentVersion,
    Membership,
    Role,
    Unit,
    User,
)
from surveyapp.models.base import now_utc
from surveyapp.services import ServiceError
from surveyapp.services.access import require
from surveyapp.services.audit import Actor, record
from surveyapp.services.instrument_versions import (
    latest_published,
    loaded_instrument,
    published_versions,
    text_sha256,
)
from surveyapp.services.preview import discard_preview_answers

RELEASE_NOTES_MAX = 5000
#: The first bytes of every .xlsx file (a zip archive).
WORKBOOK_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class LibraryAccess:
    """What one user may do with the shared instrument library."""

    user_id: int
    may_read: bool
    may_upload: bool
    may_publish: bool

    def may_change_draft(self, version: InstrumentVersion) -> bool:
        """Administrators change any draft; an author, the drafts they uploaded."""
        return self.may_publish or (self.may_upload and version.created_by_id == self.user_id)


def library_access(user: User) -> LibraryAccess:
    """The user's rights on the library, from their memberships, in one query."""
    held = db.session.execute(
        select(Membership.role, Unit.parent_id.is_(None))
        .join(Unit, Unit.id == Membership.unit_id).where(Membership.user_id == user.id)
    ).all()
    authors = {Role.admin, Role.coordinator}
    return LibraryAccess(
        user_id=user.id,
        may_read=any(role in authors for role, _top in held),
        may_upload=any(role in authors and top for role, top in held),
        may_publish=any(role is Role.admin and top for role, top in held),
    )


def _must_read(user: User) -> LibraryAccess:
    access = library_access(user)
    require(access.may_read, _l("The instrument library is for coordinators and "
                                "administrators."))
    return access


# --------------------------------------------------------------------------- reading files


def read_instrument_upload(data: bytes, filename: str) -> LoadedInstrument:
    """An uploaded YAML file or Excel workbook (told apart by its bytes), validated.

    A workbook gives the YAML that ``surveyapp instruments from-excel`` would write.

    :raises InstrumentInvalid: with the same problems, located the same way, as
        ``surveyapp instruments validate`` or ``from-excel`` would print.
    """
    if data.startswith(WORKBOOK_MAGIC):
        return workbook_to_yaml(data, filename)[1]
    return parse_instrument(data, filename)


def _store_check(loaded: LoadedInstrument, replacing: InstrumentVersion | None) -> str:
    digest = text_sha256(loaded.text)
    same = db.session.scalar(select(InstrumentVersion).where(InstrumentVersion.sha256 == digest))
    if same is not None and same is replacing:
        raise ServiceError(_("This file is identical to the draft: nothing to replace."))
    if same is not None:
        raise ServiceError(_("This exact file is already stored as %(key)s %(version)s.",
                             key=same.key, version=same.version))
    return digest


# --------------------------------------------------------------------------- changing


def upload_version(user: User, data: bytes, filename: str) -> InstrumentVersion:
    """Store a valid file as a draft: a new instrument, or a new version of one.

    :raises AccessDenied: for someone who may not upload.
    :raises InstrumentInvalid: for a file with problems; nothing is stored.
    :raises ServiceError: when that key and version, or that exact text, is stored already.
    """
    require(library_access(user).may_upload, _l("Only administrators and coordinators of a "
                                                "top-level unit upload instruments, which every "
                                                "unit shares."))
    loaded = read_instrument_upload(data, filename)
    existing = db.session.scalar(select(InstrumentVersion).where(
        InstrumentVersion.key == loaded.key, InstrumentVersion.version == loaded.version))
    if existing is not None:
        if existing.status is InstrumentStatus.draft:
            raise ServiceError(_("A draft of %(key)s %(version)s exists: replace it from its "
                                 "page, or raise `version:` in the file.",
                                 key=loaded.key, version=loaded.version))
        raise ServiceError(_("%(key)s %(version)s is %(status)s and never changes: raise "
                             "`version:` in the file (and add a crosswalk for renamed or removed "
                             "items).", key=loaded.key, version=loaded.version,
                             status=existing.status.label.lower()))
    digest = _store_check(loaded, None)
    new_instrument = db.session.scalar(select(func.count(InstrumentVersion.id)).where(
        InstrumentVersion.key == loaded.key)) == 0
    version = InstrumentVersion(
        key=loaded.key, version=loaded.version, title=loaded.instrument.title["en"][:300],
        sha256=digest, text=loaded.text, status=InstrumentStatus.draft, created_by_id=user.id)
    db.session.add(version)
    db.session.flush()
    record(Actor.of(user), "instrument.uploaded", "instrument_version", version.id, after={
        "key": version.key, "version": version.version, "sha256": digest,
        "file": filename, "new_instrument": new_instrument,
    })
    return version


def _must_be_draft(version: InstrumentVersion) -> None:
    if version.status is not InstrumentStatus.draft:
        raise ServiceError(_("%(key)s %(version)s is %(status)s: a published version never "
                             "changes. Upload the file as a new version.", key=version.key,
                             version=version.version, status=version.status.label.lower()))


def replace_draft(user: User, version: InstrumentVersion, data: bytes, filename: str) -> None:
    """Give a draft new text; its test answers are discarded, since its questions changed.

    :raises AccessDenied: for someone who may not change this draft.
    :raises InstrumentInvalid: for a file with problems; the draft is left as it was.
    :raises ServiceError: for a version that is not a draft, or a file of another version.
    """
    require(library_access(user).may_change_draft(version),
            _l("Only administrators, and the person who uploaded it, replace a draft."))
    _must_be_draft(version)
    loaded = read_instrument_upload(data, filename)
    if (loaded.key, loaded.version) != (version.key, version.version):
        raise ServiceError(_("This file is %(key)s %(version)s, not the draft %(draft)s: upload "
                             "it as a new version instead.", key=loaded.key,
                             version=loaded.version, draft=f"{version.key} {version.version}"))
    digest = _store_check(loaded, version)
    before = {"sha256": version.sha256}
    version.text, version.sha256 = loaded.text, digest
    version.title = loaded.instrument.title["en"][:300]
    discard_preview_answers(version)
    db.session.flush()
    record(Actor.of(user), "instrument.replaced", "instrument_version", version.id,
           before=before, after={"sha256": digest, "file": filename})


@dataclass(frozen=True)
class CrosswalkGap:
    """An item of the previous published version that the new one neither keeps nor maps."""

    questionnaire: str
    item: str
    old_version: str

    @property
    def message(self) -> str:
        return _("Item %(questionnaire)s/%(item)s of version %(old_version)s is not in this "
                 "version and the crosswalk does not say what became of it. Add "
                 "`{questionnaire: %(questionnaire)s, from: %(item)s, to: NEW_ID}` to the "
                 "entries of `crosswalk: - from_version: \"%(old_version)s\"` (with `to: null` "
                 "if it was dropped on purpose); in a workbook, a row of the crosswalk sheet: "
                 "from_version %(old_version)s, questionnaire %(questionnaire)s, from %(item)s, "
                 "to NEW_ID.", questionnaire=self.questionnaire, item=self.item,
                 old_version=self.old_version)


class CrosswalkIncomplete(ServiceError):
    """Publication refused: the crosswalk leaves items of the previous version uncovered."""

    def __init__(self, gaps: list[CrosswalkGap]) -> None:
        self.gaps = gaps
        super().__init__(ngettext(
            "%(num)s item of version %(old_version)s is not covered by the crosswalk: trends "
            "across versions would break there.",
            "%(num)s items of version %(old_version)s are not covered by the crosswalk: trends "
            "across versions would break there.", len(gaps), old_version=gaps[0].old_version))


def crosswalk_gaps(version: InstrumentVersion) -> list[CrosswalkGap]:
    """Items of the latest published version of the same instrument that ``version`` drops
    or renames without a crosswalk entry (none when nothing of the key is published)."""
    previous = latest_published(version.key)
    if previous is None or previous is version:
        return []
    old = loaded_instrument(previous).instrument
    return [CrosswalkGap(change.questionnaire or "", change.identifier, old.version)
            for change in uncovered_removals(old, loaded_instrument(version).instrument)]


def publish_version(user: User, version: InstrumentVersion, release_notes: str) -> None:
    """Publish a draft: it becomes immutable, and new cycles of its instrument use it.

    Test answers typed in its preview are discarded, as ODK Central does on publishing a
    draft (reference/peers.md, "Form versioning").

    :raises AccessDenied: for someone who is not an administrator of a top-level unit.
    :raises CrosswalkIncomplete: naming each item of the previous published version that
        is dropped or renamed without a crosswalk entry.
    :raises ServiceError: for a version that is not a draft, or missing release notes.
    """
    require(library_access(user).may_publish,
            _l("Only administrators of a top-level unit publish instruments."))
    _must_be_draft(version)
    notes = release_notes.strip()
    if not notes:
        raise ServiceError(_("Write the release notes: what changed, and why, for the people "
                             "who will open cycles on this version."))
    if len(notes) > RELEASE_NOTES_MAX:
        raise ServiceError(_("Keep the release notes under %(limit)s characters.",
                             limit=RELEASE_NOTES_MAX))
    gaps = crosswalk_gaps(version)
    if gaps:
        raise CrosswalkIncomplete(gaps)
    previous = latest_published(version.key)
    version.status = InstrumentStatus.published
    version.release_notes = notes
    version.published_at = now_utc()
    version.published_by_id = user.id
    discard_preview_answers(version)
    db.session.flush()
    record(Actor.of(user), "instrument.published", "instrument_version", version.id,
           before={"status": "draft"}, after={
               "status": "published", "key": version.key, "version": version.version,
               "sha256": version.sha256, "release_notes": notes,
               "replaces": previous.version if previous else None,
           })


def retire_version(user: User, version: InstrumentVersion) -> None:
    """No new cycle opens on a retired version; the cycles opened on it keep it.

    :raises AccessDenied: for someone who is not an administrator of a top-level unit.
    :raises ServiceError: for a version that is not published.
    """
    require(library_access(user).may_publish,
            _l("Only administrators of a top-level unit retire instruments."))
    if version.status is not InstrumentStatus.published:
        raise ServiceError(_("%(key)s %(version)s is %(status)s: only a published version can "
                             "be retired.", key=version.key, version=version.version,
                             status=version.status.label.lower()))
    version.status = InstrumentStatus.retired
    db.session.flush()
    record(Actor.of(user), "instrument.retired", "instrument_version", version.id,
           before={"status": "published"}, after={"status": "retired"})


def delete_draft(user: User, version: InstrumentVersion) -> None:
    """Delete a draft nothing uses; published and retired versions are never deleted.

    :raises AccessDenied: for someone who may not change this draft.
    :raises ServiceError: for a version that is not a draft, or that a cycle uses.
    """
    require(library_access(user).may_change_draft(version),
            _l("Only administrators, and the person who uploaded it, delete a draft."))
    if version.status is not InstrumentStatus.draft:
        raise ServiceError(_("%(key)s %(version)s is %(status)s: it is kept for good, since "
                             "cycles and reports cite it. Retire it instead.", key=version.key,
                             version=version.version, status=version.status.label.lower()))
    if cycles_using([version]).get(version.id) or db.session.scalar(
            select(func.count(InstrumentOverlay.id))
            .where(InstrumentOverlay.instrument_version_id == version.id)):
        raise ServiceError(_("A cycle or an overlay uses this version: it cannot be deleted."))
    record(Actor.of(user), "instrument.deleted", "instrument_version", version.id,
           before={"key": version.key, "version": version.version, "sha256": version.sha256})
    discard_preview_answers(version)
    db.session.delete(version)
    db.session.flush()


# --------------------------------------------------------------------------- listing


def cycles_using(versions: list[InstrumentVersion]) -> dict[int, int]:
    """How many cycles each version has, in one query."""
    ids = [version.id for version in versions]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Cycle.instrument_version_id, func.count(Cycle.id))
        .where(Cycle.instrument_version_id.in_(ids)).group_by(Cycle.instrument_version_id))
    return {version_id: count for version_id, count in rows}


@dataclass(frozen=True)
class InstrumentEntry:
    """One instrument of the library and its versions, newest first."""

    key: str
    title: str
    versions: list[InstrumentVersion]
    current: InstrumentVersion | None


def library(user: User) -> tuple[LibraryAccess, list[InstrumentEntry]]:
    """Every instrument with its versions, for the library page."""
    access = _must_read(user)
    versions = list(db.session.scalars(
        select(InstrumentVersion).options(selectinload(InstrumentVersion.published_by))
        .order_by(InstrumentVersion.key, InstrumentVersion.id.desc())))
    by_key: dict[str, list[InstrumentVersion]] = {}
    for version in versions:
        by_key.setdefault(version.key, []).append(version)
    current = {version.key: version for version in published_versions()}
    return access, [InstrumentEntry(key, (current.get(key) or group[0]).title, group,
                                    current.get(key))
                    for key, group in by_key.items()]


def versions_of(key: str) -> list[InstrumentVersion]:
    """Every stored version of one instrument, newest first."""
    return list(db.session.scalars(select(InstrumentVersion).where(
        InstrumentVersion.key == key).order_by(InstrumentVersion.id.desc())))


def readable_version(user: User, version_id: int) -> tuple[LibraryAccess, InstrumentVersion]:
    """A version the user may read, or a 404."""
    access = _must_read(user)
    version = db.session.get(InstrumentVersion, version_id)
    require(version is not None, _l("There is no such instrument version."), status=404)
    assert version is not None
    return access, version


@dataclass(frozen=True)
class Comparison:
    """``surveyapp instruments diff`` of two stored versions."""

    old: InstrumentVersion
    new: InstrumentVersion
    changes: list[Change]

    @property
    def heading(self) -> str:
        return diff_heading(loaded_instrument(self.old).instrument,
                            loaded_instrument(self.new).instrument)


def compare(old: InstrumentVersion, new: InstrumentVersion) -> Comparison:
    return Comparison(old, new, diff_instruments(loaded_instrument(old).instrument,
                                                 loaded_instrument(new).instrument))
