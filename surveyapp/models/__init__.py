"""Database models; importing this package registers every table on ``db.metadata``."""

from surveyapp.models.audit import AuditEvent
from surveyapp.models.cycles import Cycle, CycleParticipant, CycleState, ParticipantRole
from surveyapp.models.evidence import Evidence, EvidenceKind, EvidenceLink
from surveyapp.models.imports import SubmissionImport
from surveyapp.models.instruments import InstrumentStatus, InstrumentVersion
from surveyapp.models.invitations import Invitation
from surveyapp.models.memberships import Membership, Role
from surveyapp.models.responses import Answer, FrameworkNode, Response, ResponseState
from surveyapp.models.reviews import (
    Decision,
    EvidenceReview,
    ItemReview,
    Notification,
    ReviewMessage,
)
from surveyapp.models.units import Unit, UnitKind
from surveyapp.models.users import User

__all__ = [
    "Answer",
    "AuditEvent",
    "Cycle",
    "CycleParticipant",
    "CycleState",
    "Decision",
    "Evidence",
    "EvidenceKind",
    "EvidenceLink",
    "EvidenceReview",
    "FrameworkNode",
    "InstrumentStatus",
    "InstrumentVersion",
    "Invitation",
    "ItemReview",
    "Membership",
    "Notification",
    "ParticipantRole",
    "Response",
    "ResponseState",
    "ReviewMessage",
    "Role",
    "SubmissionImport",
    "Unit",
    "UnitKind",
    "User",
]
