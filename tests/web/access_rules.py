"""Who may use each route: the one table the access-control matrix checks.

``ACCESS_RULES`` maps every endpoint of the app (``app.url_map``) to the rule that says who
gets past its access checks: a :class:`Rule`, or a mapping of HTTP method to rule when
GET and POST differ. ``test_access_matrix.py`` sends every route, as every kind of person
(``PRINCIPALS``), to each thing of the world in every workflow state it has (a cycle in
each cycle state, an instrument version draft, published and retired, an overlay active
and withdrawn), and fails on any request whose outcome the rule does not predict: above
all, on any allowed request the rule denies. The JSON API's routes (``/api/v1``) are
called with the person's own bearer token, never a session cookie; anonymous people and
partners hold no token.

A new route is one line here, built from the rules below, e.g.::

    "plans.edit": MANAGERS & state_in("validated", "closed"),

Outcomes: "denied" is a 4xx answer other than 400 and 422 (401, 403, 404, or 409 and 410
for what the workflow state forbids), or the redirect to the sign-in page; "refused" is a
400 or 422 answer, or a redirect with a warning, for a request that got past the access
checks but whose form or state a service refused; "allowed" is any other 2xx or 3xx
answer. A rule that denies must never meet "allowed"; a rule that allows must never meet
"denied".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from surveyapp.models import CycleState, InstrumentStatus, Role


class OverlayState(StrEnum):
    """An overlay is active (new and draft cycles take it) or withdrawn."""

    active = "active"
    withdrawn = "withdrawn"


#: The workflow state of what a route names: a cycle, an instrument version, an overlay;
#: None for routes that name none of them.
State = CycleState | InstrumentStatus | OverlayState | None


# --- Who is asking -----------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """A kind of person: a role held on the cycle's unit (or above it) or on another unit,
    assigned to the cycle or not; a partner holding an invitation link; or nobody.

    The cycles' unit is also the unit the unit routes (progress, dashboards) and the
    overlays name.
    """

    key: str
    role: Role | None = None
    #: "own": the role is held on the cycle's unit or an ancestor; "other": elsewhere.
    unit: str | None = None
    #: Assigned to the cycle as its focal point or validator.
    assigned: bool = False
    #: The focal point whose response the route names (another assigned one is not).
    respondent: bool = False
    #: A partner without an account who holds a valid link of the cycle.
    partner: bool = False
    #: The role is held on a top-level unit (no parent): the instrument library's authors.
    top_level: bool = False
    #: Uploaded the world's instrument draft.
    author: bool = False
    #: Named as the person responsible for the plan's action (who records its progress).
    responsible: bool = False

    @property
    def signed_in(self) -> bool:
        return self.role is not None

    def holds(self, *roles: Role) -> bool:
        """Holds one of ``roles`` on the cycle's unit (or above it)."""
        return self.unit == "own" and self.role in roles


PRINCIPALS: tuple[Principal, ...] = (
    Principal("anonymous"),
    Principal("partner link", partner=True),
    Principal("admin, own unit", Role.admin, "own", top_level=True),
    Principal("admin, other unit", Role.admin, "other"),
    Principal("coordinator, own unit", Role.coordinator, "own", top_level=True, author=True),
    Principal("coordinator, other unit", Role.coordinator, "other", top_level=True),
    Principal("focal point, own unit, assigned, the respondent", Role.focal_point, "own",
              assigned=True, respondent=True),
    Principal("focal point, own unit, assigned, another respondent", Role.focal_point, "own",
              assigned=True),
    Principal("focal point, own unit, not assigned, responsible for the action",
              Role.focal_point, "own", responsible=True),
    Principal("focal point, other unit", Role.focal_point, "other"),
    Principal("validator, own unit, assigned", Role.validator, "own", assigned=True,
              top_level=True),
    Principal("validator, own unit, not assigned", Role.validator, "own"),
    Principal("validator, other unit", Role.validator, "other"),
    Principal("viewer, own unit", Role.viewer, "own", top_level=True),
    Principal("viewer, other unit", Role.viewer, "other", top_level=True),
)


