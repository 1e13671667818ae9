"""Work orders: dispatch rules, the order itself, its timeline, deadlines and supervision."""

from __future__ import annotations

from django.conf import settings
from django.db import connections, models
from django.db.models import Q, Value
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intake.choices import Severity
from intake.models import PATH_IDS_SQL, Appeal, _fields_but_scope
from units.models import TimelineEvent
from units.visibility import ScopedQuerySet

from .choices import (
    OPEN_STATUSES,
    WITH_UNIT,
    Action,
    CalendarSource,
    ContactMethod,
    ExtensionState,
    FeedbackResult,
    RuleKind,
    SupervisionKind,
    UrgeStage,
    WorkOrderStatus,
)


class CalendarDay(models.Model):
    """One day of the working calendar: a holiday, a make-up working day (调休) or an ordinary day.

    Seeded from the chinese-calendar package (``manage.py seed_calendar``); administrators add a
    new year by hand as soon as the State Council notice appears. ``source`` keeps an
    administrator's entry from being overwritten by a later seed.
    """

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"))
    name = models.CharField(_("说明"), max_length=40, blank=True)
    source = models.CharField(_("来源"), max_length=8, choices=CalendarSource.choices, default=CalendarSource.ADMIN)

    class Meta:
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'班' if self.is_workday else '休'} {self.name}"


class SeverityPolicy(models.Model):
    """Time limits of one severity (四色分级). Hours are calendar hours; working days skip holidays."""

    severity = models.CharField(_("分级"), max_length=8, choices=Severity.choices, unique=True)
    sign_within_minutes = models.PositiveIntegerField(_("签收时限（分钟）"), null=True, blank=True)
    feedback_within_hours = models.PositiveIntegerField(_("反馈时限（小时）"), null=True, blank=True)
    feedback_within_working_days = models.PositiveIntegerField(_("反馈时限（工作日）"), null=True, blank=True)

    class Meta:
        verbose_name = _("分级时限")
        verbose_name_plural = _("分级时限")
        constraints = [
            models.CheckConstraint(
                condition=Q(feedback_within_hours__isnull=False) | Q(feedback_within_working_days__isnull=False),
                name="policy_has_feedback_limit",
            )
        ]

    def __str__(self) -> str:
        return self.get_severity_display()


