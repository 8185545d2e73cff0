"""Demonstration units, accounts (one for each role) and cycles, safe to create again and again."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import (
    Cycle,
    CycleState,
    InstrumentVersion,
    Invitation,
    ParticipantRole,
    Role,
    Unit,
    UnitKind,
    User,
)
from surveyapp.services.audit import Actor, record
from surveyapp.services.cycles import (
    CycleDraft,
    NodeDraft,
    add_framework_node,
    add_participant,
    change_state,
    create_cycle,
)
from surveyapp.services.instrument_versions import ensure_bundled_versions, latest_published
from surveyapp.services.invitations import expiry_moment, token_hash
from surveyapp.services.units import create_unit, find_unit_by_code, grant_role
from surveyapp.services.users import create_user, find_user_by_email, set_password

#: Every demo account uses this published password, so never seed a production database.
DEMO_PASSWORD = "demo-password"

#: (code, name, kind, parent code): a country with clusters, the UN system, a mission.
DEMO_UNITS: tuple[tuple[str, str, UnitKind, str | None], ...] = (
    ("CAR", "Central African Republic", UnitKind.country, None),
    ("CAR-HEALTH", "Health", UnitKind.cluster, "CAR"),
    ("CAR-WASH", "Water, sanitation and hygiene (WASH)", UnitKind.cluster, "CAR"),
    ("CAR-EDU", "Education", UnitKind.cluster, "CAR"),
    ("UN", "UN system", UnitKind.un_system, None),
    ("UNDP", "United Nations Development Programme", UnitKind.organisation, "UN"),
    ("UNICEF", "United Nations Children's Fund", UnitKind.organisation, "UN"),
    (
        "MINUSCA",
        "United Nations Multidimensional Integrated Stabilization Mission "
        "in the Central African Republic",
        UnitKind.mission,
        None,
    ),
)

#: (email, display name, roles as (role, unit code)).
DEMO_USERS: tuple[tuple[str, str, tuple[tuple[Role, str], ...]], ...] = (
    (
        "admin@example.org",
        "Demo administrator",
        ((Role.admin, "CAR"), (Role.admin, "UN"), (Role.admin, "MINUSCA")),
    ),
    ("coordinator@example.org", "Demo inter-cluster coordinator", ((Role.coordinator, "CAR"),)),
    ("planning@example.org", "Demo mission planning officer", ((Role.coordinator, "MINUSCA"),)),
    (
        "focal.health@example.org",
        "Demo Health cluster focal point",
        ((Role.focal_point, "CAR-HEALTH"),),
    ),
    ("focal.undp@example.org", "Demo UNDP RBM focal point", ((Role.focal_point, "UNDP"),)),
    ("validator@example.org", "Demo validator", ((Role.validator, "UN"),)),
    ("viewer@example.org", "Demo viewer", ((Role.viewer, "CAR"), (Role.viewer, "MINUSCA"))),
)


@dataclass(frozen=True)
class DemoLogin:
    """One line of the printed demo logins."""

    email: str
    password: str
    role: Role
    unit_code: str


def seed_demo() -> list[DemoLogin]:
    """Create whatever demo units, users and roles are missing; return every demo login.

    A demo account whose password was changed gets the demo password back, so the
    logins returned always work.
    """
    units: dict[str, Unit] = {}
    for code, name, kind, parent_code in DEMO_UNITS:
        parent = units[parent_code] if parent_code else None
        units[code] = find_unit_by_code(code) or create_unit(code, name, kind, parent)
    logins: list[DemoLogin] = []
    for email, display_name, roles in DEMO_USERS:
        user = find_user_by_email(email)
        if user is None:
            user = create_user(email, display_name, DEMO_PASSWORD)
        elif not user.check_password(DEMO_PASSWORD):
            set_password(user, DEMO_PASSWORD)
        for role, unit_code in roles:
            grant_role(user, units[unit_code], role)
            logins.append(DemoLogin(email, DEMO_PASSWORD, role, unit_code))
    return logins


#: Demo cycles: (unit, instrument key, title, coordinator, focal points, validators). A cycle
#: with focal points is opened; the CPAS one stays a draft with its results framework, for
#: the planning officer to assign a working group and open it.
DEMO_CYCLES: tuple[tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("CAR-HEALTH", "ccpm", "Health cluster coordination performance (demo)",
     "coordinator@example.org", ("focal.health@example.org",), ()),
    ("UNDP", "jiu-rbm", "UNDP results-based management self-assessment (demo)",
     "admin@example.org", ("focal.undp@example.org",), ("validator@example.org",)),
    ("MINUSCA", "cpas-red", "MINUSCA RED analysis of the results framework (demo)",
     "planning@example.org", (), ()),
)
#: The small CPAS results framework of the demo mission: (level, code, title, parent, section).
DEMO_FRAMEWORK: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    ("impact", "I1", "Civilians in the west of the country live in greater safety", None, None),
    ("outcome", "O1.1", "Local authorities settle land disputes peacefully", "I1", None),
    ("output", "OP1.1.1", "Mediation training for prefecture officials", "O1.1", "Civil Affairs"),
    ("output", "OP1.1.2", "Community dialogue forums in three prefectures", "O1.1",
     "Civil Affairs"),
)
DEMO_PARTNER_LINKS = 3


@dataclass(frozen=True)
class DemoCycles:
    """The demo cycles, and the paths of the CCPM demo cycle's partner links."""

    cycles: list[Cycle]
    invitation_paths: list[str]


