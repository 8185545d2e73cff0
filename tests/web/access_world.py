"""The world the access-control matrix and the CSRF test send their requests into.

Built once per test module and database (:func:`access_site`) on
``tests/web/cycles_world.py``: the country CAR with the clusters CAR-HEALTH (the cycles' unit)
and CAR-WASH, the UN system with UNDP, the mission MINUSCA, and a person for each
:data:`~tests.web.access_rules.PRINCIPALS` entry, each with a personal API token.

- Six cycles of the ``MATRIX`` instrument (``MINI`` with a recommendation item), one per
  cycle state. Each has two focal points and a validator assigned; the routes name the
  first focal point's response (the respondent's). Each has a results framework, an
  answered stage item with a PDF attached, two partner links (one already opened by the
  partner, one spare to revoke), a notice for the focal point, a submission import of a
  partner export waiting for confirmation, and an action plan: an action whose
  responsible person has recorded a stock-take, and a recommendation waiting for
  leadership. Each is opened through the services, filled, and then set to its state, so
  every route has real ids to work on, whatever its state.
- The unit CAR-HEALTH has closed the previous quarter.
- ``MATRIX`` versions: 1 published (the cycles'), 0 retired, 2 a draft uploaded by the
  coordinator of CAR; overlays of version 1 for CAR-HEALTH: one withdrawn, one active.

Each request runs in a transaction that is rolled back after it (:class:`OneConnection`),
so every request meets exactly this world: a route that deletes, submits or signs out
changes nothing the next request sees.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from textwrap import dedent, indent
from typing import Any

import pytest
from flask import Flask, session
from flask.testing import FlaskClient
from flask_login import login_user
from sqlalchemy import Connection, select
from werkzeug.routing import Rule as UrlRule
from werkzeug.test import TestResponse

from instruments import parse_instrument
from instruments.xlsform import build_xlsform
from reports.quarters import Quarter
from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import (
    CycleState,
    InstrumentOverlay,
    InstrumentStatus,
    RecommendationKind,
    Response,
    ResponseState,
    Role,
    Unit,
    User,
)
from surveyapp.models.base import now_utc
from surveyapp.services.answers import RawAnswer, save_answer
from surveyapp.services.api_tokens import create_token
from surveyapp.services.audit import Actor
from surveyapp.services.evidence import add_file
from surveyapp.services.instrument_library import retire_version, upload_version
from surveyapp.services.invitations import (
    TOKEN_BYTES,
    create_invitations,
    response_for_invitation,
)
from surveyapp.services.notifications import notify
from surveyapp.services.overlays import upload_overlay, withdraw_overlay
from surveyapp.services.plans import (
    ActionDraft,
    Stocktake,
    add_action,
    close_quarter,
    record_progress,
)
from surveyapp.services.recommendations import RecommendationDraft, record_recommendation
from surveyapp.services.submission_import import preview
from tests.conftest import delete_every_row, settings_for, unit_factory, user_factory
from tests.interop.kobo import ExportStyle, Respondent, csv_bytes, main_table
from tests.web.access_rules import PRINCIPALS, OverlayState, Principal, State
from tests.web.cycles_world import (
    MINI,
    MINI_FRAMEWORK,
    build_world,
    get_cycle,
    make_cycle,
    register,
    user,
    version_for,
)
from tests.web.evidence_world import PDF, TEXT

#: MINI with a CPAS-style recommendation per output (role ``recommendation``, as in
#: instruments/library/cpas-red.yaml), so that the cycles have recommendation pages.
_RECOMMEND = dedent("""\
    - id: recommend
      type: single_choice
      per_level: output
      role: recommendation
      text: What does the working group recommend?
      options:
        - {code: 1, label: Continue}
        - {code: 2, label: Adapt}
    """)
_LAST_RUBRIC_ITEM = next(line for line in MINI.splitlines(keepends=True)
                         if "{id: progress," in line)
MATRIX = MINI.replace("key: mini", "key: matrix").replace(_LAST_RUBRIC_ITEM, _LAST_RUBRIC_ITEM
    + indent(_RECOMMEND, _LAST_RUBRIC_ITEM[:_LAST_RUBRIC_ITEM.index("-")]))
assert "role: recommendation" in MATRIX


def matrix_version(number: str) -> str:
    return MATRIX.replace('version: "1"', f'version: "{number}"', 1)


def overlay_text(number: str) -> str:
    """An overlay of MATRIX 1 that hides an optional item (instruments/README.md section 19)."""
    return (f'key: health-local\nversion: "{number}"\ninstrument: matrix\n'
            'instrument_version: "1"\ntitle: Health cluster questions\nhide:\n'
            "  - {questionnaire: self, item: b_date, reason: Known from the register}\n")


#: The response state that goes with each cycle state.
RESPONSE_STATE = {
    CycleState.draft: ResponseState.draft,
    CycleState.open: ResponseState.draft,
    CycleState.submitted: ResponseState.submitted,
    CycleState.in_review: ResponseState.submitted,
    CycleState.validated: ResponseState.validated,
    CycleState.closed: ResponseState.validated,
}


# --- The things routes name, each in a workflow state ------------------------------------


@dataclass(frozen=True)
class CycleTarget:
    """The ids of one cycle's things, to put in the routes' addresses."""

    state: CycleState
    cycle_id: int
    response_id: int
    answer_id: int
    evidence_id: int
    partner_token: str
    spare_invitation_id: int
    notification_id: int
    import_id: int
    action_id: int
    recommendation_id: int


@dataclass(frozen=True)
class VersionTarget:
    state: InstrumentStatus
    version_id: int


@dataclass(frozen=True)
class OverlayTarget:
    state: OverlayState
    overlay_id: int


Target = CycleTarget | VersionTarget | OverlayTarget


@dataclass(frozen=True)
class AccessWorld:
    #: The account of each signed-in principal, by principal key.
    accounts: dict[str, int]
    #: Each signed-in principal's API token: its secret and its id.
    api_tokens: dict[str, tuple[str, int]]
    #: The targets of each family of URL arguments, one per workflow state.
    targets: dict[str, tuple[Target, ...]]
    #: A well-formed token that no invitation has: what a guess at a link looks like.
    unknown_token: str
    #: The cycles' unit, which the unit routes and the overlays name.
    unit_id: int
    unit_code: str
    closed_quarter: str
    published_version_id: int
    draft_version_id: int


def build_access_world(app: Flask, make_unit: Callable[..., Unit],
                       make_user: Callable[..., User]) -> AccessWorld:
    base = build_world(make_unit, make_user)
    responsible = make_user("fp3@example.org", role=Role.focal_point, unit=base.cluster)
    accounts = {
        "admin, own unit": make_user("admin@example.org", role=Role.admin, unit=base.country),
        "admin, other unit": make_user("admin@undp.example.org", role=Role.admin,
                                       unit=base.organisation),
        "coordinator, own unit": base.coordinator,
        "coordinator, other unit": base.stranger,
        "focal point, own unit, assigned, the respondent": base.focal_point,
        "focal point, own unit, assigned, another respondent": base.second_focal_point,
        "focal point, own unit, not assigned, responsible for the action": responsible,
        "focal point, other unit": base.other_focal_point,
        "validator, own unit, assigned": base.validator,
        "validator, own unit, not assigned": make_user(
            "val2@example.org", role=Role.validator, unit=base.cluster),
        "validator, other unit": make_user("val@undp.example.org", role=Role.validator,
                                           unit=base.organisation),
        "viewer, own unit": base.viewer,
        "viewer, other unit": make_user("viewer@minusca.example.org", role=Role.viewer,
                                        unit=base.mission),
    }
    assert set(accounts) == {p.key for p in PRINCIPALS if p.signed_in}
    cycles = []
    for state in CycleState:
        cycle_id = make_cycle(app, MATRIX, base.cluster, base.coordinator,
                              focal_points=[base.focal_point, base.second_focal_point],
                              validators=[base.validator],
                              framework=MINI_FRAMEWORK, state=CycleState.open)
        cycles.append(_fill(app, cycle_id, state, base.focal_point, base.coordinator,
                            responsible))
    with app.app_context():
        coordinator = Actor.of(user(base.coordinator.email))
        cluster = db.session.get_one(Unit, base.cluster.id)
        quarter = str(Quarter.of(date.today()).previous)
        close_quarter(cluster, quarter, coordinator, date.today())
        tokens: dict[str, tuple[str, int]] = {}
        for key, person in accounts.items():
            token, secret = create_token(db.session.get_one(User, person.id), "matrix", None,
                                         today=date.today())
            db.session.flush()
            tokens[key] = (secret, token.id)
        versions, overlays = _library(base.coordinator, accounts["admin, own unit"], cluster)
        db.session.commit()
    return AccessWorld(
        accounts={key: person.id for key, person in accounts.items()}, api_tokens=tokens,
        targets={"cycle": tuple(cycles), "version": versions, "overlay": overlays},
        unknown_token=secrets.token_urlsafe(TOKEN_BYTES), unit_id=base.cluster.id,
        unit_code=base.cluster.code, closed_quarter=quarter,
        published_version_id=versions[1].version_id, draft_version_id=versions[0].version_id)


def partner_export(submission: str) -> bytes:
    """One partner's submission of MATRIX as KoboToolbox exports it (CSV)."""
    form = build_xlsform(parse_instrument(MATRIX.encode(), "matrix").instrument, "partners")
    return csv_bytes(main_table(form, [Respondent(submission, answers={
        "org": "1", "p_choice": "2"})], ExportStyle()))


