"""The SMS models moved to the ``sms`` app (see ``sms.0001_move_from_surveys``): state only — the
foreign keys of ratings, review items, business types and survey invitations now point at the
``sms`` models, whose tables (and every row) stay as they are."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sms', '0001_move_from_surveys'),
        ('surveys', '0009_sender_loop_lease'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='deliverystatusevent',
                    name='sms',
                ),
                migrations.RemoveField(
                    model_name='inboundsms',
                    name='matched_sms',
                ),
                migrations.AlterField(
                    model_name='reviewitem',
                    name='inbound',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='review', to='sms.inboundsms'),
                ),
                migrations.RemoveField(
                    model_name='optout',
                    name='inbound',
                ),
                migrations.AlterField(
                    model_name='rating',
                    name='inbound',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='ratings', to='sms.inboundsms'),
                ),
                migrations.RemoveField(
                    model_name='outboundsms',
                    name='follow_up_of',
                ),
                migrations.RemoveField(
                    model_name='outboundsms',
                    name='service_record',
                ),
                migrations.AlterField(
                    model_name='rating',
                    name='sms',
                    field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='rating', to='sms.outboundsms', verbose_name='评价短信'),
                ),
                migrations.RemoveField(
                    model_name='smsattempt',
                    name='sms',
                ),
                migrations.AlterField(
                    model_name='surveyinvitation',
                    name='sms',
                    field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='survey_invitation', to='sms.outboundsms'),
                ),
                migrations.DeleteModel(
                    name='SenderBucket',
                ),
                migrations.AlterField(
                    model_name='businesstype',
                    name='template',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='business_types', to='sms.smstemplate', verbose_name='回访短信模板'),
                ),
                migrations.DeleteModel(
                    name='DeliveryStatusEvent',
                ),
                migrations.DeleteModel(
                    name='OptOut',
                ),
                migrations.DeleteModel(
                    name='InboundSms',
                ),
                migrations.DeleteModel(
                    name='SmsAttempt',
                ),
                migrations.DeleteModel(
                    name='OutboundSms',
                ),
                migrations.DeleteModel(
                    name='SmsTemplate',
                ),
            ],
            database_operations=[],
        ),
    ]
