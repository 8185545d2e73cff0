"""Demonstration units and accounts, one for each role, safe to create again and again."""

from __future__ import annotations

from dataclasses import dataclass

from surveyapp.models import Role, Unit, UnitKind
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
