"""INSERTs for the intake hot path, with the statement built once per model (and row count).

`Model.objects.create()` compiles its INSERT anew on every call, which for a work order (forty
columns) costs more than the database's work (docs/benchmarks.md). `insert_row` builds the
statement once per model and database, then prepares each value exactly as the ORM would
(`Field.pre_save` then `Field.get_db_prep_save`), so defaults, `auto_now_add`, JSON and
encrypted fields store the same bytes.

`insert_rows` writes several rows of one model in one statement (the two SLA clocks of a new
order, its receipts) where the database can return their keys in order.

Plain text, numbers, flags and keys whose field would hand the value back unchanged are read
straight from the instance when the value already has the column's type; everything else
(dates, JSON, encrypted text, choices, any other type) is prepared by its field.

It sends no `pre_save`/`post_save` signals and runs no `save()` override: use it only for
models whose `save()` adds nothing (the helper refuses models that override it).
"""

from __future__ import annotations

from django.db import connections, models, router
from django.db.models.fields import AutoFieldMixin

# Field classes (exactly these, not subclasses) whose pre_save reads the attribute and whose
# preparation gives back a value of these types as it is.
_PLAIN: dict[type[models.Field], tuple[type, ...]] = {
    models.CharField: (str,),
    models.TextField: (str,),
    models.BooleanField: (bool,),
    models.IntegerField: (int,),
    models.SmallIntegerField: (int,),
    models.BigIntegerField: (int,),
    models.PositiveIntegerField: (int,),
    models.PositiveSmallIntegerField: (int,),
    models.PositiveBigIntegerField: (int,),
}
_KEYS = (models.AutoField, models.BigAutoField, models.SmallAutoField)

# (field, types passed through as they are, or None: always prepared by the field)
Plan = list[tuple[models.Field, tuple[type, ...] | None]]
_statements: dict[tuple[type[models.Model], str, int], tuple[str, Plan, bool]] = {}


def _plain_types(field: models.Field) -> tuple[type, ...] | None:
    if type(field) is models.ForeignKey:
        return (int,) if type(field.target_field) in _KEYS else None
    return _PLAIN.get(type(field))


def _values(obj: models.Model, plan: Plan, connection) -> list:
    values = []
    for field, plain in plan:
        if plain is not None:
            value = getattr(obj, field.attname)
            if value is None or type(value) in plain:
                values.append(value)
                continue
        values.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
    return values


def _statement(model: type[models.Model], alias: str, rows: int = 1) -> tuple[str, Plan, bool]:
    key = (model, alias, rows)
    found = _statements.get(key)
    if found is None:
        if model.save is not models.Model.save:
            raise TypeError(f"{model.__name__} overrides save(); insert it with the ORM")
        connection = connections[alias]
        quote = connection.ops.quote_name
        fields = [f for f in model._meta.local_concrete_fields if not isinstance(f, AutoFieldMixin)]
        pk = model._meta.pk
        returning = connection.features.can_return_columns_from_insert
        row = "({})".format(", ".join(["%s"] * len(fields)))
        sql = "INSERT INTO {} ({}) VALUES {}{}".format(
            quote(model._meta.db_table),
            ", ".join(quote(f.column) for f in fields),
            ", ".join([row] * rows),
            f" RETURNING {quote(pk.column)}" if returning else "",
        )
        plan = [(f, _plain_types(f)) for f in fields]
        found = _statements[key] = (sql, plan, returning)
    return found


def insert_row(obj: models.Model) -> models.Model:
    """INSERT `obj` (a new instance with an auto primary key) and set its primary key."""
    model = type(obj)
    alias = router.db_for_write(model, instance=obj)
    sql, plan, returning = _statement(model, alias)
    connection = connections[alias]
    params = _values(obj, plan, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        obj.pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    obj._state.adding = False
    obj._state.db = alias
    return obj


def insert_rows(objs: list[models.Model]) -> list[models.Model]:
    """INSERT new instances of one model in one statement and set their primary keys.

    The keys come back in the order of the VALUES list, as Django's own bulk_create relies on;
    where the database cannot return keys from a multi-row insert, rows go one at a time."""
    if len(objs) < 2:
        return [insert_row(obj) for obj in objs]
    model = type(objs[0])
    if any(type(obj) is not model for obj in objs):
        raise TypeError("insert_rows takes instances of one model")
    alias = router.db_for_write(model, instance=objs[0])
    connection = connections[alias]
    if not connection.features.can_return_rows_from_bulk_insert:
        return [insert_row(obj) for obj in objs]
    sql, plan, _returning = _statement(model, alias, len(objs))
    params = [value for obj in objs for value in _values(obj, plan, connection)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        keys = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, keys, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = alias
    return objs
