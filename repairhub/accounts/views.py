from __future__ import annotations

from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from .roles import Role

# Where each role starts, most specific first.
START_PAGES: list[tuple[str, str]] = [
    (Role.DISPATCHER, "workorders:dispatch-board"),
    (Role.TEAM_LEAD, "workorders:dispatch-board"),
    (Role.AGENT, "intake:desk"),
    (Role.TECHNICIAN, "workorders:tech-list"),
    (Role.EXPERT, "workorders:tech-list"),
    (Role.MANAGER, "workorders:order-list"),
    (Role.QC_INSPECTOR, "workorders:order-list"),
    (Role.ADMIN, "workorders:order-list"),
    (Role.REPORTER, "intake:my-orders"),
]


def home(request):
    """Send a signed-in person to the page of his main role; others to the report form."""
    user = request.user
    if user.is_authenticated:
        for role, url_name in START_PAGES:
            if role in user.roles:
                try:
                    return redirect(reverse(url_name))
                except NoReverseMatch:
                    continue  # that page is not built yet
        if Role.ADMIN in user.roles:
            return redirect("admin:index")
    return render(request, "home.html")
