"""Validation row by row: every bad row is rejected with its row number and a Chinese reason
into the rejects file, and the good rows around it still load. A wrong mapping stops the
import before any row is written."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from repairhub.imports.models import ImportRejection, ImportRun
from repairhub.testing.personas import make_category, make_room
from repairhub.workorders.models import NumberSequence, WorkOrder

from .conftest import HEADER, MAPPING, closed_row, read_csv, run, write_orders

NO_STEPS = {"受理时间": "", "派工时间": "", "接单时间": "", "到场时间": ""}
PHONE_RULE = "电话号码格式不正确：请填写 11 位手机号、带区号的座机号或 4–8 位校内分机号。"

# (changes to a good closed order, the reason its row gets)
BAD = [
    ({"编号": ""}, "缺少原工单号。"),
    ({"类别": "nope"}, "未知的报修类别编码“nope”。"),
    ({"地点": "X99"}, "未知的地点编码“X99”。"),
    ({"地点": "", "地址": ""}, "缺少报修地点或详细地址。"),
    ({"状态": "done"}, "未知的工单状态“done”，请在映射文件中为它写值映射。"),
    ({"渠道": "fax"}, "未知的报修渠道“fax”，请在映射文件中为它写值映射。"),
    ({"紧急": "very"}, "未知的紧急程度“very”，请在映射文件中为它写值映射。"),
    ({"结果": "maybe"}, "未知的维修结果“maybe”，请在映射文件中为它写值映射。"),
    (
        {"完成时间": "2026-03-02 25:00"},
        "完成时间“2026-03-02 25:00”不是有效的时间（应为 %Y-%m-%d %H:%M）。",
    ),
    ({"报修时间": ""}, "缺少报修时间。"),
    ({"评分": "6"}, "评分必须是 1 到 5 的整数，而不是“6”。"),
    (
        {"状态": "completed", "关闭时间": "", "评分": "4"},
        "只有已关闭的工单才有评分，这张工单的状态是“已完成”。",
    ),
    (
        {**NO_STEPS, "完成时间": "2026-03-01 10:00"},
        "完成时间（2026-03-01 10:00）早于报修时间（2026-03-02 08:00）。",
    ),
    (
        {"到场时间": "2026-03-02 11:00"},
        "完成时间（2026-03-02 10:00）早于到场时间（2026-03-02 11:00）。",
    ),
    (
        {"关闭时间": "2099-01-01 00:00"},
        "关闭时间（2099-01-01 00:00）在将来：只能导入已经发生的事。",
    ),
    ({"状态": "accepted"}, "状态为“已受理”的工单不应有派工时间。"),
    (
        {"状态": "rejected", "派工时间": "", "接单时间": "", "到场时间": "", "完成时间": ""},
        "状态为“已驳回”的工单不应有受理时间。",
    ),
    (
        {
            "状态": "dispatched",
            **{k: "" for k in ("接单时间", "到场时间", "完成时间", "关闭时间", "评分")},
            "维修工": "ghost",
        },
        "状态为“已派工”的工单必须有维修人员，但没有找到“ghost”。",
    ),
    (
        {"状态": "in_progress", "完成时间": "", "关闭时间": "", "评分": "", "维修工": ""},
        "状态为“维修中”的工单必须有维修人员。",
    ),
    (
        {"状态": "completed", "完成时间": "", "关闭时间": "", "评分": ""},
        "状态为“已完成”的工单缺少完成时间。",
    ),
    ({"电话": "123"}, f"联系电话“123”：{PHONE_RULE}"),
    ({"电话": ""}, "缺少联系电话。"),
    ({"描述": ""}, "缺少故障描述。"),
    ({"描述": "坏" * 2001}, "故障描述过长：最多 2000 个字。"),
    ({"报修人": "张" * 61}, "报修人过长：最多 60 个字。"),
    ({"时限": "2026-03-01 00:00"}, "完成时限早于报修时间。"),
    ({"编号": "N" * 101}, "原工单号过长：最多 100 个字。"),
]


@pytest.fixture
def places(db):
    """Categories and the room, without people: enough for mapping checks."""
    make_category("lamp", name="灯具")
    return make_room()


def test_every_bad_row_is_rejected_with_its_reason_and_good_rows_load(
    campus, tmp_path, mapping_file
):
    rows = []
    for i, (changes, _reason) in enumerate(BAD):
        rows.append(closed_row(f"G-{i}"))
        rows.append(closed_row(f"B-{i}", **changes))
    path = write_orders(tmp_path / "orders.csv", rows)
    rejects = tmp_path / "rejects.csv"

    out, _err = run(path, mapping_file, "--rejects", str(rejects), "--batch", "7")

    n = len(BAD)
    assert f"共 {2 * n} 行：导入 {n}，拒绝 {n}，已存在（未改动）0，空行 0。" in out
    assert f"拒绝的行及原因已写入 {rejects}" in out
    imported = set(WorkOrder.objects.values_list("idempotency_key", flat=True))
    assert len(imported) == n
    assert {e for e in WorkOrder.objects.values_list("events__data__number", flat=True) if e} == {
        f"G-{i}" for i in range(n)
    }
    lines = read_csv(rejects)
    assert lines[0] == ["导入行号", "拒绝原因", *HEADER]
    want = []
    for i, (changes, reason) in enumerate(BAD):
        bad = closed_row(f"B-{i}", **changes)
        want.append([str(2 * i + 3), reason, *(bad[h] for h in HEADER)])
    assert lines[1:] == want
    run_row = ImportRun.objects.get()
    assert (run_row.accepted, run_row.rejected, run_row.rows_done) == (n, n, 2 * n)
    assert ImportRejection.objects.filter(run=run_row).count() == n


def test_without_a_rejects_file_the_summary_shows_the_first_reasons(campus, tmp_path, mapping_file):
    path = write_orders(
        tmp_path / "orders.csv", [closed_row("A"), closed_row("B", 类别="nope"), closed_row("C")]
    )
    out, _err = run(path, mapping_file)
    assert "第 3 行（原工单号 B）：未知的报修类别编码“nope”。" in out
    assert "用 --rejects 文件名.csv 导出全部拒绝的行及原因。" in out
    assert WorkOrder.objects.count() == 2


def test_an_unknown_technician_leaves_a_finished_order_unassigned_and_is_counted(
    campus, tmp_path, mapping_file
):
    rows = [closed_row("A", 维修工="old-wang"), closed_row("B", 维修工="old-wang"), closed_row("C")]
    out, _err = run(write_orders(tmp_path / "o.csv", rows), mapping_file)
    assert "其中 2 张没有维修人员：报修云中找不到原系统写的维修人员 old-wang（2）。" in out
    orders = {
        o.events.get(code="workorder.imported").data["number"]: o for o in WorkOrder.objects.all()
    }
    assert orders["A"].assignee is None and orders["C"].assignee == campus.technician
    assert orders["A"].events.get(code="workorder.imported").data["technician"] == "old-wang"
    assert ImportRun.objects.get().unassigned == 2
    # A person without the technician's role is not taken for one either.
    run(write_orders(tmp_path / "p.csv", [closed_row("D", 维修工="agent")]), mapping_file)
    assert WorkOrder.objects.get(events__data__number="D").assignee is None


def test_names_and_paths_that_fit_nothing_or_several_are_rejected(campus, tmp_path):
    from repairhub.places.models import Place, PlaceKind
    from repairhub.places.services import create_place
    from repairhub.workorders.models import Category

    Category.objects.create(code="lamp2", name="灯具")  # a second 灯具, at the top level
    floor3 = create_place(
        kind=PlaceKind.FLOOR, code="E03-3F", name="3层", parent=Place.objects.get(code="E03")
    )
    create_place(kind=PlaceKind.ROOM, code="E03-301", name="201", parent=floor3)  # mislabelled
    mapping = MAPPING.replace(
        'category = { column = "类别", match = "code" }',
        'category = { column = "类别", match = "name" }',
    ).replace(
        'place = { column = "地点", match = "code" }', 'place = { column = "地点", match = "path" }'
    )
    mapping_file = tmp_path / "m.toml"
    mapping_file.write_text(mapping, encoding="utf-8")
    rows = [
        closed_row("A", 类别="水电/灯具", 地点="东校区/3号楼/2层/201"),
        closed_row("B", 类别="灯具", 地点="东校区/3号楼/2层/201"),
        closed_row("C", 类别="水电 → 灯具", 地点="东校区/3号楼/201"),
        closed_row("D", 类别="水电/灯具", 地点="东校区/9号楼"),
        closed_row("E", 类别="电器", 地点="东校区/3号楼/2层/201"),
    ]
    rejects = tmp_path / "r.csv"
    run(write_orders(tmp_path / "o.csv", rows), mapping_file, "--rejects", str(rejects))
    reasons = {line[2]: line[1] for line in read_csv(rejects)[1:]}
    assert reasons == {
        "B": "报修类别名称“灯具”对应多个类别，请写成“上级/类别”或在映射中改用编码。",
        "C": "地点“东校区/3号楼/201”对应多个地点，请写出完整路径（校区/楼宇/楼层/房间）。",
        "D": "未知的地点“东校区/9号楼”。",
        "E": "未知的报修类别“电器”。",
    }
    order = WorkOrder.objects.get()
    assert (order.category, order.place) == (campus.category, campus.room)


def test_a_stray_undecodable_byte_rejects_its_row_alone(campus, tmp_path, mapping_file):
    # Past the first 64 KiB (which must decode, or the file is refused as a whole).
    rows = [closed_row(f"A-{i}", 描述="灯管不亮，" * 10) for i in range(400)]
    path = write_orders(tmp_path / "o.csv", [*rows, closed_row("B", 描述="XYZ")])
    assert path.stat().st_size > 70_000
    path.write_bytes(path.read_bytes().replace(b"XYZ", b"\xff\xfe"))
    rejects = tmp_path / "r.csv"
    run(path, mapping_file, "--rejects", str(rejects))
    assert read_csv(rejects)[1][:2] == [
        "402",
        "这一行含有无法按 utf-8 读取的字符，请检查文件编码。",
    ]
    assert WorkOrder.objects.count() == 400


# --- the mapping itself --------------------------------------------------------------------

MAPPING_ERRORS = [
    (
        MAPPING.replace("rating = ", "stars = "),
        "映射文件有误：[fields] 中有未知的字段“stars”",
    ),
    (
        MAPPING.replace('date_format = "%Y-%m-%d %H:%M"', 'date_fmt = "%Y"'),
        "映射文件有误：[source] 中有未知的设置“date_fmt”",
    ),
    (
        MAPPING.replace('status = "状态"\n', ""),
        "映射文件有误：必须映射字段 status（工单状态）：写明列名 column 或默认值 default。",
    ),
    (
        MAPPING.replace('name = "测试系统"\n', ""),
        "映射文件有误：[source] 的 name（来源系统名）必须填写",
    ),
    (
        MAPPING.replace(
            'status = "状态"', 'status = { column = "状态", values = { "完" = "finished" } }'
        ),
        "映射文件有误：[fields.status] 中的“finished”不是有效的工单状态",
    ),
    (
        MAPPING.replace(
            'category = { column = "类别", match = "code" }',
            'category = { column = "类别", match = "code", values = { "灯" = "lamps" } }',
        ),
        "映射文件有误：[fields.category] 的值映射或默认值：未知的报修类别编码“lamps”。",
    ),
    (
        MAPPING.replace('match = "username" }\ndispatcher', 'match = "email" }\ndispatcher'),
        "映射文件有误：[fields.technician] 的 match 只能是：username、phone。",
    ),
    (MAPPING.replace("[fields]", "[fields"), "映射文件有误：不是有效的 TOML"),
    (
        MAPPING.replace('name = "测试系统"', 'name = "测试系统"\nencoding = "latin-9x"'),
        "映射文件有误：未知的文件编码“latin-9x”",
    ),
    (
        MAPPING.replace('name = "测试系统"', 'name = "测试系统"\ntime_zone = "Mars/Base"'),
        "映射文件有误：未知的时区“Mars/Base”",
    ),
    (
        MAPPING.replace('due_at = "时限"', 'due_at = "截止"'),
        "文件表头缺少映射文件要求的列：“截止”。",
    ),
]


@pytest.mark.parametrize(("mapping", "message"), MAPPING_ERRORS)
def test_a_wrong_mapping_stops_before_any_row_is_written(places, tmp_path, mapping, message):
    path = write_orders(tmp_path / "o.csv", [closed_row("A", 维修工="", 派工人="")])
    mapping_file = tmp_path / "m.toml"
    mapping_file.write_text(mapping, encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        run(path, mapping_file)
    assert str(caught.value).startswith(message)
    assert not WorkOrder.objects.exists()
    assert not ImportRun.objects.exists()
    assert not NumberSequence.objects.exists()


def test_a_file_that_is_not_csv_or_xlsx_or_not_there_is_refused(places, tmp_path, mapping_file):
    with pytest.raises(CommandError, match=r"不支持的文件类型“\.json”"):
        (tmp_path / "o.json").write_text("{}")
        run(tmp_path / "o.json", mapping_file)
    with pytest.raises(CommandError, match="找不到要导入的文件"):
        run(tmp_path / "missing.csv", mapping_file)
    with pytest.raises(CommandError, match="无法读取映射文件"):
        run(write_orders(tmp_path / "o.csv", [closed_row()]), tmp_path / "none.toml")
    with pytest.raises(CommandError, match="每批行数必须在 1 到 10000 之间。"):
        run(write_orders(tmp_path / "o.csv", [closed_row()]), mapping_file, "--batch", "0")
    assert not WorkOrder.objects.exists()
