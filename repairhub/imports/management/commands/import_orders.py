"""`repairhub import_orders FILE --mapping MAPPING.toml [--dry-run] [--rejects OUT.csv]
[--batch N]`: load another system's exported orders (CSV or .xlsx) as history.

Progress goes to stderr, the summary to stdout. Interrupted (Ctrl-C, a crash), the same
command continues after the last committed batch. docs/import.md explains the mapping file.
"""

from __future__ import annotations

import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from repairhub.imports import queries, services
from repairhub.imports.progress import ProgressBar
from repairhub.workorders.errors import OrderError


class Command(BaseCommand):
    help = "Import historical orders from a CSV or Excel file with a mapping file (docs/import.md)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The export to load: .csv or .xlsx.")
        parser.add_argument(
            "--mapping", required=True, help="The mapping file (TOML) for this kind of export."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check every row and report what would happen; write nothing.",
        )
        parser.add_argument(
            "--rejects", help="Write the rejected rows, with row number and reason, to this CSV."
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=services.DEFAULT_BATCH,
            help=f"Rows per transaction (default {services.DEFAULT_BATCH}).",
        )

    def handle(self, *args, file: str, mapping: str, dry_run: bool, rejects, batch: int, **opts):
        bar = ProgressBar(self.stderr._out)
        rejects_path = Path(rejects) if rejects else None
        dry_file = None
        dry_writer = None

        def dry_reject(report: services.Report, row: dict) -> None:
            nonlocal dry_file, dry_writer
            if rejects_path is None:
                return
            if dry_writer is None:
                dry_file = rejects_path.open("w", encoding="utf-8-sig", newline="")
                dry_writer = csv.writer(dry_file)
                dry_writer.writerow(queries.rejects_header(report.header))
            dry_writer.writerow(queries.reject_line(row["row"], row["reason"], row["cells"]))

        report = None

        def progress(r: services.Report) -> None:
            nonlocal report
            report = r
            bar(r)

        try:
            the_mapping = services.load_mapping(Path(mapping))
            report = services.import_orders(
                Path(file),
                the_mapping,
                dry_run=dry_run,
                batch=batch,
                progress=progress,
                rejects=dry_reject,
            )
        except OrderError as exc:
            bar.close()
            raise CommandError(exc.message) from None
        except KeyboardInterrupt:
            bar.close(report)
            done = report.run.rows_done if report is not None and report.run else 0
            raise CommandError(
                _("已中断。已提交 %(rows)s 行；再次运行同一命令即可从中断处继续。")
                % {"rows": f"{done:,}"},
                returncode=130,
            ) from None
        finally:
            if dry_file is not None:
                dry_file.close()
        bar.close(report)
        if dry_run and rejects_path is not None and dry_writer is None:
            with rejects_path.open("w", encoding="utf-8-sig", newline="") as f:
                csv.writer(f).writerow(queries.rejects_header(report.header))
        self.summary(report, rejects_path)

    def summary(self, report: services.Report, rejects_path: Path | None) -> None:
        c = report.counts
        out = self.stdout
        run = report.run
        out.write(
            _("文件 %(name)s（%(size)s 字节），来源系统“%(source)s”%(run)s")
            % {
                "name": report.file.name,
                "size": f"{report.file.size:,}",
                "source": report.mapping.source,
                "run": _("，导入记录 #%(id)s") % {"id": run.pk} if run else "",
            }
        )
        if report.resumed_from:
            out.write(
                _("接着上次中断处继续：前 %(rows)s 行上次已提交。")
                % {"rows": f"{report.resumed_from:,}"}
            )
        out.write(
            _(
                "共 %(rows)s 行：导入 %(accepted)s，拒绝 %(rejected)s，已存在（未改动）%(skipped)s，空行 %(blank)s。"
            )
            % {
                "rows": f"{c.rows:,}",
                "accepted": f"{c.accepted:,}",
                "rejected": f"{c.rejected:,}",
                "skipped": f"{c.skipped:,}",
                "blank": f"{c.blank:,}",
            }
        )
        if c.unassigned:
            names = _("、").join(
                _("%(name)s（%(n)s）") % {"name": name, "n": f"{n:,}"}
                for name, n in report.unknown_technicians.most_common(10)
            )
            out.write(
                _("其中 %(count)s 张没有维修人员：报修云中找不到原系统写的维修人员 %(names)s。")
                % {"count": f"{c.unassigned:,}", "names": names}
            )
        if c.auto_confirmed:
            out.write(
                _("其中 %(count)s 张已完成的工单超过自动确认期限，按规则以“自动确认”关闭。")
                % {"count": f"{c.auto_confirmed:,}"}
            )
        out.write(
            _("用时 %(seconds).1f 秒，%(rate)s 行/秒。")
            % {"seconds": report.seconds, "rate": f"{report.rows_per_second:,.0f}"}
        )
        if rejects_path is not None and run is not None:
            with rejects_path.open("w", encoding="utf-8-sig", newline="") as f:
                queries.write_rejects(run, f)
        if c.rejected:
            if rejects_path is not None:
                out.write(
                    _("拒绝的行及原因已写入 %(path)s，改正后可用同一映射文件再次导入。")
                    % {"path": rejects_path}
                )
            else:
                for row, number, reason in report.examples[:5]:
                    out.write(
                        _("第 %(row)s 行（原工单号 %(number)s）：%(reason)s")
                        % {"row": row, "number": number or "-", "reason": reason}
                    )
                out.write(_("用 --rejects 文件名.csv 导出全部拒绝的行及原因。"))
        if report.dry_run:
            out.write(_("试运行：没有写入任何数据。"))
