"""Set-up and checks that bench/intake.py runs inside the benchmark's own environment.

    python bench/setup_helper.py prepare [--collectstatic]   -> last line: {"token": ...}
    python bench/setup_helper.py verify RUNS.json             -> last line: {tag: {...}, ...}

`prepare` migrates the fresh database, creates the cache table and the floor's table, seeds one
place chain and one category through the models, creates a partner user through
repairhub.accounts.services.create_user and a token with `repairhub token create`.
`verify` counts, after the server has stopped, what each run left in the database.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "repairhub.settings")

PARTNER = "bench-partner"
CATEGORY = "bench-lamp"
PLACE = "B01-101"


def prepare(collectstatic: bool) -> dict:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    if collectstatic:
        call_command("collectstatic", verbosity=0, interactive=False)

    from bench.floor import create_table
    from repairhub.accounts.roles import Role
    from repairhub.accounts.services import create_user
    from repairhub.places.models import Place, PlaceKind
    from repairhub.workorders.models import Category

    create_table()
    campus = Place.objects.create(kind=PlaceKind.CAMPUS, code="BENCH", name="压测校区")
    building = Place.objects.create(
        kind=PlaceKind.BUILDING, code="B01", name="1号楼", parent=campus
    )
    floor = Place.objects.create(kind=PlaceKind.FLOOR, code="B01-1F", name="1层", parent=building)
    Place.objects.create(kind=PlaceKind.ROOM, code=PLACE, name="101", parent=floor)
    power = Category.objects.create(code="bench-power", name="水电")
    Category.objects.create(code=CATEGORY, name="灯具", parent=power)
    create_user(PARTNER, roles=[Role.PARTNER], display_name="压测合作平台")

    out = io.StringIO()
    try:
        call_command("token", "create", PARTNER, stdout=out)
    except CommandError as exc:  # the token command is not there (yet): no token
        return {"token": "", "token_error": str(exc)}
    lines = [line.strip() for line in out.getvalue().splitlines() if line.strip()]
    return {"token": lines[-1] if lines else ""}


def verify(runs_file: str) -> dict:
    from django.db import connection

    from repairhub.workorders.models import WorkOrder

    runs = json.loads(Path(runs_file).read_text())
    report = {}
    for run in runs:
        tag, kind = run["tag"], run["kind"]
        answered = [n for n in Path(run["numbers_file"]).read_text().splitlines() if n]
        prefix = f"bench {tag} "
        if kind == "orders":
            rows = list(
                WorkOrder.objects.filter(description__startswith=prefix).values_list(
                    "number", "description"
                )
            )
        else:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id, payload FROM bench_floor WHERE payload LIKE %s",
                    [f'%"description":"{prefix}%'],
                )
                rows = [(str(i), p) for i, p in cursor.fetchall()]
        in_db = [number for number, _ in rows]
        keys = [text.split(" ")[2] if text.count(" ") >= 2 else text for _, text in rows]
        answered_set, db_set = set(answered), set(in_db)
        report[tag] = {
            "kind": kind,
            "answered_201": len(answered),
            "in_db": len(in_db),
            # a 201 whose order is not in the database
            "lost": len(answered_set - db_set),
            # two orders for one Idempotency-Key, one number twice in the DB or in the answers
            "duplicated": (len(keys) - len(set(keys)))
            + (len(in_db) - len(db_set))
            + (len(answered) - len(answered_set)),
            # written but never answered: requests still in flight when wrk stopped
            "unanswered": len(db_set - answered_set),
        }
    return report


def main(argv: list[str]) -> int:
    import django

    django.setup()
    if argv[:1] == ["prepare"]:
        result = prepare(collectstatic="--collectstatic" in argv)
    elif argv[:1] == ["verify"] and len(argv) == 2:
        result = verify(argv[1])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
