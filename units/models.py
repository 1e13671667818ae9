"""Units (the police organisation tree) and the people who work in them."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .audit import AppendOnly
from .choices import CITYWIDE_ROLES, Role, Tier


class UnitQuerySet(models.QuerySet):
    def below(self, unit: Unit) -> UnitQuerySet:
        """The unit and every unit under it (its subtree)."""
        return self.filter(path__startswith=unit.path)

    def visible_to(self, user) -> UnitQuerySet:
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.sees_all_units:
            return self
        if user.unit_id is None:
            return self.none()
        return self.below(user.unit)


class Unit(models.Model):
    """A police unit: the city bureau, a department or district bureau, or a station.

    ``path`` is a materialised path of ids ("/1/4/17/") so that "this unit and those below it"
    is one indexed prefix match; it is kept by ``save()`` from the parent's path.
    """

    code = models.CharField(_("单位代码"), max_length=32, unique=True)
    name = models.CharField(_("单位名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    tier = models.CharField(_("层级"), max_length=16, choices=Tier.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    phone = models.CharField(_("值班电话"), max_length=32, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # The path needs our own id, so a new unit is saved once to get it.
        if self.pk is None:
            super().save(*args, **kwargs)
            kwargs.pop("force_insert", None)
        old_path = self.path
        self.path = f"{self.parent.path if self.parent else '/'}{self.pk}/"
        super().save(*args, **{k: v for k, v in kwargs.items() if k != "force_insert"})
        if old_path and old_path != self.path:
            # Moved: re-root the subtree.
            for child in Unit.objects.filter(path__startswith=old_path).exclude(pk=self.pk):
                child.path = self.path + child.path[len(old_path) :]
                Unit.objects.filter(pk=child.pk).update(path=child.path)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.parent and self.pk and self.parent.path.startswith(self.path or "\0"):
            raise ValidationError({"parent": _("上级单位不能是本单位或其下级单位。")})

    @property
    def ancestors(self) -> list[Unit]:
        ids = [int(p) for p in self.path.strip("/").split("/") if p][:-1]
        by_id = Unit.objects.in_bulk(ids)
        return [by_id[i] for i in ids if i in by_id]

    def is_under(self, other: Unit) -> bool:
        """True when this unit is ``other`` or below it."""
        return self.path.startswith(other.path)


class User(AbstractUser):
    """A member of staff: belongs to one unit and has one role."""

    unit = models.ForeignKey(
        Unit,
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.UNIT_HANDLER)
    # The officer's own phone, for reminders by SMS. Staff numbers are not citizens' data.
    mobile = models.CharField(_("手机号"), max_length=20, blank=True)
    police_number = models.CharField(_("警号"), max_length=20, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        full = f"{self.last_name}{self.first_name}".strip()
        return full or self.username

    @property
    def display_name(self) -> str:
        return str(self)

    @property
    def sees_all_units(self) -> bool:
        return self.is_superuser or self.role in CITYWIDE_ROLES

    def has_role(self, *roles: str) -> bool:
        return self.role in roles or (self.is_superuser and Role.ADMIN in roles)

    @property
    def is_center(self) -> bool:
        return self.role == Role.CENTER_STAFF

    @property
    def is_unit_user(self) -> bool:
        return self.role in (Role.UNIT_HANDLER, Role.UNIT_LEADER)


class Notification(models.Model):
    """A message to one member of staff: an alarm, a reminder, an assignment.

    ``dedupe_key`` makes sending idempotent: the same key for the same user is stored once, so a job
    that runs twice tells nobody twice.

    The sender chooses the level: 紧急 (``ALERT``) only for what harms someone if it waits — risk
    words in an appeal, a citizen's bad review, an overdue listed order; these are pinned on the
    home page. 提醒 (``WARNING``) for a deadline near or passed. 通知 (``INFO``) for everything else:
    assignments, other people's moves, results, operational messages.
    """

    class Level(models.TextChoices):
        # The stored values predate the labels (API clients and filters use them); only the
        # labels say what the level means.
        INFO = "info", _("通知")
        WARNING = "warning", _("提醒")
        ALERT = "alert", _("紧急")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    level = models.CharField(_("级别"), max_length=8, choices=Level.choices, default=Level.INFO)
    text = models.CharField(_("内容"), max_length=300)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=120, null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"], condition=models.Q(dedupe_key__isnull=False), name="notification_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["user", "created_at"], condition=models.Q(read_at__isnull=True), name="notification_unread"
            ),
            # The list pages by (created_at, id) per user, newest first (a keyset, not an offset).
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_recent"),
        ]

    def __str__(self) -> str:
        return self.text


class LoginFailure(models.Model):
    """One refused password (or unknown username), counted per account and per client address.

    Kept in the database, not the cache: a lockout that Redis could forget is no lockout.
    """

    username = models.CharField(_("用户名"), max_length=150)
    address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("登录失败记录")
        verbose_name_plural = _("登录失败记录")
        indexes = [
            models.Index(fields=["username", "created_at"], name="loginfailure_username"),
            models.Index(fields=["address", "created_at"], name="loginfailure_address"),
        ]

    def __str__(self) -> str:
        return f"{self.username} @ {self.address or '-'}"


class LoginLockout(models.Model):
    """An account or a client address locked after repeated failures.

    The row is the lock (active while ``locked_until`` is ahead and nobody released it) and its
    audit record: when, after how many failures, and who released it early.
    """

    class Scope(models.TextChoices):
        ACCOUNT = "account", _("账号")
        ADDRESS = "address", _("来源地址")

    scope = models.CharField(_("锁定对象"), max_length=8, choices=Scope.choices)
    key = models.CharField(_("账号或地址"), max_length=150)
    failures = models.PositiveIntegerField(_("失败次数"))
    locked_at = models.DateTimeField(_("锁定时间"), default=timezone.now)
    locked_until = models.DateTimeField(_("锁定至"))
    unlocked_at = models.DateTimeField(_("解锁时间"), null=True, blank=True)
    unlocked_by = models.ForeignKey(
        User, verbose_name=_("解锁人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("登录锁定")
        verbose_name_plural = _("登录锁定")
        ordering = ["-locked_at", "-id"]
        indexes = [models.Index(fields=["scope", "key", "locked_until"], name="loginlockout_lookup")]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.key}"

    @property
    def is_active(self) -> bool:
        return self.unlocked_at is None and self.locked_until > timezone.now()


class ApiToken(models.Model):
    """An API token of one member of staff, valid until ``expires_at`` unless revoked.

    Only a SHA-256 digest of the key is stored (the key is shown once, when issued); ``prefix``
    tells tokens apart in the admin without revealing them.
    """

    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("令牌前缀"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("签发时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("过期时间"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, verbose_name=_("撤销人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class UsedNonce(models.Model):
    """A one-time value that has been spent (a captcha challenge answered, right or wrong).

    The primary key makes spending atomic: the first insert wins, every later one conflicts. Rows
    are dropped by the purge job once ``expires_at`` has passed (the value is then refused as
    expired anyway).
    """

    nonce = models.CharField(max_length=64, primary_key=True)
    purpose = models.CharField(max_length=32)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("已使用的一次性凭据")
        verbose_name_plural = _("已使用的一次性凭据")

    def __str__(self) -> str:
        return f"{self.purpose}:{self.nonce}"


class TimelineEvent(AppendOnly, models.Model):
    """One step of an object's timeline: who did what, when, from which status to which, and why.

    The abstract base of every timeline table (``AppealEvent``, ``WorkOrderEvent``,
    ``RankingEvent`` …). A concrete event adds the foreign key to its object with
    ``related_name="events"``; rows are written by ``units.transitions.transition`` (or, for a step
    that is no move, by the app's own ``record_event``) and never changed (``AppendOnly``).
    ``from_status``/``to_status`` are empty for a step that moves nothing (a note, a reveal);
    ``data`` holds the step's details (the unit dispatched to, the fields changed …).
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=32)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    # The label of each action code, set by the concrete event; a code without one reads as itself.
    ACTION_LABELS: ClassVar[dict[str, str]] = {}

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    @property
    def action_label(self) -> str:
        return str(self.ACTION_LABELS.get(self.action, self.action))


class SavedView(models.Model):
    """我的视图: a user's name for a filter set of one list, shown as a tab on that list.

    Only a name for a query string: the list's URL stays the truth, and ``query`` holds the
    list's own filter parameters alone (sanitised by ``units.saved_views.sanitise``).
    """

    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="saved_views")
    # The lists are ``units.saved_views.LISTS`` (labels: ``choices.SavedList``); not a column's
    # choices, so that a list gaining saved views needs no migration.
    list_name = models.CharField(_("列表"), max_length=20)
    name = models.CharField(_("视图名称"), max_length=30)
    query = models.CharField(_("筛选条件"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("我的视图")
        verbose_name_plural = _("我的视图")
        ordering = ["list_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "list_name", "name"], name="units_saved_view_name_per_list"),
        ]

    def __str__(self) -> str:
        return self.name
