"""Choices of the early-warning app: the detectors and the states of an alert."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Detector(models.TextChoices):
    """What raised an alert. Each has one ``WarningRule`` row holding its parameters."""

    SURGE = "surge", _("同一事项上升")
    CALLER = "caller", _("同一来电人多渠道/升级")
    GROUP = "group", _("群体性诉求")


class AlertState(models.TextChoices):
    NEW = "new", _("新预警")
    SEEN = "seen", _("已查看")
    HANDLED = "handled", _("已处置")

    @property
    def css(self) -> str:
        return {"new": "state-err", "seen": "state-warn", "handled": "state-ok"}[self.value]


OPEN_STATES = (AlertState.NEW, AlertState.SEEN)

# Allowed moves: (from, to). "Already there" is a no-op in the transition helper.
MOVES = {
    (AlertState.NEW, AlertState.SEEN),
    (AlertState.NEW, AlertState.HANDLED),
    (AlertState.SEEN, AlertState.HANDLED),
}


class EventAction(models.TextChoices):
    """What a row of an alert's timeline records."""

    RAISED = "raised", _("发出预警")
    EVIDENCE = "evidence", _("新增证据")
    SEEN = "seen", _("已查看")
    HANDLED = "handled", _("已处置")
    LISTED = "listed", _("挂牌督办")
