"""Organisational units: the tree of countries, clusters, organisations and missions."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CTE, ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import db
from surveyapp.models.base import enum_column_type

if TYPE_CHECKING:
    from surveyapp.models.memberships import Membership


class UnitKind(StrEnum):
    """What a unit is; the tree is e.g. country > cluster, or UN system > organisation."""

    country = "country"
    cluster = "cluster"
    un_system = "un_system"
    organisation = "organisation"
    mission = "mission"

    @property
    def label(self) -> str:
        return str(UNIT_KIND_LABELS[self])


UNIT_KIND_LABELS = {
    UnitKind.country: _l("Country"), UnitKind.cluster: _l("Cluster"),
    UnitKind.un_system: _l("UN system"), UnitKind.organisation: _l("Organisation"),
    UnitKind.mission: _l("Mission"),
}


class Unit(db.Model):
    """A unit that is assessed or that groups assessed units; roles are held on units."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short unique code used on the command line and in files, e.g. "CAR-HEALTH".
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[UnitKind] = mapped_column(enum_column_type(UnitKind, "kind"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.code")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="unit", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Unit {self.code} ({self.kind})>"

    @classmethod
    def lineage_cte(cls, unit_id: int) -> CTE:
        """Select the ids of a unit and of all its ancestors, in one recursive query.

        UNION (not UNION ALL) makes the recursion stop even if bad data made a cycle.
        """
        lineage = select(cls.id, cls.parent_id).where(cls.id == unit_id).cte(recursive=True)
        parents = select(cls.id, cls.parent_id).join(lineage, cls.id == lineage.c.parent_id)
        return lineage.union(parents)

    @classmethod
    def subtree_cte(cls, root_ids: Iterable[int]) -> CTE:
        """Select ``(id, root_id)`` for every unit in the subtrees under ``root_ids``.

        A unit under two of the roots appears once for each root.
        """
        subtree = (
            select(cls.id, cls.id.label("root_id"))
            .where(cls.id.in_(list(root_ids)))
            .cte(recursive=True)
        )
        return subtree.union(
            select(cls.id, subtree.c.root_id).join(subtree, cls.parent_id == subtree.c.id)
        )

    def ancestors(self) -> list[Unit]:
        """Return the ancestors of this unit, the root first."""
        lineage = self.lineage_cte(self.id)
        by_id = {
            unit.id: unit
            for unit in db.session.scalars(select(Unit).where(Unit.id.in_(select(lineage.c.id))))
        }
        chain: list[Unit] = []
        parent_id = self.parent_id
        # Bounded by the lineage size, so bad data with a cycle cannot loop forever.
        while parent_id in by_id and len(chain) < len(by_id):
            chain.append(by_id[parent_id])
            parent_id = by_id[parent_id].parent_id
        return chain[::-1]

    def descendants(self) -> list[Unit]:
        """Return every unit below this one (not this one), ordered by code."""
        subtree = self.subtree_cte([self.id])
        return list(
            db.session.scalars(
                select(Unit)
                .where(Unit.id.in_(select(subtree.c.id)), Unit.id != self.id)
                .order_by(Unit.code)
            )
        )
