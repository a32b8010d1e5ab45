"""The outbox, for looking: what was sent to whom, what failed and why. The worker owns it."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from repairhub.lib.phones import mask_phone

from .models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "channel",
        "recipient",
        "order_number",
        "cause",
        "status",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", "channel", "cause"]
    search_fields = ["order_number", "cause", "user__username"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    fields = [
        "channel",
        "user",
        "recipient",
        "order_number",
        "cause",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
        "read_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("收件人"))
    def recipient(self, message: Message) -> str:
        if message.address:
            return mask_phone(message.address)
        return str(message.user) if message.user_id else ""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