def _fill(app: Flask, cycle_id: int, state: CycleState, focal_point: User,
          coordinator: User, responsible: User) -> CycleTarget:
    """Answer, attach, invite, notify and import in the open cycle; make its plan; then set
    it to ``state``."""
    with app.app_context():
        cycle = get_cycle(cycle_id)
        respondent = user(focal_point.email)
        actor = Actor.of(respondent)
        managing = Actor.of(user(coordinator.email))
        response = db.session.scalars(select(Response).where(
            Response.cycle_id == cycle_id, Response.respondent_id == respondent.id,
            Response.questionnaire == "self")).one()
        answer = save_answer(response, "a_stage", "", RawAnswer(value="2"), actor).answer
        assert answer is not None
        evidence = add_file(cycle, answer, io.BytesIO(PDF), "report.pdf", "Annual report",
                            date(2025, 6, 30), actor)
        (partner, token), (spare, _spare_token) = create_invitations(
            cycle, "partners", count=2, language="en",
            expires_on=date.today() + timedelta(days=30), actor=managing)
        response_for_invitation(partner, organization_type="1")
        notice, = notify([respondent], "returned", "An item came back to you.",
                         f"/cycles/{cycle_id}", cycle)
        batch = preview(cycle, "partners", partner_export(f"uuid:matrix-{cycle_id}"),
                        "export.csv", user(coordinator.email), max_bytes=10**6)
        # The plan, as after validation (a reopened cycle keeps it), in every state.
        cycle.state = CycleState.validated
        action = add_action(cycle, ActionDraft(
            title="Agree the partners' calendar", nodes=("A",),
            responsible_user=user(responsible.email)), managing)
        record_progress(action, cycle, Stocktake(quarter=str(Quarter.of(date.today())),
                                                 percent=40, note="Drafted"),
                        Actor.of(user(responsible.email)), date.today())
        recommendation = record_recommendation(cycle, RecommendationDraft(
            node="OP1", kind=RecommendationKind.adapt, text="Adapt the output to the plan."),
            managing)
        cycle.state = state
        response.state = RESPONSE_STATE[state]
        if response.state is not ResponseState.draft:
            response.submitted_at = now_utc()
        db.session.commit()
        return CycleTarget(state, cycle_id, response.id, answer.id, evidence.id, token,
                           spare.id, notice.id, batch.id, action.id, recommendation.id)


