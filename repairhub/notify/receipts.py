"""Receipts (TM6): the reporter hears of every step; the technician gets his task at once.

Staff hear of what concerns them inside the organisation (in-app, SMS where the dispatch
message uses it): dispatchers of a change request, the technician of its decision, an expert
of an escalation (DP4), a technician of an expert taking his order over. Reporters are not told
of these internal steps.

Called inside the transaction that wrote the event (workorders/subscribers.py), so the outbox
rows commit with the change; delivery is queued after commit.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from repairhub.lib.rows import insert_row

from .models import Message, MessageChannel

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


def _reporter_text(event) -> str | None:
    template = REPORTER_TEXTS.get(event.code)
    if template is None:
        return None
    order = event.order
    data = event.data or {}
    return _(template) % {
        "number": order.number,
        "url": order.tracking_url,
        "reason": data.get("reason", ""),
        "technician": data.get("technician_name", ""),
    }


def on_order_event(event) -> None:
    order = event.order
    messages = []
    text = _reporter_text(event)
    if text:
        messages.append(
            Message(
                channel=MessageChannel.SMS,
                address=order.reporter_phone,
                user=order.reporter,
                cause=event.code,
                order_number=order.number,
                body=text,
            )
        )
    if text and event.code != "workorder.submitted":
        for follower in order.followers.all():
            messages.append(
                Message(
                    channel=MessageChannel.SMS,
                    address=follower.phone,
                    user=follower.user,
                    cause=event.code,
                    order_number=order.number,
                    body=text.replace(order.tracking_url, follower.tracking_url),
                )
            )
    if event.code in ("workorder.dispatched", "workorder.reassigned") and order.assignee_id:
        place = str(order.place) if order.place_id else order.address
        body = _("【报修云】新工单 %(number)s：%(category)s，%(place)s。%(description)s") % {
            "number": order.number,
            "category": order.category,
            "place": place,
            "description": order.description[:60],
        }
        messages.append(
            Message(
                channel=MessageChannel.IN_APP,
                user=order.assignee,
                cause=event.code,
                order_number=order.number,
                body=body,
            )
        )
        if order.assignee.phone:
            messages.append(
                Message(
                    channel=MessageChannel.SMS,
                    address=order.assignee.phone,
                    user=order.assignee,
                    cause=event.code,
                    order_number=order.number,
                    body=body,
                )
            )
    messages += _staff_messages(event)
    if not messages:
        return
    ids = [insert_row(m).pk for m in messages]

    def enqueue():
        from .tasks import deliver_messages

        deliver_messages(ids)

    if ids:
        transaction.on_commit(enqueue)


# --- staff messages: change requests and experts -------------------------------------------

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


def _in_app(user, event, body: str) -> Message:
    return Message(
        channel=MessageChannel.IN_APP,
        user=user,
        cause=event.code,
        order_number=event.order.number,
        body=body,
    )


def _staff_messages(event) -> list[Message]:
    template = STAFF_TEXTS.get(event.code)
    if template is None:
        return []
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
        "place": str(order.place) if order.place_id else order.address,
        "kind": str(ChangeKind(data["kind"]).label)
        if data.get("kind") in ChangeKind.values
        else "",
        "summary": "",
    }
    if event.code == "workorder.change_requested":
        change = ChangeRequest.objects.select_related("new_category__parent").get(pk=data["change"])
        values["summary"] = change.summary[:60]
        body = _(template) % values
        dispatchers = User.objects.filter(
            is_active=True, role_grants__role=Role.DISPATCHER
        ).distinct()
        return [_in_app(u, event, body) for u in dispatchers]
    if event.code in ("workorder.change_approved", "workorder.change_rejected"):
        change = ChangeRequest.objects.select_related("requested_by").get(pk=data["change"])
        return [_in_app(change.requested_by, event, _(template) % values)]
    if event.code == "workorder.escalated":
        expert = order.expert
        body = _(template) % values
        out = [_in_app(expert, event, body)]
        if expert.phone:
            out.append(
                Message(
                    channel=MessageChannel.SMS,
                    address=expert.phone,
                    user=expert,
                    cause=event.code,
                    order_number=order.number,
                    body=body,
                )
            )
        return out
    # workorder.taken_over: the technician who had the order hears who took it.
    previous = data.get("previous")
    user = User.objects.filter(username=previous).first() if previous else None
    return [_in_app(user, event, _(template) % values)] if user is not None else []
