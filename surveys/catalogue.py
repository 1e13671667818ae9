"""The default catalogue: the SMS templates (``sms.catalogue``) and the seven business types.

Seeded by migration 0002; ``seed_defaults`` puts back whatever is missing (the demo calls it, and
test databases that were flushed need it), never overwriting what an administrator edited.
"""

from __future__ import annotations

from sms.catalogue import seed_templates
from sms.models import SmsTemplate

from .models import BusinessType

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
    seed_templates()
    for order, (code, name, template) in enumerate(BUSINESS_TYPES):
        BusinessType.objects.get_or_create(
            code=code,
            defaults={"name": name, "template": SmsTemplate.objects.get(code=template), "sort_order": order},
        )
