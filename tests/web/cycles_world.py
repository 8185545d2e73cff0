"""A small world for the cycle and questionnaire tests, and a compact test instrument.

Units: a country with two clusters, the UN system with two organisations, a mission.
People: a coordinator of the country, focal points of each cluster, a validator and a
viewer of the country, coordinators and focal points elsewhere (the wrong unit).

``MINI`` is an instrument written for these tests: one item of every type, skip logic,
"not applicable", a comment box, required evidence, a rubric asked per framework output,
and a partner questionnaire answered through links. ``many_items(n)`` makes an instrument
with ``n`` items on one page, for the query-count test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from textwrap import dedent

from flask import Flask
from sqlalchemy import select

from instruments import parse_instrument
from surveyapp.extensions import db
from surveyapp.models import (
    Cycle,
    CycleState,
    InstrumentStatus,
    InstrumentVersion,
    ParticipantRole,
    Response,
    Role,
    Unit,
    UnitKind,
    User,
)
from surveyapp.services.audit import Actor
from surveyapp.services.cycles import (
    CycleDraft,
    NodeDraft,
    add_framework_node,
    add_participant,
    change_state,
    create_cycle,
)
from surveyapp.services.instrument_versions import ensure_bundled_versions, text_sha256

MINI = dedent("""\
    key: mini
    version: "1"
    title: {en: Mini instrument, fr: Mini-instrument}
    languages: [en, fr]
    scales:
      - id: agree
        options:
          - {code: 1, label: {en: Disagree, fr: Pas d'accord}, score: 1}
          - {code: 2, label: {en: Agree, fr: D'accord}, score: 2}
          - {code: 99, label: "Don't know", excluded: dont_know}
    nodes:
      - id: A
        level: area
        title: Area A
        description: What area A covers.
        stages:
          - {stage: 1, title: Starting, descriptor: Nothing is in place yet.}
          - {stage: 2, title: Growing, descriptor: Some pieces are in place.}
          - {stage: 3, title: Mature, descriptor: Everything is in place and used.}
      - id: B
        level: area
        title: Area B
    framework:
      levels: [outcome, output]
    questionnaires:
      - id: self
        role: focal_point
        title: {en: Self-assessment, fr: Auto-évaluation}
        items:
          - id: a_stage
            type: stage
            node: A
            required: true
            text: Which stage fits area A?
            evidence: {required: true, description: The documents that show it.}
          - {id: a_choice, type: single_choice, node: A, scale: agree, required: true,
             text: Do you agree?}
          - {id: a_follow, type: text, node: A, required: true, relevant: "${a_choice} = 2",
             text: Why do you agree?}
          - {id: a_yes, type: yes_no, node: A, required: true, not_applicable: {allowed: true},
             text: Is there a plan?}
          - {id: b_number, type: number, node: B, required: true, minimum: 0, maximum: 100,
             integer: true, comment: true, text: How many partners?}
          - {id: b_date, type: date, node: B, text: When did it start?}
          - {id: b_text, type: text, node: B, max_length: 20, text: One word for it?}
      - id: rubric
        role: working_group
        title: Rubric
        items:
          - id: red
            type: rubric
            per_level: output
            required: true
            justification_required: true
            text: Score the output.
            criteria:
              - id: relevance
                label: Relevance
                levels:
                  - {level: 1, descriptor: Poor.}
                  - {level: 2, descriptor: Good.}
              - id: extent
                label: Extent
                levels:
                  - {level: 1, descriptor: Narrow.}
                  - {level: 2, descriptor: Wide.}
          - {id: progress, type: text, per_level: outcome, text: What progress?}
      - id: partners
        role: partner
        title: Partner survey
        items:
          - id: org
            type: single_choice
            role: organisation_type
            required: true
            text: Your organisation type?
            options:
              - {code: 1, label: NGO}
              - {code: 2, label: UN agency}
          - {id: p_choice, type: single_choice, node: A, scale: agree, required: true,
             text: Does the coordination work?}
    """)


#: A results framework for MINI's rubric questionnaire: (level, code, parent code).
MINI_FRAMEWORK = (("outcome", "O1", None), ("output", "OP1", "O1"), ("output", "OP2", "O1"))


def many_items(count: int) -> str:
    """An instrument with ``count`` items of mixed types on one node, hence one page."""
    kinds = (
        "{type: single_choice, scale: agree, required: true}",
        "{type: text, multiline: true, comment: true}",
        "{type: number, minimum: 0, not_applicable: {allowed: true}}",
        "{type: yes_no, relevant: \"${i0} = 1\"}",
    )
    items = "\n".join(
        f"      - {{id: i{n}, node: A, text: Question {n}, "
        f"{kinds[n % len(kinds)][1:-1]}"
        f"{', evidence: {expected: true}' if n % 5 == 0 else ''}}}"
        for n in range(count)
    )
    return dedent(f"""\
        key: many-{count}
        version: "1"
        title: {count} questions
        scales:
          - id: agree
            options:
              - {{code: 1, label: Disagree}}
              - {{code: 2, label: Agree}}
        nodes:
          - {{id: A, level: area, title: Area A}}
        questionnaires:
          - id: self
            role: focal_point
            title: Self-assessment
            items:
        """) + items + "\n"


@dataclass(frozen=True)
class World:
    country: Unit
    cluster: Unit
    other_cluster: Unit
    organisation: Unit
    mission: Unit
    coordinator: User
    focal_point: User
    second_focal_point: User
    validator: User
    viewer: User
    other_focal_point: User
    stranger: User
    mission_coordinator: User
    working_group: User


def build_world(make_unit: Callable[..., Unit], make_user: Callable[..., User]) -> World:
    country = make_unit("CAR", kind=UnitKind.country)
    cluster = make_unit("CAR-HEALTH", kind=UnitKind.cluster, parent=country)
    other_cluster = make_unit("CAR-WASH", kind=UnitKind.cluster, parent=country)
    system = make_unit("UN", kind=UnitKind.un_system)
    organisation = make_unit("UNDP", kind=UnitKind.organisation, parent=system)
    mission = make_unit("MINUSCA", kind=UnitKind.mission)
    return World(
        country=country, cluster=cluster, other_cluster=other_cluster,
        organisation=organisation, mission=mission,
        coordinator=make_user("coord@example.org", role=Role.coordinator, unit=country),
        focal_point=make_user("fp@example.org", role=Role.focal_point, unit=cluster),
        second_focal_point=make_user("fp2@example.org", role=Role.focal_point, unit=cluster),
        validator=make_user("val@example.org", role=Role.validator, unit=country),
        viewer=make_user("viewer@example.org", role=Role.viewer, unit=country),
        other_focal_point=make_user("fp@wash.example.org", role=Role.focal_point,
                                    unit=other_cluster),
        stranger=make_user("coord@un.example.org", role=Role.coordinator, unit=system),
        mission_coordinator=make_user("planning@example.org", role=Role.coordinator,
                                      unit=mission),
        working_group=make_user("wg@example.org", role=Role.focal_point, unit=mission),
    )


def register(text: str) -> InstrumentVersion:
    """Store a published instrument version for ``text`` (call in an app context)."""
    loaded = parse_instrument(text.encode("utf-8"), "test instrument")
    version = InstrumentVersion(
        key=loaded.key, version=loaded.version, title=loaded.instrument.title["en"],
        sha256=text_sha256(loaded.text), text=loaded.text, status=InstrumentStatus.published)
    db.session.add(version)
    db.session.flush()
    return version


def version_for(key_or_text: str) -> InstrumentVersion:
    """A bundled instrument by key, or the given instrument text, registered once."""
    if "\n" in key_or_text:
        digest = text_sha256(parse_instrument(key_or_text.encode(), "t").text)
        found = db.session.scalar(
            select(InstrumentVersion).where(InstrumentVersion.sha256 == digest))
        return found or register(key_or_text)
    return next(v for v in ensure_bundled_versions() if v.key == key_or_text)


def user(email: str) -> User:
    found = db.session.scalar(select(User).where(User.email == email))
    assert found is not None, email
    return found


def make_cycle(
    app: Flask,
    instrument: str,
    unit: Unit,
    coordinator: User,
    *,
    focal_points: Iterable[User] = (),
    validators: Iterable[User] = (),
    framework: Iterable[tuple[str, str, str | None]] = (),
    state: CycleState = CycleState.open,
    anonymous: bool = False,
) -> int:
    """Create a cycle through the services and move it to ``state``; return its id.

    ``framework`` lists (level, code, parent code) of the unit's own results framework.
    """
    with app.app_context():
        actor = Actor.of(user(coordinator.email))
        version = version_for(instrument)
        cycle = create_cycle(CycleDraft(
            unit=db.session.get_one(Unit, unit.id), version=version,
            title=f"Test cycle {version.key}", period_start=date(2025, 1, 1),
            period_end=date(2025, 12, 31), due_on=date.today() + timedelta(days=20),
            anonymous=anonymous,
        ), actor)
        for role, people in ((ParticipantRole.focal_point, focal_points),
                             (ParticipantRole.validator, validators)):
            for person in people:
                add_participant(cycle, user(person.email), role, actor)
        for level, code, parent in framework:
            add_framework_node(cycle, NodeDraft(level, code, f"Node {code}", parent), actor)
        path = [CycleState.open, CycleState.submitted, CycleState.in_review,
                CycleState.validated, CycleState.closed]
        for step in path[: path.index(state) + 1] if state is not CycleState.draft else ():
            change_state(cycle, step, actor)
        db.session.commit()
        return cycle.id


def response_id(app: Flask, cycle_id: int, respondent: User, questionnaire: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(Response.id).where(
            Response.cycle_id == cycle_id, Response.respondent_id == respondent.id,
            Response.questionnaire == questionnaire))
        assert found is not None
        return found


def get_cycle(cycle_id: int) -> Cycle:
    return db.session.get_one(Cycle, cycle_id)
