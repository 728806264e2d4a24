"""Assistant steps keep their Markdown rendered once (``content_html``); older steps are
rendered here, in batches."""

from typing import Any

from django.db import migrations, models

BATCH = 500


def backfill(apps: Any, schema_editor: Any) -> None:
    from sessions_app.markdown import render_markdown

    step_model = apps.get_model("sessions_app", "AISessionStep")
    rows = step_model.objects.filter(role="assistant", content_html="").only("id", "content")
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            return
        for step in batch:
            step.content_html = str(render_markdown(step.content))
        step_model.objects.bulk_update(batch, ["content_html"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0006_search_gin_no_pending_list"),
    ]

    operations = [
        migrations.AddField(
            model_name="aisessionstep",
            name="content_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
