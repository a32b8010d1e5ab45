"""The roles a person may hold (requirements.md, People). A person may hold several."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    REPORTER = "reporter", _("报修人")
    AGENT = "agent", _("值班员")
    DISPATCHER = "dispatcher", _("调度员")
    TECHNICIAN = "technician", _("维修工")
    TEAM_LEAD = "team_lead", _("班组长")
    EXPERT = "expert", _("技术专家")
    STOREKEEPER = "storekeeper", _("库管员")
    QC_INSPECTOR = "qc_inspector", _("质检员")
    MANAGER = "manager", _("主管")
    ADMIN = "admin", _("管理员")
    PARTNER = "partner", _("合作平台")  # a third-party system submitting orders by API (IN5)


# Roles that see every order (department scoping comes with departments).
ALL_ORDERS_ROLES = frozenset({Role.AGENT, Role.DISPATCHER, Role.MANAGER, Role.ADMIN})
STAFF_ROLES = frozenset(Role) - {Role.REPORTER, Role.PARTNER}
