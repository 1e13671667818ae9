"""A reply is matched to the phone's SMS sent in the reply window: an index on (phone, sending
time, id) reads that window, newest first. It replaces the index of the phone alone (and its
pattern-matching twin, which no query uses); the purpose index keeps serving look-ups by phone.
Built concurrently before the old ones are dropped (``units.migration_indexes``).
"""

from django.db import migrations, models

from units.migration_indexes import add_index

INDEX = models.Index(fields=["phone_hash", "sent_at", "id"], name="sms_reply_match")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("sms", "0006_sender_window"),
    ]

    operations = [
        add_index("sms", "OutboundSms", INDEX),
        migrations.AlterField(
            model_name="outboundsms",
            name="phone_hash",
            field=models.CharField(editable=False, max_length=64),
        ),
    ]
