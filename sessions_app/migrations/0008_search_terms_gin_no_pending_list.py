# The trigram index of the lexicon without a pending list, like the documents' index (0006):
# with ``fastupdate`` on, every new word of a freshly indexed session was queued in a list that
# each typo correction scanned linearly (a few thousand queued words made one correction cost
# about 12 ms instead of well under one). Indexing a session writes its new words straight
# into the index instead. PostgreSQL only; SQLite corrects words in Python.

from django.db import migrations

INDEX = "searchterm_term_trgm"


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in sql:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("sessions_app", "0007_step_content_html"),
    ]

    operations = [
        migrations.RunPython(
            _run(
                [
                    f"ALTER INDEX {INDEX} SET (fastupdate = off)",
                    f"SELECT gin_clean_pending_list('{INDEX}'::regclass)",
                ]
            ),
            _run([f"ALTER INDEX {INDEX} RESET (fastupdate)"]),
        ),
    ]