def _library(author: User, admin: User, unit: Unit
             ) -> tuple[tuple[VersionTarget, ...], tuple[OverlayTarget, ...]]:
    """MATRIX versions in each state and overlays of version 1 (call in an app context)."""
    published = version_for(MATRIX)
    retired = register(matrix_version("0"))
    retire_version(user(admin.email), retired)
    writer = user(author.email)
    draft = upload_version(writer, matrix_version("2").encode(), "matrix-2.yaml")
    withdrawn = upload_overlay(writer, unit, published, overlay_text("1").encode(), "o.yaml")
    withdraw_overlay(writer, withdrawn)
    active = upload_overlay(writer, unit, published, overlay_text("2").encode(), "o.yaml")
    db.session.flush()
    assert db.session.get_one(InstrumentOverlay, withdrawn.id).active is False
    return ((VersionTarget(InstrumentStatus.draft, draft.id),
             VersionTarget(InstrumentStatus.published, published.id),
             VersionTarget(InstrumentStatus.retired, retired.id)),
            (OverlayTarget(OverlayState.active, active.id),
             OverlayTarget(OverlayState.withdrawn, withdrawn.id)))


# --- Filling in the routes ----------------------------------------------------------------


@dataclass(frozen=True)
class Argument:
    """How to fill one URL argument: from the target of the state under test (``family``
    names which kind of thing), or from the world and the person asking."""

    value: Callable[[Any, Principal, AccessWorld], object]
    family: str | None = None


