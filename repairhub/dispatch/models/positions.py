"""Where technicians have been: the reports their phones send while on duty (DP3)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Position(models.Model):
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="positions"
    )
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6)
    accuracy = models.PositiveIntegerField(_("精度（米）"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("定位时间"), default=timezone.now)

    class Meta:
        verbose_name = _("位置")
        verbose_name_plural = _("位置")
        indexes = [models.Index(fields=["technician", "-recorded_at"], name="position_track")]

    def __str__(self) -> str:
        return f"{self.technician} {self.latitude},{self.longitude}"
