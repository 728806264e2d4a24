import django.db.models.deletion
from django.db import migrations, models


def link_replies(apps, schema_editor):
    """An assistant step answers the engineer's step right before it (the old reading)."""
    Step = apps.get_model("sessions_app", "AISessionStep")
    previous = None
    links = []
    rows = Step.objects.order_by("session_id", "id").values_list("id", "session_id", "role")
    for step_id, session_id, role in rows.iterator(chunk_size=2000):
        if (
            role == "assistant"
            and previous is not None
            and previous[1] == session_id
            and previous[2] == "user"
        ):
            links.append(Step(pk=step_id, reply_to_id=previous[0]))
        previous = (step_id, session_id, role)
        if len(links) >= 1000:
            Step.objects.bulk_update(links, ["reply_to"])
            links = []
    Step.objects.bulk_update(links, ["reply_to"])


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0004_readable_model_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="aisession",
            name="turn_lease_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="aisession",
            name="turn_owner",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="aisessionstep",
            name="reply_to",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="reply",
                to="sessions_app.aisessionstep",
            ),
        ),
        migrations.RunPython(link_replies, migrations.RunPython.noop),
    ]
