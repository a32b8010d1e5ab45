"""The outbox for looking (what was sent to whom, every attempt, the dead letters) and for two
actions: sending dead messages again, and rewording message templates."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from repairhub.lib.phones import mask_phone

from . import services, texts
from .channels.base import TemplateSpec
from .models import Attempt, Message, MessageChannel, MessageStatus, MessageTemplate


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    fields = ["started_at", "finished_at", "ok", "detail", "provider_id"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class DeadLetterFilter(admin.SimpleListFilter):
    title = _("死信")
    parameter_name = "dead"

    def lookups(self, request, model_admin):
        return [("yes", _("仅发送失败的消息"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status=MessageStatus.DEAD)
        return queryset


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
    list_filter = [DeadLetterFilter, "status", "channel", "cause"]
    search_fields = ["order_number", "cause", "user__username", "key"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    actions = ["resend"]
    inlines = [AttemptInline]
    fields = [
        "channel",
        "user",
        "recipient",
        "order_number",
        "cause",
        "subject",
        "body",
        "key",
        "urgent",
        "language",
        "status",
        "attempts",
        "next_attempt_at",
        "lease_until",
        "last_error",
        "created_at",
        "sent_at",
        "read_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("收件人"))
    def recipient(self, message: Message) -> str:
        if message.channel == MessageChannel.SMS and message.address:
            return mask_phone(message.address)
        if message.address:
            return message.address
        return str(message.user) if message.user_id else ""

    @admin.action(description=_("重新发送"), permissions=["resend"])
    def resend(self, request, queryset):
        dead = list(queryset.filter(status=MessageStatus.DEAD).values_list("pk", flat=True))
        skipped = queryset.count() - len(dead)
        count = services.resend(dead)
        self.message_user(
            request,
            ngettext(
                "已将 %(count)d 条失败的消息重新排队发送。",
                "已将 %(count)d 条失败的消息重新排队发送。",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d 条消息不是发送失败状态，未作改动。",
                    "%(count)d 条消息不是发送失败状态，未作改动。",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("notify.change_message")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MessageTemplateForm(forms.ModelForm):
    code = forms.ChoiceField(label=_("模板"))

    class Meta:
        model = MessageTemplate
        fields = ["code", "channel", "language", "subject", "body", "sms_template"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [(code, code) for code in sorted(texts.TEXTS)]
        code = self.initial.get("code") or self.data.get("code")
        if code in texts.TEXTS:
            names = "、".join(f"%({n})s" for n in sorted(texts.allowed_params(code)))
            self.fields["body"].help_text = _("可用占位符：%(names)s") % {"names": names}

    def _check(self, field: str) -> str:
        value = self.cleaned_data.get(field, "")
        code = self.cleaned_data.get("code")
        if code and value:
            errors = texts.wording_errors(code, value)
            if errors:
                raise forms.ValidationError(errors)
        return value

    def clean_body(self) -> str:
        return self._check("body")

    def clean_subject(self) -> str:
        return self._check("subject")

    def clean_sms_template(self) -> str:
        value = self.cleaned_data.get("sms_template", "").strip()
        if not value:
            return ""
        try:
            spec = TemplateSpec.parse(value)
        except Exception:
            raise forms.ValidationError(
                _("请填写服务商模板编号，例如 SMS_460105 或 SMS_460105:number,technician。")
            ) from None
        code = self.cleaned_data.get("code")
        if code and spec.params:
            unknown = sorted(set(spec.params) - texts.allowed_params(code))
            if unknown:
                raise forms.ValidationError(
                    _("未知的变量名：%(names)s。") % {"names": "、".join(unknown)}
                )
        return value


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ["code", "channel", "language", "short_body", "updated_at"]
    list_filter = ["language", "channel", "code"]
    search_fields = ["code", "body"]

    @admin.display(description=_("内容"))
    def short_body(self, row: MessageTemplate) -> str:
        return texts.shorten(row.body, 60)
