"""Draws docs/workflows/workorders.md from the transition table, so the doc cannot drift.

Regenerate with: .venv/bin/python -m repairhub.workorders.workflow_doc > docs/workflows/workorders.md
(a test fails when the committed file differs from what the table says).
"""

from __future__ import annotations

import os

from .states import (
    CHANGE_DECIDABLE,
    EVENT_CODES,
    REPORTER_LABELS,
    TERMINAL,
    TRANSITIONS,
    Guard,
    Relation,
    Status,
)

RELATION_WORDS = {
    Relation.ANY: "any order he can see",
    Relation.ASSIGNEE: "only the assigned technician",
    Relation.REPORTER: "only the order's reporter (account or private link)",
    Relation.TEAM_LEAD: "lead of the assigned technician's team",
    Relation.EXPERT: "only the expert the order is escalated to",
}

GUARD_WORDS = {
    Guard.NO_PENDING_CHANGE: "no change request awaits a decision",
    Guard.PENDING_CHANGE: "a change request awaits a decision",
    Guard.EXPERT_NOT_ASSIGNEE: "the expert is not the assignee yet",
    Guard.URGE_DUE: "waited SUPERVISION_URGE_AFTER_MINUTES since submission and the last urge; "
    "fewer than SUPERVISION_URGE_PER_DAY urges today",
}


def render_markdown() -> str:
    from django.utils import translation

    with translation.override("zh-hans"):
        lines = [
            "# Work-order lifecycle",
            "",
            "Generated from `repairhub/workorders/states.py` by `repairhub/workorders/workflow_doc.py`;",
            "do not edit by hand. `lifecycle.apply()` is the only code that moves an order between",
            "states: it checks visibility (404), the table's roles and relation (403), the source",
            "state and the row's guard (409), the input (422), and wins races with a conditional",
            "UPDATE on (status, version) (409 for the loser). Every applied row writes one event.",
            "",
            "```mermaid",
            "stateDiagram-v2",
            "    [*] --> submitted",
        ]
        edges: list[str] = []
        for rule in TRANSITIONS:
            for source in sorted(rule.sources):
                target = rule.target or source
                edge = f"    {source} --> {target}: {rule.action.value}"
                if edge not in edges:
                    edges.append(edge)
        lines += edges
        lines += [f"    {s} --> [*]" for s in sorted(TERMINAL)]
        lines += [
            "```",
            "",
            "## States",
            "",
            "| code | 中文 | reporter sees | terminal |",
            "|---|---|---|---|",
        ]
        for status in Status:
            lines.append(
                f"| `{status.value}` | {status.label} | {REPORTER_LABELS[status].label} | "
                f"{'yes' if status in TERMINAL else ''} |"
            )
        lines += [
            "",
            "## Transitions",
            "",
            "| action | 中文 | from | to | who (role: relation) | required input | guard | event |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for rule in TRANSITIONS:
            who = "; ".join(f"{role}: {RELATION_WORDS[rel]}" for role, rel in rule.who)
            lines.append(
                f"| `{rule.action.value}` | {rule.action.label} | "
                f"{', '.join(f'`{s}`' for s in sorted(rule.sources))} | "
                f"`{(rule.target or 'unchanged')}` | {who} | "
                f"{', '.join(rule.required) or '—'} | "
                f"{GUARD_WORDS[rule.guard] if rule.guard else '—'} | `{EVENT_CODES[rule.action]}` |"
            )
        lines += [
            "",
            "Besides the table: `workorder.submitted` (creation, any channel), "
            "`workorder.attachment_added` and `workorder.followed` are events that do not change "
            "the state. Categories set to auto-accept are accepted by the system right after "
            "submission (actor 系统, channel `system`).",
            "",
            "Change requests (工单变更): at most one per order awaits a decision (a partial "
            "unique index backs the guard). Approval applies it to the order in the same "
            "transaction: `category` replaces the category (it must still be active), `measures` "
            "replaces the measures, `deadline` sets `due_at` (later than now and than the current "
            "one), `extra_work` is appended to the measures as a new paragraph. An order that "
            "leaves "
            f"{', '.join(f'`{s}`' for s in sorted(CHANGE_DECIDABLE))} (declined, completed, "
            "cancelled) closes its pending request as rejected by the system, with a note; the "
            "event of that action carries `change_closed`.",
            "",
            "Experts (DP4): `escalate` sets the order's expert, who then sees the order; "
            "`take_over` makes him the assignee and leaves the order `acknowledged` in his name.",
            "",
            "Urging (催单, TM3): `urge` keeps the state, adds one to `urge_count` and sets "
            "`last_urged_at`; `repairhub/supervision` tells the technician and the dispatchers "
            "and escalates repeated urging (docs/supervision.md). Supervision also writes "
            "`workorder.reminded` and `workorder.supervised`, events that change no state.",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "repairhub.settings")
    import django

    django.setup()
    print(render_markdown(), end="")
