"""Writes of the rectification app: the problem list, renovation cases and complaints (one module each, one table of
moves each: PROBLEM_MOVES, CASE_MOVES, COMPLAINT_MOVES, housing_safety.workflow.Workflow)."""

from .complaints import (
    COMPLAINT_MOVES,
    confirm_lead_receipt,
    log_complaint,
    lookup,
    move_complaint,
    open_problem_for_complaint,
    record_lead,
    record_lead_feedback,
)
from .lead_returns import check_lead_return, file_lead_return
from .problems import PROBLEM_MOVES, move_problem, open_problems_for_findings, phase_on, save_problem
from .renovation import (
    CASE_MOVES,
    add_case_documents,
    move_case,
    open_case,
    record_construction_check,
    record_supplementary_payment,
    register_new_dwelling,
    save_case,
)

__all__ = [
    "CASE_MOVES",
    "COMPLAINT_MOVES",
    "PROBLEM_MOVES",
    "add_case_documents",
    "check_lead_return",
    "confirm_lead_receipt",
    "file_lead_return",
    "log_complaint",
    "lookup",
    "move_case",
    "move_complaint",
    "move_problem",
    "open_case",
    "open_problem_for_complaint",
    "open_problems_for_findings",
    "phase_on",
    "record_construction_check",
    "record_lead",
    "record_lead_feedback",
    "record_supplementary_payment",
    "register_new_dwelling",
    "save_case",
    "save_problem",
]
