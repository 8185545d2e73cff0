"""Database models; importing this package registers every table on ``db.metadata``."""

from surveyapp.models.api_tokens import ApiToken
from surveyapp.models.audit import AuditEvent
from surveyapp.models.cycles import Cycle, CycleParticipant, CycleState, ParticipantRole
from surveyapp.models.evidence import Evidence, EvidenceKind, EvidenceLink
from surveyapp.models.imports import SubmissionImport
from surveyapp.models.instruments import (
    InstrumentOverlay,
    InstrumentStatus,
    InstrumentVersion,
    PreviewAnswers,
)
from surveyapp.models.invitations import Invitation
from surveyapp.models.memberships import Membership, Role
from surveyapp.models.plans import (
    Action,
    ActionSource,
    ActionStatus,
    ProgressEntry,
    QuarterClosing,
    Recommendation,
    RecommendationKind,
    RecommendationStatus,
    StoredResult,
    TargetStage,
)
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
    "Action",
    "ActionSource",
    "ActionStatus",
    "Answer",
    "ApiToken",
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
    "InstrumentOverlay",
    "InstrumentStatus",
    "InstrumentVersion",
    "Invitation",
    "ItemReview",
    "Membership",
    "Notification",
    "ParticipantRole",
    "PreviewAnswers",
    "ProgressEntry",
    "QuarterClosing",
    "Recommendation",
    "RecommendationKind",
    "RecommendationStatus",
    "Response",
    "ResponseState",
    "ReviewMessage",
    "Role",
    "StoredResult",
    "SubmissionImport",
    "TargetStage",
    "Unit",
    "UnitKind",
    "User",
]
