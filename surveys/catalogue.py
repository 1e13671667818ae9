"""The default catalogue: SMS templates and the seven business types.

Seeded by migration 0002; ``seed_defaults`` puts back whatever is missing (the demo calls it, and
test databases that were flushed need it), never overwriting what an administrator edited.
"""

from __future__ import annotations

from .sms import DEFAULT_TEMPLATES

BUSINESS_TYPES = [
    ("110", "110接处警", "eval_110"),
    ("122", "122交通事故", "eval_122"),
    ("household", "户政业务", "eval_household"),
    ("vehicle", "车驾管业务", "eval_vehicle"),
    ("exit_entry", "出入境业务", "eval_exit_entry"),
    ("case", "案件办理", "eval_case"),
    ("window", "窗口服务", "eval_window"),
]


def seed_defaults() -> None:
    """Create the missing default templates and business types (idempotent)."""
    from .models import BusinessType, SmsTemplate

    for code, (name, text, sample) in DEFAULT_TEMPLATES.items():
        SmsTemplate.objects.get_or_create(code=code, defaults={"name": name, "text": text, "sample_params": sample})
    for order, (code, name, template) in enumerate(BUSINESS_TYPES):
        BusinessType.objects.get_or_create(
            code=code,
            defaults={"name": name, "template": SmsTemplate.objects.get(code=template), "sort_order": order},
        )