# --- Rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A readable condition on who asks and the state of what the route names."""

    text: str
    allows: Callable[[Principal, State], bool]

    def __and__(self, other: Rule) -> Rule:
        return Rule(f"{self.text}, {other.text}",
                    lambda who, state: self.allows(who, state) and other.allows(who, state))

    def __or__(self, other: Rule) -> Rule:
        return Rule(f"({self.text}) or ({other.text})",
                    lambda who, state: self.allows(who, state) or other.allows(who, state))


def state_in(*states: str) -> Rule:
    """The cycle is in one of ``states``."""
    wanted = frozenset(CycleState(state) for state in states)
    return Rule(f"state in {{{', '.join(states)}}}", lambda _who, state: state in wanted)


def version_in(*states: str) -> Rule:
    """The instrument version is in one of ``states``."""
    wanted = frozenset(InstrumentStatus(state) for state in states)
    return Rule(f"version {' or '.join(states)}", lambda _who, state: state in wanted)


def _assigned_as(role: Role) -> Callable[[Principal, State], bool]:
    return lambda who, _state: who.assigned and who.role is role


EVERYONE = Rule("everyone, signed in or not", lambda _who, _state: True)
SIGNED_IN = Rule("anyone signed in", lambda who, _state: who.signed_in)
ADMINS_ANYWHERE = Rule("administrators of any unit", lambda who, _state: who.role is Role.admin)
COORDINATORS_ANYWHERE = Rule(
    "coordinators and administrators of any unit",
    lambda who, _state: who.role in (Role.coordinator, Role.admin))
#: ``CycleAccess.may_see``: they know the cycle exists.
CYCLE_PEOPLE = Rule("anyone with a role on the cycle's unit, and the cycle's people",
                    lambda who, _state: who.unit == "own" or who.assigned)
#: ``CycleAccess.may_manage``.
MANAGERS = Rule("coordinators and administrators of the cycle's unit",
                lambda who, _state: who.holds(Role.coordinator, Role.admin))
#: ``CycleAccess.may_see_results``.
RESULTS_READERS = Rule(
    "coordinators, viewers and administrators of the cycle's unit, and the cycle's people",
    lambda who, _state: who.holds(Role.coordinator, Role.viewer, Role.admin) or who.assigned)
#: Routes of "my questionnaire": each assigned focal point reaches their own response.
FOCAL_POINTS = Rule("the cycle's focal points (their own response)",
                    _assigned_as(Role.focal_point))
#: Routes that name a response, its answers or its evidence: only whoever answers it.
RESPONDENT = Rule("the focal point who answers the response",
                  lambda who, _state: who.respondent)
VALIDATORS = Rule("the cycle's validators", _assigned_as(Role.validator))
#: ``may_read_answers``: the respondent; validators and managers once it is submitted (the
#: world's response is a draft until its cycle is submitted).
ANSWER_READERS = RESPONDENT | ((VALIDATORS | MANAGERS) & state_in(
    "submitted", "in_review", "validated", "closed"))
#: The addressee of a notice (the world's notices are the respondent's).
ADDRESSEE = Rule("the person the notice is for", lambda who, _state: who.respondent)
PARTNER_LINK = Rule("whoever holds a valid partner link", lambda who, _state: who.partner)
#: ``may_decide_recommendations``: viewers and coordinators of the unit, not admins.
LEADERSHIP = Rule("viewers and coordinators of the cycle's unit (leadership)",
                  lambda who, _state: who.holds(Role.viewer, Role.coordinator))
RESPONSIBLE = Rule("the person responsible for the action",
                   lambda who, _state: who.responsible)
#: ``plans.PROGRESS_READERS`` and ``dashboard.DASHBOARD_ROLES`` on the unit the route names.
UNIT_READERS = Rule("coordinators, viewers and administrators of the unit",
                    lambda who, _state: who.holds(Role.coordinator, Role.viewer, Role.admin))
DASHBOARD_HOLDERS = Rule(
    "coordinators, viewers and administrators of any unit",
    lambda who, _state: who.role in (Role.coordinator, Role.viewer, Role.admin))
