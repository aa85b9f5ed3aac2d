"""Statistics for the expression indexes of 0004, without which PostgreSQL scans instead of using them.

PostgreSQL keeps statistics of an index expression (lower(address), the name key) only once the table is
analysed after the index exists; until then it guesses that each value matches 0.5 % of the rows and
reads the whole table for a batch of 1,000 emails (measured at a million customers: 240 ms instead of
9 ms). Autovacuum analyses a table only after a tenth of it has changed, so a large, settled table would
wait for months. SQLite estimates an indexed equality as selective without statistics: nothing to do.
"""

from django.db import migrations

TABLES = ("customers_customer", "customers_customeremail", "customers_customerphone")


def analyze(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ANALYZE {table}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_customer_merge_and_duplicate_indexes")]

    operations = [migrations.RunPython(analyze, migrations.RunPython.noop, elidable=True)]
