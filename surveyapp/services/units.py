"""Units, memberships, and what a role on a unit covers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Membership, Role, Unit, UnitKind, User
from surveyapp.services import ServiceError
from surveyapp.services.audit import SYSTEM, Actor, record


@dataclass(frozen=True)
class UnitRow:
    """A unit in a tree listing, with its depth below the listing's top."""

    unit: Unit
    depth: int


@dataclass(frozen=True)
class RoleCoverage:
    """A role and every unit it covers: the units it is held on and their descendants."""

    role: Role
    units: list[UnitRow]


def find_unit_by_code(code: str) -> Unit | None:
    return db.session.scalar(select(Unit).where(Unit.code == code.strip()))


def count_units() -> int:
    return db.session.scalar(select(func.count(Unit.id))) or 0


def create_unit(code: str, name: str, kind: UnitKind, parent: Unit | None = None) -> Unit:
    """Add a unit under ``parent`` (or as a root).

    :raises ServiceError: if the code is empty or already used.
    """
    code = code.strip()
    if not code:
        raise ServiceError(_("A unit needs a code."))
    if find_unit_by_code(code) is not None:
        raise ServiceError(_("A unit with the code %(code)s already exists.", code=code))
    unit = Unit(code=code, name=name.strip(), kind=kind, parent=parent)
    db.session.add(unit)
    db.session.flush()
    return unit


def grant_role(user: User, unit: Unit, role: Role, *, actor: Actor = SYSTEM) -> Membership:
    """Give ``user`` the ``role`` on ``unit`` (audited); a role already held changes nothing."""
    membership = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.unit_id == unit.id, Membership.role == role
        )
    )
    if membership is None:
        membership = Membership(user=user, unit=unit, role=role)
        db.session.add(membership)
        db.session.flush()
        record(actor, "membership.granted", "membership", membership.id,
               after={"user": user.email, "unit": unit.code, "role": role.value},
               unit_id=unit.id)
    return membership


def roles_for(user: User, unit: Unit) -> frozenset[Role]:
    """Return the roles ``user`` holds on ``unit``, directly or through an ancestor.

    A coordinator of a country is thereby a coordinator of each of its clusters.
    """
    lineage = Unit.lineage_cte(unit.id)
    return frozenset(
        db.session.scalars(
            select(Membership.role)
            .where(Membership.user_id == user.id, Membership.unit_id.in_(select(lineage.c.id)))
            .distinct()
        )
    )


def holders(unit: Unit, roles: Iterable[Role]) -> list[User]:
    """Active users holding one of ``roles`` on ``unit`` or a unit above it, by name."""
    lineage = Unit.lineage_cte(unit.id)
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.unit_id.in_(select(lineage.c.id)), Membership.role.in_(list(roles)),
               User.active.is_(True))
        .distinct().order_by(User.display_name, User.email)))


def memberships_of(user: User) -> list[Membership]:
    """Return the user's memberships, in role order then unit code."""
    memberships = db.session.scalars(
        select(Membership).join(Membership.unit).where(Membership.user_id == user.id)
    ).all()
    role_order = list(Role)
    return sorted(memberships, key=lambda m: (role_order.index(m.role), m.unit.code))


def coverage(user: User) -> list[RoleCoverage]:
    """Return, role by role, every unit each of the user's roles applies to, as trees.

    Two queries whatever the depth: the memberships, then one recursive query for all
    their subtrees.
    """
    roots_by_role: dict[Role, set[int]] = defaultdict(set)
    for membership in memberships_of(user):
        roots_by_role[membership.role].add(membership.unit_id)
    if not roots_by_role:
        return []
    root_ids = set().union(*roots_by_role.values())
    subtree = Unit.subtree_cte(root_ids)
    units_under_root: dict[int, list[Unit]] = defaultdict(list)
    for unit, root_id in db.session.execute(
        select(Unit, subtree.c.root_id).join(subtree, Unit.id == subtree.c.id)
    ):
        units_under_root[root_id].append(unit)
    return [
        RoleCoverage(
            role,
            tree_order(
                [unit for root_id in roots_by_role[role] for unit in units_under_root[root_id]]
            ),
        )
        for role in Role
        if role in roots_by_role
    ]


def tree_order(units: list[Unit]) -> list[UnitRow]:
    """Order units depth-first, siblings by code, each with its depth in the listing.

    Units whose parent is not in the list are the tops; duplicates are dropped.
    """
    by_id = {unit.id: unit for unit in units}
    children: dict[int | None, list[Unit]] = defaultdict(list)
    for unit in by_id.values():
        children[unit.parent_id if unit.parent_id in by_id else None].append(unit)
    rows: list[UnitRow] = []
    pending = [(unit, 0) for unit in sorted(children[None], key=lambda u: u.code, reverse=True)]
    while pending:
        unit, depth = pending.pop()
        rows.append(UnitRow(unit, depth))
        below = sorted(children[unit.id], key=lambda u: u.code, reverse=True)
        pending.extend((child, depth + 1) for child in below)
    return rows