class CategoryRule(models.Model):
    """Category → responsible department (admin-editable). A rule on a parent category covers its children."""

    category = models.ForeignKey("intake.Category", verbose_name=_("分类"), on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("units.Unit", verbose_name=_("责任单位"), on_delete=models.CASCADE, related_name="+")
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("分类派单规则")
        verbose_name_plural = _("分类派单规则")
        constraints = [models.UniqueConstraint(fields=["category"], name="category_rule_once")]

    def __str__(self) -> str:
        return f"{self.category} → {self.unit}"


class JurisdictionRule(models.Model):
    """Place → station (辖区): an address keyword, street or community found in the appeal's address."""

    kind = models.CharField(_("类型"), max_length=12, choices=RuleKind.choices, default=RuleKind.KEYWORD)
    pattern = models.CharField(_("地名"), max_length=60)
    unit = models.ForeignKey("units.Unit", verbose_name=_("辖区单位"), on_delete=models.CASCADE, related_name="+")
    priority = models.PositiveIntegerField(
        _("优先级"), default=100, help_text=_("数字小者优先；同优先级时匹配更长的地名。")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("辖区派单规则")
        verbose_name_plural = _("辖区派单规则")
        ordering = ["priority", "pattern"]

    def __str__(self) -> str:
        return f"{self.pattern} → {self.unit}"


class WorkOrderQuerySet(ScopedQuerySet):
    """Unit users see orders whose lead OR an assisting unit is in their subtree.

    On PostgreSQL the rule is read from the row's ``scope_units`` (one GIN lookup, rule 12);
    ``holders_condition`` is the rule itself, which the column mirrors and SQLite evaluates.
    """

    def holders_condition(self, scope) -> Q:
        own = Q(unit__path__startswith=scope.path)
        assisting = Q(
            pk__in=WorkOrder.assisting_units.through.objects.filter(unit__path__startswith=scope.path).values(
                "workorder_id"
            )
        )
        return own | assisting

    def open(self) -> WorkOrderQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def with_unit(self) -> WorkOrderQuerySet:
        return self.filter(status__in=WITH_UNIT)

    def refresh_scope(self) -> int:
        """Recompute ``scope_units`` of these orders (lead and assisting units' path ids), then of
        their appeals, set-wise (PostgreSQL; SQLite does not read the column)."""
        connection = connections[self.db]
        if connection.vendor != "postgresql":
            return 0
        rows = list(self.values_list("pk", "appeal_id"))
        if not rows:
            return 0
        with connection.cursor() as cursor:
            cursor.execute(work_order_scope_sql("w2.id = ANY(%s)"), [[pk for pk, _a in rows]])
            changed = cursor.rowcount
        Appeal.objects.using(self.db).filter(pk__in={a for _pk, a in rows}).refresh_scope()
        return changed


def work_order_scope_sql(where: str) -> str:
    """The UPDATE that sets ``workorders_workorder.scope_units`` for the orders matching ``where`` (on w2)."""
    return (
        "UPDATE workorders_workorder w SET scope_units = s.scope FROM ("
        " SELECT w2.id, coalesce((SELECT jsonb_agg(DISTINCT h.x ORDER BY h.x) FROM ("
        f" {PATH_IDS_SQL} WHERE u.id = w2.unit_id OR u.id IN ("
        "  SELECT au.unit_id FROM workorders_workorder_assisting_units au WHERE au.workorder_id = w2.id)"
        " ) h(x)), '[]'::jsonb) AS scope"
        f" FROM workorders_workorder w2 WHERE {where}"
        ") s WHERE w.id = s.id AND w.scope_units IS DISTINCT FROM s.scope"
    )


class WorkOrder(models.Model):
    """An appeal dispatched to a lead unit (with optional assisting units) and a deadline.

    ``status`` only changes through ``workorders.services`` (one table of allowed moves).
    ``sign_deadline`` and ``due_at`` are stored so that lists and the urge job are index scans;
    ``next_urge_at``/``urge_stage`` drive the reminders, claimed with a conditional UPDATE.
    """

    number = models.CharField(_("工单编号"), max_length=20, unique=True, null=True, editable=False)
    appeal = models.ForeignKey(
        "intake.Appeal", verbose_name=_("诉求"), on_delete=models.PROTECT, related_name="work_orders"
    )
    unit = models.ForeignKey(
        "units.Unit", verbose_name=_("承办单位"), on_delete=models.PROTECT, related_name="work_orders"
    )
    assisting_units = models.ManyToManyField(
        "units.Unit", verbose_name=_("协办单位"), blank=True, related_name="assisted_work_orders"
    )
    # The ids on the paths of the lead and assisting units (ancestors included): a user sees the
    # order when his unit's id is in it. Derived, kept by ``save()`` when the lead unit changes and
    # by the assisting-units signal below; the appeal's own scope is refreshed with it.
    scope_units = models.JSONField(default=list, db_default=Value([], output_field=models.JSONField()), editable=False)
    status = models.CharField(
        _("状态"), max_length=20, choices=WorkOrderStatus.choices, default=WorkOrderStatus.DISPATCHED
    )
    severity = models.CharField(_("分级"), max_length=8, choices=Severity.choices, default=Severity.BLUE)
    note = models.TextField(_("派单说明"), blank=True)

    dispatched_at = models.DateTimeField(_("派单时间"), default=timezone.now)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("派单人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    working_days = models.PositiveIntegerField(_("办理时限（工作日）"), null=True, blank=True)
    sign_deadline = models.DateTimeField(_("签收时限"), null=True, blank=True)
    due_at = models.DateTimeField(_("反馈时限"))
    deadline_provisional = models.BooleanField(_("时限待确认"), default=False)
    # A working-day deadline is "the N-th working day after due_basis_at": kept to recount it.
    due_basis_at = models.DateTimeField(null=True, blank=True)
    due_basis_days = models.PositiveSmallIntegerField(null=True, blank=True)
    next_urge_at = models.DateTimeField(null=True, blank=True)
    urge_stage = models.PositiveSmallIntegerField(_("催办进度"), choices=UrgeStage.choices, default=UrgeStage.NONE)
    # Bumped whenever the deadline changes, so reminders of a new deadline are new reminders.
    deadline_version = models.PositiveSmallIntegerField(default=1)
    is_overdue = models.BooleanField(_("超期"), default=False)
    overdue_at = models.DateTimeField(_("超期时间"), null=True, blank=True)

    # Set when the unit was told it missed the sign deadline (red orders: 30 minutes); claimed once.
    sign_late_notified_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    feedback_text = models.TextField(_("办理情况"), blank=True)
    feedback_result = models.CharField(_("办理结果"), max_length=16, choices=FeedbackResult.choices, blank=True)
    contact_method = models.CharField(_("联系群众"), max_length=8, choices=ContactMethod.choices, blank=True)
    contacted_at = models.DateTimeField(_("联系时间"), null=True, blank=True)
    feedback_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    return_count = models.PositiveSmallIntegerField(_("退回次数"), default=0)

    extension_state = models.CharField(
        _("延期"), max_length=10, choices=ExtensionState.choices, default=ExtensionState.NONE, blank=True
    )
    extension_days = models.PositiveSmallIntegerField(_("申请延期（工作日）"), null=True, blank=True)
    extension_reason = models.TextField(_("延期理由"), blank=True)

    handback_reason = models.TextField(_("退单理由"), blank=True)

    is_listed = models.BooleanField(_("挂牌督办"), default=False)
    listed_reason = models.CharField(_("督办原因"), max_length=200, blank=True)
    listed_at = models.DateTimeField(_("挂牌时间"), null=True, blank=True)
    # A supervisor took it off the list by hand: rules do not list it again.
    supervision_waived = models.BooleanField(default=False)

    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_on_time = models.BooleanField(_("按期办结"), null=True, blank=True)
    reply_text = models.TextField(_("答复群众"), blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    # Close notices (citizen SMS, result to 12345/12389) are outbox rows in other apps; these
    # say they were queued, and the sweeper re-drives closed orders where one is still empty.
    close_sms_queued_at = models.DateTimeField(null=True, blank=True)
    result_queued_at = models.DateTimeField(null=True, blank=True)
    notice_attempts = models.PositiveSmallIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkOrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-dispatched_at", "-id"]
        indexes = [
            # The urge job's claim order. NOT NULL in the condition: a list asking only for
            # "status with the unit" must not read this index as a filter of every open order.
            models.Index(
                fields=["next_urge_at"],
                condition=Q(status__in=sorted(WITH_UNIT), next_urge_at__isnull=False),
                name="workorder_urge_next",
            ),
            models.Index(fields=["unit", "status", "due_at"], name="workorder_unit_queue"),
            # Workspace tabs of open statuses in (due_at, id) order, keyset pages, bounded counts.
            models.Index(fields=["status", "due_at", "id"], name="workorder_status_due"),
            # The "all" tab of city-wide roles, newest first, in its whole keyset order: on the
            # timestamp alone every order sharing the first row's instant was read and sorted
            # (a day's batch imported at one time: 3,498 rows sorted for a page at 10M).
            models.Index(fields=["dispatched_at", "id"], name="workorder_all_tab"),
            # The "closed" tab, newest first.
            models.Index(fields=["closed_at", "id"], condition=Q(status="closed"), name="workorder_closed_tab"),
            # Center review lists: each a small partial index in the list's own order.
            models.Index(
                fields=["feedback_at", "id"], condition=Q(status="feedback_submitted"), name="workorder_review"
            ),
            models.Index(fields=["updated_at", "id"], condition=Q(status="approved"), name="workorder_approved"),
            models.Index(fields=["updated_at", "id"], condition=Q(status="handed_back"), name="workorder_handed_back"),
            models.Index(fields=["due_at"], condition=Q(extension_state="requested"), name="workorder_extension"),
            models.Index(fields=["is_listed", "status"], condition=Q(is_listed=True), name="workorder_listed"),
            # 即将到期 of city-wide roles and its count: the orders whose 80 % reminder has gone and
            # whose deadline has not, by deadline. Through the status index every open order not
            # yet due was read and filtered (30,357 rows for a count of 0 at 10M).
            models.Index(
                fields=["due_at", "id"],
                condition=Q(status__in=sorted(WITH_UNIT), is_overdue=False, urge_stage__gte=UrgeStage.EIGHTY),
                name="workorder_due_soon",
            ),
            # Period figures (completion and on-time rates) select orders by due and close dates.
            models.Index(fields=["due_at"], name="workorder_due"),
            models.Index(fields=["closed_at"], condition=Q(closed_at__isnull=False), name="workorder_closed"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        unit_saved = update_fields is None or {"unit", "unit_id"} & set(update_fields)
        known = getattr(self, "_saved_unit_id", None)
        if update_fields is None and not self._state.adding and not kwargs.get("force_insert"):
            # Never write back an in-memory scope (assisting units may have changed it since load).
            kwargs["update_fields"] = _fields_but_scope(self)
        super().save(*args, **kwargs)
        # Dispatch, sub-dispatch and hand-back to the sub-dispatching unit all change the lead unit.
        if unit_saved and known != self.unit_id:
            WorkOrder.objects.using(self._state.db).filter(pk=self.pk).refresh_scope()
        self._saved_unit_id = self.unit_id

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._saved_unit_id = instance.__dict__.get("unit_id")
        return instance

    def refresh_from_db(self, *args, **kwargs) -> None:
        super().refresh_from_db(*args, **kwargs)
        self._saved_unit_id = self.__dict__.get("unit_id")

    @property
    def status_choice(self) -> WorkOrderStatus:
        return WorkOrderStatus(self.status)

    @property
    def severity_choice(self) -> Severity:
        return Severity(self.severity)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_with_unit(self) -> bool:
        return self.status in WITH_UNIT

    def is_due_soon(self, now=None) -> bool:
        now = now or timezone.now()
        return self.is_with_unit and not self.is_overdue and self.urge_stage >= UrgeStage.EIGHTY and self.due_at > now


SCOPE_ENTRY_COLUMNS = "order_id, unit_id, status, dispatched_at, closed_at, updated_at, due_at"
# The order's values of those columns, on a row aliased ``w`` (``NEW`` in a trigger).
SCOPE_ENTRY_VALUES = "{w}.id, x.u::bigint, {w}.status, {w}.dispatched_at, {w}.closed_at, {w}.updated_at, {w}.due_at"


def scope_entries_sql(source: str, where: str = "true") -> str:
    """The INSERT that writes the ``ScopeEntry`` rows of the orders in ``source`` (a table or a
    transition table, aliased w) matching ``where``: one per element of their ``scope_units``."""
    return (
        f"INSERT INTO workorders_scopeentry ({SCOPE_ENTRY_COLUMNS})"
        f" SELECT {SCOPE_ENTRY_VALUES.format(w='w')}"
        f" FROM {source} w, jsonb_array_elements_text(w.scope_units) x(u) WHERE {where}"
        " ON CONFLICT DO NOTHING"
    )


class ScopeEntry(models.Model):
    """One unit that sees one order (an element of the order's ``scope_units``), with the order's
    status and the timestamps its growing lists are sorted by.

    A GIN index on ``scope_units`` finds a unit's orders but cannot give them in order: the closed,
    handed-back and 全部 tabs of a station read and sorted its whole history (5,504 closed orders
    at 1M, ten times that at 10M) to show 50. Here a btree on (unit, timestamp) per list reads a
    page of a unit's orders newest first; one on (unit, status, due_at) of the open statuses the
    open tabs in deadline order and their counts (``scope_open_tab``). Written only by PostgreSQL triggers on the order table
    (migration ``workorders 0011``), set-wise per statement, whatever updates the order; SQLite
    (the demo) leaves it empty and its lists read the rule itself.
    """

    pk = models.CompositePrimaryKey("order", "unit")
    # No index of their own: the primary key leads with the order (the triggers' look-up), the
    # list indexes with the unit.
    # No foreign-key constraint either: the order table's triggers keep the rows (and a constraint
    # would check every row of a backfill of tens of millions at commit).
    order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="scope_entries"
    )
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    status = models.CharField(max_length=20, choices=WorkOrderStatus.choices)
    dispatched_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField()
    # The open tabs' order (migration 0012; entries of orders finished before it have none).
    due_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            # 已办结 (closed_at, id newest first), 已退单 (updated_at), 全部 (dispatched_at).
            models.Index(
                fields=["unit", "-closed_at", "-order"],
                condition=Q(status=WorkOrderStatus.CLOSED),
                name="scope_closed_tab",
            ),
            models.Index(
                fields=["unit", "-updated_at", "-order"],
                condition=Q(status=WorkOrderStatus.HANDED_BACK),
                name="scope_handed_back_tab",
            ),
            models.Index(fields=["unit", "-dispatched_at", "-order"], name="scope_all_tab"),
            # The open tabs and their counts (待签收 … 待审核): a unit's open orders of a status,
            # by deadline.
            models.Index(
                fields=["unit", "status", "due_at", "order"],
                condition=Q(status__in=sorted(OPEN_STATUSES)),
                name="scope_open_tab",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}@{self.unit_id}"


@receiver(m2m_changed, sender=WorkOrder.assisting_units.through, dispatch_uid="workorder_assisting_scope")
def _assisting_units_changed(sender, instance, action, reverse, pk_set, using, **kwargs):
    """Adding or removing an assisting unit changes who sees the order and its appeal."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        WorkOrder.objects.using(using).filter(pk=instance.pk).refresh_scope()
    elif action == "post_clear":
        WorkOrder.objects.using(using).filter(scope_units__contains=[instance.pk]).refresh_scope()
    elif pk_set:
        WorkOrder.objects.using(using).filter(pk__in=pk_set).refresh_scope()


class WorkOrderEvent(TimelineEvent):
    """One step of a work order's timeline (who, when, from, to, why); written with the move."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("工单记录")
        verbose_name_plural = _("工单记录")

    def __str__(self) -> str:
        return f"{self.order} {self.get_action_display()}"

    @property
    def from_label(self) -> str:
        return WorkOrderStatus(self.from_status).label if self.from_status else ""

    @property
    def to_label(self) -> str:
        return WorkOrderStatus(self.to_status).label if self.to_status else ""


def attachment_path(instance: FeedbackAttachment, filename: str) -> str:
    return f"workorders/{instance.order_id}/{timezone.now():%Y%m%d%H%M%S}_{filename}"


class FeedbackAttachment(models.Model):
    """A file the unit attaches to its feedback (photos, scanned statements, PDFs)."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("附件"), upload_to=attachment_path)
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("反馈附件")
        verbose_name_plural = _("反馈附件")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class SupervisionRule(models.Model):
    """A rule that lists orders for supervision automatically (挂牌督办).

    ``params`` by kind: repeat ``{"min_appeals": 2, "days": 30}`` (same caller, same category);
    long_unresolved ``{"working_days": 10}`` (open that long since dispatch);
    group ``{"min_citizens": 5, "days": 7}`` (distinct callers, same category and address).
    """

    name = models.CharField(_("规则名称"), max_length=60)
    kind = models.CharField(_("类型"), max_length=16, choices=SupervisionKind.choices)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("督办规则")
        verbose_name_plural = _("督办规则")
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        return self.name


class Consultation(models.Model):
    """A joint decision of several departments (警种联合会商) on an unclear case, kept with the order."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="consultations")
    topic = models.CharField(_("会商事项"), max_length=200)
    held_on = models.DateField(_("会商日期"))
    departments = models.ManyToManyField("units.Unit", verbose_name=_("参与单位"), related_name="+")
    participants = models.TextField(_("参会人员"), blank=True)
    decision = models.TextField(_("会商意见"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("联合会商")
        verbose_name_plural = _("联合会商")
        ordering = ["held_on", "id"]

    def __str__(self) -> str:
        return self.topic


class ReplyTemplate(models.Model):
    """The public reply a close starts from (答复模板), per category; the row without a category is the default.

    Only a prefill: the center edits and confirms the text before anything reaches the citizen
    (``/track/``, the closure SMS, 12345/12389). Placeholders: ``{unit}`` (the handling unit),
    ``{date}`` (today), ``{code}`` (the tracking code), ``{category}``.
    """

    category = models.ForeignKey(
        "intake.Category",
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("留空为默认模板（分类没有专门模板时使用）。"),
    )
    text = models.TextField(
        _("答复模板"), help_text=_("可用占位符：{unit} 承办单位，{date} 日期，{code} 查询码，{category} 分类。")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("答复模板")
        verbose_name_plural = _("答复模板")
        ordering = ["category__sort_order", "id"]
        constraints = [
            # One template per category, and one default (NULLS NOT DISTINCT: PostgreSQL 15+).
            models.UniqueConstraint(fields=["category"], nulls_distinct=False, name="one_reply_template_per_category")
        ]

    def __str__(self) -> str:
        return str(self.category) if self.category_id else str(_("默认答复模板"))
