"""The rectification app's tables: the problem list, renovation cases and (later) complaints and leads."""

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
    "CaseDocument",
    "CaseStatus",
    "CaseTransition",
    "DocumentKind",
    "Problem",
    "ProblemTransition",
    "RenovationCase",
    "RenovationType",
    "SubsidyPayment",
    "SubsidyStandard",
]
