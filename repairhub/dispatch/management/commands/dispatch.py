"""`repairhub dispatch VERB ...`: dispatch tools run from the shell.

    repairhub dispatch solve-vrptw FILE [--seconds N] [--workers W]

`solve-vrptw` reads a Solomon VRPTW instance, solves it with the routing core the dispatch
plans use (fewest vehicles first, then distance) and checks the result independently of that
core (repairhub.dispatch.solomon.check). It prints a short summary and, as its last line, one
JSON object `{"vehicles": n, "distance": d, "routes": [[customer numbers], ...]}` — routes in
visiting order, depot left out, distance as plain float Euclidean rounded to 2 decimals — so
anyone can re-check the routes with their own tools (`| tail -n 1`).
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from repairhub.dispatch import routing, solomon


class Command(BaseCommand):
    help = "Dispatch tools: `dispatch solve-vrptw FILE [--seconds N]` solves a Solomon instance."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        vrptw = sub.add_parser(
            "solve-vrptw",
            help="Solve a Solomon VRPTW instance; the last line is JSON vehicles/distance/routes.",
        )
        vrptw.add_argument("file", help="Instance in the Solomon text format.")
        vrptw.add_argument(
            "--seconds", type=float, default=5.0, help="Time limit in seconds (default 5)."
        )
        vrptw.add_argument(
            "--workers", type=int, default=None, help="Processes to search with (default: 2)."
        )

    def handle(self, *args, verb: str, **options):
        handlers = {"solve-vrptw": self.solve_vrptw}
        if verb not in handlers:  # pragma: no cover - argparse refuses unknown verbs first
            raise CommandError(_("未知的子命令：%(verb)s。") % {"verb": verb})
        return handlers[verb](**options)

    def solve_vrptw(self, *, file: str, seconds: float, workers: int | None, **_options) -> None:
        if seconds <= 0:
            raise CommandError(_("时间限制必须大于 0 秒。"))
        path = Path(file)
        try:
            instance = solomon.load(path)
        except OSError:
            raise CommandError(_("无法读取算例文件：%(path)s") % {"path": path}) from None
        except solomon.FormatError as exc:
            raise CommandError(
                _("算例文件格式不正确：%(path)s（%(reason)s）") % {"path": path, "reason": exc}
            ) from None
        problem = solomon.to_problem(instance)
        try:
            solution = routing.solve(problem, seconds=seconds, workers=workers)
        except ValueError as exc:
            raise CommandError(_("算例无解：%(reason)s") % {"reason": exc}) from None
        if solution.status == "no solution":
            raise CommandError(
                _("在 %(seconds)s 秒内没有找到服务全部客户的方案。") % {"seconds": seconds}
            )
        routes = [[int(visit.stop_id) for visit in route.visits] for route in solution.routes]
        try:
            checked = solomon.check(instance, routes)
        except ValueError as exc:  # pragma: no cover - the core never returns such routes
            raise CommandError(_("结果未通过独立校验：%(reason)s") % {"reason": exc}) from None

        self.stdout.write(
            _(
                "算例 %(name)s：%(customers)d 个客户，%(vehicles)d 辆车，总距离 %(distance).2f，用时 %(seconds).1f 秒。"
            )
            % {
                "name": instance.name,
                "customers": len(instance.customers),
                "vehicles": checked.vehicles,
                "distance": checked.distance,
                "seconds": solution.seconds,
            }
        )
        known = self._best_known(path, instance.name)
        if known is not None:
            self.stdout.write(
                _("已知最优：%(vehicles)d 辆车，总距离 %(distance).2f（差距 %(gap)+.2f%%）。")
                % {
                    "vehicles": known[0],
                    "distance": known[1],
                    "gap": (round(checked.distance, 2) / known[1] - 1) * 100,
                }
            )
        line = {
            "vehicles": checked.vehicles,
            "distance": round(checked.distance, 2),
            "routes": routes,
        }
        self.stdout.write(json.dumps(line, separators=(",", ":")))

    @staticmethod
    def _best_known(path: Path, name: str) -> tuple[int, float] | None:
        """The best-known figures when the instance sits next to best_known_solutions.csv."""
        table = path.parent / "best_known_solutions.csv"
        if not table.is_file():
            return None
        try:
            return solomon.best_known(table).get(name)
        except (OSError, KeyError, ValueError):
            return None
