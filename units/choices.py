"""Choices for units and people."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Tier(models.TextChoices):
    """Level of a unit in the tree: 市局 → 部门 / 分县局 → 基层所队."""

    CITY = "city", _("市局")
    DEPARTMENT = "department", _("市局部门")
    DISTRICT = "district", _("分县局")
    STATION = "station", _("基层所队")


class Role(models.TextChoices):
    CENTER_STAFF = "center_staff", _("中心坐席")
    UNIT_HANDLER = "unit_handler", _("承办民警")
    UNIT_LEADER = "unit_leader", _("单位负责人")
    SUPERVISOR = "supervisor", _("督察")
    ADMIN = "admin", _("系统管理员")


# Roles that see every unit's data (the rest see their own unit and the units below it).
CITYWIDE_ROLES = frozenset({Role.CENTER_STAFF, Role.SUPERVISOR, Role.ADMIN})


class SavedList(models.TextChoices):
    """The lists a user can keep named filter sets of (我的视图), see ``units.saved_views``."""

    DESK = "desk", _("分诊台")
    WORKSPACE = "workspace", _("工单")
    CALLBACKS = "callbacks", _("人工回访")
    DELIVERIES = "deliveries", _("结果回传")
    RATINGS = "ratings", _("评价")
    RECORDS = "records", _("业务记录")
    SMS = "sms", _("外发短信")
    RATING_POINTS = "rating_points", _("评价点")
