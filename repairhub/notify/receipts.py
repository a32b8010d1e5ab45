"""Receipts (TM6): the reporter hears of every step; the technician gets his task at once.

Reporters are told by SMS with the tracking link (and in-app, and by the channels they chose,
when they have an account); followers of an order hear the same with their own link. An order
a partner platform submitted (channel partner) also goes to the partner's webhook when one is
configured under its username (preferences.webhook_for).

Staff hear of what concerns them inside the organisation: the technician of his new task
(in-app and his channels), dispatchers of a change request, the technician of its decision, an
expert of an escalation (DP4), a technician of an expert taking his order over. Change requests
and take-overs stay in the notification centre. Reporters are not told of these internal steps.

Called inside the transaction that wrote the event (workorders/subscribers.py), so the outbox
rows commit with the change; delivery is queued after commit. Every message goes through
outbox.post() with the texts registered here (`register_all`, from apps.py).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .models import MessageChannel
from .outbox import Recipient, post
from .texts import register

# What the reporter is told at each step; translated only when one is sent.
REPORTER_TEXTS = {
    "workorder.submitted": gettext_noop(
        "【报修云】您的报修已提交，单号 %(number)s。查看进度：%(url)s"
    ),
    "workorder.accepted": gettext_noop(
        "【报修云】报修单 %(number)s 已受理，我们会尽快安排维修人员。"
    ),
    "workorder.rejected": gettext_noop("【报修云】报修单 %(number)s 未能受理，原因：%(reason)s"),
    "workorder.dispatched": gettext_noop(
        "【报修云】报修单 %(number)s 已派给维修人员 %(technician)s。"
    ),
    "workorder.reassigned": gettext_noop(
        "【报修云】报修单 %(number)s 已改派给维修人员 %(technician)s。"
    ),
    "workorder.arrived": gettext_noop("【报修云】维修人员已到达，报修单 %(number)s 正在维修。"),
    "workorder.completed": gettext_noop(
        "【报修云】报修单 %(number)s 已完工，请确认并评价：%(url)s"
    ),
    "workorder.closed": gettext_noop("【报修云】报修单 %(number)s 已关闭，感谢您的反馈。"),
    "workorder.cancelled": gettext_noop("【报修云】报修单 %(number)s 已取消。"),
}
REPORTER_PARAMS = ("number", "url", "reason", "technician")

# The assignee's new task (on dispatch and on reassignment).
ASSIGNED = "workorder.assigned"
ASSIGNED_TEXT = gettext_noop(
    "【报修云】新工单 %(number)s：%(category)s，%(place)s。%(description)s"
)

STAFF_TEXTS = {
    "workorder.change_requested": gettext_noop(
        "【报修云】工单 %(number)s 有新的变更申请（%(kind)s）：%(summary)s。申请人 %(name)s，"
        "原因：%(reason)s"
    ),
    "workorder.change_approved": gettext_noop(
        "【报修云】您对工单 %(number)s 的变更申请（%(kind)s）已批准。%(note)s"
    ),
    "workorder.change_rejected": gettext_noop(
        "【报修云】您对工单 %(number)s 的变更申请（%(kind)s）被驳回，原因：%(reason)s"
    ),
    "workorder.escalated": gettext_noop(
        "【报修云】工单 %(number)s 请求专家支持：%(category)s，%(place)s。原因：%(reason)s"
    ),
    "workorder.taken_over": gettext_noop("【报修云】工单 %(number)s 已由专家 %(name)s 接手。"),
}
# Internal notices that stay in the notification centre.
IN_APP_ONLY = frozenset(
    {
        "workorder.change_requested",
        "workorder.change_approved",
        "workorder.change_rejected",
        "workorder.taken_over",
    }
)
STAFF_PARAMS = ("number", "reason", "note", "name", "category", "place", "kind", "summary")
URGENT = frozenset({"high", "critical"})


def register_all() -> None:
    for code, body in REPORTER_TEXTS.items():
        register(code, body, params=REPORTER_PARAMS)
    register(
        ASSIGNED,
        ASSIGNED_TEXT,
        subject=gettext_noop("新工单 %(number)s"),
        params=("number", "category", "place", "description", "urgency"),
    )
    for code, body in STAFF_TEXTS.items():
        register(
            code,
            body,
            channels=(MessageChannel.IN_APP,) if code in IN_APP_ONLY else (),
            params=STAFF_PARAMS,
        )


def _place(order) -> str:
    return str(order.place) if order.place_id else order.address


def _reporters(order) -> list[Recipient]:
    """Who hears the reporter's receipts: the reporter (by his account's choices when he has
    one, at the number on the order), and a partner platform's account besides."""
    from repairhub.accounts.roles import Role
    from repairhub.workorders.models import Channel

    reporter = order.reporter
    if reporter is not None and order.channel == Channel.PARTNER and Role.PARTNER in reporter.roles:
        return [Recipient(phone=order.reporter_phone), Recipient(user=reporter)]
    return [Recipient(user=reporter, phone=order.reporter_phone)]


def on_order_event(event) -> None:
    order = event.order
    data = event.data or {}
    if event.code in REPORTER_TEXTS:
        params = {
            "number": order.number,
            "url": order.tracking_url,
            "reason": data.get("reason", ""),
            "technician": data.get("technician_name", ""),
        }
        post(_reporters(order), event.code, params, order=order)
        if event.code != "workorder.submitted":
            for follower in order.followers.all():
                post(
                    [Recipient(user=follower.user, phone=follower.phone)],
                    event.code,
                    {**params, "url": follower.tracking_url},
                    order=order,
                )
    if event.code in ("workorder.dispatched", "workorder.reassigned") and order.assignee_id:
        post(
            [order.assignee],
            ASSIGNED,
            {
                "number": order.number,
                "category": order.category,
                "place": _place(order),
                "description": order.description,
                "urgency": order.get_urgency_display(),
            },
            order=order,
            urgent=order.urgency in URGENT,
        )
    _staff_messages(event)


def _staff_messages(event) -> None:
    if event.code not in STAFF_TEXTS:
        return
    from repairhub.accounts.models import User
    from repairhub.accounts.roles import Role
    from repairhub.workorders.models import ChangeKind, ChangeRequest

    order = event.order
    data = event.data or {}
    values = {
        "number": order.number,
        "reason": data.get("reason", ""),
        "note": _("审批说明：%(note)s") % {"note": data["note"]} if data.get("note") else "",
        "name": event.actor_label,
        "category": order.category,
        "place": _place(order),
        "kind": str(ChangeKind(data["kind"]).label)
        if data.get("kind") in ChangeKind.values
        else "",
        "summary": "",
    }
    if event.code == "workorder.change_requested":
        change = ChangeRequest.objects.select_related("new_category__parent").get(pk=data["change"])
        values["summary"] = change.summary[:60]
        dispatchers = User.objects.filter(
            is_active=True, role_grants__role=Role.DISPATCHER
        ).distinct()
        post(list(dispatchers), event.code, values, order=order)
    elif event.code in ("workorder.change_approved", "workorder.change_rejected"):
        change = ChangeRequest.objects.select_related("requested_by").get(pk=data["change"])
        post([change.requested_by], event.code, values, order=order)
    elif event.code == "workorder.escalated":
        post([order.expert], event.code, values, order=order)
    else:  # workorder.taken_over: the technician who had the order hears who took it.
        previous = data.get("previous")
        user = User.objects.filter(username=previous).first() if previous else None
        if user is not None:
            post([user], event.code, values, order=order)