def demo_token(secret_key: str, cycle: Cycle, number: int) -> str:
    """A demo partner link's token: derived from the site's secret key, so every run of the
    demo can print the same working links (a real link's token is random and shown once)."""
    digest = hmac.new(secret_key.encode(), f"surveyapp-demo-partner:{cycle.id}:{number}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _demo_invitations(cycle: Cycle, secret_key: str, actor: Actor) -> list[str]:
    """The demo partner links of ``cycle``, made the first time."""
    tokens = [demo_token(secret_key, cycle, n) for n in range(1, DEMO_PARTNER_LINKS + 1)]
    known = set(db.session.scalars(select(Invitation.token_hash).where(
        Invitation.cycle_id == cycle.id)))
    missing = [token for token in tokens if token_hash(token) not in known]
    for token in missing:
        db.session.add(Invitation(
            cycle_id=cycle.id, questionnaire="partner", token_hash=token_hash(token),
            language="en", expires_at=expiry_moment(cycle.due_on or date.today()),
            created_by_id=actor.user_id))
    if missing:
        db.session.flush()
        record(actor, "invitations.created", "cycle", cycle.id, unit_id=cycle.unit_id,
               cycle_id=cycle.id, after={"questionnaire": "partner", "demo": len(missing)})
    return [f"/i/{token}/" for token in tokens]


def _demo_cycle(unit: Unit, key: str, title: str, versions: dict[str, InstrumentVersion],
                owner: User, people: dict[ParticipantRole, tuple[str, ...]], today: date
                ) -> Cycle:
    """Create one demo cycle with its people (and, for CPAS, its results framework)."""
    actor = Actor.of(owner)
    cycle = create_cycle(CycleDraft(
        unit=unit, version=versions[key], title=title,
        period_start=date(today.year - 1, 1, 1), period_end=date(today.year - 1, 12, 31),
        due_on=today + timedelta(days=30), review_due_on=today + timedelta(days=60),
        anonymous=key == "ccpm",
    ), actor)
    for role, emails in people.items():
        for email in emails:
            person = find_user_by_email(email)
            assert person is not None, "run seed_demo first"
            add_participant(cycle, person, role, actor)
    if key == "cpas-red":
        for level, code, node_title, parent, section in DEMO_FRAMEWORK:
            add_framework_node(cycle, NodeDraft(level, code, node_title, parent, section), actor)
    if people[ParticipantRole.focal_point]:
        change_state(cycle, CycleState.open, actor)
    return cycle


def seed_demo_cycles(secret_key: str, today: date | None = None) -> DemoCycles:
    """Register the bundled instruments and make one demo cycle per framework, once.

    Run after :func:`seed_demo`. A demo cycle that exists already (same unit and title) is
    left as it is, so running the demo again changes nothing and prints the same links.
    """
    today = today or date.today()
    # A newer version published from the web since is what new cycles must use.
    versions = {version.key: latest_published(version.key) or version
                for version in ensure_bundled_versions()}
    cycles: list[Cycle] = []
    paths: list[str] = []
    for unit_code, key, title, coordinator, focal_points, validators in DEMO_CYCLES:
        unit = find_unit_by_code(unit_code)
        owner = find_user_by_email(coordinator)
        assert unit is not None and owner is not None, "run seed_demo first"
        cycle = db.session.scalar(select(Cycle).where(Cycle.unit_id == unit.id,
                                                      Cycle.title == title))
        if cycle is None:
            cycle = _demo_cycle(unit, key, title, versions, owner, {
                ParticipantRole.focal_point: focal_points,
                ParticipantRole.validator: validators,
            }, today)
        if key == "ccpm":
            paths = _demo_invitations(cycle, secret_key, Actor.of(owner))
        cycles.append(cycle)
    return DemoCycles(cycles, paths)