def _cycle(read: Callable[[CycleTarget], object]) -> Argument:
    return Argument(lambda target, _who, _world: read(target), "cycle")


def _constant(value: object) -> Argument:
    return Argument(lambda _target, _who, _world: value)


#: How each URL argument is filled. A route with an argument missing here fails the
#: matrix, naming the argument.
ARGUMENT_VALUES: dict[str, Argument] = {
    "cycle_id": _cycle(lambda target: target.cycle_id),
    "response_id": _cycle(lambda target: target.response_id),
    "evidence_id": _cycle(lambda target: target.evidence_id),
    "invitation_id": _cycle(lambda target: target.spare_invitation_id),
    "notification_id": _cycle(lambda target: target.notification_id),
    "import_id": _cycle(lambda target: target.import_id),
    "action_id": _cycle(lambda target: target.action_id),
    "recommendation_id": _cycle(lambda target: target.recommendation_id),
    # The partner holds the cycle's link; everyone else tries a guess at one.
    "token": Argument(lambda target, who, world: target.partner_token if who.partner
                      else world.unknown_token, "cycle"),
    "version_id": Argument(lambda target, _who, _world: target.version_id, "version"),
    "overlay_id": Argument(lambda target, _who, _world: target.overlay_id, "overlay"),
    # Each person revokes their own token (those without an account have none).
    "token_id": Argument(lambda _target, who, world: world.api_tokens.get(who.key, ("", 0))[1]),
    "code": Argument(lambda _target, _who, world: world.unit_code),
    "quarter": Argument(lambda _target, _who, world: world.closed_quarter),
    "questionnaire": _constant("self"),
    "language": _constant("en"),
    "item_id": _constant("a_stage"),
    "number": _constant(1),
    "extension": _constant("xlsx"),
    "filename": _constant("favicon.svg"),
}


def _evidence_target(target: CycleTarget) -> dict[str, object]:
    """A form naming an unanswered item of the respondent's response."""
    return {"response_id": target.response_id, "item_id": "a_choice", "framework_node": "",
            "description": "Minutes", "document_date": "2025-06-30"}


