"""``/admin/audit``: filter the audit log and export it as CSV. Every route only reads."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from surveyapp.auth.sessions import signed_in_user
from surveyapp.services.access import require
from surveyapp.services.audit_search import (
    PAGE_SIZE,
    AuditFilter,
    administered_units,
    export_csv,
    known_actions,
    search,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

ADMINS_ONLY = _l("The audit log is for administrators.")


def _date(name: str, problems: list[str]) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(_("“%(raw)s” is not a date: write it as YYYY-MM-DD, e.g. 2026-11-22.",
                          raw=raw))
        return None


def _filter_from_request(problems: list[str]) -> AuditFilter:
    cycle = request.args.get("cycle", "").strip()
    if cycle and not cycle.isdigit():
        problems.append(_("“%(cycle)s” is not a cycle number: give digits only, e.g. 12.",
                          cycle=cycle))
    return AuditFilter(
        action=request.args.get("action", "").strip(),
        entity_type=request.args.get("entity_type", "").strip(),
        entity_id=request.args.get("entity_id", "").strip(),
        actor=request.args.get("actor", "").strip(),
        cycle_id=int(cycle) if cycle.isdigit() else None,
        since=_date("since", problems),
        until=_date("until", problems),
    )


def _administered() -> list[int]:
    units = administered_units(signed_in_user())
    require(bool(units), ADMINS_ONLY)
    return units


@bp.get("/audit")
@login_required
def audit() -> tuple[str, int]:
    units = _administered()
    problems: list[str] = []
    audit_filter = _filter_from_request(problems)
    events = search(audit_filter, units, older_than=request.args.get("older_than", type=int))
    query = {key: value for key, value in request.args.items() if key != "older_than" and value}
    return render_template(
        "admin/audit.html", events=events, audit_filter=audit_filter, problems=problems,
        actions=known_actions(units), query=query,
        older_than=events[-1].id if len(events) == PAGE_SIZE else None,
    ), 400 if problems else 200


@bp.get("/audit.csv")
@login_required
def audit_csv() -> Response:
    units = _administered()
    problems: list[str] = []
    audit_filter = _filter_from_request(problems)
    if problems:
        abort(400, description=" ".join(problems))
    return Response(
        stream_with_context(export_csv(audit_filter, units)),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )
