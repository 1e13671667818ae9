"""Appeals from every channel, their categories and their timeline."""

from __future__ import annotations

import secrets

from django.apps import apps
from django.conf import settings
from django.db import connections, models
from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from units.models import TimelineEvent
from units.visibility import ScopedQuerySet

from .choices import AppealStatus, Channel, Kind, RevealedObject, Severity
from .phones import EncryptedPhoneField, mask, phone_last4

# No 0/O, 1/I/L: citizens read the code over the phone.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


_UNKNOWN = object()


def _fields_but_scope(instance) -> list[str]:
    """Every concrete field a plain ``save()`` would write, except the derived ``scope_units``."""
    deferred = instance.get_deferred_fields()
    return [
        f.name
        for f in instance._meta.concrete_fields
        if not f.primary_key and f.name != "scope_units" and f.attname not in deferred
    ]


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(8))


class Category(models.Model):
    """A node of the admin-editable category tree (traffic, household registration, …)."""

    code = models.CharField(_("分类代码"), max_length=32, unique=True)
    name = models.CharField(_("分类名称"), max_length=60)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级分类"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    default_severity = models.CharField(_("默认分级"), max_length=8, choices=Severity.choices, default=Severity.BLUE)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("诉求分类")
        verbose_name_plural = _("诉求分类")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name


class AppealQuerySet(ScopedQuerySet):
    """Unit users see the appeals dispatched to their unit or below (``unit`` is the lead unit),
    and the appeals on which their unit holds any work order.

    On PostgreSQL that rule is read from ``scope_units``, stored on the row (see ``Appeal``): "visible
    to station X" is one GIN lookup ``scope_units @> [X]`` instead of a path match ORed with an
    EXISTS over every work order (rule 12). ``holders_condition`` is the rule itself, which the
    column mirrors; SQLite (the demo) evaluates it directly.
    """

    unit_field = "unit"

    def holders_condition(self, scope) -> Q:
        """Lead unit in ``scope``'s subtree, or a work order (lead or assisting unit) held there."""
        condition = Q(unit__path__startswith=scope.path)
        holds = Q(unit__path__startswith=scope.path) | Q(assisting_units__path__startswith=scope.path)
        condition |= Q(Exists(_work_order_model().objects.filter(holds, appeal=OuterRef("pk"))))
        return condition

    def open(self) -> AppealQuerySet:
        return self.exclude(status__in=[AppealStatus.CLOSED, AppealStatus.MERGED])

    def refresh_scope(self) -> int:
        """Recompute ``scope_units`` of these appeals from their lead unit and their work orders.

        One set-wise UPDATE (PostgreSQL; SQLite does not read the column). Work orders must have
        their own ``scope_units`` up to date first: the appeal's is the union of theirs and the
        ids on its lead unit's path. Rows whose scope did not change are not rewritten.
        """
        connection = connections[self.db]
        if connection.vendor != "postgresql":
            return 0
        ids = list(self.values_list("pk", flat=True))
        if not ids:
            return 0
        with connection.cursor() as cursor:
            cursor.execute(appeal_scope_sql("a2.id = ANY(%s)"), [ids])
            return cursor.rowcount


# The ids on a unit's materialised path ("/1/4/17/" → 1, 4, 17): the unit and its ancestors.
PATH_IDS_SQL = "SELECT p::int AS x FROM units_unit u, unnest(string_to_array(trim(both '/' from u.path), '/')) p"


def appeal_scope_sql(where: str, *, with_work_orders: bool = True) -> str:
    """The UPDATE that sets ``intake_appeal.scope_units`` for the appeals matching ``where`` (on a2)."""
    orders = (
        " UNION ALL SELECT jsonb_array_elements_text(w.scope_units)::int"
        " FROM workorders_workorder w WHERE w.appeal_id = a2.id"
        if with_work_orders
        else ""
    )
    return (
        "UPDATE intake_appeal a SET scope_units = s.scope FROM ("
        " SELECT a2.id, coalesce((SELECT jsonb_agg(DISTINCT h.x ORDER BY h.x) FROM ("
        f" {PATH_IDS_SQL} WHERE u.id = a2.unit_id{orders}"
        " ) h(x)), '[]'::jsonb) AS scope"
        f" FROM intake_appeal a2 WHERE {where}"
        ") s WHERE a.id = s.id AND a.scope_units IS DISTINCT FROM s.scope"
    )


def _work_order_model():
    """The work order model: whoever holds a work order on an appeal sees the appeal. Named through
    the app registry, not imported, because the work-orders app sits above this one (it keeps the
    stored ``scope_units`` in step when its orders change)."""
    return apps.get_model("workorders", "WorkOrder")


class Appeal(models.Model):
    """One thing a citizen told us, from any channel. Channel + external id identify a re-sent item."""

    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    external_id = models.CharField(_("来源编号"), max_length=64, null=True, blank=True)
    tracking_code = models.CharField(_("查询码"), max_length=12, unique=True, default=new_tracking_code, editable=False)
    kind = models.CharField(_("诉求类型"), max_length=16, choices=Kind.choices, default=Kind.COMPLAINT)
    # Indexed by appeal_category_desk_idx (category first), not by a plain FK index.
    category = models.ForeignKey(
        Category,
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
        db_index=False,
    )
    severity = models.CharField(_("分级"), max_length=8, choices=Severity.choices, default=Severity.BLUE)
    # Severity.rank kept as a column so the desk's keyset (rank, received_at, id) is one index scan.
    severity_rank = models.PositiveSmallIntegerField(default=3, editable=False)
    status = models.CharField(_("状态"), max_length=20, choices=AppealStatus.choices, default=AppealStatus.NEW)
    title = models.CharField(_("标题"), max_length=120, blank=True)
    content = models.TextField(_("诉求内容"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    citizen_name = models.CharField(_("诉求人"), max_length=60, blank=True)
    citizen_phone = EncryptedPhoneField(_("联系电话"), blank=True, default="")
    citizen_phone_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    # The last four digits of the caller's number, as every masked number shows them: the desk and
    # the API find a caller by them without decrypting (kept by save(); the COPY import fills it).
    citizen_phone_last4 = models.CharField(max_length=4, blank=True, default="", db_default="", editable=False)
    is_enterprise = models.BooleanField(_("涉企"), default=False)
    received_at = models.DateTimeField(_("受理时间"), default=timezone.now)
    unit = models.ForeignKey(
        "units.Unit",
        verbose_name=_("责任单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    # Where triage proposes to send it; ``unit`` (which drives visibility) is set only on dispatch.
    proposed_unit = models.ForeignKey(
        "units.Unit",
        verbose_name=_("建议承办单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # The ids of every unit that may see this appeal: the units on the path of its lead unit and of
    # each unit holding one of its work orders (lead or assisting), ancestors included, so a user
    # sees it when his own unit's id is in the list. Derived, never edited: ``save()`` and the
    # work orders' ``save()`` and assisting-unit changes keep it (``AppealQuerySet.refresh_scope``).
    scope_units = models.JSONField(default=list, db_default=Value([], output_field=models.JSONField()), editable=False)
    is_repeat = models.BooleanField(_("重复诉求"), default=False)
    repeat_of = models.ForeignKey(
        "self",
        verbose_name=_("重复于"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repeats",
        db_index=False,
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("合并至"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged",
        db_index=False,
    )
    risk_words = models.CharField(_("命中风险词"), max_length=200, blank=True)
    category_hint = models.CharField(_("来源分类"), max_length=100, blank=True)
    similarity = models.FloatField(_("与前诉求相似度"), null=True, blank=True)
    public_reply = models.TextField(_("答复内容"), blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppealQuerySet.as_manager()

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(external_id__isnull=False),
                name="appeal_unique_channel_external_id",
            )
        ]
        # Every index here is paid on each insert (rule 15); migration 0011 lists the query each serves.
        indexes = [
            # Desk tabs (one status, or a few) in desk order, keyset pages and the bounded counts.
            models.Index(fields=["status", "severity_rank", "received_at", "id"], name="appeal_status_desk_idx"),
            # Desk "全部" in desk order.
            models.Index(fields=["severity_rank", "received_at", "id"], name="appeal_desk_idx"),
            # API list (newest first), date ranges.
            models.Index(fields=["received_at", "id"], name="appeal_received_idx"),
            models.Index(fields=["repeat_of"], condition=Q(repeat_of__isnull=False), name="appeal_repeat_of_idx"),
            models.Index(fields=["merged_into"], condition=Q(merged_into__isnull=False), name="appeal_merged_into_idx"),
            models.Index(fields=["citizen_phone_hash", "received_at"], name="appeal_caller_idx"),
            # Desk category filter in desk order (and the PROTECT check of a category).
            models.Index(fields=["category", "severity_rank", "received_at", "id"], name="appeal_category_desk_idx"),
            # The desk's open status counts under a category filter: a category's open appeals of a
            # status and severity in the period (the status index read every category's of the
            # period and filtered them: 3,667 rows for 1 at 1M, ten times as many at 10M).
            models.Index(
                fields=["category", "status", "severity_rank", "received_at"],
                condition=Q(status__in=["dispatched", "new", "pending_dispatch"]),
                name="appeal_open_category",
            ),
            # Desk search by the last four digits, in desk order.
            models.Index(
                fields=["citizen_phone_last4", "severity_rank", "received_at", "id"], name="appeal_last4_desk_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_code} {self.title or self.content[:20]}"

    def save(self, *args, **kwargs) -> None:
        # A derived column, not a side effect: it must always equal the severity's rank.
        self.severity_rank = Severity(self.severity).rank
        if "citizen_phone" not in self.get_deferred_fields():
            self.citizen_phone_last4 = phone_last4(self.citizen_phone)
            if kwargs.get("update_fields") is not None and "citizen_phone" in kwargs["update_fields"]:
                kwargs["update_fields"] = {*kwargs["update_fields"], "citizen_phone_last4"}
        if kwargs.get("update_fields") is not None and "severity" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "severity_rank"}
        update_fields = kwargs.get("update_fields")
        unit_saved = update_fields is None or {"unit", "unit_id"} & set(update_fields)
        known = getattr(self, "_saved_unit_id", None if self._state.adding else _UNKNOWN)
        if update_fields is None and not self._state.adding and not kwargs.get("force_insert"):
            # Never write back an in-memory scope: the work orders may have changed it since load.
            kwargs["update_fields"] = _fields_but_scope(self)
        super().save(*args, **kwargs)
        # The lead unit drives who sees the appeal: keep scope_units with it, in the same transaction.
        if unit_saved and known != self.unit_id:
            Appeal.objects.using(self._state.db).filter(pk=self.pk).refresh_scope()
        self._saved_unit_id = self.unit_id

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._saved_unit_id = instance.__dict__.get("unit_id", _UNKNOWN)
        return instance

    def refresh_from_db(self, *args, **kwargs) -> None:
        super().refresh_from_db(*args, **kwargs)
        self._saved_unit_id = self.__dict__.get("unit_id", _UNKNOWN)

    @property
    def severity_choice(self) -> Severity:
        return Severity(self.severity)

    @property
    def is_open(self) -> bool:
        return self.status not in (AppealStatus.CLOSED, AppealStatus.MERGED)

    @property
    def masked_phone(self) -> str:
        return mask(self.citizen_phone) if self.citizen_phone else ""


APPEAL_SCOPE_ENTRY_COLUMNS = "appeal_id, unit_id, status, severity_rank, received_at"
# The appeal's values of those columns, on a row aliased ``a`` (``NEW`` in a trigger).
APPEAL_SCOPE_ENTRY_VALUES = "{a}.id, x.u::bigint, {a}.status, {a}.severity_rank, {a}.received_at"


def appeal_scope_entries_sql(source: str, where: str = "true") -> str:
    """The INSERT that writes the ``AppealScopeEntry`` rows of the appeals in ``source`` (a table,
    aliased a) matching ``where``: one per element of their ``scope_units``."""
    return (
        f"INSERT INTO intake_appealscopeentry ({APPEAL_SCOPE_ENTRY_COLUMNS})"
        f" SELECT {APPEAL_SCOPE_ENTRY_VALUES.format(a='a')}"
        f" FROM {source} a, jsonb_array_elements_text(a.scope_units) x(u) WHERE {where}"
        " ON CONFLICT DO NOTHING"
    )


class AppealScopeEntry(models.Model):
    """One unit that sees one appeal (an element of the appeal's ``scope_units``), with the
    appeal's status and the keys its growing lists are sorted by.

    The GIN index on ``scope_units`` finds a unit's appeals but cannot give them in order: the
    desk's 全部 and 已办结 of a station and the API list of its appeals (newest first) read and
    sorted the station's whole history to show 50 (5,688 appeals at 1M, ten times that at 10M).
    Here a btree on (unit, severity_rank, received_at) reads a page in desk order, one on (unit,
    received_at desc) a page newest first. Written only by PostgreSQL triggers on the appeal table
    (migration ``intake 0014``), whatever updates the appeal; SQLite (the demo) leaves it empty and
    its lists read the rule itself.
    """

    pk = models.CompositePrimaryKey("appeal", "unit")
    # No index of their own: the primary key leads with the appeal (the triggers' look-up), the
    # list indexes with the unit. No foreign-key constraint either: the appeal table's triggers
    # keep the rows (and a constraint would check every row of a backfill of tens of millions).
    appeal = models.ForeignKey(
        Appeal, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="scope_entries"
    )
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    status = models.CharField(max_length=20, choices=AppealStatus.choices)
    severity_rank = models.PositiveSmallIntegerField()
    received_at = models.DateTimeField()

    class Meta:
        # Each index is paid on every insert of an appeal's entries. 已办结 is most of a unit's
        # history, read from the desk-order index with the entry's status; the open status tabs
        # and their counts from the partial index of open statuses (a station held over 1,000
        # dispatched appeals of 55,299 at 10M: its counts through the GIN of ``scope_units``
        # intersected the station's whole bitmap with every unit's dispatched appeals, 66 ms).
        indexes = [
            # The desk's open status tabs in desk order, and their bounded counts.
            models.Index(
                fields=["unit", "status", "severity_rank", "received_at", "appeal"],
                condition=Q(status__in=["dispatched", "new", "pending_dispatch"]),
                name="appeal_scope_open",
            ),
            # The desk's 全部 and 已办结, in desk order.
            models.Index(fields=["unit", "severity_rank", "received_at", "appeal"], name="appeal_scope_desk"),
            # The API list, newest first.
            models.Index(fields=["unit", "-received_at", "-appeal"], name="appeal_scope_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id}@{self.unit_id}"


class AppealEvent(TimelineEvent):
    """One step of an appeal's timeline: who did what, when, from which status to which, and why."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="events")

    class Meta(TimelineEvent.Meta):
        verbose_name = _("诉求记录")
        verbose_name_plural = _("诉求记录")


class RiskWord(models.Model):
    """A word or phrase (self-harm, revenge, extreme threats…) that proposes red and raises an alert."""

    word = models.CharField(_("风险词"), max_length=40, unique=True)
    note = models.CharField(_("说明"), max_length=100, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("风险词")
        verbose_name_plural = _("风险词")
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word


@receiver([post_save, post_delete], sender=RiskWord, dispatch_uid="intake-risk-words-changed")
def _risk_words_changed(**kwargs) -> None:
    from .services import risk_words_changed

    risk_words_changed()


class PhoneReveal(models.Model):
    """One deliberate look at a citizen's full number: who, when, from where, why, and what.

    The one central log of every reveal, wherever it happens (the appeal page and API, the
    callback page). The object revealed is named by type, id and a label kept as text, so the
    row keeps saying what was seen; ``appeal`` is set when the object is an appeal. The rows are
    evidence: written once, never changed or deleted (save and delete refuse, the admin is read
    only, and an appeal with reveals cannot be deleted).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("查看人"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("查看事由"), max_length=200, blank=True)
    object_type = models.CharField(
        _("查看对象类型"), max_length=16, choices=RevealedObject.choices, default=RevealedObject.APPEAL
    )
    object_id = models.PositiveBigIntegerField(_("查看对象编号"), null=True, blank=True)
    object_label = models.CharField(_("查看对象"), max_length=64, blank=True)
    appeal = models.ForeignKey(
        Appeal,
        verbose_name=_("诉求"),
        on_delete=models.PROTECT,
        related_name="phone_reveals",
        null=True,
        blank=True,
    )
    ip = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    created_at = models.DateTimeField(_("查看时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("号码查看记录")
        verbose_name_plural = _("号码查看记录")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="intake_reveal_object_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.object_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("a phone-reveal log row is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("a phone-reveal log row is never deleted")

    @property
    def object_url(self) -> str:
        """The staff page of the object revealed ("" when that app is not installed)."""
        from django.urls import NoReverseMatch, reverse

        names = {RevealedObject.APPEAL: "intake:appeal", RevealedObject.CALLBACK: "surveys:callback_detail"}
        if self.object_id is None or self.object_type not in names:
            return ""
        try:
            return reverse(names[self.object_type], args=[self.object_id])
        except NoReverseMatch:
            return ""


def attachment_path(instance: Attachment, filename: str) -> str:
    # A random name: the citizen's file name may carry personal data and is kept in a column.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"intake/{timezone.now():%Y/%m}/{secrets.token_hex(12)}.{ext}"


class Attachment(models.Model):
    """An image or audio file sent with an appeal (type and size checked by the intake forms)."""

    class Type(models.TextChoices):
        IMAGE = "image", _("图片")
        AUDIO = "audio", _("录音")

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), upload_to=attachment_path)
    type = models.CharField(_("类型"), max_length=8, choices=Type.choices)
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    size = models.PositiveIntegerField(_("大小"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name or self.file.name


class IdempotencyRecord(models.Model):
    """An API create already done under an ``Idempotency-Key``: a retry returns the same appeal."""

    key = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="intake_idempotency_once")]
