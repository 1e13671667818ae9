"""Seed the default SMS templates and the seven business types (admin-editable afterwards)."""

from django.db import migrations

BUSINESS_TYPES = [
    ("110", "110接处警", "eval_110"),
    ("122", "122交通事故", "eval_122"),
    ("household", "户政业务", "eval_household"),
    ("vehicle", "车驾管业务", "eval_vehicle"),
    ("exit_entry", "出入境业务", "eval_exit_entry"),
    ("case", "案件办理", "eval_case"),
    ("window", "窗口服务", "eval_window"),
]


def seed(apps, schema_editor):
    from sms.texts import DEFAULT_TEMPLATES

    SmsTemplate = apps.get_model("surveys", "SmsTemplate")
    BusinessType = apps.get_model("surveys", "BusinessType")
    for code, (name, text, sample) in DEFAULT_TEMPLATES.items():
        SmsTemplate.objects.get_or_create(code=code, defaults={"name": name, "text": text, "sample_params": sample})
    for order, (code, name, template) in enumerate(BUSINESS_TYPES):
        BusinessType.objects.get_or_create(
            code=code,
            defaults={"name": name, "template": SmsTemplate.objects.get(code=template), "sort_order": order},
        )


class Migration(migrations.Migration):
    dependencies = [("surveys", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
