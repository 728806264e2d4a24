from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("handoffs", "0002_first_action_at"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="sessionhandoff",
            index=models.Index(
                condition=models.Q(("claimed_at__isnull", False), ("intent", "escalate")),
                fields=["account", "from_user", "-claimed_at"],
                name="handoff_picked_from_idx",
            ),
        ),
    ]