#: ``LibraryAccess``: reading is for coordinators and admins of any unit; uploading, for
#: those of a top-level unit; publishing, for admins of a top-level unit, who also change
#: any draft, while an author changes the drafts they uploaded.
LIBRARY_READERS = COORDINATORS_ANYWHERE
LIBRARY_AUTHORS = Rule(
    "coordinators and administrators of a top-level unit",
    lambda who, _state: who.role in (Role.coordinator, Role.admin) and who.top_level)
PUBLISHERS = Rule("administrators of a top-level unit",
                  lambda who, _state: who.role is Role.admin and who.top_level)
DRAFT_CHANGERS = PUBLISHERS | Rule(
    "whoever uploaded the version (the world's draft)",
    lambda who, state: who.author and state is InstrumentStatus.draft)

#: The world's responses are drafts, then submitted: none is returned, so they change only
#: while the cycle is open (returned items under review: tests/web/test_review.py).
ANSWERING = state_in("open")
REVIEWING = state_in("submitted", "in_review")
REPORTABLE = state_in("submitted", "in_review", "validated", "closed")
INVITING = state_in("draft", "open")
NOT_CLOSED = state_in("draft", "open", "submitted", "in_review", "validated")
#: ``may_edit_plan``: the plan opens once the results are final.
FINAL = state_in("validated", "closed")
PLAN_EDITORS = MANAGERS & FINAL


# --- The table ---------------------------------------------------------------------------

