"""Default message texts of supervision, registered with notify at start-up (apps.py).

Each reason has its own text, so no message is assembled from translated pieces.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from repairhub.notify.texts import register

# Template codes (Message.cause).
REMINDER = "supervision.reminder"
REMINDER_RESULT = "supervision.reminder_final"
URGED = "supervision.urged"
URGED_NOTE = "supervision.urged_note"
BREACH = {
    "accept": "supervision.breach_accept",
    "arrive": "supervision.breach_arrive",
    "complete": "supervision.breach_complete",
}
BREACH_OTHER = "supervision.breach"
URGES = "supervision.urges"
MANAGER = "supervision.manager"

# Parameters every text may use: number, category, place, status, technician.


def register_all() -> None:
    register(
        REMINDER,
        gettext_noop(
            "【报修云】第 %(count)s 次提醒：工单 %(number)s（%(category)s，%(place)s）尚未完成，"
            "请尽快处理。"
        ),
        subject=gettext_noop("工单 %(number)s 维修提醒"),
    )
    register(
        REMINDER_RESULT,
        gettext_noop(
            "【报修云】第 %(count)s 次提醒：工单 %(number)s（%(category)s，%(place)s）派给您已 "
            "%(hours)s 小时仍未完成，请报告维修结果：%(url)s"
        ),
        subject=gettext_noop("工单 %(number)s 请报告维修结果"),
    )
    register(
        URGED,
        gettext_noop(
            "【报修云】报修人催单（第 %(count)s 次）：工单 %(number)s（%(category)s，%(place)s），"
            "当前状态：%(status)s，维修人员：%(technician)s。"
        ),
        subject=gettext_noop("工单 %(number)s 报修人催单"),
    )
    register(
        URGED_NOTE,
        gettext_noop(
            "【报修云】报修人催单（第 %(count)s 次）：工单 %(number)s（%(category)s，%(place)s），"
            "当前状态：%(status)s，维修人员：%(technician)s。留言：%(note)s"
        ),
        subject=gettext_noop("工单 %(number)s 报修人催单"),
    )
    register(
        BREACH["accept"],
        gettext_noop(
            "【报修云】督办：工单 %(number)s（%(category)s，%(place)s）超过受理时限 %(due)s "
            "仍未受理，请跟进。"
        ),
        subject=gettext_noop("督办：工单 %(number)s 超时未受理"),
    )
    register(
        BREACH["arrive"],
        gettext_noop(
            "【报修云】督办：工单 %(number)s（%(category)s，%(place)s）超过到场时限 %(due)s，"
            "维修人员 %(technician)s 仍未到场，请跟进。"
        ),
        subject=gettext_noop("督办：工单 %(number)s 超时未到场"),
    )
    register(
        BREACH["complete"],
        gettext_noop(
            "【报修云】督办：工单 %(number)s（%(category)s，%(place)s）超过完成时限 %(due)s "
            "仍未完成，维修人员：%(technician)s，请跟进。"
        ),
        subject=gettext_noop("督办：工单 %(number)s 超时未完成"),
    )
    register(
        BREACH_OTHER,
        gettext_noop(
            "【报修云】督办：工单 %(number)s（%(category)s，%(place)s）超过服务时限 %(due)s，"
            "当前状态：%(status)s，维修人员：%(technician)s，请跟进。"
        ),
        subject=gettext_noop("督办：工单 %(number)s 超时"),
    )
    register(
        URGES,
        gettext_noop(
            "【报修云】督办：工单 %(number)s（%(category)s，%(place)s）报修人已催单 %(count)s 次，"
            "当前状态：%(status)s，维修人员：%(technician)s，请跟进。"
        ),
        subject=gettext_noop("督办：工单 %(number)s 多次催单"),
    )
    register(
        MANAGER,
        gettext_noop(
            "【报修云】督办升级：工单 %(number)s（%(category)s，%(place)s）督办 %(minutes)s "
            "分钟后仍未解决，当前状态：%(status)s，维修人员：%(technician)s，请及时处理。"
        ),
        subject=gettext_noop("督办升级：工单 %(number)s 仍未解决"),
    )
