"""The notification centre (/notifications/) and each person's notification settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from . import preferences, services
from .forms import PreferenceForm
from .models import Message

PAGE_SIZE = 30


@login_required
def inbox(request):
    """The signed-in person's in-app messages, newest first, unread ones marked."""
    rows = Message.objects.inbox(request.user).order_by("-created_at", "-pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/message_inbox.html",
        {"page": page, "unread": services.unread_for(request.user)},
    )


@login_required
@require_POST
def mark_read(request, message_id: int):
    if not services.mark_read(request.user, [message_id]):
        if not Message.objects.inbox(request.user).filter(pk=message_id).exists():
            raise Http404(_("没有这条消息。"))
    return redirect(_back(request))


@login_required
@require_POST
def mark_all_read(request):
    count = services.mark_read(request.user)
    messages.success(
        request,
        ngettext("已将 %(count)d 条消息标为已读。", "已将 %(count)d 条消息标为已读。", count)
        % {"count": count},
    )
    return redirect(_back(request))


def _back(request) -> str:
    """The inbox page the form was on."""
    page = request.POST.get("page", "")
    url = reverse("notify:inbox")
    return f"{url}?page={page}" if page.isdigit() else url


@login_required
def preference_edit(request):
    """The person's own channels, quiet hours and message language."""
    user = request.user
    if request.method == "POST":
        form = PreferenceForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            preferences.save_choice(
                user,
                channels=set(data["channels"]),
                quiet_start=data["quiet_start"],
                quiet_end=data["quiet_end"],
                language=data["language"],
            )
            messages.success(request, _("通知设置已保存。"))
            return redirect("notify:preferences")
    else:
        form = PreferenceForm(
            initial=PreferenceForm.initial_for(preferences.choice_for(user)), user=user
        )
    return render(request, "notify/preference_form.html", {"form": form})
