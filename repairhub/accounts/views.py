from __future__ import annotations

from django.shortcuts import redirect, render

from .roles import Role

# Where each role starts, most specific first. Filled in as the pages arrive.
START_PAGES: list[tuple[str, str]] = []


def home(request):
    """Send a signed-in person to the page of his main role; others to the report form."""
    user = request.user
    if user.is_authenticated:
        for role, url_name in START_PAGES:
            if role in user.roles:
                return redirect(url_name)
        if Role.ADMIN in user.roles:
            return redirect("admin:index")
    return render(request, "home.html")
