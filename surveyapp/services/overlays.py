"""Units' overlays of published instrument versions: storing them, and which cycle gets which.

Who (docs/instruments-web.md "Who may do what"): the coordinators and administrators of a
unit, directly or through an ancestor, manage that unit's overlays. An overlay applies to
the cycles of its unit and of the units below it, the nearest unit's overlay winning. A
cycle keeps the overlay it was opened with, as it keeps its instrument version; cycles
still in draft follow a new or withdrawn overlay, since nobody has answered them yet.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from instruments.overlay import parse_overlay
from surveyapp.extensions import db
from surveyapp.models import (
    Cycle,
    CycleState,
    InstrumentOverlay,
    InstrumentStatus,
    InstrumentVersion,
    Role,
    Unit,
    User,
)
from surveyapp.services import ServiceError
from surveyapp.services.access import require
from surveyapp.services.audit import Actor, record
from surveyapp.services.instrument_versions import loaded_instrument, text_sha256
from surveyapp.services.units import roles_for

#: Unit roles that manage the unit's overlays.
OVERLAY_ROLES = frozenset({Role.admin, Role.coordinator})


def may_manage_overlays(user: User, unit: Unit) -> bool:
    return bool(roles_for(user, unit) & OVERLAY_ROLES)


def overlay_for(unit: Unit, version: InstrumentVersion) -> InstrumentOverlay | None:
    """The overlay a new cycle of ``unit`` on ``version`` is opened with, if any: the newest
    active one of the unit itself, else of its nearest ancestor that has one."""
    chain = [unit.id, *(ancestor.id for ancestor in reversed(unit.ancestors()))]
    candidates = db.session.scalars(
        select(InstrumentOverlay).where(
            InstrumentOverlay.unit_id.in_(chain), InstrumentOverlay.active.is_(True),
            InstrumentOverlay.instrument_version_id == version.id)
        .order_by(InstrumentOverlay.id.desc()))
    return min(candidates, key=lambda overlay: chain.index(overlay.unit_id), default=None)


def _follow_in_drafts(unit: Unit, version: InstrumentVersion, actor: Actor) -> None:
    """Draft cycles under ``unit`` on ``version`` take the overlay that now applies to them."""
    subtree = Unit.subtree_cte([unit.id])
    drafts = db.session.scalars(select(Cycle).where(
        Cycle.unit_id.in_(select(subtree.c.id)), Cycle.instrument_version_id == version.id,
        Cycle.state == CycleState.draft))
    for cycle in drafts:
        overlay = overlay_for(cycle.unit, version)
        if overlay is not cycle.overlay:
            before = cycle.overlay.sha256 if cycle.overlay else None
            cycle.overlay = overlay
            db.session.flush()
            record(actor, "cycle.overlay_changed", "cycle", cycle.id, before={"overlay": before},
                   after={"overlay": overlay.sha256 if overlay else None},
                   unit_id=cycle.unit_id, cycle_id=cycle.id)


def upload_overlay(user: User, unit: Unit, version: InstrumentVersion, data: bytes,
                   filename: str) -> InstrumentOverlay:
    """Store a new overlay version for ``unit``; it replaces the unit's active overlay of
    ``version`` for new and draft cycles.

    :raises AccessDenied: for someone who does not coordinate or administer the unit.
    :raises InstrumentInvalid: listing every problem of the file, located; nothing is stored.
    :raises ServiceError: for a version that is not published, or an overlay version stored
        before.
    """
    require(may_manage_overlays(user, unit),
            _l("Only coordinators and administrators of %(unit)s adapt instruments for it.",
               unit=unit.code))
    if version.status is not InstrumentStatus.published:
        raise ServiceError(_("%(key)s %(version)s is %(status)s: only a published version, "
                             "which new cycles use, can be adapted.", key=version.key,
                             version=version.version, status=version.status.label.lower()))
    loaded = parse_overlay(data, filename, loaded_instrument(version).instrument)
    overlay = loaded.overlay
    clash = db.session.scalar(select(InstrumentOverlay).where(
        InstrumentOverlay.unit_id == unit.id, InstrumentOverlay.key == overlay.key,
        InstrumentOverlay.version == overlay.version))
    if clash is not None:
        raise ServiceError(_("Version %(version)s of the overlay %(key)s is already stored for "
                             "%(unit)s, and stored versions never change: raise `version:` in "
                             "the file.", version=overlay.version, key=overlay.key,
                             unit=unit.code))
    for previous in db.session.scalars(select(InstrumentOverlay).where(
            InstrumentOverlay.unit_id == unit.id, InstrumentOverlay.active.is_(True),
            InstrumentOverlay.instrument_version_id == version.id)):
        previous.active = False
    stored = InstrumentOverlay(
        unit=unit, instrument_version=version, key=overlay.key, version=overlay.version,
        title=overlay.title["en"][:300], sha256=text_sha256(loaded.text), text=loaded.text,
        created_by_id=user.id)
    db.session.add(stored)
    db.session.flush()
    actor = Actor.of(user)
    record(actor, "overlay.uploaded", "instrument_overlay", stored.id, after={
        "unit": unit.code, "overlay": overlay.key, "version": overlay.version,
        "sha256": stored.sha256, "instrument": version.key,
        "instrument_version": version.version, "hidden": list(loaded.hidden),
        "added": list(loaded.added),
    }, unit_id=unit.id)
    _follow_in_drafts(unit, version, actor)
    return stored


def withdraw_overlay(user: User, overlay: InstrumentOverlay) -> None:
    """New and draft cycles of the unit no longer use the overlay; opened cycles keep it.

    :raises AccessDenied: for someone who does not coordinate or administer its unit.
    :raises ServiceError: for an overlay withdrawn already.
    """
    require(may_manage_overlays(user, overlay.unit),
            _l("Only coordinators and administrators of %(unit)s change its overlays.",
               unit=overlay.unit.code))
    if not overlay.active:
        raise ServiceError(_("This overlay is not in use for new cycles any more."))
    overlay.active = False
    db.session.flush()
    actor = Actor.of(user)
    record(actor, "overlay.withdrawn", "instrument_overlay", overlay.id,
           before={"active": True}, after={"active": False}, unit_id=overlay.unit_id)
    _follow_in_drafts(overlay.unit, overlay.instrument_version, actor)


def overlays_of(version: InstrumentVersion, user: User) -> list[InstrumentOverlay]:
    """The overlays of ``version`` on units the user manages, newest first."""
    overlays = db.session.scalars(select(InstrumentOverlay).where(
        InstrumentOverlay.instrument_version_id == version.id)
        .order_by(InstrumentOverlay.id.desc()))
    return [overlay for overlay in overlays if may_manage_overlays(user, overlay.unit)]


def cycles_with(overlay: InstrumentOverlay) -> list[Cycle]:
    return list(db.session.scalars(select(Cycle).where(Cycle.overlay_id == overlay.id)
                                   .order_by(Cycle.id)))