ACCESS_RULES: Mapping[str, Rule | Mapping[str, Rule]] = {
    "static": EVERYONE,
    "i18n.choose": EVERYONE,
    "auth.login": EVERYONE,
    "auth.logout": SIGNED_IN,
    "auth.password": SIGNED_IN,
    "auth.profile": SIGNED_IN,
    "account.tokens": SIGNED_IN,
    "account.revoke": SIGNED_IN,  # each person revokes their own token
    "main.home": SIGNED_IN,
    "notifications.index": SIGNED_IN,
    "notifications.open_notice": ADDRESSEE,
    "notifications.read_all": SIGNED_IN,
    "admin.audit": ADMINS_ANYWHERE,
    "admin.audit_csv": ADMINS_ANYWHERE,
    "review.queue": SIGNED_IN,
    "cycles.index": SIGNED_IN,
    "cycles.new": COORDINATORS_ANYWHERE,
    "cycles.detail": CYCLE_PEOPLE,
    "cycles.state": MANAGERS,
    "cycles.people": MANAGERS,
    "cycles.add_person": MANAGERS,
    "cycles.remove_person": MANAGERS,
    "cycles.framework": CYCLE_PEOPLE,
    "cycles.add_node": MANAGERS,
    "cycles.remove_node": MANAGERS,
    "respond.resume": FOCAL_POINTS,
    "respond.page": FOCAL_POINTS,
    "respond.autosave": FOCAL_POINTS & ANSWERING,
    "respond.review": FOCAL_POINTS,
    "respond.submit": FOCAL_POINTS,
    "respond.item": FOCAL_POINTS,
    "respond.offline": FOCAL_POINTS,
    "respond.workbook": FOCAL_POINTS,
    "respond.invitation_landing": PARTNER_LINK & ANSWERING,
    "respond.invitation_page": PARTNER_LINK & ANSWERING,
    "respond.invitation_autosave": PARTNER_LINK & ANSWERING,
    "respond.invitation_review": PARTNER_LINK & ANSWERING,
    "respond.invitation_submit": PARTNER_LINK & ANSWERING,
    "respond.invitation_offline": PARTNER_LINK & ANSWERING,
    "respond.invitation_workbook": PARTNER_LINK & ANSWERING,
    "respond.invitation_thanks": EVERYONE,
    "evidence.index": RESULTS_READERS,
    "evidence.download": RESULTS_READERS,
    "evidence.preview": VALIDATORS | MANAGERS,
    "evidence.item": RESPONDENT & ANSWERING,
    "evidence.upload": RESPONDENT & ANSWERING,
    "evidence.link": RESPONDENT & ANSWERING,
    "evidence.attach_existing": RESPONDENT & ANSWERING,
    "evidence.detach_from": RESPONDENT & ANSWERING,
    "evidence.confirm_carried": RESPONDENT & ANSWERING,
    "evidence.version": RESPONDENT & ANSWERING,
    "invitations.manage": {"GET": MANAGERS, "POST": MANAGERS & INVITING},
    "invitations.revoke_link": MANAGERS & NOT_CLOSED,
    "imports.index": MANAGERS,
    "imports.report": MANAGERS,
    "imports.confirm": MANAGERS,
    "review.item": ANSWER_READERS,
    "review.returned": ANSWER_READERS,
    "review.decision": VALIDATORS & REVIEWING,
    "review.thread": (VALIDATORS | RESPONDENT) & REVIEWING,
    "review.cycle_validation": VALIDATORS | MANAGERS,
    "review.validate": VALIDATORS,
    "review.reopen": MANAGERS,
    "results.cycle_results": RESULTS_READERS,
    "results.report_page": RESULTS_READERS,
    "results.download_report": RESULTS_READERS & REPORTABLE,
    "plans.plan": CYCLE_PEOPLE,
    "plans.draft": PLAN_EDITORS,
    "plans.targets": PLAN_EDITORS,
    "plans.merge": PLAN_EDITORS,
    "plans.new": PLAN_EDITORS,
    "plans.edit": PLAN_EDITORS,
    "plans.delete": PLAN_EDITORS,
    "plans.progress": {"GET": CYCLE_PEOPLE, "POST": (MANAGERS | RESPONSIBLE) & FINAL},
    "plans.recommendations": {"GET": RESULTS_READERS, "POST": PLAN_EDITORS},
    "plans.decision": LEADERSHIP & FINAL,
    "plans.unit_progress": UNIT_READERS,
    "plans.progress_download": UNIT_READERS,
    "plans.close": MANAGERS,
    "dashboards.index": DASHBOARD_HOLDERS,
    "dashboards.unit": UNIT_READERS,
    "instruments.index": LIBRARY_READERS,
    "instruments.upload": LIBRARY_AUTHORS,
    "instruments.version": LIBRARY_READERS,
    "instruments.download": LIBRARY_READERS,
    "instruments.compare_versions": LIBRARY_READERS,
    "instruments.replace": DRAFT_CHANGERS,
    "instruments.delete": DRAFT_CHANGERS,
    "instruments.publish": PUBLISHERS,
    "instruments.retire": PUBLISHERS,
    "instruments.add_overlay": MANAGERS,  # for a unit they manage: the cycles' unit
    "instruments.overlay": MANAGERS,
    "instruments.download_overlay": MANAGERS,
    "instruments.withdraw": MANAGERS,
    "instruments.preview_start": LIBRARY_READERS,
    "instruments.preview_page": LIBRARY_READERS,
    "instruments.preview_autosave": LIBRARY_READERS,
    "instruments.preview_review": LIBRARY_READERS,
    "instruments.preview_score": LIBRARY_READERS,
    "instruments.preview_submit": LIBRARY_READERS,
    "instruments.preview_discard": LIBRARY_READERS,
    # The JSON API (docs/api.md, "Operations and who may call them"), with bearer tokens.
    "api.openapi": EVERYONE,
    "api.me": SIGNED_IN,
    "api.list_cycles": SIGNED_IN,
    "api.get_cycle": CYCLE_PEOPLE,
    "api.get_results": RESULTS_READERS & REPORTABLE,
    "api.report_pdf": RESULTS_READERS & REPORTABLE,
    "api.report_xlsx": RESULTS_READERS & REPORTABLE,
    "api.list_responses": CYCLE_PEOPLE,
    "api.get_response": ANSWER_READERS,
    "api.save": RESPONDENT & ANSWERING,
    "api.submit": RESPONDENT & ANSWERING,
}


def rule_for(endpoint: str, method: str) -> Rule | None:
    """The rule of ``endpoint`` for ``method``; None when the table does not declare it."""
    declared = ACCESS_RULES.get(endpoint)
    if isinstance(declared, Mapping):
        return declared.get(method)
    return declared
