"""Labels of timeline actions and statuses, for templates."""

from django import template

from ..choices import AppealStatus
from ..services import ACTION_LABELS

register = template.Library()


@register.filter
def action_label(code: str) -> str:
    """The Chinese label of a timeline action code (other apps' codes are shown as they are)."""
    return str(ACTION_LABELS[code]) if code in ACTION_LABELS else code


@register.filter
def status_label(value: str) -> str:
    try:
        return AppealStatus(value).label
    except ValueError:
        return value
