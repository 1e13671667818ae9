"""Seed the survey invitation SMS template (admin-editable afterwards), as 0002 did for the others."""

from django.db import migrations

TEXT = "临江公安民意调查，邀您参与（约2分钟）：{link} 回TD退订"
SAMPLE = {"link": "https://mydc.ljga.gov.cn:8443/s/AbCdEfGhJk/"}


def seed(apps, schema_editor):
    SmsTemplate = apps.get_model("surveys", "SmsTemplate")
    SmsTemplate.objects.get_or_create(
        code="survey_invite", defaults={"name": "民意调查邀请", "text": TEXT, "sample_params": SAMPLE}
    )


class Migration(migrations.Migration):
    dependencies = [("surveys", "0004_sampling_surveys")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
