"""Feedback data: ratings, follow-up visits, quality checks, warranty and rework, complaints,
supervision inspections."""

from .complaints import Complaint, ComplaintCategory, ComplaintEntry, Department
from .inspections import Finding, Inspection, Rectification
from .quality import ChecklistItem, Penalty, QcCheck, QcPhoto, SampleDraw, SamplingRule
from .ratings import Rating
from .visits import FollowUp, Referral, Visit
from .warranty import Rework, Warranty

__all__ = [
    "ChecklistItem",
    "Complaint",
    "ComplaintCategory",
    "ComplaintEntry",
    "Department",
    "Finding",
    "FollowUp",
    "Inspection",
    "Penalty",
    "QcCheck",
    "QcPhoto",
    "Rating",
    "Rectification",
    "Referral",
    "Rework",
    "SampleDraw",
    "SamplingRule",
    "Visit",
    "Warranty",
]
