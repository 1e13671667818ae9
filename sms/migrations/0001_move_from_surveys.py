"""The SMS models leave the surveys app without a row being copied: this migration only tells
Django's state that they now belong to ``sms`` (their tables are still the surveys_* tables
created by surveys 0001–0009); ``surveys.0010_sms_models_moved`` removes them from the surveys
state, and ``0002_sms_tables`` renames the tables to sms_*."""

import django.db.models.deletion
import django.utils.timezone
import intake.phones
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('surveys', '0009_sender_loop_lease'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='InboundSms',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('provider', models.CharField(max_length=24, verbose_name='通道')),
                        ('provider_message_id', models.CharField(max_length=64, verbose_name='服务商消息编号')),
                        ('phone', intake.phones.EncryptedPhoneField(verbose_name='手机号')),
                        ('phone_hash', models.CharField(db_index=True, editable=False, max_length=64)),
                        ('body', models.CharField(max_length=1600, verbose_name='内容')),
                        ('received_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='收到时间')),
                        ('outcome', models.CharField(blank=True, choices=[('rating', '已记录评价'), ('follow_up', '已记录不满意原因'), ('opt_out', '已退订'), ('already_rated', '重复评价，已转人工'), ('unclear', '无法识别，已转人工'), ('unmatched', '无对应短信，已保存')], max_length=16, verbose_name='处理结果')),
                    ],
                    options={
                        'verbose_name': '上行短信',
                        'verbose_name_plural': '上行短信',
                        'db_table': 'surveys_inboundsms',
                        'ordering': ['-received_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='SenderBucket',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('sender', models.CharField(max_length=64, unique=True)),
                        ('tokens', models.FloatField(default=0)),
                        ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('loop_until', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'db_table': 'surveys_senderbucket',
                    },
                ),
                migrations.CreateModel(
                    name='SmsTemplate',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.CharField(max_length=40, unique=True, verbose_name='模板代码')),
                        ('name', models.CharField(max_length=60, verbose_name='模板名称')),
                        ('text', models.CharField(max_length=300, verbose_name='短信内容')),
                        ('sample_params', models.JSONField(blank=True, default=dict, verbose_name='参数最长示例')),
                        ('provider_template_id', models.CharField(blank=True, help_text='阿里云、腾讯云等模板短信服务商审核通过的模板编号。', max_length=60, verbose_name='服务商模板编号')),
                        ('provider', models.CharField(blank=True, choices=[('outbox', '站内模拟（不外发）'), ('twilio', 'Twilio'), ('aliyun', '阿里云短信'), ('tencent', '腾讯云短信')], help_text='留空则使用系统默认通道（SMS_BACKEND）；仅当此模板须经其他服务商发送时填写。', max_length=16, verbose_name='发送通道')),
                        ('is_active', models.BooleanField(default=True, verbose_name='启用')),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        'verbose_name': '短信模板',
                        'verbose_name_plural': '短信模板',
                        'db_table': 'surveys_smstemplate',
                        'ordering': ['code'],
                    },
                ),
                migrations.CreateModel(
                    name='OptOut',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('phone', intake.phones.EncryptedPhoneField(verbose_name='手机号')),
                        ('phone_hash', models.CharField(editable=False, max_length=64, unique=True)),
                        ('source', models.CharField(choices=[('sms', '短信退订'), ('staff', '工作人员登记'), ('provider', '服务商黑名单')], default='sms', max_length=16, verbose_name='来源')),
                        ('note', models.CharField(blank=True, max_length=200, verbose_name='备注')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='退订时间')),
                        ('inbound', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='sms.inboundsms')),
                    ],
                    options={
                        'verbose_name': '退订号码',
                        'verbose_name_plural': '退订名单',
                        'db_table': 'surveys_optout',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='OutboundSms',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('phone', intake.phones.EncryptedPhoneField(verbose_name='手机号')),
                        ('phone_hash', models.CharField(db_index=True, editable=False, max_length=64)),
                        ('template_code', models.CharField(max_length=40, verbose_name='模板代码')),
                        ('params', models.JSONField(blank=True, default=dict, verbose_name='模板参数')),
                        ('text', models.CharField(max_length=500, verbose_name='短信内容')),
                        ('segments', models.PositiveSmallIntegerField(default=1, verbose_name='计费条数')),
                        ('purpose', models.CharField(choices=[('evaluation', '回访评价'), ('follow_up', '不满意原因追问'), ('appeal_closed', '办结告知'), ('urge_reminder', '催办提醒'), ('survey', '民意调查邀请'), ('test', '测试短信'), ('other', '其他')], default='other', max_length=24, verbose_name='用途')),
                        ('dedupe_key', models.CharField(blank=True, max_length=120, null=True, unique=True)),
                        ('status', models.CharField(choices=[('queued', '待发送'), ('sending', '发送中'), ('sent', '已发送'), ('delivered', '已送达'), ('undelivered', '未送达'), ('failed', '发送失败')], default='queued', max_length=16, verbose_name='状态')),
                        ('send_after', models.DateTimeField(default=django.utils.timezone.now, verbose_name='最早发送时间')),
                        ('next_attempt_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='下次尝试时间')),
                        ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='尝试次数')),
                        ('enqueued_at', models.DateTimeField(blank=True, null=True)),
                        ('claimed_at', models.DateTimeField(blank=True, null=True)),
                        ('backend', models.CharField(blank=True, max_length=40, verbose_name='发送通道')),
                        ('provider_sid', models.CharField(blank=True, max_length=64, null=True, unique=True, verbose_name='服务商消息编号')),
                        ('needs_reconciliation', models.BooleanField(default=False, verbose_name='待核对')),
                        ('reconcile_checks', models.PositiveSmallIntegerField(default=0, verbose_name='核对次数')),
                        ('reconcile_not_found', models.PositiveSmallIntegerField(default=0, verbose_name='查无记录次数')),
                        ('next_reconcile_at', models.DateTimeField(blank=True, null=True, verbose_name='下次核对时间')),
                        ('reconcile_parked_at', models.DateTimeField(blank=True, null=True, verbose_name='停止自动核对时间')),
                        ('last_error', models.CharField(blank=True, max_length=300, verbose_name='最近错误')),
                        ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='发送时间')),
                        ('delivered_at', models.DateTimeField(blank=True, null=True, verbose_name='送达时间')),
                        ('failed_at', models.DateTimeField(blank=True, null=True, verbose_name='失败时间')),
                        ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('follow_up_of', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='follow_up_sms', to='surveys.rating')),
                        ('service_record', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='evaluation_sms', to='surveys.servicerecord', verbose_name='业务记录')),
                    ],
                    options={
                        'verbose_name': '外发短信',
                        'verbose_name_plural': '外发短信',
                        'db_table': 'surveys_outboundsms',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.AddField(
                    model_name='inboundsms',
                    name='matched_sms',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='replies', to='sms.outboundsms', verbose_name='对应短信'),
                ),
                migrations.CreateModel(
                    name='DeliveryStatusEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('provider_sid', models.CharField(max_length=64)),
                        ('provider_status', models.CharField(max_length=24)),
                        ('status', models.CharField(blank=True, choices=[('queued', '待发送'), ('sending', '发送中'), ('sent', '已发送'), ('delivered', '已送达'), ('undelivered', '未送达'), ('failed', '发送失败')], max_length=16)),
                        ('error_code', models.CharField(blank=True, max_length=32)),
                        ('applied', models.BooleanField(default=False)),
                        ('received_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('sms', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='status_events', to='sms.outboundsms')),
                    ],
                    options={
                        'verbose_name': '送达回执',
                        'verbose_name_plural': '送达回执',
                        'db_table': 'surveys_deliverystatusevent',
                        'ordering': ['received_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='SmsAttempt',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.PositiveSmallIntegerField(verbose_name='第几次')),
                        ('backend', models.CharField(max_length=40)),
                        ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('outcome', models.CharField(choices=[('started', '进行中'), ('accepted', '服务商已受理'), ('transient', '临时错误，稍后重试'), ('permanent', '永久错误'), ('ambiguous', '结果不明，待核对')], default='started', max_length=16)),
                        ('provider_sid', models.CharField(blank=True, max_length=64)),
                        ('error_code', models.CharField(blank=True, max_length=32)),
                        ('error_message', models.CharField(blank=True, max_length=300)),
                        ('sms', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sms_attempts', to='sms.outboundsms')),
                    ],
                    options={
                        'verbose_name': '发送尝试',
                        'verbose_name_plural': '发送尝试',
                        'db_table': 'surveys_smsattempt',
                        'ordering': ['sms', 'number', 'id'],
                    },
                ),
                migrations.AddIndex(
                    model_name='outboundsms',
                    index=models.Index(condition=models.Q(('status', 'queued')), fields=['next_attempt_at', 'send_after'], name='sms_queued_due_idx'),
                ),
                migrations.AddIndex(
                    model_name='outboundsms',
                    index=models.Index(condition=models.Q(('status', 'sending')), fields=['claimed_at'], name='sms_sending_idx'),
                ),
                migrations.AddIndex(
                    model_name='outboundsms',
                    index=models.Index(fields=['phone_hash', 'purpose', 'created_at'], name='sms_phone_purpose_idx'),
                ),
                migrations.AddConstraint(
                    model_name='inboundsms',
                    constraint=models.UniqueConstraint(fields=('provider', 'provider_message_id'), name='inbound_sms_once'),
                ),
                migrations.AddConstraint(
                    model_name='deliverystatusevent',
                    constraint=models.UniqueConstraint(fields=('provider_sid', 'provider_status'), name='sms_status_event_once'),
                ),
            ],
            database_operations=[],
        ),
    ]
