"""The intake benchmark's floor: the least a Django view can do to accept one submission.

Mounted at /_bench/floor only when the server runs with REPAIRHUB_BENCH_FLOOR=1 (see
repairhub/urls.py). It reads the body, inserts one row into `bench_floor` with a raw cursor
and answers 201 with JSON — no auth, no validation, no ORM — on the same gunicorn, the same
database settings and the same middleware as the real endpoint. bench/intake.py creates the
table before the run.
"""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

TABLE_SQL = {
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS bench_floor ("
        "id integer PRIMARY KEY AUTOINCREMENT, created_at text NOT NULL, payload text NOT NULL)"
    ),
    "postgresql": (
        "CREATE TABLE IF NOT EXISTS bench_floor ("
        "id serial PRIMARY KEY, created_at timestamptz NOT NULL, payload text NOT NULL)"
    ),
}


def create_table() -> None:
    """Create (or empty) the floor's table on the default database."""
    with connection.cursor() as cursor:
        cursor.execute(TABLE_SQL[connection.vendor])
        cursor.execute("DELETE FROM bench_floor")


@csrf_exempt
def floor_view(request):
    payload = request.body.decode("utf-8", "replace")
    with connection.cursor() as cursor:  # autocommit: the INSERT is its own transaction
        if connection.vendor == "postgresql":
            cursor.execute(
                "INSERT INTO bench_floor (created_at, payload) VALUES (%s, %s) RETURNING id",
                [timezone.now(), payload],
            )
            row_id = cursor.fetchone()[0]
        else:
            cursor.execute(
                "INSERT INTO bench_floor (created_at, payload) VALUES (%s, %s)",
                [timezone.now().isoformat(), payload],
            )
            row_id = cursor.lastrowid
    return JsonResponse({"number": str(row_id)}, status=201)
