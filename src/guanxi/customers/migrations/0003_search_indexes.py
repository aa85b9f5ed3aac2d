"""Search indexes over customers_customer.search_text / search_keys (docs/adr/0003-search.md)."""

from django.db import migrations

from guanxi.core.search import postgres_index_sql, sqlite_fts_sql

TABLE, PREFIX = "customers_customer", "customers_search"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": sqlite_fts_sql, "postgresql": postgres_index_sql}.get(vendor)
    if statements is None:
        raise RuntimeError(f"Guanxi supports SQLite and PostgreSQL, not {vendor}.")
    for sql in statements(TABLE, PREFIX):
        schema_editor.execute(sql)
    if vendor == "sqlite":
        schema_editor.execute(f"INSERT INTO {PREFIX}_tri({PREFIX}_tri) VALUES ('rebuild')")
        schema_editor.execute(f"INSERT INTO {PREFIX}_keys({PREFIX}_keys) VALUES ('rebuild')")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name in ("ai", "ad", "au"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {PREFIX}_{name}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {PREFIX}_tri")
        schema_editor.execute(f"DROP TABLE IF EXISTS {PREFIX}_keys")
    else:
        schema_editor.execute(f"DROP INDEX IF EXISTS {PREFIX}_text_trgm")
        schema_editor.execute(f"DROP INDEX IF EXISTS {PREFIX}_keys_gin")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_initial")]
    operations = [migrations.RunPython(create, drop)]
