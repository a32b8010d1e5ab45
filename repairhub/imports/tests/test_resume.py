"""Idempotent and resumable: importing a file again adds nothing; an import interrupted after
any batch, run again, ends exactly as one that was never interrupted."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management.base import CommandError

from repairhub.imports import services
from repairhub.imports.models import ImportRejection, ImportRun, RunStatus
from repairhub.workorders.errors import StaleVersion
from repairhub.workorders.models import Event, NumberSequence, WorkOrder

from .conftest import MAPPING, closed_row, read_csv, run, write_orders


def on_day(day: int, number: str, **changes: str) -> dict[str, str]:
    """closed_row() moved from 2 to `day` March 2026."""
    row = closed_row(number)
    for key, value in row.items():
        value = value.replace("2026-03-03", f"2026-03-{day + 1:02d}")
        row[key] = value.replace("2026-03-02", f"2026-03-{day:02d}")
    row.update(changes)
    return row


def history_rows() -> list[dict[str, str]]:
    """Ten rows: orders in several states, one bad row, one repeated number."""
    return [
        closed_row("R-01"),
        closed_row("R-02", 状态="completed", 关闭时间="", 评分="", 结果="failed"),
        closed_row("R-03", 类别="nope"),  # rejected
        on_day(3, "R-04"),
        closed_row("R-05", 评分="", 维修工="old-wang"),
        closed_row("R-01", 描述="同一张工单又导出了一次"),  # a repeat: the first row wins
        on_day(4, "R-06"),
        closed_row("R-07", 渠道="phone", 值班员="agent"),
        on_day(4, "R-08", 报修时间="2026-03-04 07:20"),
        closed_row("R-09", 状态="rejected", 受理时间="", 派工时间="", 接单时间="",
                   到场时间="", 完成时间="", 关闭时间="2026-03-02 09:00", 评分=""),
    ]  # fmt: skip


def orders_of(source: str) -> list[tuple]:
    """What the import made of each source number, ids, numbers and tokens aside."""
    out = []
    marks = Event.objects.filter(code="workorder.imported", data__source=source)
    for mark in marks.select_related("order").order_by("data__number"):
        o = mark.order
        out.append(
            (
                mark.data["number"],
                mark.data["row"],
                o.status,
                o.result,
                o.description,
                o.assignee_id,
                o.registered_by_id,
                o.created_at,
                o.completed_at,
                o.closed_at,
                o.rating,
                o.number[:11],  # prefix and day
                [
                    (e.code, e.from_status, e.to_status, e.created_at, e.actor_id, e.data)
                    for e in o.events.exclude(code="workorder.imported").order_by("id")
                ],
            )
        )
    return out


def counts(run_row: ImportRun) -> tuple:
    return (
        run_row.status,
        run_row.rows_done,
        run_row.accepted,
        run_row.rejected,
        run_row.skipped,
        run_row.unassigned,
    )


def with_source(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(MAPPING.replace('name = "测试系统"', f'name = "{name}"'), encoding="utf-8")
    return path


def test_importing_the_same_file_again_adds_nothing(campus, tmp_path, mapping_file):
    path = write_orders(tmp_path / "o.csv", history_rows())
    run(path, mapping_file)
    before = (WorkOrder.objects.count(), Event.objects.count(), NumberSequence.objects.count())
    snapshot = orders_of("测试系统")

    out, _err = run(path, mapping_file)

    assert "共 10 行：导入 0，拒绝 1，已存在（未改动）9，空行 0。" in out
    assert (WorkOrder.objects.count(), Event.objects.count()) == before[:2] == (8, before[1])
    assert list(NumberSequence.objects.values_list("last", flat=True).order_by("day")) == [5, 1, 2]
    assert orders_of("测试系统") == snapshot
    first, second = ImportRun.objects.order_by("id")
    assert counts(first) == (RunStatus.FINISHED, 10, 8, 1, 1, 1)
    assert counts(second) == (RunStatus.FINISHED, 10, 0, 1, 9, 0)


def test_another_export_of_the_same_system_adds_only_new_orders(campus, tmp_path, mapping_file):
    run(write_orders(tmp_path / "march.csv", history_rows()[:4]), mapping_file)
    overlapping = [closed_row("R-04"), closed_row("R-10"), closed_row("R-11")]
    out, _err = run(write_orders(tmp_path / "all.csv", overlapping), mapping_file)
    assert "导入 2，拒绝 0，已存在（未改动）1" in out
    assert WorkOrder.objects.count() == 5
    # The same number from another system is another order.
    run(write_orders(tmp_path / "other.csv", [closed_row("R-04")]), with_source(tmp_path, "B系统"))
    assert WorkOrder.objects.count() == 6


def test_an_interrupted_import_resumes_and_ends_as_an_uninterrupted_one(
    campus, tmp_path, monkeypatch
):
    path = write_orders(tmp_path / "o.csv", history_rows())
    whole = with_source(tmp_path, "一次导完")
    run(path, whole, "--batch", "3")

    # The same file under another source name, stopped (Ctrl-C) right after its 2nd batch.
    broken = with_source(tmp_path, "中途中断")
    real = services.import_orders
    batches = []

    def interrupted(*args, **kwargs):
        shown = kwargs["progress"]  # the command's progress line

        def stop_after_two(report):
            shown(report)
            batches.append(report.counts.rows)
            if len(batches) == 2:
                raise KeyboardInterrupt

        return real(*args, **{**kwargs, "progress": stop_after_two})

    monkeypatch.setattr(services, "import_orders", interrupted)
    with pytest.raises(CommandError) as caught:
        run(path, broken, "--batch", "3")
    assert caught.value.returncode == 130
    assert "已中断。已提交 6 行；再次运行同一命令即可从中断处继续。" in str(caught.value)
    monkeypatch.setattr(services, "import_orders", real)

    stopped = ImportRun.objects.get(source="中途中断")
    assert counts(stopped) == (RunStatus.RUNNING, 6, 4, 1, 1, 1)
    assert len(orders_of("中途中断")) == 4

    out, _err = run(path, broken, "--batch", "3")

    assert "接着上次中断处继续：前 6 行上次已提交。" in out
    assert "共 10 行：导入 8，拒绝 1，已存在（未改动）1，空行 0。" in out
    resumed = ImportRun.objects.get(source="中途中断")  # the same run, finished
    uninterrupted = ImportRun.objects.get(source="一次导完")
    assert counts(resumed) == counts(uninterrupted) == (RunStatus.FINISHED, 10, 8, 1, 1, 1)
    assert orders_of("中途中断") == orders_of("一次导完")
    assert [
        (r.row, r.reason) for r in ImportRejection.objects.filter(run=resumed).order_by("row")
    ] == [(4, "未知的报修类别编码“nope”。")]


def test_a_failure_inside_a_batch_keeps_nothing_of_that_batch(campus, tmp_path, monkeypatch):
    path = write_orders(tmp_path / "o.csv", history_rows())
    mapping = with_source(tmp_path, "写入失败")
    real_write = services.Writer.write
    calls = []

    def fail_third(self, plans, rejected, run_id):
        calls.append(len(plans))
        real_write(self, plans, rejected, run_id)  # written, then the batch fails
        if len(calls) == 3:
            raise RuntimeError("disk full")

    monkeypatch.setattr(services.Writer, "write", fail_third)
    with pytest.raises(RuntimeError):
        run(path, mapping, "--batch", "3")
    stopped = ImportRun.objects.get()
    assert counts(stopped) == (RunStatus.RUNNING, 6, 4, 1, 1, 1)
    assert WorkOrder.objects.count() == 4 and ImportRejection.objects.count() == 1
    assert Event.objects.filter(code="workorder.imported").count() == 4

    monkeypatch.setattr(services.Writer, "write", real_write)
    run(path, mapping, "--batch", "3")
    assert counts(ImportRun.objects.get()) == (RunStatus.FINISHED, 10, 8, 1, 1, 1)
    assert WorkOrder.objects.count() == 8


def test_a_second_process_on_the_same_run_is_refused(campus, tmp_path, mapping_file):
    path = write_orders(tmp_path / "o.csv", history_rows())
    mapping = services.load_mapping(mapping_file)

    def another_process_moves_on(report):
        # Meanwhile a second process committed a batch of the same run.
        ImportRun.objects.filter(pk=report.run.pk).update(rows_done=report.run.rows_done + 3)

    with pytest.raises(StaleVersion, match="另一个进程正在导入同一个文件"):
        services.import_orders(path, mapping, batch=3, progress=another_process_moves_on)
    assert WorkOrder.objects.count() == 2  # its first batch: two orders and a rejected row


def test_a_dry_run_writes_nothing_and_reports_what_would_happen(campus, tmp_path, mapping_file):
    path = write_orders(tmp_path / "o.csv", history_rows())
    rejects = tmp_path / "dry-rejects.csv"

    out, _err = run(path, mapping_file, "--dry-run", "--batch", "1", "--rejects", str(rejects))

    assert "共 10 行：导入 8，拒绝 1，已存在（未改动）1，空行 0。" in out
    assert "试运行：没有写入任何数据。" in out
    assert not WorkOrder.objects.exists() and not ImportRun.objects.exists()
    assert not NumberSequence.objects.exists() and not Event.objects.exists()
    assert [line[:2] for line in read_csv(rejects)[1:]] == [["4", "未知的报修类别编码“nope”。"]]
    # A real run does what the dry run said.
    out, _err = run(path, mapping_file, "--batch", "1")
    assert "共 10 行：导入 8，拒绝 1，已存在（未改动）1，空行 0。" in out


def test_losing_a_race_with_another_import_rolls_the_batch_back(campus, tmp_path, monkeypatch):
    path = write_orders(tmp_path / "o.csv", history_rows())
    run(path, with_source(tmp_path, "赛跑"))
    before = (WorkOrder.objects.count(), Event.objects.count())
    # The look-up misses what another process has just written: the insert then collides.
    monkeypatch.setattr(services.Writer, "existing", lambda self, keys: set())
    second = tmp_path / "again.toml"
    second.write_text(with_source(tmp_path, "赛跑").read_text() + "\n# another copy\n", "utf-8")

    with pytest.raises(CommandError, match="另一个导入同时写入了相同的工单"):
        run(path, second)
    assert (WorkOrder.objects.count(), Event.objects.count()) == before
    assert ImportRun.objects.get(mapping_hash=services.load_mapping(second).digest).rows_done == 0
