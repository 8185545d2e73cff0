"""Who may use each route: the one table the access-control matrix checks.

``ACCESS_RULES`` maps every endpoint of the app (``app.url_map``) to the rule that says who
gets past its access checks: a :class:`Rule`, or a mapping of HTTP method to rule when
GET and POST differ. ``test_access_matrix.py`` sends every route, as every kind of person
(``PRINCIPALS``), to a cycle in every workflow state, and fails on any request whose
outcome the rule does not predict: above all, on any allowed request the rule denies.

A new route is one line here, built from the rules below, e.g.::

    "plans.edit": MANAGERS & state_in("validated", "closed"),

Outcomes: "denied" is a 4xx answer other than 400 and 422 (401, 403, 404, or 409 and 410
for what the workflow state forbids), or the redirect to the sign-in page; "refused" is a
400 or 422 answer, or a redirect with a warning, for a request that got past the access
checks but whose form or state a service refused (nothing changed); "allowed" is any
other 2xx or 3xx answer. A rule that denies must never meet "allowed"; a rule that
allows must never meet "denied".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from surveyapp.models import CycleState, Role

# --- Who is asking -----------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """A kind of person: a role held on the cycle's unit (or above it) or on another unit,
    assigned to the cycle or not; a partner holding an invitation link; or nobody."""

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

    @property
    def signed_in(self) -> bool:
        return self.role is not None

    def holds(self, *roles: Role) -> bool:
        """Holds one of ``roles`` on the cycle's unit (or above it)."""
        return self.unit == "own" and self.role in roles


PRINCIPALS: tuple[Principal, ...] = (
    Principal("anonymous"),
    Principal("partner link", partner=True),
    Principal("admin, own unit", Role.admin, "own"),
    Principal("admin, other unit", Role.admin, "other"),
    Principal("coordinator, own unit", Role.coordinator, "own"),
    Principal("coordinator, other unit", Role.coordinator, "other"),
    Principal("focal point, own unit, assigned, the respondent", Role.focal_point, "own",
              assigned=True, respondent=True),
    Principal("focal point, own unit, assigned, another respondent", Role.focal_point, "own",
              assigned=True),
    Principal("focal point, own unit, not assigned", Role.focal_point, "own"),
    Principal("focal point, other unit", Role.focal_point, "other"),
    Principal("validator, own unit, assigned", Role.validator, "own", assigned=True),
    Principal("validator, own unit, not assigned", Role.validator, "own"),
    Principal("validator, other unit", Role.validator, "other"),
    Principal("viewer, own unit", Role.viewer, "own"),
    Principal("viewer, other unit", Role.viewer, "other"),
)


# --- Rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A readable condition on who asks and the cycle's state (None for routes of no cycle)."""

    text: str
    allows: Callable[[Principal, CycleState | None], bool]

    def __and__(self, other: Rule) -> Rule:
        return Rule(f"{self.text}, {other.text}",
                    lambda who, state: self.allows(who, state) and other.allows(who, state))

    def __or__(self, other: Rule) -> Rule:
        return Rule(f"({self.text}) or ({other.text})",
                    lambda who, state: self.allows(who, state) or other.allows(who, state))


def state_in(*states: str) -> Rule:
    wanted = frozenset(CycleState(state) for state in states)
    return Rule(f"state in {{{', '.join(states)}}}", lambda _who, state: state in wanted)


def _assigned_as(role: Role) -> Callable[[Principal, CycleState | None], bool]:
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
#: ``may_follow_review``: the item's thread and decisions.
REVIEW_FOLLOWERS = VALIDATORS | MANAGERS | RESPONDENT
#: The addressee of a notice (the world's notices are the respondent's).
ADDRESSEE = Rule("the person the notice is for", lambda who, _state: who.respondent)
PARTNER_LINK = Rule("whoever holds a valid partner link", lambda who, _state: who.partner)

#: The world's responses are drafts, then submitted: none is returned, so they change only
#: while the cycle is open (returned items under review: tests/web/test_review.py).
ANSWERING = state_in("open")
REVIEWING = state_in("submitted", "in_review")
REPORTABLE = state_in("submitted", "in_review", "validated", "closed")
INVITING = state_in("draft", "open")
NOT_CLOSED = state_in("draft", "open", "submitted", "in_review", "validated")


# --- The table ---------------------------------------------------------------------------

ACCESS_RULES: Mapping[str, Rule | Mapping[str, Rule]] = {
    "static": EVERYONE,
    "auth.login": EVERYONE,
    "auth.logout": SIGNED_IN,
    "auth.password": SIGNED_IN,
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
    "respond.invitation_landing": PARTNER_LINK & ANSWERING,
    "respond.invitation_page": PARTNER_LINK & ANSWERING,
    "respond.invitation_autosave": PARTNER_LINK & ANSWERING,
    "respond.invitation_review": PARTNER_LINK & ANSWERING,
    "respond.invitation_submit": PARTNER_LINK & ANSWERING,
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
    "review.item": REVIEW_FOLLOWERS,
    "review.returned": REVIEW_FOLLOWERS,
    "review.decision": VALIDATORS & REVIEWING,
    "review.thread": (VALIDATORS | RESPONDENT) & REVIEWING,
    "review.cycle_validation": VALIDATORS | MANAGERS,
    "review.validate": VALIDATORS,
    "review.reopen": MANAGERS,
    "results.cycle_results": RESULTS_READERS,
    "results.report_page": RESULTS_READERS,
    "results.download_report": RESULTS_READERS & REPORTABLE,
}


def rule_for(endpoint: str, method: str) -> Rule | None:
    """The rule of ``endpoint`` for ``method``; None when the table does not declare it."""
    declared = ACCESS_RULES.get(endpoint)
    if isinstance(declared, Mapping):
        return declared.get(method)
    return declared
