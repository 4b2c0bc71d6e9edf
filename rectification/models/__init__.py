"""The rectification app's tables: the problem list, renovation cases complaints and leads."""

from .complaints import (
    OPEN_COMPLAINT_STATUSES,
    Complaint,
    ComplaintCategory,
    ComplaintDeadline,
    ComplaintStatus,
    ComplaintTransition,
    LeadTransfer,
)
from .phases import CampaignPhase, PlanItem
from .problems import Problem, ProblemTransition
from .renovation import (
    CASE_STEPS,
    CLOSED_CASE_STATUSES,
    MOVING_TYPES,
    CaseDocument,
    CaseStatus,
    CaseTransition,
    DocumentKind,
    RenovationCase,
    RenovationType,
    SubsidyPayment,
    SubsidyStandard,
)

__all__ = [
    "CASE_STEPS",
    "CLOSED_CASE_STATUSES",
    "MOVING_TYPES",
    "OPEN_COMPLAINT_STATUSES",
    "CampaignPhase",
    "CaseDocument",
    "CaseStatus",
    "CaseTransition",
    "Complaint",
    "ComplaintCategory",
    "ComplaintDeadline",
    "ComplaintStatus",
    "ComplaintTransition",
    "DocumentKind",
    "LeadTransfer",
    "PlanItem",
    "Problem",
    "ProblemTransition",
    "RenovationCase",
    "RenovationType",
    "SubsidyPayment",
    "SubsidyStandard",
]
