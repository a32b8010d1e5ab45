"""The only writes of analytics: freezing a month's appraisal and signing it off (AN5)."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from repairhub.workorders.errors import IllegalState, InvalidInput, NotAllowed, StaleVersion

from .access import SIGN_ROLES, require_appraiser
from .appraisal import month_figures
from .models import AppraisalMonth, AppraisalRow, AppraisalStatus, AppraisalWeights
from .periods import Period
from .rankings import min_orders

ROW_FIELDS = (
    "orders",
    "successes",
    "success_rate",
    "arrival_hours",
    "completion_hours",
    "rated",
    "mean_rating",
    "with_deadline",
    "on_time",
    "on_time_rate",
    "rework",
    "qc_failures",
    "complaints",
    "sub_scores",
    "score",
    "rank",
)


def _signed_refusal(month: date) -> IllegalState:
    return IllegalState(
        _("%(month)s 的考核已签字确认，不能重新计算。") % {"month": month.strftime("%Y-%m")},
        code="signed",
    )


def compute_appraisal(month: date, *, by) -> AppraisalMonth:
    """Compute the month's scores with the current weights and freeze them as a snapshot.

    A month not yet signed is replaced as a whole (new rows, version + 1); a signed month is
    refused. A month that has not begun cannot be computed.
    """
    require_appraiser(by)
    month = month.replace(day=1)
    if month > timezone.localdate():
        raise InvalidInput(_("该月份尚未开始，无法计算考核。"), field="month")
    weights = AppraisalWeights.current()
    period = Period.month(month)
    figures = month_figures(period, weights)
    now = timezone.now()
    try:
        with transaction.atomic():
            appraisal, created = AppraisalMonth.objects.select_for_update().get_or_create(
                month=month,
                defaults={
                    "weights": weights.as_dict(),
                    "min_orders": min_orders(),
                    "computed_at": now,
                    "computed_by": by,
                },
            )
            if not created:
                if appraisal.is_signed:
                    raise _signed_refusal(month)
                updated = AppraisalMonth.objects.filter(
                    pk=appraisal.pk, status=AppraisalStatus.DRAFT
                ).update(
                    version=F("version") + 1,
                    weights=weights.as_dict(),
                    min_orders=min_orders(),
                    computed_at=now,
                    computed_by=by,
                )
                if not updated:
                    raise _signed_refusal(month)
                appraisal.rows.all().delete()
            AppraisalRow.objects.bulk_create(
                AppraisalRow(
                    appraisal=appraisal,
                    technician_id=row["technician_id"],
                    name=row["name"],
                    **{k: row[k] for k in ROW_FIELDS},
                )
                for row in figures
            )
    except IntegrityError:
        # Another manager created the month at the same moment: his computation stands.
        raise StaleVersion(
            _("%(month)s 的考核刚被他人计算，请刷新后查看。") % {"month": month.strftime("%Y-%m")}
        ) from None
    appraisal.refresh_from_db()
    return appraisal


def sign_appraisal(appraisal: AppraisalMonth, *, by, version: int | None = None) -> AppraisalMonth:
    """A manager signs the month off: from now on nothing changes it.

    `version` is the computation the manager looked at; a newer one (recomputed meanwhile) is
    refused so nobody signs figures he has not seen. The month must be over.
    """
    if not (getattr(by, "is_authenticated", False) and by.has_role(*SIGN_ROLES)):
        raise NotAllowed(_("只有主管可以签字确认考核。"))
    if appraisal.is_signed:
        raise IllegalState(_("该月考核已经签字确认。"), code="signed")
    if Period.month(appraisal.month).end >= timezone.localdate():
        raise IllegalState(_("该月尚未结束，月末之后才能签字确认。"), code="month_open")
    expected = appraisal.version if version is None else version
    updated = AppraisalMonth.objects.filter(
        pk=appraisal.pk, status=AppraisalStatus.DRAFT, version=expected
    ).update(status=AppraisalStatus.SIGNED, signed_at=timezone.now(), signed_by=by)
    if not updated:
        raise StaleVersion(_("考核结果已被重新计算或已签字，请刷新后核对再签字。"))
    appraisal.refresh_from_db()
    return appraisal
