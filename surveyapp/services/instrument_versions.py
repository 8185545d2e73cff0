"""Instrument versions in the database: the exact text each cycle is pinned to.

A cycle never reads an instrument file from disk: it reads the text stored in its
``InstrumentVersion`` row, so a later edit of the file cannot change an open or past
cycle (DESIGN.md "Architecture": "A stored cycle keeps the exact instrument text and
its sha256"). A cycle opened with a unit's overlay keeps that overlay's text the same
way; :func:`cycle_instrument` gives the instrument as the cycle asks it.
"""

from __future__ import annotations

import hashlib

from flask_babel import gettext as _
from sqlalchemy import select

from instruments import LoadedInstrument, load_instrument_file, parse_instrument
from instruments.loader import library_files
from instruments.overlay import LoadedOverlay, adapt, parse_overlay
from surveyapp.extensions import db
from surveyapp.models import Cycle, InstrumentOverlay, InstrumentStatus, InstrumentVersion
from surveyapp.models.base import now_utc
from surveyapp.services import ServiceError

#: Parsed instruments by the sha256 of their stored text; a version's text never changes.
_parsed: dict[str, LoadedInstrument] = {}
#: Parsed overlays, and instruments as overlays adapt them, by (version sha256, overlay sha256).
_overlays: dict[tuple[str, str], LoadedOverlay] = {}
_adapted: dict[tuple[str, str], LoadedInstrument] = {}


def text_sha256(text: str) -> str:
    """The fingerprint stored with a version: sha256 of the text encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ensure_bundled_versions() -> list[InstrumentVersion]:
    """Register every bundled instrument file as a published version, once.

    Idempotent: a text already stored (same sha256) is found again, not copied.

    :raises ServiceError: when a bundled file changed but kept the key and version of a
        published version, which would silently change the meaning of past cycles.
    """
    versions: list[InstrumentVersion] = []
    for path in library_files():
        loaded = load_instrument_file(path)
        digest = text_sha256(loaded.text)
        version = db.session.scalar(
            select(InstrumentVersion).where(InstrumentVersion.sha256 == digest)
        )
        if version is None:
            version = _register(loaded, digest)
        versions.append(version)
    return versions


def _register(loaded: LoadedInstrument, digest: str) -> InstrumentVersion:
    clash = db.session.scalar(
        select(InstrumentVersion).where(
            InstrumentVersion.key == loaded.key, InstrumentVersion.version == loaded.version
        )
    )
    if clash is not None:
        raise ServiceError(
            _("%(path)s changed, but version %(version)s of instrument '%(key)s' is already "
              "registered with different text. A published version never changes: raise "
              "`version:` in the file (and add a crosswalk if items moved).",
              path=loaded.path, version=loaded.version, key=loaded.key)
        )
    version = InstrumentVersion(
        key=loaded.key,
        version=loaded.version,
        title=loaded.instrument.title["en"],
        sha256=digest,
        text=loaded.text,
        status=InstrumentStatus.published,
        published_at=now_utc(),
    )
    db.session.add(version)
    db.session.flush()
    return version


def published_versions() -> list[InstrumentVersion]:
    """The versions new cycles may use: the latest published version of each instrument.

    Older published versions keep their cycles; retired ones open no new cycle.
    """
    versions = db.session.scalars(
        select(InstrumentVersion)
        .where(InstrumentVersion.status == InstrumentStatus.published)
        .order_by(InstrumentVersion.key, InstrumentVersion.published_at.desc().nulls_last(),
                  InstrumentVersion.id.desc())
    )
    latest: dict[str, InstrumentVersion] = {}
    for version in versions:
        latest.setdefault(version.key, version)
    return list(latest.values())


def latest_published(key: str) -> InstrumentVersion | None:
    """The version of ``key`` that new cycles are opened with, if one is published."""
    return next((v for v in published_versions() if v.key == key), None)


def loaded_instrument(version: InstrumentVersion) -> LoadedInstrument:
    """The validated instrument of a stored version, parsed once per process."""
    loaded = _parsed.get(version.sha256)
    if loaded is None:
        loaded = parse_instrument(
            version.text.encode("utf-8"), f"{version.key} {version.version} (stored)"
        )
        _parsed[version.sha256] = loaded
    return loaded


def loaded_overlay(overlay: InstrumentOverlay) -> LoadedOverlay:
    """The validated overlay of a stored overlay row, parsed once per process."""
    base = loaded_instrument(overlay.instrument_version)
    key = (base.sha256, overlay.sha256)
    loaded = _overlays.get(key)
    if loaded is None:
        loaded = _overlays[key] = parse_overlay(
            overlay.text.encode("utf-8"), f"{overlay.key} {overlay.version} (stored)",
            base.instrument)
    return loaded


def adapted_instrument(version: InstrumentVersion, overlay: InstrumentOverlay | None
                       ) -> LoadedInstrument:
    """The instrument of ``version`` as ``overlay`` adapts it (unchanged without one).

    The result keeps the version's text and sha256, which reports print as the
    instrument's, naming the overlay and its own sha256 beside them.
    """
    base = loaded_instrument(version)
    if overlay is None:
        return base
    key = (base.sha256, overlay.sha256)
    adapted = _adapted.get(key)
    if adapted is None:
        adapted = _adapted[key] = adapt(base, loaded_overlay(overlay))
    return adapted


def cycle_instrument(cycle: Cycle) -> LoadedInstrument:
    """The instrument as the cycle asks it: its version, adapted by its unit's overlay."""
    return adapted_instrument(cycle.instrument_version, cycle.overlay)

