from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Language, MessageChannel
from .preferences import CHOOSABLE, ROBOTS, Choice, robot_for


class PreferenceForm(forms.Form):
    """A person's own channels and quiet hours. In-app messages are always on."""

    channels = forms.MultipleChoiceField(
        label=_("除站内消息外，还通过以下方式通知我"),
        choices=[(c, MessageChannel(c).label) for c in CHOOSABLE],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    quiet_start = forms.TimeField(
        label=_("免打扰开始"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": _("请填写时间，例如 22:00。")},
    )
    quiet_end = forms.TimeField(
        label=_("免打扰结束"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": _("请填写时间，例如 07:00。")},
    )
    language = forms.ChoiceField(
        label=_("消息语言"),
        choices=[("", _("跟随系统")), *Language.choices],
        required=False,
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["channels"].error_messages["invalid_choice"] = _(
            "没有“%(value)s”这种通知方式。"
        )

    @classmethod
    def initial_for(cls, choice: Choice) -> dict:
        start, end = choice.quiet or (None, None)
        return {
            "channels": sorted(choice.channels),
            "quiet_start": start,
            "quiet_end": end,
            "language": choice.language,
        }

    def clean(self):
        data = super().clean()
        start, end = data.get("quiet_start"), data.get("quiet_end")
        if (start is None) != (end is None) and not self.errors:
            raise forms.ValidationError(_("免打扰时段需要同时填写开始和结束时间，或都留空。"))
        if start is not None and start == end:
            raise forms.ValidationError(_("免打扰的开始和结束时间不能相同。"))
        channels = set(data.get("channels") or ())
        if MessageChannel.SMS in channels and not self.user.phone:
            self.add_error("channels", _("您的账号没有登记手机号，无法接收短信。"))
        if MessageChannel.EMAIL in channels and not self.user.email:
            self.add_error("channels", _("您的账号没有登记电子邮箱，无法接收邮件。"))
        for channel in ROBOTS:
            if channel in channels and not robot_for(self.user, channel):
                self.add_error(
                    "channels",
                    _("您所在的班组没有配置%(channel)s，请联系管理员。")
                    % {"channel": MessageChannel(channel).label},
                )
        return data
