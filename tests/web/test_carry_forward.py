"""Carry forward (cycles issue, "Carry forward"; DESIGN.md "How work flows", step 7).

CAR01 a new cycle starts from the previous cycle's focal-point answers, each marked carried
      over until the respondent saves or confirms it; partners' answers are never copied.
CAR02 still-valid evidence comes along (the current version of a document whose file is
      still stored, or a link), pointing at the same stored file, marked carried over.
CAR03 across instrument versions items follow the crosswalk; removed or vanished items,
      items whose old answer is no longer valid, and answers with nobody to give them to
      are skipped and listed.
CAR04 the unit's results framework comes along when the new cycle has none; running it again
      copies nothing twice; mismatched cycles are refused.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from instruments import parse_instrument
from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    AuditEvent,
    Cycle,
    CycleParticipant,
    CycleState,
    Evidence,
    EvidenceKind,
    EvidenceLink,
    FrameworkNode,
    InstrumentStatus,
    InstrumentVersion,
    ParticipantRole,
    Response,
    ResponseState,
    Unit,
    User,
)
from surveyapp.services import ServiceError
from surveyapp.services.audit import Actor
from surveyapp.services.carry_forward import Skipped, carry_forward
from surveyapp.storage import evidence_store
from tests.web.evidence_world import PDF, World, build_world

MINI_V1 = """
key: mini-carry
version: "1.0"
title: Mini carry-forward
scoring:
  - {id: component, method: holistic_stage}
nodes:
  - id: C1
    level: component
    title: Strategy
    scoring: component
    stages:
      - {stage: 1, title: Start, descriptor: Nothing yet}
      - {stage: 2, title: Middle, descriptor: Some of it}
      - {stage: 3, title: End, descriptor: All of it}
framework:
  levels: [output]
questionnaires:
  - id: self
    role: focal_point
    title: Self-assessment
    items:
      - {id: stage, type: stage, node: C1, role: stage, text: Stage?, evidence: {expected: true}}
      - {id: why, type: text, node: C1, role: rationale, text: Why?}
      - {id: old_only, type: text, node: C1, text: Dropped later}
      - {id: renamed, type: yes_no, node: C1, text: Renamed later}
      - id: frequency
        type: single_choice
        node: C1
        text: How often?
        options: [{code: 1, label: Never}, {code: 2, label: Often}]
      - {id: per_output, type: number, per_level: output, text: How many?}
  - id: partner
    role: partner
    title: Partners
    items:
      - {id: p1, type: text, text: Comment}
"""

#: Version 2: "renamed" became "confirmed", "old_only" was removed, "frequency" lost code 2,
#: and "vanished" exists only in version 1 with no crosswalk entry.
MINI_V2 = (MINI_V1.replace('version: "1.0"', 'version: "2.0"')
           .replace("      - {id: old_only, type: text, node: C1, text: Dropped later}\n", "")
           .replace("id: renamed,", "id: confirmed,")
           .replace("{code: 2, label: Often}", "{code: 3, label: Always}")
           + """crosswalk:
  - from_version: "1.0"
    entries:
      - {questionnaire: self, from: renamed, to: confirmed, note: clearer name}
      - {from: old_only, to: null, note: question removed}
