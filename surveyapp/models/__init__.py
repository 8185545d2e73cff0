"""Database models; importing this package registers every table on ``db.metadata``."""

from surveyapp.models.memberships import Membership, Role
from surveyapp.models.units import Unit, UnitKind
from surveyapp.models.users import User

__all__ = ["Membership", "Role", "Unit", "UnitKind", "User"]
