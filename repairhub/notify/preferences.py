"""Who hears through which channel, and when.

- In-app messages reach everyone with an account, always.
- Besides, each person chooses SMS, e-mail, WeCom and DingTalk (NotificationPreference, edited
  on /notifications/preferences/). Without a choice: SMS for everyone but partner accounts.
- Robots: a person who chose WeCom or DingTalk is told in his team's group robot, with an @
  of his mobile. `NOTIFY_TEAM_ROBOTS` maps team codes to robot names of NOTIFY_CHANNELS
  ("*" for everyone else); no robot for his team, no robot message.
- Partner accounts (role partner) get a signed webhook when the `NOTIFY_WEBHOOK_CHANNEL`
  channel has an endpoint named after the account's username.
- Someone without an account (a reporter's phone, an e-mail address) gets SMS and/or e-mail.
- Quiet hours (his own, else NOTIFY_QUIET_HOURS) hold every message but in-app ones until
  they end, unless the message is urgent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from repairhub.accounts.roles import Role
from repairhub.lib.localcache import LocalCache

from .models import MessageChannel, NotificationPreference

CHOOSABLE = (
    MessageChannel.SMS,
    MessageChannel.EMAIL,
    MessageChannel.WECOM,
    MessageChannel.DINGTALK,
)
ROBOTS = (MessageChannel.WECOM, MessageChannel.DINGTALK)


@dataclass(frozen=True)
class Choice:
    """One person's standing choice (or the default one)."""

    channels: frozenset[str]  # besides in-app
    quiet: tuple[time, time] | None
    language: str = ""
    partner: bool = False  # a partner platform's account: its webhook, when configured


# Every message asks for its recipient's choice; people change it rarely (a save here clears
# this process's copy at once through the signal in apps.py, other processes within
# LOCAL_CACHE_SECONDS).
_choices: LocalCache[Choice] = LocalCache("notify-preferences")


@dataclass(frozen=True)
class Route:
    """One message to write: through `channel` to `address`, not before `hold_until`."""

    channel: str
    address: str
    hold_until: datetime | None = None


def default_quiet() -> tuple[time, time] | None:
    return settings.NOTIFY_QUIET_HOURS or None


def forget_choices(*args, **kwargs) -> None:
    """Signal receiver: a saved choice applies at once in this process."""
    _choices.clear()


def choice_for(user) -> Choice:
    return _choices.get(user.pk, lambda: _load_choice(user))  # type: ignore[return-value]


def _load_choice(user) -> Choice:
    roles = user.roles
    partner = Role.PARTNER in roles
    row = NotificationPreference.objects.filter(user=user).first()
    if row is not None:
        quiet = (row.quiet_start, row.quiet_end) if row.quiet_start and row.quiet_end else None
        return Choice(
            channels=frozenset(c for c in CHOOSABLE if getattr(row, c)),
            quiet=quiet,
            language=row.language,
            partner=partner,
        )
    partner_only = bool(roles) and roles <= {Role.PARTNER}
    return Choice(
        channels=frozenset() if partner_only else frozenset({MessageChannel.SMS}),
        quiet=default_quiet(),
        partner=partner,
    )


def quiet_until(now: datetime, quiet: tuple[time, time] | None) -> datetime | None:
    """When the quiet period `now` falls in ends (local time), or None outside one.

    A period may run over midnight (22:00–07:00); equal start and end mean none.
    """
    if not quiet or quiet[0] == quiet[1]:
        return None
    start, end = quiet
    local = timezone.localtime(now)
    today = local.date()
    at = local.time()
    if start < end:
        ends = datetime.combine(today, end, tzinfo=local.tzinfo) if start <= at < end else None
    elif at >= start:
        ends = datetime.combine(today + timedelta(days=1), end, tzinfo=local.tzinfo)
    elif at < end:
        ends = datetime.combine(today, end, tzinfo=local.tzinfo)
    else:
        ends = None
    return ends


def _channel_config(name: str) -> dict:
    return getattr(settings, "NOTIFY_CHANNELS", {}).get(name) or {}


def robot_for(user, channel: str) -> str:
    """The name of the robot of `channel` that speaks to `user`'s team, or ""."""
    robots = _channel_config(channel).get("robots") or {}
    team = user.team.code if user.team_id else ""
    mapping = settings.NOTIFY_TEAM_ROBOTS
    name = mapping.get(team) or mapping.get("*", "")
    return name if name in robots else ""


def webhook_for(user, choice: Choice | None = None) -> str:
    """The partner endpoint named after a partner account's username, or ""."""
    if not (choice or choice_for(user)).partner:
        return ""
    endpoints = _channel_config(settings.NOTIFY_WEBHOOK_CHANNEL).get("endpoints") or {}
    return user.username if user.username in endpoints else ""


def routes(
    who, *, allowed: tuple[str, ...] = (), urgent: bool = False, now: datetime | None = None
) -> tuple[list[Route], str]:
    """(routes, language) for one recipient (outbox.Recipient); `allowed` limits the channels
    (empty: any)."""
    now = now or timezone.now()
    user = who.user
    out: list[Route] = []
    if user is not None:
        choice = choice_for(user)
        out.append(Route(MessageChannel.IN_APP, ""))
        phone = who.phone or user.phone
        email = who.email or user.email
        if MessageChannel.SMS in choice.channels and phone:
            out.append(Route(MessageChannel.SMS, phone))
        if MessageChannel.EMAIL in choice.channels and email:
            out.append(Route(MessageChannel.EMAIL, email))
        for channel in ROBOTS:
            if channel in choice.channels and (robot := robot_for(user, channel)):
                out.append(Route(channel, robot))
        if endpoint := webhook_for(user, choice):
            out.append(Route(MessageChannel.WEBHOOK, endpoint))
        quiet, language = choice.quiet, choice.language
    else:
        if who.phone:
            out.append(Route(MessageChannel.SMS, who.phone))
        if who.email:
            out.append(Route(MessageChannel.EMAIL, who.email))
        quiet, language = default_quiet(), ""
    if allowed:
        out = [r for r in out if r.channel in allowed]
    hold = None if urgent else quiet_until(now, quiet)
    if hold is not None:
        out = [
            r if r.channel == MessageChannel.IN_APP else Route(r.channel, r.address, hold)
            for r in out
        ]
    return out, who.language or language


def save_choice(
    user,
    *,
    channels: set[str],
    quiet_start: time | None,
    quiet_end: time | None,
    language: str = "",
) -> NotificationPreference:
    """Store `user`'s choice (the form has checked it)."""
    row, _ = NotificationPreference.objects.update_or_create(
        user=user,
        defaults={
            **{c: c in channels for c in CHOOSABLE},
            "quiet_start": quiet_start,
            "quiet_end": quiet_end,
            "language": language,
        },
    )
    return row