""")


@pytest.fixture
def world(make_unit: Callable[..., Unit], make_user: Callable[..., User]) -> World:
    return build_world(make_unit, make_user)


def version_of(text: str) -> InstrumentVersion:
    """Register an instrument text as a published version (the way bundled files are)."""
    loaded = parse_instrument(text.encode(), "inline")
    sha256 = hashlib.sha256(text.encode()).hexdigest()
    found = db.session.scalar(select(InstrumentVersion).where(InstrumentVersion.sha256 == sha256))
    if found is not None:
        return found
    version = InstrumentVersion(key=loaded.key, version=loaded.version, title="Mini",
                                sha256=sha256, text=text, status=InstrumentStatus.published)
    db.session.add(version)
    return version


def new_cycle(world: World, text: str, state: CycleState, *, focal_points: list[User],
              title: str, unit: Unit | None = None) -> Cycle:
    cycle = Cycle(unit_id=(unit or world.unit).id, instrument_version=version_of(text),
                  title=title, period_start=date(2026, 1, 1), period_end=date(2026, 12, 31),
                  state=state)
    cycle.participants += [CycleParticipant(user_id=user.id, role=ParticipantRole.focal_point)
                           for user in focal_points]
    db.session.add(cycle)
    db.session.flush()
    return cycle


def stored(data: bytes) -> str:
    """Put bytes in the evidence store, as an upload would; return the sha256."""
    stored_file, _ = evidence_store().put(io.BytesIO(data), max_bytes=10**6,
                                          check=lambda path: None)
    return stored_file.sha256


def previous_cycle(world: World) -> Cycle:
    """A validated version-1 cycle with answers, evidence in every condition, a partner."""
    cycle = new_cycle(world, MINI_V1, CycleState.validated, focal_points=[world.focal_point],
                      title="2025")
    cycle.framework_nodes += [
        FrameworkNode(code="O1", level="output", title="Patrols held", section="Force",
                      position=1),
        FrameworkNode(code="O2", level="output", title="Reports issued", position=2),
    ]
    response = Response(cycle=cycle, questionnaire="self", respondent_id=world.focal_point.id,
                        state=ResponseState.validated)
    values = {"stage": 2, "why": "A plan exists", "old_only": "gone", "renamed": "yes",
              "frequency": 2}
    response.answers += [Answer(item_id=item, value=value, comment=f"on {item}")
                         for item, value in values.items()]
    response.answers += [Answer(item_id="per_output", framework_node="O1", value=12),
                         Answer(item_id="per_output", framework_node="O2", value=3)]
    partner = Response(cycle=cycle, questionnaire="partner", organization_type="1",
                       state=ResponseState.submitted)
    partner.answers.append(Answer(item_id="p1", value="Good meetings"))
    db.session.add_all([response, partner])
    db.session.flush()
    stage, why = response.answers[0], response.answers[1]
    kept = Evidence(cycle_id=cycle.id, kind=EvidenceKind.file, sha256=stored(PDF),
                    size=len(PDF), media_type="application/pdf", original_name="plan.pdf",
                    description="The plan", document_date=date(2024, 5, 1))
    old = Evidence(cycle_id=cycle.id, kind=EvidenceKind.file, sha256=stored(PDF + b"%old"),
                   size=len(PDF) + 4, media_type="application/pdf", original_name="v1.pdf",
                   description="Old version")
    lost = Evidence(cycle_id=cycle.id, kind=EvidenceKind.file, sha256="f" * 64, size=1,
                    media_type="application/pdf", original_name="lost.pdf",
                    description="Its file is gone")
    link = Evidence(cycle_id=cycle.id, kind=EvidenceKind.link, url="https://example.org/p",
                    description="Published page")
    db.session.add_all([kept, old, lost, link])
    db.session.flush()
    newer = Evidence(cycle_id=cycle.id, kind=EvidenceKind.file, sha256=stored(PDF + b"%new"),
                     size=len(PDF) + 4, media_type="application/pdf", original_name="v2.pdf",
                     description="New version", supersedes_id=old.id)
    db.session.add(newer)
    kept.links += [EvidenceLink(answer=stage), EvidenceLink(answer=why)]
    for evidence in (old, lost, link):
        evidence.links.append(EvidenceLink(answer=stage))
    newer.links.append(EvidenceLink(answer=why))
    db.session.flush()
    return cycle


def answers_of(cycle: Cycle) -> dict[tuple[str, str], Answer]:
    return {(a.item_id, a.framework_node): a for a in db.session.scalars(
        select(Answer).join(Response).where(Response.cycle_id == cycle.id))}


def test_answers_and_valid_evidence_come_along(app: Flask, world: World) -> None:
    """CAR01, CAR02, CAR04 (framework)."""
    with app.app_context():
        previous = previous_cycle(world)
        current = new_cycle(world, MINI_V1, CycleState.open, focal_points=[world.focal_point],
                            title="2026")
        result = carry_forward(current, previous, Actor.of(world.coordinator))
        db.session.commit()
        assert (result.answers, result.evidence, result.framework_nodes, result.skipped) == (
            7, 3, 2, [])
        assert current.previous_cycle_id == previous.id
        copied = answers_of(current)
        assert {key: answer.value for key, answer in copied.items()} == {
            ("stage", ""): 2, ("why", ""): "A plan exists", ("old_only", ""): "gone",
            ("renamed", ""): "yes", ("frequency", ""): 2, ("per_output", "O1"): 12,
            ("per_output", "O2"): 3}
        assert all(answer.carried_over for answer in copied.values())
        assert copied[("why", "")].comment == "on why"
        response = copied[("stage", "")].response
        assert (response.respondent_id, response.state) == (world.focal_point.id,
                                                            ResponseState.draft)
        assert {(n.code, n.section) for n in current.framework_nodes} == {
            ("O1", "Force"), ("O2", None)}
        evidence = {e.original_name or e.url: e for e in db.session.scalars(
            select(Evidence).where(Evidence.cycle_id == current.id))}
        assert set(evidence) == {"plan.pdf", "v2.pdf", "https://example.org/p"}
        assert all(e.carried_over for e in evidence.values())
        plan = evidence["plan.pdf"]
        assert plan.sha256 == hashlib.sha256(PDF).hexdigest()
        assert sorted(link.answer.item_id for link in plan.links) == ["stage", "why"]
        assert [link.answer.item_id for link in evidence["v2.pdf"].links] == ["why"]
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "cycle.carried_forward")).one()
        assert event.after["from_cycle"] == previous.id
        assert event.after["evidence"] == 3


def test_partners_answers_stay_behind(app: Flask, world: World) -> None:
    """CAR01."""
    with app.app_context():
        previous = previous_cycle(world)
        current = new_cycle(world, MINI_V1, CycleState.draft, focal_points=[world.focal_point],
                            title="2026")
        carry_forward(current, previous, Actor.of(world.coordinator))
        questionnaires = set(db.session.scalars(
            select(Response.questionnaire).where(Response.cycle_id == current.id)))
        assert questionnaires == {"self"}


def test_crosswalk_and_skips(app: Flask, world: World) -> None:
    """CAR03: renamed items follow the crosswalk; removed, vanished and invalid are listed."""
    with app.app_context():
        previous = previous_cycle(world)
        response = db.session.scalars(select(Response).where(
            Response.cycle_id == previous.id, Response.questionnaire == "self")).one()
        response.answers.append(Answer(item_id="vanished", value="from an older draft"))
        current = new_cycle(world, MINI_V2, CycleState.open, focal_points=[world.focal_point],
                            title="2026")
        result = carry_forward(current, previous, Actor.of(world.coordinator))
        copied = answers_of(current)
        assert copied[("confirmed", "")].value == "yes"
        assert ("renamed", "") not in copied and ("old_only", "") not in copied
        assert ("frequency", "") not in copied
        assert sorted(result.skipped, key=lambda s: s.item_id) == [
            Skipped("self", "frequency", "",
                    "the earlier answer is not one of the new version's answers"),
            Skipped("self", "old_only", "", "removed in the new instrument version"),
            Skipped("self", "vanished", "",
                    "no longer asked in the new instrument version or results framework"),
        ]


@pytest.mark.parametrize(("assigned", "expected_owner", "reason"), [
    ("second_only", "second_focal_point", None),
    ("both_others", None, "the respondent is not a focal point of the new cycle, which has "
                          "several; it is not clear who should answer"),
    ("nobody", None, "the new cycle has no focal point yet; assign the focal points first"),
])
def test_who_receives_the_answers(
    app: Flask, world: World, make_user: Callable[..., User], assigned: str,
    expected_owner: str | None, reason: str | None,
) -> None:
    """CAR03: same respondent if assigned, else the only focal point, else listed."""
    third = make_user("fp4@example.org")
    with app.app_context():
        previous = previous_cycle(world)
        people = {"second_only": [world.second_focal_point],
                  "both_others": [world.second_focal_point, third], "nobody": []}[assigned]
        current = new_cycle(world, MINI_V1, CycleState.draft, focal_points=people, title="2026")
        result = carry_forward(current, previous, Actor.of(world.coordinator))
        copied = answers_of(current)
        if expected_owner:
            owner = getattr(world, expected_owner).id
            assert {a.response.respondent_id for a in copied.values()} == {owner}
            assert result.answers == 7
        else:
            assert copied == {} and result.answers == 0 and result.evidence == 0
            assert {s.reason for s in result.skipped} == {reason}
            assert len(result.skipped) == 7


def test_running_again_copies_nothing_twice(app: Flask, world: World) -> None:
    """CAR04; an answer the respondent already gave in the new cycle is left alone."""
    with app.app_context():
        previous = previous_cycle(world)
        current = new_cycle(world, MINI_V1, CycleState.open, focal_points=[world.focal_point],
                            title="2026")
        mine = Response(cycle=current, questionnaire="self", respondent_id=world.focal_point.id)
        mine.answers.append(Answer(item_id="stage", value=3))
        db.session.add(mine)
        db.session.flush()
        first = carry_forward(current, previous, Actor.of(world.coordinator))
        assert first.answers == 6
        assert answers_of(current)[("stage", "")].value == 3
        assert answers_of(current)[("stage", "")].carried_over is False
        second = carry_forward(current, previous, Actor.of(world.coordinator))
        assert (second.answers, second.evidence, second.framework_nodes) == (0, 0, 0)
        assert {s.reason for s in second.skipped} == {"already answered in the new cycle"}


@pytest.mark.parametrize(("case", "message"), [
    ("other_unit", "only between cycles of the same unit"),
    ("other_instrument", "only between cycles of the same instrument"),
    ("previous_open", "only a cycle whose answers were submitted"),
    ("new_validated", "only while it is a draft or open"),
    ("itself", "cannot start from itself"),
    ("other_origin", "already started from another cycle"),
])
def test_mismatched_cycles_are_refused(
    app: Flask, world: World, case: str, message: str,
) -> None:
    """CAR04."""
    with app.app_context():
        previous = previous_cycle(world)
        current = new_cycle(world, MINI_V1, CycleState.open, focal_points=[world.focal_point],
                            title="2026")
        if case == "other_unit":
            current.unit_id = world.other_unit.id
        elif case == "other_instrument":
            current.instrument_version = version_of(MINI_V1.replace("mini-carry", "mini-other"))
        elif case == "previous_open":
            previous.state = CycleState.open
        elif case == "new_validated":
            current.state = CycleState.validated
        elif case == "itself":
            current = previous
        else:
            current.previous_cycle_id = new_cycle(
                world, MINI_V1, CycleState.closed, focal_points=[], title="2024").id
        db.session.flush()
        with pytest.raises(ServiceError, match=message):
            carry_forward(current, previous, Actor.of(world.coordinator))