#: Query (GET) or form (POST) data that a route needs to reach its access checks.
REQUEST_DATA: dict[str, Callable[[Any, AccessWorld], dict[str, object]]] = {
    "evidence.item": lambda target, _world: {"response": target.response_id, "item": "a_stage"},
    "evidence.upload": lambda target, _world: {
        **_evidence_target(target), "file": (io.BytesIO(TEXT), "minutes.txt")},
    "evidence.link": lambda target, _world: {
        **_evidence_target(target), "url": "https://example.org/minutes"},
    "evidence.attach_existing": lambda target, _world: {
        **_evidence_target(target), "evidence_id": target.evidence_id},
    "evidence.detach_from": lambda target, _world: {"answer_id": target.answer_id},
    "evidence.confirm_carried": lambda target, _world: {"answer_id": target.answer_id},
    "evidence.version": lambda _target, _world: {"file": (io.BytesIO(TEXT), "minutes.txt")},
    # The overlay's unit must be one the person manages: the form's first check.
    "instruments.add_overlay": lambda _target, world: {"unit": world.unit_id},
    "instruments.compare_versions": lambda _target, world: {
        "old": world.published_version_id, "new": world.draft_version_id},
}
#: JSON bodies of the API's writes (docs/api.md, "Answers").
REQUEST_JSON: dict[str, Callable[[Any, AccessWorld], object]] = {
    "api.save": lambda _target, _world: {"answers": [{"item": "b_text", "value": "word"}]},
}
#: The JSON API: called with the person's bearer token, never with a session cookie.
API_BLUEPRINT = "api"


@dataclass(frozen=True)
class Call:
    """One request of a route, as one person, to one target."""

    endpoint: str
    method: str
    path: str
    who: Principal
    target: Target | None
    data: dict[str, object] = field(default_factory=dict)
    json: object = None

    @property
    def api(self) -> bool:
        return self.endpoint.startswith(f"{API_BLUEPRINT}.")

    @property
    def state(self) -> State:
        return self.target.state if self.target else None


def route_targets(url_rule: UrlRule, world: AccessWorld) -> tuple[Target | None, ...]:
    """The targets a route is sent to: one per state of what it names, or just one."""
    unfilled = set(url_rule.arguments) - set(ARGUMENT_VALUES)
    assert not unfilled, (
        f"{url_rule.endpoint}: add a value for {sorted(unfilled)} to ARGUMENT_VALUES in "
        "tests/web/access_world.py (and to the world if it names a new thing)")
    families = {ARGUMENT_VALUES[name].family for name in url_rule.arguments} - {None}
    assert len(families) <= 1, f"{url_rule.endpoint} names {families}: one family per route"
    return world.targets[families.pop()] if families else (None,)


def call_for(url_rule: UrlRule, method: str, who: Principal, target: Target | None,
             world: AccessWorld) -> Call:
    values = {name: ARGUMENT_VALUES[name].value(target, who, world)
              for name in url_rule.arguments}
    built = url_rule.build(values, append_unknown=False)
    assert built is not None, url_rule.endpoint
    endpoint = url_rule.endpoint
    data = REQUEST_DATA[endpoint](target, world) if endpoint in REQUEST_DATA else {}
    json = REQUEST_JSON[endpoint](target, world) if endpoint in REQUEST_JSON else None
    return Call(endpoint, method, built[1], who, target, data, json)


# --- Sending requests ----------------------------------------------------------------------


