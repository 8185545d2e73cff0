"""Demonstration units, accounts (one for each role) and cycles, safe to create again and again."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from instruments.schema import Instrument, Item, Option
from reports.quarters import Quarter
from surveyapp.extensions import db
from surveyapp.models import (
    Action,
    ActionStatus,
    Answer,
    Cycle,
    CycleState,
    InstrumentVersion,
    Invitation,
    ParticipantRole,
    Response,
    ResponseState,
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
from surveyapp.services.instrument_versions import (
    ensure_bundled_versions,
    latest_published,
    loaded_instrument,
)
from surveyapp.services.invitations import expiry_moment, token_hash
from surveyapp.services.plans import (
    ActionDraft,
    Stocktake,
    close_quarter,
    draft_actions,
    edit_action,
    final_scores,
    record_progress,
)
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
    ("focal.wash@example.org", "Demo WASH cluster focal point", ((Role.focal_point, "CAR-WASH"),)),
    ("focal.education@example.org", "Demo Education cluster focal point",
     ((Role.focal_point, "CAR-EDU"),)),
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


# --------------------------------------------------------------------------- action plans

#: The blocks of the demo CCPM results, each with one question asked of everybody.
DEMO_BLOCK_ITEMS = (("1.1", "q111"), ("1.2", "q121"), ("2.1", "q211"), ("2.2", "q221"),
                    ("3.1", "q311"), ("3.2", "q321"), ("3.3", "q331"), ("4.1", "q411"),
                    ("4.2", "q421"), ("5", "q51"), ("6", "q61"), ("7", "q71"))
#: A validated CCPM cycle per cluster, two years back, so the dashboard has ratings: (unit,
#: focal point, answer level 0-4 of each block in DEMO_BLOCK_ITEMS' order, partners). The
#: coordinator answers the level, the partners one below, the level and one above, so each
#: block scores level x 25 % (median of the respondents' means; reference/instruments.md
#: section 1.5). Education has 2 partners: fewer than the partners' minimum group size.
DEMO_FINAL_CYCLES: tuple[tuple[str, str, tuple[int, ...], int], ...] = (
    ("CAR-HEALTH", "focal.health@example.org", (1, 2, 3, 4, 3, 2, 2, 3, 4, 1, 4, 3), 3),
    ("CAR-WASH", "focal.wash@example.org", (1, 3, 3, 2, 4, 3, 1, 2, 3, 1, 2, 4), 3),
    ("CAR-EDU", "focal.education@example.org", (2, 4, 4, 3, 3, 4, 2, 3, 3, 0, 4, 2), 2),
)
DEMO_PARTNER_OFFSETS = (-1, 0, 1)


def _nearest_code(item: Item, scales: dict[str, tuple[Option, ...]], level: int) -> int:
    """The scored option closest to ``level`` (q61 offers only 0, 2 and 4)."""
    options = [option for option in (item.options or scales.get(item.scale or "", ()))
               if option.excluded is None]
    return min(options, key=lambda option: (abs((option.score or 0) - level), option.code)).code


def demo_answers(instrument: Instrument, questionnaire: str, levels: tuple[int, ...],
                  offset: int) -> list[Answer]:
    found = next(q for q in instrument.questionnaires if q.id == questionnaire)
    items = {item.id: item for item in found.items}
    scales = {scale.id: scale.options for scale in instrument.scales}
    return [Answer(item_id=item_id, value=_nearest_code(
        items[item_id], scales, max(0, min(4, level + offset))))
        for (_node, item_id), level in zip(DEMO_BLOCK_ITEMS, levels, strict=True)]


def _final_demo_cycle(unit: Unit, focal_email: str, levels: tuple[int, ...], partners: int,
                      version: InstrumentVersion, owner: User, title: str, today: date) -> Cycle:
    """A CCPM cycle answered with ``levels`` and validated, through the cycle services.

    A demo shortcut: no validator reviews the items (the audit log shows each state change).
    """
    actor = Actor.of(owner)
    year = today.year - 2
    cycle = create_cycle(CycleDraft(unit=unit, version=version, title=title,
                                    period_start=date(year, 1, 1),
                                    period_end=date(year, 12, 31), anonymous=True), actor)
    focal_point = find_user_by_email(focal_email)
    assert focal_point is not None, "run seed_demo first"
    add_participant(cycle, focal_point, ParticipantRole.focal_point, actor)
    change_state(cycle, CycleState.open, actor)
    instrument = loaded_instrument(version).instrument
    response = db.session.scalars(select(Response).where(
        Response.cycle_id == cycle.id, Response.respondent_id == focal_point.id)).one()
    response.answers.extend(demo_answers(instrument, response.questionnaire, levels, 0))
    response.state = ResponseState.submitted
    for number in range(partners):
        db.session.add(Response(
            cycle=cycle, questionnaire="partner", state=ResponseState.submitted,
            organization_type=str(number % 6 + 1),
            answers=demo_answers(instrument, "partner", levels, DEMO_PARTNER_OFFSETS[number])))
    for state in (CycleState.submitted, CycleState.in_review, CycleState.validated):
        change_state(cycle, state, actor)
    return cycle


def seed_demo_plans(today: date | None = None) -> list[Cycle]:
    """Validated CCPM cycles of the three demo clusters, their drafted plans, and progress on
    the Health plan in two quarters (the earlier one closed), once.

    Run after :func:`seed_demo_cycles`. A cluster whose demo cycle exists is left as it is.
    """
    today = today or date.today()
    version = next(v for v in ensure_bundled_versions() if v.key == "ccpm")
    owner = find_user_by_email("coordinator@example.org")
    assert owner is not None, "run seed_demo first"
    actor = Actor.of(owner)
    cycles = []
    for code, focal_email, levels, partners in DEMO_FINAL_CYCLES:
        unit = find_unit_by_code(code)
        assert unit is not None, "run seed_demo first"
        title = f"{unit.name} coordination performance {today.year - 2} (demo, validated)"
        cycle = db.session.scalar(select(Cycle).where(Cycle.unit_id == unit.id,
                                                      Cycle.title == title))
        if cycle is None:
            cycle = _final_demo_cycle(unit, focal_email, levels, partners, version, owner,
                                      title, today)
            actions = draft_actions(cycle, final_scores(cycle), actor)
            if code == "CAR-HEALTH":
                _demo_progress(cycle, actions, actor, today)
            elif actions:
                first = actions[0]
                edit_action(first, cycle, ActionDraft(
                    title=first.title, description=first.description, nodes=tuple(first.nodes),
                    responsible_organisation="UNICEF",
                    due_quarter=str(Quarter.of(today).previous)), actor)
        cycles.append(cycle)
    return cycles


def _demo_progress(cycle: Cycle, actions: list[Action], actor: Actor, today: date) -> None:
    """The Health plan: its first action in the focal point's hands, with a stock-take last
    quarter (then closed) and one this quarter."""
    current = Quarter.of(today)
    person = find_user_by_email("focal.health@example.org")
    first = actions[0]
    edit_action(first, cycle, ActionDraft(
        title="Hold the cluster coordination meeting every month, with minutes shared",
        description=first.description, nodes=tuple(first.nodes),
        responsible_organisation="WHO (cluster lead agency)", responsible_user=person,
        support_required="A meeting room and interpretation", support_from="OCHA",
        start_quarter=str(current.previous), due_quarter=str(current.next),
        status=ActionStatus.in_progress, completion_indicator="Twelve meetings held, "
        "minutes shared within a week"), actor)
    record_progress(first, cycle, Stocktake(str(current.previous), 40,
                                            "Three meetings held, minutes shared."), actor, today)
    close_quarter(cycle.unit, str(current.previous), actor, today)
    record_progress(first, cycle, Stocktake(str(current), 70, "Six meetings held so far."),
                    actor, today)

