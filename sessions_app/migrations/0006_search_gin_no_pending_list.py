# The GIN index of the search documents without a pending list: with ``fastupdate`` on (the
# default) new documents are queued in a list every search scans linearly until a vacuum
# merges it, which made searches of a freshly indexed account ten times slower. Indexing one
# session writes its few dozen words straight into the index instead (well under a
# millisecond). PostgreSQL only; SQLite's FTS5 table has no such list.

from django.db import migrations

INDEX = "searchdoc_vector_gin"


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in sql:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("sessions_app", "0005_turn_lease_reply_to"),
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
