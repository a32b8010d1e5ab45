"""The supervision board (TM4): overdue and at-risk orders, refreshing itself."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render

from repairhub.accounts.roles import Role
from repairhub.workorders.views import page_for

from .forms import BoardFilterForm
from .queries import board as build_board

BOARD_ROLES = (Role.MANAGER, Role.TEAM_LEAD, Role.DISPATCHER, Role.ADMIN)


@page_for(*BOARD_ROLES)
def board(request):
    form = BoardFilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    filters = form.filters() if form.is_bound and valid else {}
    context = {
        "form": form,
        "board": build_board(request.user, **filters) if valid else None,
        "refresh": max(int(settings.SLA_BOARD_REFRESH_SECONDS), 5),
    }
    if request.htmx:
        return render(request, "sla/board.html#board", context)
    return render(request, "sla/board.html", context, status=200 if valid else 400)