class OneConnection:
    """Every session of the app on one database connection, each request in a transaction
    rolled back after it (the sessions' commits become savepoints inside it).

    SQLite's driver is told to leave transactions to us, or the first SAVEPOINT would start
    (and its RELEASE commit) a transaction of its own.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        with app.app_context():
            self.engines = db.engines
        self.engine = self.engines[None]
        self.connection: Connection | None = None

    def __enter__(self) -> OneConnection:
        self.connection = self.engine.connect()
        if self.connection.dialect.name == "sqlite":
            self._driver().isolation_level = None
        self.engines[None] = self.connection  # type: ignore[index]
        db.session.session_factory.kw["join_transaction_mode"] = "create_savepoint"
        return self

    def __exit__(self, *_exc: object) -> None:
        db.session.session_factory.kw.pop("join_transaction_mode")
        self.engines[None] = self.engine  # type: ignore[index]
        assert self.connection is not None
        if self.connection.dialect.name == "sqlite":
            self._driver().isolation_level = ""
        self.connection.close()

    def _driver(self) -> Any:
        assert self.connection is not None
        return self.connection.connection.driver_connection

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        """What happens inside is undone when it ends."""
        assert self.connection is not None
        transaction = self.connection.begin()
        if self.connection.dialect.name == "sqlite":
            self.connection.exec_driver_sql("BEGIN")
        try:
            yield
        finally:
            transaction.rollback()


def session_cookie(app: Flask, user_id: int) -> str:
    """The session cookie of a fresh sign-in of the user, as the sign-in form would give.

    The user's session token and Flask-Login's "strong" protection identifier, without the
    password hash to check.
    """
    client = app.test_client()
    with app.app_context():
        account = db.session.get_one(User, user_id)
        with app.test_request_context(environ_base=client.environ_base):
            login_user(account)
            signed = dict(session)
    with client.session_transaction() as stored:
        stored.update(signed)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


class AccessSite:
    """The app, its world, and a way to send a call as its person."""

    def __init__(self, app: Flask, world: AccessWorld, database: OneConnection) -> None:
        self.app = app
        self.world = world
        self.database = database
        self.cookies = {key: session_cookie(app, user_id)
                        for key, user_id in world.accounts.items()}
        self.clients: dict[str, FlaskClient] = {}

    def client_for(self, who: Principal) -> FlaskClient:
        """The person's client, signed in afresh (or not at all), with nothing else kept."""
        client = self.clients.setdefault(who.key, self.app.test_client())
        name = self.app.config["SESSION_COOKIE_NAME"]
        if who.signed_in:
            client.set_cookie(name, self.cookies[who.key])
        else:
            client.delete_cookie(name)
        return client

    def bearer(self, who: Principal) -> dict[str, str]:
        """The person's API token in the header; nothing for those without an account."""
        token = self.world.api_tokens.get(who.key)
        return {"Authorization": f"Bearer {token[0]}"} if token else {}

    def send(self, client: FlaskClient, call: Call, *, data: dict[str, object] | None = None,
             headers: dict[str, str] | None = None) -> TestResponse:
        """Send the call on ``client``, with ``data`` over the call's own: API calls with the
        person's bearer token (on a client with no session: :meth:`nobody`)."""
        headers = {**(self.bearer(call.who) if call.api else {}), **(headers or {})}
        data = {**call.data, **(data or {})}
        if call.method == "GET":
            return client.get(call.path, query_string=data, headers=headers)
        if call.json is not None:
            return client.open(call.path, method=call.method, json=call.json, headers=headers)
        return client.open(call.path, method=call.method, data=data, headers=headers)

    def nobody(self) -> FlaskClient:
        """A client with no session: what API calls are sent on."""
        client = self.clients.setdefault("", self.app.test_client())
        client.delete_cookie(self.app.config["SESSION_COOKIE_NAME"])
        return client


@pytest.fixture(scope="module")
def access_site(database_url: str, tmp_path_factory: pytest.TempPathFactory,
                test_password_hash: str) -> Iterator[AccessSite]:
    """The world, built once for the module's tests on this database; every row is deleted
    when they end. Rate limits are off: thousands of requests come from one address."""
    app = create_app(settings_for(database_url, tmp_path_factory.mktemp("access") / "instance",
                                  RATELIMIT_ENABLED=False))
    try:
        world = build_access_world(app, unit_factory(app), user_factory(app, test_password_hash))
        with OneConnection(app) as database:
            yield AccessSite(app, world, database)
    finally:
        delete_every_row(app)
