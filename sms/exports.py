"""Columns of the outbox export (``sms.views.OutboxExportView``); phones masked."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from intake.phones import mask
from units.exports import Column

SMS_COLUMNS = [
    Column(gettext_lazy("编号"), lambda s: s.pk, 8),
    Column(gettext_lazy("创建时间"), lambda s: s.created_at, 17),
    Column(gettext_lazy("手机号"), lambda s: mask(s.phone) if s.phone else "", 14),
    Column(gettext_lazy("用途"), lambda s: s.get_purpose_display(), 12),
    Column(gettext_lazy("模板代码"), lambda s: s.template_code, 14),
    Column(gettext_lazy("短信内容"), lambda s: s.text, 50, free_text=True),
    Column(gettext_lazy("计费条数"), lambda s: s.segments, 8),
    Column(gettext_lazy("状态"), lambda s: s.get_status_display(), 10),
    Column(gettext_lazy("尝试次数"), lambda s: s.attempts, 8),
    Column(gettext_lazy("发送时间"), lambda s: s.sent_at, 17),
    Column(gettext_lazy("送达时间"), lambda s: s.delivered_at, 17),
    Column(gettext_lazy("最近错误"), lambda s: s.last_error, 30, free_text=True),
]
