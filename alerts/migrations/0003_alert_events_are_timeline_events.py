"""The alert timeline takes the platform's timeline columns (``units.models.TimelineEvent``):
the table and its rows stay; ``from_state``/``to_state``/``at`` are renamed in place, the action
column widens and a ``data`` column (empty for the existing rows) is added."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0002_surge_baseline_daily_counts"),
    ]

    operations = [
        migrations.AlterModelOptions(name="alertevent", options={"ordering": ["created_at", "id"]}),
        migrations.RenameField(model_name="alertevent", old_name="from_state", new_name="from_status"),
        migrations.RenameField(model_name="alertevent", old_name="to_state", new_name="to_status"),
        migrations.RenameField(model_name="alertevent", old_name="at", new_name="created_at"),
        migrations.AlterField(
            model_name="alertevent",
            name="from_status",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AlterField(
            model_name="alertevent",
            name="to_status",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AlterField(
            model_name="alertevent",
            name="created_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="alertevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("raised", "发出预警"),
                    ("evidence", "新增证据"),
                    ("seen", "已查看"),
                    ("handled", "已处置"),
                    ("listed", "挂牌督办"),
                ],
                max_length=32,
                verbose_name="操作",
            ),
        ),
        migrations.AlterField(
            model_name="alertevent",
            name="note",
            field=models.TextField(blank=True, verbose_name="说明"),
        ),
        migrations.AddField(
            model_name="alertevent",
            name="data",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
