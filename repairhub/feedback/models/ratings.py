"""The reporter's satisfaction rating of one order (FQ1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Dimensions, in the order the form shows them: (field, label).
TECHNICIAN_SCORES = (
    ("timeliness", _("维修及时")),
    ("quality", _("维修质量")),
    ("attitude", _("服务态度")),
    ("result", _("维修结果")),
)
AGENT_SCORES = (
    ("agent_attitude", _("值班员接线态度")),
    ("agent_response", _("值班员响应速度")),
    ("agent_handling", _("值班员处理办法")),
)
PRICE_SCORES = (("price_transparency", _("收费透明")),)
ALL_SCORES = TECHNICIAN_SCORES + AGENT_SCORES + PRICE_SCORES
SCORE_LABELS = dict(ALL_SCORES)


def _score(label, *, optional: bool = False) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(label, null=optional, blank=optional)


class Rating(models.Model):
    """One per order, by its reporter, written together with his confirmation.

    `overall` is the rounded mean of the four technician scores and is what the order's own
    `rating` column holds. An automatic confirmation writes no Rating.
    """

    order = models.OneToOneField(
        "workorders.WorkOrder",
        verbose_name=_("工单"),
        on_delete=models.CASCADE,
        related_name="feedback_rating",
    )
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("维修人员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记值班员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    timeliness = _score(_("维修及时"))
    quality = _score(_("维修质量"))
    attitude = _score(_("服务态度"))
    result = _score(_("维修结果"))
    agent_attitude = _score(_("值班员接线态度"), optional=True)
    agent_response = _score(_("值班员响应速度"), optional=True)
    agent_handling = _score(_("值班员处理办法"), optional=True)
    price_transparency = _score(_("收费透明"), optional=True)
    overall = models.PositiveSmallIntegerField(_("综合评分"))
    comment = models.TextField(_("评价"), blank=True)
    channel = models.CharField(_("渠道"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("评价时间"), default=timezone.now)
    changed_at = models.DateTimeField(_("修改时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("满意度评价")
        verbose_name_plural = _("满意度评价")
        ordering = ["-created_at"]
        indexes = [
            # Satisfaction rankings: a technician's ratings over a period.
            models.Index(fields=["technician", "created_at"], name="rating_tech_created"),
            models.Index(fields=["agent", "created_at"], name="rating_agent_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    timeliness__gte=1,
                    timeliness__lte=5,
                    quality__gte=1,
                    quality__lte=5,
                    attitude__gte=1,
                    attitude__lte=5,
                    result__gte=1,
                    result__lte=5,
                    overall__gte=1,
                    overall__lte=5,
                ),
                name="rating_scores_1_5",
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{name}__isnull": True})
                    | Q(**{f"{name}__gte": 1, f"{name}__lte": 5}),
                    name=f"rating_{name}_1_5",
                )
                for name, _label in AGENT_SCORES + PRICE_SCORES
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.overall}"

    def editable_until(self):
        from datetime import timedelta

        return self.created_at + timedelta(hours=settings.FEEDBACK_RATING_EDIT_HOURS)

    @property
    def is_editable(self) -> bool:
        return timezone.now() <= self.editable_until()

    def scores(self) -> list[tuple[str, str, int]]:
        """(field, label, score) of every dimension this rating has."""
        return [
            (name, str(label), getattr(self, name))
            for name, label in ALL_SCORES
            if getattr(self, name) is not None
        ]
