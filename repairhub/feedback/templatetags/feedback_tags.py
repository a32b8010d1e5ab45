"""Template tags other apps' pages use to show feedback data.

{% rework_links order as links %}   the orders this one is the rework of, and its reworks
{% feedback_panel order user %}     the staff order page's panel 回访与质量, or nothing
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import template
from django.db.models import Count, F, OuterRef, Prefetch, Q, Subquery
from django.urls import reverse

from repairhub.workorders.access import can_see
from repairhub.workorders.models import WorkOrder
from repairhub.workorders.states import Status

from ..models import Complaint, FollowUp, Penalty, QcCheck, QcPhoto, Rating, Referral, Rework, Visit
from ..models.ratings import AGENT_SCORES, PRICE_SCORES
from ..services.common import DESK, MANAGEMENT
from ..services.complaints import visible_complaints
from ..services.quality import CHECKABLE, INSPECTORS
from ..services.ratings import is_auto_confirmed
from ..states import ReferralStatus, SampleReason

register = template.Library()


@register.simple_tag
def rework_links(order) -> dict:
    """The order's rework links, for its page, in one query with the linked orders joined:
    `original` (the orders it is the rework of) and `reworks` (orders doing it again). A QC
    failure that reopened the order itself links it to itself; that is no link to show."""
    rows = (
        Rework.objects.filter(Q(rework=order) | Q(original=order))
        .exclude(original_id=F("rework_id"))
        .select_related("original", "rework")
        .order_by("created_at", "id")
    )
    links: dict[str, list] = {"original": [], "reworks": []}
    for row in rows:
        if row.rework_id == order.pk:
            links["original"].append(row.original)
        else:
            links["reworks"].append(row.rework)
    return links


# --- the order page's panel 回访与质量 ---------------------------------------------------------------

MAX_SCORE = 5
AGENT_NAMES = frozenset(name for name, _label in AGENT_SCORES)
PRICE_NAMES = frozenset(name for name, _label in PRICE_SCORES)


@dataclass
class ScoreRow:
    name: str
    label: str
    score: int

    @property
    def group(self) -> str:
        if self.name in AGENT_NAMES:
            return "agent"
        return "price" if self.name in PRICE_NAMES else "technician"

    @property
    def stars(self) -> str:
        return "★" * self.score + "☆" * (MAX_SCORE - self.score)


@dataclass
class CheckRow:
    check: QcCheck
    reasons: list[str]
    photos: int
    penalty: Penalty | None
    rework_order: WorkOrder | None  # a new order for the rework (the checked one was closed)
    url: str = ""  # where the viewer may follow it; "" when no page of his shows it
    url_kind: str = ""  # "check": the check's page (inspectors); "period": its draw's rate


@dataclass
class OrderPanel:
    """What the order page says about closing the loop, already cut to what the viewer may
    see. `is_empty` when there is nothing to say."""

    order: WorkOrder
    rating: Rating | None = None
    scores: list[ScoreRow] = field(default_factory=list)
    auto_confirmed: bool = False
    follow_up: FollowUp | None = None
    visits: list[Visit] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    checks: list[CheckRow] = field(default_factory=list)
    complaints: list[Complaint] = field(default_factory=list)
    visit_queue_url: str = ""
    referrals_url: str = ""

    @property
    def has_follow_up(self) -> bool:
        return self.follow_up is not None or bool(self.referrals)

    @property
    def never_sampled(self) -> bool:
        return not self.checks and self.order.status in CHECKABLE

    @property
    def is_empty(self) -> bool:
        return (
            not (self.rating or self.auto_confirmed or self.has_follow_up or self.checks)
            and not self.complaints
        )


def _check_rows(order: WorkOrder, user) -> list[CheckRow]:
    """The order's checks with photo counts, penalties and rework orders, in one query."""
    photos = (
        QcPhoto.objects.filter(check_row=OuterRef("pk"))
        .order_by()
        .values("check_row")
        .annotate(n=Count("pk"))
        .values("n")
    )
    checks = (
        QcCheck.objects.filter(order=order)
        .select_related("inspector", "technician", "penalty", "rework_order", "draw")
        .defer("draw__population", "draw__targeted", "draw__picked")
        .annotate(photo_count=Subquery(photos))
        .order_by("created_at", "id")
    )
    labels = dict(SampleReason.choices)
    inspector = user.has_role(*INSPECTORS)
    manager = user.has_role(*MANAGEMENT)
    rows = []
    for check in checks:
        draw = check.draw
        url, url_kind = "", ""
        if inspector:
            url, url_kind = reverse("feedback:qc-check", args=[check.pk]), "check"
        elif manager:  # the check page is the inspectors'; managers see the period's rate
            query = urlencode({"start": draw.period_start, "end": draw.period_end})
            url, url_kind = f"{reverse('feedback:qc-queue')}?{query}", "period"
        rework = check.rework_order
        rows.append(
            CheckRow(
                check=check,
                reasons=[str(labels.get(reason, reason)) for reason in check.reasons],
                photos=check.photo_count or 0,
                penalty=getattr(check, "penalty", None),
                rework_order=rework if rework is not None and rework.pk != order.pk else None,
                url=url,
                url_kind=url_kind,
            )
        )
    return rows


def order_panel(order: WorkOrder, user) -> OrderPanel:
    """The panel's content for `user`, in the same few queries however many visits, checks
    or complaints the order has. Staff who may see the order only: a reporter, even signed in,
    gets an empty panel. Complaints are those the complaints list shows him
    (`visible_complaints`), and the panel never says who complained: whoever may know follows
    the link to the complaint's page, which decides (`shows_identity`)."""
    panel = OrderPanel(order)
    if not getattr(user, "is_staff_member", False) or not can_see(user, order):
        return panel
    panel.rating = Rating.objects.filter(order=order).first()
    if panel.rating is not None:
        panel.scores = [ScoreRow(*row) for row in panel.rating.scores()]
    elif order.status == Status.CLOSED:
        panel.auto_confirmed = is_auto_confirmed(order)
    panel.follow_up = (
        FollowUp.objects.filter(order=order)
        .prefetch_related(Prefetch("visits", queryset=Visit.objects.select_related("by")))
        .first()
    )
    if panel.follow_up is not None:
        panel.visits = list(panel.follow_up.visits.all())
        if panel.follow_up.is_due and user.has_role(*DESK):
            panel.visit_queue_url = reverse("feedback:visit-queue")
    panel.referrals = list(
        Referral.objects.filter(order=order)
        .select_related("closed_by")
        .order_by("created_at", "id")
    )
    if user.has_role(*MANAGEMENT) and any(r.status == ReferralStatus.OPEN for r in panel.referrals):
        panel.referrals_url = reverse("feedback:referrals")
    panel.checks = _check_rows(order, user)
    panel.complaints = list(
        visible_complaints(user)
        .filter(order=order)
        .select_related("category", "department")
        .order_by("created_at", "id")
    )
    return panel


@register.inclusion_tag("feedback/_order_panel.html")
def feedback_panel(order, user) -> dict:
    return {"panel": order_panel(order, user)}
