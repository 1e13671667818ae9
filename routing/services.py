"""Training, proposing and acting on the learned routing proposal.

The rules (``workorders.services.propose_unit``: jurisdiction, then category) stay the first
word where they are explicit; the model's proposal stands beside them with its confidence, and
is the proposal where no rule applies.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from intake.models import Appeal, Category
from units.errors import Refused
from units.models import Unit
from workorders.choices import OPEN_STATUSES, WorkOrderStatus
from workorders.models import WorkOrder
from workorders.services import dispatch_appeal, propose_unit

from . import training
from .models import AutoDispatchSetting, DispatchChoice, Followed, TrainedModel, TrainingStatus

log = logging.getLogger(__name__)

TEST_DAYS = 30  # the evaluation month: the model is trained on what came before it
MIN_TRAIN_ROWS = 50


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


# --- Training rows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """A closed appeal with its final unit (the unit of the order that closed it) and its time."""

    appeal_id: int
    at: datetime
    row: training.Row


def closed_examples(*, limit: int, max_chars: int = 400) -> list[Example]:
    """The last ``limit`` closed work orders as examples, oldest first.

    The label is the unit of the order that CLOSED: a hand-back leaves its order HANDED_BACK (not
    closed) and a sub-dispatch moves the order itself, so both corrections are already in the
    label. One example per appeal (its latest closed order).
    """
    fields = (
        "appeal_id",
        "unit_id",
        "appeal__received_at",
        "appeal__category_id",
        "appeal__title",
        "appeal__content",
        "appeal__address",
        "appeal__channel",
        "appeal__kind",
    )
    rows = WorkOrder.objects.filter(status=WorkOrderStatus.CLOSED).order_by("-closed_at", "-pk").values_list(*fields)
    seen: set[int] = set()
    found: list[Example] = []
    for appeal_id, unit_id, at, category_id, title, content, address, channel, kind in rows[: limit * 2].iterator(
        chunk_size=5000
    ):
        if appeal_id in seen:
            continue
        seen.add(appeal_id)
        text = training.appeal_text(
            title=title, content=content, address=address, channel=channel, kind=kind, max_chars=max_chars
        )
        found.append(Example(appeal_id, at, training.Row(text, unit_id, category_id)))
        if len(found) >= limit:
            break
    found.reverse()
    return found


def _rules_accuracy(examples: list[Example], *, sample: int) -> tuple[float | None, float | None]:
    """The rules' top-1 unit accuracy on the examples (None where they propose nothing counts as a
    miss), and how many they propose anything for."""
    if not examples:
        return None, None
    step = max(1, len(examples) // sample)
    picked = examples[::step][:sample]
    appeals = Appeal.objects.select_related("category", "category__parent").in_bulk([e.appeal_id for e in picked])
    hits = covered = 0
    for e in picked:
        unit = propose_unit(appeals[e.appeal_id])
        covered += unit is not None
        hits += unit is not None and unit.pk == e.row.unit
    return hits / len(picked), covered / len(picked)


# --- Training runs ----------------------------------------------------------------------------


def _new_run() -> TrainedModel:
    for _attempt in range(3):
        try:
            with transaction.atomic():
                version = (TrainedModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
                return TrainedModel.objects.create(version=version, status=TrainingStatus.FAILED, note=_("训练中"))
        except IntegrityError:  # a run started at the same moment took the number
            continue
    raise RuntimeError("could not allocate a model version")


def train_model(*, now: datetime | None = None, params: dict | None = None) -> TrainedModel:
    """Train a model on closed orders, evaluate it on the last month and keep it if it is not worse.

    Steps: read at most ROUTING_MAX_TRAIN_ROWS closed orders; split at ``now - 30 days``; fit on
    the earlier part; measure top-1/top-3 for unit and category and the rules' accuracy on the
    month; score the active model on the same month; activate the new one only if its top-1 unit
    accuracy is not lower. Every run is kept as a row, failed and rejected ones included.
    """
    now = now or timezone.now()
    params = {**training.DEFAULT_PARAMS, **(params or {})}
    params["n_features"] = int(getattr(settings, "ROUTING_FEATURES", params["n_features"]))
    started = time.monotonic()
    run = _new_run()
    run.params = params
    test_from = now - timedelta(days=TEST_DAYS)
    run.test_from = test_from
    try:
        examples = closed_examples(limit=_setting("ROUTING_MAX_TRAIN_ROWS", 200_000), max_chars=params["max_chars"])
        train = [e for e in examples if e.at < test_from]
        test = [e for e in examples if e.at >= test_from][-_setting("ROUTING_MAX_TEST_ROWS", 20_000) :]
        run.train_rows, run.test_rows = len(train), len(test)
        if len(train) < MIN_TRAIN_ROWS or not test:
            run.note = _(
                "样本不足：训练 %(train)d 条、测试 %(test)d 条（至少需要 %(min)d 条训练样本和最近一个月的测试样本）。"
            ) % {
                "train": len(train),
                "test": len(test),
                "min": MIN_TRAIN_ROWS,
            }
            return _finish(run, started)
        model = training.fit([e.row for e in train], params)
        test_rows = [e.row for e in test]
        run.unit_top1, run.unit_top3 = training.evaluate(model, test_rows, "unit")
        run.category_top1, run.category_top3 = training.evaluate(model, test_rows, "category")
        run.rules_unit_top1, run.rules_coverage = _rules_accuracy(test, sample=_setting("ROUTING_RULES_SAMPLE", 3000))
        run.artefact = training.dump_artefact(model)
        run.sha256 = hashlib.sha256(run.artefact).hexdigest()
        current = loaded_model()
        if current is not None:
            run.previous_unit_top1, _top3 = training.evaluate(current[1], test_rows, "unit")
        run.note = ""
        if run.previous_unit_top1 is not None and (run.unit_top1 or 0) < run.previous_unit_top1:
            run.status = TrainingStatus.REJECTED
            run.artefact = None  # a rejected model is never loaded; its figures stay
            return _finish(run, started)
        run.status = TrainingStatus.ACTIVE
        run.activated_at = timezone.now()
        with transaction.atomic():
            TrainedModel.objects.select_for_update().filter(status=TrainingStatus.ACTIVE).update(
                status=TrainingStatus.RETIRED, artefact=None
            )
            return _finish(run, started)
    except Exception as exc:
        log.exception("routing model training failed")
        run.status = TrainingStatus.FAILED
        run.artefact = None
        run.note = f"{type(exc).__name__}: {exc}"[:1000]
        return _finish(run, started)


def _finish(run: TrainedModel, started: float) -> TrainedModel:
    run.finished_at = timezone.now()
    run.seconds = round(time.monotonic() - started, 2)
    run.save()
    return run


# --- The active model, loaded once per process -----------------------------------------------

_cache: dict[str, object] = {}
_cache_lock = threading.Lock()


def loaded_model() -> tuple[TrainedModel, training.RoutingModel] | None:
    """The active model, read from the database once per process and version.

    One small query per call finds the active version; the artefact is read and verified only when
    that version is not the one in memory. A digest mismatch refuses the artefact (logged)."""
    meta = (
        TrainedModel.objects.filter(status=TrainingStatus.ACTIVE)
        .only("pk", "version", "sha256", "params", "unit_top1", "category_top1")
        .first()
    )
    if meta is None:
        return None
    with _cache_lock:
        cached = _cache.get("model")
        if cached is not None and cached[0].version == meta.version:
            return cached
        data = bytes(TrainedModel.objects.filter(pk=meta.pk).values_list("artefact", flat=True).first() or b"")
        if hashlib.sha256(data).hexdigest() != meta.sha256:
            log.error("routing model v%s: artefact digest mismatch, not loaded", meta.version)
            return None
        entry = (meta, training.load_artefact(data, meta.params))
        _cache["model"] = entry
        return entry


def forget_loaded_model() -> None:
    """Drop the in-memory model (tests; a process re-reads it on next use anyway)."""
    with _cache_lock:
        _cache.clear()


# --- Proposals --------------------------------------------------------------------------------


@dataclass
class Proposal:
    """The model's and the rules' proposals for one appeal. ``unit`` is what staff are offered:
    the rules' unit where a rule applies, the model's otherwise."""

    rule_unit: Unit | None = None
    model_unit: Unit | None = None
    model_confidence: float | None = None
    model_category: Category | None = None
    category_confidence: float | None = None
    version: int | None = None
    alternatives: list[tuple[Unit, float]] | None = None

    @property
    def unit(self) -> Unit | None:
        return self.rule_unit or self.model_unit

    @property
    def agree(self) -> bool:
        return self.rule_unit is not None and self.model_unit is not None and self.rule_unit.pk == self.model_unit.pk

    @property
    def percent(self) -> int | None:
        return None if self.model_confidence is None else round(self.model_confidence * 100)


def propose(appeal: Appeal) -> Proposal:
    """The rules' and the model's proposals for ``appeal`` (the model's only if one is active)."""
    proposal = Proposal(rule_unit=propose_unit(appeal))
    loaded = loaded_model()
    if loaded is None:
        return proposal
    meta, model = loaded
    text = training.appeal_text(
        title=appeal.title,
        content=appeal.content,
        address=appeal.address,
        channel=appeal.channel,
        kind=appeal.kind,
        max_chars=model.params["max_chars"],
    )
    units = model.rank([text], "unit", k=3)[0]
    categories = model.rank([text], "category", k=1)[0]
    by_pk = Unit.objects.filter(is_active=True).in_bulk([pk for pk, _p in units])
    ranked = [(by_pk[pk], p) for pk, p in units if pk in by_pk]
    proposal.version = meta.version
    proposal.alternatives = ranked
    if ranked:
        proposal.model_unit, proposal.model_confidence = ranked[0]
    if categories:
        proposal.model_category = Category.objects.filter(pk=categories[0][0]).first()
        proposal.category_confidence = categories[0][1]
    return proposal


# --- Acceptance -------------------------------------------------------------------------------

_automatic = contextvars.ContextVar("routing_automatic", default=False)


def record_dispatch_choice(order: WorkOrder) -> DispatchChoice | None:
    """Record whether a new order's unit is the model's proposal, the rules', both or neither.

    Runs inside the dispatch's transaction (from the post_save receiver), in a savepoint: a failure
    here is logged and never refuses the dispatch."""
    try:
        with transaction.atomic():
            proposal = propose(order.appeal)
            model_pk = proposal.model_unit.pk if proposal.model_unit else None
            rule_pk = proposal.rule_unit.pk if proposal.rule_unit else None
            by_model, by_rule = order.unit_id == model_pk, order.unit_id == rule_pk
            followed = (
                Followed.BOTH
                if by_model and by_rule
                else Followed.MODEL
                if by_model
                else Followed.RULE
                if by_rule
                else Followed.NEITHER
            )
            choice, _created = DispatchChoice.objects.get_or_create(
                order=order,
                defaults={
                    "appeal_id": order.appeal_id,
                    "chosen_unit_id": order.unit_id,
                    "model_unit_id": model_pk,
                    "model_confidence": proposal.model_confidence,
                    "model_version": proposal.version,
                    "rule_unit_id": rule_pk,
                    "followed": followed,
                    "automatic": _automatic.get(),
                },
            )
            return choice
    except Exception:  # noqa: BLE001 - bookkeeping must not refuse a dispatch
        log.warning("could not record the routing choice of order %s", order.pk, exc_info=True)
        return None


# --- Auto-dispatch (off unless an administrator turns it on) ---------------------------------


def auto_dispatch_pending(*, limit: int = 200) -> int:
    """Dispatch waiting appeals whose model confidence reaches their category's threshold.

    Only categories with an enabled ``AutoDispatchSetting``; only appeals that are new or waiting
    for dispatch, not red (a red appeal always has a person look at it) and without an open order;
    only when no rule proposes another unit. The dispatch is the ordinary ``dispatch_appeal`` with
    no actor (the system), and its timeline note says it was automatic and with what confidence.
    Running it twice dispatches nothing twice (dispatch is idempotent per unit, and a dispatched
    appeal is no longer waiting).
    """
    settings_by_category = {s.category_id: s for s in AutoDispatchSetting.objects.filter(is_enabled=True)}
    if not settings_by_category:
        return 0
    appeals = (
        Appeal.objects.filter(status__in=("new", "pending_dispatch"))
        .exclude(severity="red")
        .exclude(work_orders__status__in=OPEN_STATUSES)
        .select_related("category", "category__parent")
        .order_by("received_at")[:limit]
    )
    done = 0
    for appeal in appeals:
        proposal = propose(appeal)
        if proposal.model_unit is None or proposal.model_confidence is None:
            continue
        category_id = appeal.category_id or (proposal.model_category.pk if proposal.model_category else None)
        rule = settings_by_category.get(category_id)
        if rule is None or proposal.model_confidence < rule.threshold:
            continue
        if proposal.rule_unit is not None and not proposal.agree:
            continue
        note = _("自动派单：模型 v%(version)s 建议%(unit)s，置信度 %(percent)s%%（阈值 %(threshold)s%%）") % {
            "version": proposal.version,
            "unit": proposal.model_unit.name,
            "percent": proposal.percent,
            "threshold": round(rule.threshold * 100),
        }
        token = _automatic.set(True)
        try:
            dispatch_appeal(appeal, unit=proposal.model_unit, actor=None, note=note)
            done += 1
        except (Refused, ValueError) as exc:
            log.info("auto-dispatch of appeal %s refused: %s", appeal.pk, exc)
        finally:
            _automatic.reset(token)
    return done


# --- Hand-back figures (退单率 per month of dispatch) ------------------------------------------


def _month_of(moment: datetime):
    return timezone.localtime(moment).date().replace(day=1)


def _bump(month, *, dispatched: int = 0, handed_back: int = 0, using: str = "default") -> None:
    """Add to a month's counts in one upsert (in the caller's transaction)."""
    from django.db import connections

    from .models import HandbackMonth

    table = HandbackMonth._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (month, dispatched, handed_back, updated_at)
                VALUES (%s, %s, %s, CURRENT_TIMESTAMP)
                ON CONFLICT (month) DO UPDATE SET dispatched = {table}.dispatched + EXCLUDED.dispatched,
                    handed_back = {table}.handed_back + EXCLUDED.handed_back, updated_at = CURRENT_TIMESTAMP""",
            [month, dispatched, handed_back],
        )


def count_dispatch(order: WorkOrder, *, using: str = "default") -> None:
    """A new work order: one more dispatch in the month of its dispatch."""
    _bump(_month_of(order.dispatched_at), dispatched=1, using=using)


def count_hand_back(event, *, using: str = "default") -> None:
    """A hand-back row of an order's timeline: one more handed-back order in the month the order
    was dispatched, unless the order was already handed back before (it counts once)."""
    from workorders.choices import Action
    from workorders.models import WorkOrderEvent

    earlier = (
        WorkOrderEvent.objects.using(using)
        .filter(order_id=event.order_id, action=Action.HAND_BACK)
        .exclude(pk=event.pk)
        .exists()
    )
    if earlier:
        return
    dispatched_at = WorkOrder.objects.using(using).filter(pk=event.order_id).values_list("dispatched_at", flat=True)
    _bump(_month_of(dispatched_at.get()), handed_back=1, using=using)


def rebuild_handback_months(*, since=None) -> int:
    """Recount the months from ``since`` (a date; all history when None) from the work orders, in
    one grouped query (the ``dispatched_at`` index), and replace those months' rows.

    For rows written without model signals (bulk history, imports) and, nightly, the last two
    months. Returns the number of months written.
    """
    from django.db.models import Count, Exists, OuterRef, Q
    from django.db.models.functions import TruncMonth

    from workorders.choices import Action
    from workorders.models import WorkOrderEvent

    from .models import HandbackMonth

    orders = WorkOrder.objects.order_by()
    if since is not None:
        since = since.replace(day=1)
        start = timezone.make_aware(datetime(since.year, since.month, 1))
        orders = orders.filter(dispatched_at__gte=start)
    handed = WorkOrderEvent.objects.filter(order=OuterRef("pk"), action=Action.HAND_BACK)
    rows = (
        orders.annotate(month=TruncMonth("dispatched_at"), handed=Exists(handed))
        .values("month")
        .annotate(total=Count("pk"), handed_back=Count("pk", filter=Q(handed=True)))
    )
    found = {
        (r["month"].date() if hasattr(r["month"], "date") else r["month"]): (r["total"], r["handed_back"]) for r in rows
    }
    with transaction.atomic():
        stale = HandbackMonth.objects.all() if since is None else HandbackMonth.objects.filter(month__gte=since)
        stale.exclude(month__in=list(found)).delete()
        for month, (total, handed_back) in found.items():
            HandbackMonth.objects.update_or_create(
                month=month,
                defaults={"dispatched": total, "handed_back": handed_back, "updated_at": timezone.now()},
            )
    return len(found)
