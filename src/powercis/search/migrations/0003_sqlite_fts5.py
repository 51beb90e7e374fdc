"""SQLite: FTS5 tables over the search index, kept in step by triggers (nothing on other databases).

Both are external-content tables (they index the rows of ``search_accountsearchentry``
and store no copy of the text):

* ``search_entry_fts`` with the trigram tokenizer (SQLite ≥ 3.34) over ``search_text``:
  ``MATCH '"term"'`` finds the term anywhere, for terms of three or more characters;
* ``search_entry_keys`` with the unicode61 tokenizer over ``keys``: each bigram or phone
  tail is one token, for two-character terms and the last four digits of a phone.
"""

from django.db import migrations

TABLE = "search_accountsearchentry"
CREATE = [
    (f"CREATE VIRTUAL TABLE search_entry_fts USING fts5(search_text, content='{TABLE}', content_rowid='account_id', "
     "tokenize='trigram')"),
    (f"CREATE VIRTUAL TABLE search_entry_keys USING fts5(keys, content='{TABLE}', content_rowid='account_id', "
     "tokenize='unicode61')"),
    f"""CREATE TRIGGER search_entry_ai AFTER INSERT ON {TABLE} BEGIN
        INSERT INTO search_entry_fts(rowid, search_text) VALUES (new.account_id, new.search_text);
        INSERT INTO search_entry_keys(rowid, keys) VALUES (new.account_id, new.keys);
    END""",
    f"""CREATE TRIGGER search_entry_ad AFTER DELETE ON {TABLE} BEGIN
        INSERT INTO search_entry_fts(search_entry_fts, rowid, search_text) VALUES ('delete', old.account_id, old.search_text);
        INSERT INTO search_entry_keys(search_entry_keys, rowid, keys) VALUES ('delete', old.account_id, old.keys);
    END""",
    f"""CREATE TRIGGER search_entry_au AFTER UPDATE ON {TABLE} BEGIN
        INSERT INTO search_entry_fts(search_entry_fts, rowid, search_text) VALUES ('delete', old.account_id, old.search_text);
        INSERT INTO search_entry_keys(search_entry_keys, rowid, keys) VALUES ('delete', old.account_id, old.keys);
        INSERT INTO search_entry_fts(rowid, search_text) VALUES (new.account_id, new.search_text);
        INSERT INTO search_entry_keys(rowid, keys) VALUES (new.account_id, new.keys);
    END""",
]
DROP = [
    "DROP TRIGGER IF EXISTS search_entry_au",
    "DROP TRIGGER IF EXISTS search_entry_ad",
    "DROP TRIGGER IF EXISTS search_entry_ai",
    "DROP TABLE IF EXISTS search_entry_keys",
    "DROP TABLE IF EXISTS search_entry_fts",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for sql in CREATE:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for sql in DROP:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0002_postgresql_text_indexes")]

    operations = [migrations.RunPython(create, drop)]
