"""PostgreSQL: pg_trgm and the GIN indexes of the search index (nothing on other databases).

* ``search_text`` gets a trigram index: ``LIKE '%term%'`` for terms of three or more
  characters, Chinese included (the database's ``lc_ctype`` must class CJK characters as
  letters, which ``C.UTF-8`` and ``zh_CN.UTF-8`` do: ``show_trgm('幸福路')`` is not empty).
* ``keys`` (bigrams and phone tails, space-separated) gets a GIN index over its words,
  for two-character terms and the last four digits of a phone: ``string_to_array(keys, ' ') @> ARRAY[term]``.
"""

from django.db import migrations

TABLE = "search_accountsearchentry"
INDEXES = {
    "search_entry_text_trgm": f"CREATE INDEX search_entry_text_trgm ON {TABLE} USING gin (search_text gin_trgm_ops)",
    "search_entry_keys": f"CREATE INDEX search_entry_keys ON {TABLE} USING gin (string_to_array(keys, ' '))",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for sql in INDEXES.values():
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
