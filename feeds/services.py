"""Writes of the feeds app: source keys, pushes, import batches, results sent back to platforms.

Views, the API, tasks and commands call these functions; nothing else changes a batch's or a
delivery's status.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import requests
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, connection, transaction
from django.db.models import BooleanField, F, Q
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from intake.models import Appeal
from units.cache import soft_cache
from units.enqueue import send_task, send_task_after_commit
from units.models import User
from units.roles import admins
from units.services import notify
from units.tabular import EXTENSIONS as IMPORT_EXTENSIONS
from units.tabular import ImportFileError, estimate_rows, read_rows

from . import permissions, signing
from .choices import BatchStatus, DeliveryStatus, FeedKind
from .imports import aliases_for, handler_for
from .models import DeliveryAttempt, FeedSource, ImportBatch, ImportRowError, ResultDelivery

logger = logging.getLogger(__name__)


# --- Sources ------------------------------------------------------------------------------------


def generate_source_key(source: FeedSource, *, actor: User | None = None) -> str:
    """Give ``source`` a fresh key and return it; only its hash is kept, so show it once.

    ``actor``: the administrator issuing it (None for a command run on the server)."""
    if actor is not None and not permissions.may_manage_source_keys(actor):
        raise PermissionDenied
    with transaction.atomic():
        locked = FeedSource.objects.select_for_update().get(pk=source.pk)
        key = locked.new_key()
        locked.save(update_fields=["key_hash", "key_prefix", "key_created_at"])
    logger.info("feed source %s: new key %s… issued by %s", locked.code, locked.key_prefix, getattr(actor, "pk", None))
    source.key_hash, source.key_prefix, source.key_created_at = (
        locked.key_hash,
        locked.key_prefix,
        locked.key_created_at,
    )
    return key


# --- Pushes -------------------------------------------------------------------------------------


def receive_appeal(*, source: FeedSource, data: dict, actor: User | None = None) -> tuple[Appeal, bool]:
    """One appeal pushed by a platform: (appeal, created). A re-sent external id creates nothing.

    Raises ValidationError (field → Chinese messages) for what intake refuses, e.g. a bad phone.
    """
    from intake.services import create_appeal

    if source.kind != FeedKind.APPEALS or not source.channel:
        raise ValidationError(_("该数据来源不接收诉求。"))
    return create_appeal(
        channel=source.channel,
        content=data["content"],
        received_at=data["received_at"],
        external_id=data["external_id"],
        citizen_name=data.get("citizen_name", ""),
        citizen_phone=data.get("citizen_phone", ""),
        address=data.get("address", ""),
        is_enterprise=bool(data.get("is_enterprise", False)),
        category_hint=data.get("category_hint") or None,
        actor=actor,
    )


# --- Imports ------------------------------------------------------------------------------------


def _progress_key(batch_id: int) -> str:
    return f"feeds:batch-progress:{batch_id}"


def set_progress(batch_id: int, percent: int) -> None:
    """Live progress of a running batch. Kept in the cache: the batch row is locked by the import's
    own transaction, whose writes nobody else sees before it commits."""
    soft_cache.set(_progress_key(batch_id), int(percent), 6 * 3600)


def current_progress(batch: ImportBatch) -> int:
    if batch.status in (BatchStatus.DONE, BatchStatus.FAILED):
        return 100 if batch.status == BatchStatus.DONE else batch.progress
    return int(soft_cache.get(_progress_key(batch.pk)) or batch.progress or 0)


def validate_import_file(upload: UploadedFile) -> None:
    name = (upload.name or "").lower()
    if not name.endswith(IMPORT_EXTENSIONS):
        if name.endswith(".xls"):
            raise ValidationError(_("不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV 后再上传。"))
        raise ValidationError(_("只支持 CSV 或 XLSX 文件。"))
    if not upload.size:
        raise ValidationError(_("文件是空的。"))
    if upload.size > settings.FEED_IMPORT_MAX_BYTES:
        raise ValidationError(
            _("文件过大，不能超过 %(mb)d MB。") % {"mb": settings.FEED_IMPORT_MAX_BYTES // (1024 * 1024)}
        )


# Advisory-lock namespaces of this app (the first key of PostgreSQL's two-key advisory locks).
RUNNING_BATCH_LOCK = 0x0FEED1  # held by the process running batch <id> for the whole run
SAME_FILE_LOCK = 0x0FEED2  # held while start_import looks for the batch of a file


def _runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


@contextmanager
def import_lock(batch_id: int) -> Iterator[bool]:
    """Hold batch ``batch_id``'s run lock for the block; yields False when a live process has it.

    A session-level PostgreSQL advisory lock: the server frees it when the holder's connection
    ends, so a killed process frees it at once, and "running, lock free" means dead. Connections
    must be session-level (no pooler in transaction mode). SQLite has no such lock: always True,
    and dead runners are found by FEED_IMPORT_STALE_SECONDS instead.
    """
    if not settings.IS_POSTGRES:
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUNNING_BATCH_LOCK, int(batch_id)])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUNNING_BATCH_LOCK, int(batch_id)])
            except DatabaseError:
                # The connection is gone, and the server freed the lock with it.
                logger.warning("import batch %s: lock not released explicitly", batch_id, exc_info=True)


def import_lock_is_held(batch_id: int) -> bool:
    """Whether some live process holds batch ``batch_id``'s run lock (PostgreSQL only).

    pg_locks lists the locks of every database of the server: only this database's count (a
    batch of the same number in another database, a test run beside this one, is another batch).
    """
    if not settings.IS_POSTGRES:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND classid = %s::oid AND objid = %s::oid AND objsubid = 2)""",
            [RUNNING_BATCH_LOCK, int(batch_id)],
        )
        return cursor.fetchone()[0]


def _dead_running_batches():
    """Running batches whose process is gone: lock free (PostgreSQL), or silent too long (SQLite)."""
    running = ImportBatch.objects.filter(status=BatchStatus.RUNNING)
    if not settings.IS_POSTGRES:
        stale = timezone.now() - timedelta(seconds=settings.FEED_IMPORT_STALE_SECONDS)
        return running.filter(started_at__lt=stale)
    held = RawSQL(
        """EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
               AND l.classid = %s::oid AND l.objid = feeds_importbatch.id::oid AND l.objsubid = 2)""",
        [RUNNING_BATCH_LOCK],
        output_field=BooleanField(),
    )
    return running.alias(held=held).filter(held=False)


def _file_digest(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _batch_of_file(*, kind: str, source: FeedSource | None, digest: str) -> ImportBatch | None:
    """The batch a file already has: the open one, else the finished one, else the latest failed.

    Not locked: a running import holds its batch row for the whole run, and a re-upload must not
    wait for it. start_import's advisory lock serialises uploads of one file instead."""
    same = ImportBatch.objects.filter(kind=kind, source=source, file_sha256=digest)
    for statuses in ([BatchStatus.QUEUED, BatchStatus.RUNNING], [BatchStatus.DONE], [BatchStatus.FAILED]):
        found = same.filter(status__in=statuses).order_by("-created_at", "-id").first()
        if found is not None:
            return found
    return None


def start_import(
    *,
    kind: str,
    source: FeedSource | None,
    upload: UploadedFile,
    actor: User | None,
    run_now: bool = False,
    method: str | None = None,
) -> ImportBatch:
    """Import a file: one file (its content per kind and source) is one batch.

    * a new file becomes a queued batch, imported by a worker after commit;
    * a file whose batch is still open (queued, or running in a process that died) takes that
      batch over: its task is sent again, or with ``run_now`` it runs here. A batch a live process
      is running is left to it;
    * a file already imported is not imported again: its finished batch is returned;
    * a file whose batch failed runs again in that batch (attempts start over).

    ``batch.earlier`` says which case it was: "" (new file) or the earlier status of the batch.
    With ``run_now`` (the management command) the import runs in this process. ``actor``: the
    member of staff uploading (None for a command run on the server).
    """
    if actor is not None and not permissions.may_import(actor):
        raise PermissionDenied
    validate_import_file(upload)
    if kind == FeedKind.APPEALS and (source is None or source.kind != FeedKind.APPEALS or not source.channel):
        raise ValidationError(_("请选择一个诉求类数据来源。"))
    digest = _file_digest(upload)
    filename = (upload.name or "upload.csv").rsplit("/", 1)[-1][-200:]
    with transaction.atomic():
        if settings.IS_POSTGRES:
            # Two uploads of one file at the same moment find or make one batch, in turn.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                    [SAME_FILE_LOCK, f"{kind}:{getattr(source, 'pk', '')}:{digest}"],
                )
        batch = _batch_of_file(kind=kind, source=source, digest=digest)
        earlier = batch.status if batch is not None else ""
        if batch is None:
            batch = ImportBatch(kind=kind, source=source, filename=filename, uploaded_by=actor, file_sha256=digest)
            batch.file.save(filename, upload, save=False)
            batch.save()
        elif earlier == BatchStatus.FAILED:
            batch.file.save(filename, upload, save=False)
            batch.status, batch.attempts, batch.error, batch.finished_at = BatchStatus.QUEUED, 0, "", None
            batch.uploaded_by = actor if getattr(actor, "pk", None) else batch.uploaded_by
            batch.save(update_fields=["file", "status", "attempts", "error", "finished_at", "uploaded_by"])
        elif batch.is_open and not (batch.file and batch.file.storage.exists(batch.file.name)):
            batch.file.save(filename, upload, save=False)
            batch.save(update_fields=["file"])
        if batch.is_open and not run_now:
            from .tasks import run_import_batch_task

            send_task_after_commit(run_import_batch_task, batch.pk)
    if batch.is_open and run_now:
        run_import_batch(batch.pk, method=method)
    batch.refresh_from_db()
    batch.earlier = earlier
    return batch


def _claim_batch(batch_id: int) -> ImportBatch | None:
    """Take a queued batch, or a running one whose process died. The caller holds the batch's run
    lock (``import_lock``), so on PostgreSQL a running batch is one whose runner is gone."""
    now = timezone.now()
    dead = Q(status=BatchStatus.RUNNING)
    if not settings.IS_POSTGRES:
        dead &= Q(started_at__lt=now - timedelta(seconds=settings.FEED_IMPORT_STALE_SECONDS))
    with transaction.atomic():
        batch = (
            ImportBatch.objects.select_for_update(skip_locked=True)
            .filter(pk=batch_id)
            .filter(Q(status=BatchStatus.QUEUED) | dead)
            .first()
        )
        if batch is None:
            return None
        if batch.attempts >= settings.FEED_IMPORT_MAX_ATTEMPTS:
            batch.status = BatchStatus.FAILED
            batch.error = batch.error or _("多次执行未能完成，已停止。")
            batch.finished_at = now
            batch.save(update_fields=["status", "error", "finished_at"])
            transaction.on_commit(lambda: _tell_admins_batch_failed(batch.pk))
            transaction.on_commit(lambda: _discard_file(batch))
            return None
        batch.previous_runner = batch.runner if batch.status == BatchStatus.RUNNING else ""
        batch.status = BatchStatus.RUNNING
        batch.attempts += 1
        batch.started_at = now
        batch.progress = 0
        batch.runner = _runner_name()
        batch.save(update_fields=["status", "attempts", "started_at", "progress", "runner"])
    return batch


def run_import_batch(batch_id: int, *, method: str | None = None) -> ImportBatch | None:
    """Import one batch, exactly once, whoever calls it and however often.

    1. take the batch's run lock (``import_lock``) for the whole run: a batch a live process
       runs is left alone (None); a running batch whose lock is free was left by a dead process
       and is taken over at once;
    2. claim it (queued → running, or that dead running batch) with SKIP LOCKED;
    3. in ONE transaction holding the batch row's lock: forget errors of an earlier broken run,
       run the kind's handler, store its row errors and counts, mark it done. A process that dies
       rolls all of it back, so a taken-over batch starts from the top and its counts are true
       (rows that came in by another way meanwhile count as already present);
    4. a file that cannot be read fails the batch with its (Chinese) reason; an unexpected error
       puts it back in the queue until FEED_IMPORT_MAX_ATTEMPTS. Done or failed, the uploaded
       file is deleted.
    """
    with import_lock(batch_id) as held:
        if not held:
            return None
        return _run_claimed_batch(batch_id, method=method)


def _run_claimed_batch(batch_id: int, *, method: str | None) -> ImportBatch | None:
    claimed = _claim_batch(batch_id)
    if claimed is None:
        return None
    if claimed.previous_runner:
        logger.warning(
            "import batch %s: taken over from %s, which died (attempt %s)",
            claimed.pk,
            claimed.previous_runner,
            claimed.attempts,
        )
    set_progress(claimed.pk, 0)
    ours = ImportBatch.objects.filter(pk=claimed.pk, status=BatchStatus.RUNNING, started_at=claimed.started_at)
    try:
        with transaction.atomic():
            batch = (
                ImportBatch.objects.select_for_update(of=("self",))
                .select_related("source", "uploaded_by")
                .get(pk=claimed.pk)
            )
            if batch.status != BatchStatus.RUNNING or batch.started_at != claimed.started_at:
                return None  # another worker took it over meanwhile
            ImportRowError.objects.filter(batch=batch).delete()
            handler = handler_for(batch.kind)
            with batch.file.open("rb") as fileobj:
                estimated = estimate_rows(fileobj, filename=batch.filename)
                rows = read_rows(fileobj, filename=batch.filename, aliases=aliases_for(batch.kind))
                options = {"method": method} if method else {}
                outcome = handler(
                    batch, rows, progress=lambda p: set_progress(batch.pk, p), estimated_rows=estimated, **options
                )
            ImportRowError.objects.bulk_create(
                [
                    ImportRowError(
                        batch=batch, row_number=e.row_number, field=e.field, reason=e.reason[:300], raw=e.raw
                    )
                    for e in outcome.errors
                ],
                batch_size=1000,
            )
            batch.rejected = ImportRowError.objects.filter(batch=batch).values("row_number").distinct().count()
            batch.total_rows = outcome.total_rows
            batch.created = outcome.created
            batch.duplicates = outcome.duplicates
            batch.method = outcome.method
            batch.status = BatchStatus.DONE
            batch.progress = 100
            batch.error = ""
            batch.finished_at = timezone.now()
            batch.save()
    except ImportFileError as exc:
        ours.update(status=BatchStatus.FAILED, error=str(exc), finished_at=timezone.now())
    except Exception as exc:
        logger.exception("import batch %s failed", claimed.pk)
        final = claimed.attempts >= settings.FEED_IMPORT_MAX_ATTEMPTS
        ours.update(
            status=BatchStatus.FAILED if final else BatchStatus.QUEUED,
            error=_("导入出错：%(error)s") % {"error": exc.__class__.__name__},
            finished_at=timezone.now() if final else None,
        )
        if final:
            _tell_admins_batch_failed(claimed.pk)
    soft_cache.delete(_progress_key(claimed.pk))
    finished = ImportBatch.objects.get(pk=claimed.pk)
    if finished.status in (BatchStatus.DONE, BatchStatus.FAILED):
        _discard_file(finished)
    finished.previous_runner = claimed.previous_runner
    return finished


def _discard_file(batch: ImportBatch) -> None:
    """The uploaded file holds citizens' phone numbers in clear: once the batch has ended, the
    appeals (phones encrypted) and the report (phones masked) are all that is kept."""
    if batch.file:
        batch.file.delete(save=False)
        ImportBatch.objects.filter(pk=batch.pk).update(file="")


def _tell_admins_batch_failed(batch_id: int) -> None:
    notify(
        users=admins(),
        text=_("导入批次 #%(id)s 多次执行失败，请检查。") % {"id": batch_id},
        url=reverse("feeds:batch", args=[batch_id]),
        dedupe_key=f"feeds-batch-failed-{batch_id}",
    )


def sweep_import_batches() -> int:
    """Re-drive batches that nobody is importing; delete files that ended batches left behind.

    Queued for over a minute (the task was lost), or running with nobody running them: on
    PostgreSQL a running batch whose run lock is free (its process died: taken over at once), on
    SQLite one running past FEED_IMPORT_STALE_SECONDS. A process killed between the end of its
    batch and the deletion of the upload leaves the file: it is deleted here.
    """
    from .tasks import run_import_batch_task

    for ended in ImportBatch.objects.filter(status__in=[BatchStatus.DONE, BatchStatus.FAILED]).exclude(file="")[:200]:
        _discard_file(ended)
    waiting = timezone.now() - timedelta(seconds=60)
    queued = ImportBatch.objects.filter(status=BatchStatus.QUEUED, created_at__lt=waiting)
    ids = list(queued.values_list("pk", flat=True)[:50]) + list(
        _dead_running_batches().values_list("pk", flat=True)[:50]
    )
    for pk in ids:
        send_task(run_import_batch_task, pk)
    return len(ids)


# --- Results sent back --------------------------------------------------------------------------


def result_source_for(appeal: Appeal) -> FeedSource | None:
    """The active platform that takes results for the appeal's channel, if any."""
    return (
        FeedSource.objects.filter(kind=FeedKind.APPEALS, channel=appeal.channel, is_active=True)
        .exclude(result_url="")
        .order_by("pk")
        .first()
    )


def _payload(appeal: Appeal, delivery_uuid: uuid.UUID, *, source: FeedSource, sequence: int, text: str) -> dict:
    closed_at = appeal.closed_at or timezone.now()
    return {
        "delivery_id": str(delivery_uuid),
        "source": source.code,
        "external_id": appeal.external_id,
        "tracking_code": appeal.tracking_code,
        "sequence": sequence,
        "result": text,
        "closed_at": timezone.localtime(closed_at).isoformat(),
        "unit": appeal.unit.name if appeal.unit_id else "",
    }


def queue_result_delivery(
    appeal: Appeal, *, result_text: str, actor: User | None = None, sequence: int | None = None
) -> ResultDelivery | None:
    """Queue the result of a closed appeal for its source platform; None when nobody takes results.

    Idempotent: the same result text for the same appeal (a double close) is one delivery; pass
    ``sequence`` (e.g. the number of the close) to make the key explicit. The row is written in
    the caller's transaction and sent by a worker after commit; the sweeper re-drives it if the
    message is lost.
    """
    source = result_source_for(appeal)
    if source is None or not appeal.external_id:
        return None
    # A close must never fail because its text is empty: the platform still needs to hear of it.
    text = (result_text or "").strip() or _("已办结。")
    with transaction.atomic():
        # Serialise concurrent closes of one appeal, so each result is queued once.
        locked = Appeal.objects.select_for_update(of=("self",)).select_related("unit").get(pk=appeal.pk)
        existing = ResultDelivery.objects.filter(appeal=locked)
        if sequence is not None:
            found = existing.filter(sequence=sequence).first()
            if found:
                return found
        else:
            latest = existing.order_by("-sequence").first()
            if latest and latest.payload.get("result") == text:
                return latest
            sequence = latest.sequence + 1 if latest else 1
        delivery_uuid = uuid.uuid4()
        delivery = ResultDelivery.objects.create(
            uuid=delivery_uuid,
            appeal=locked,
            source=source,
            sequence=sequence,
            payload=_payload(locked, delivery_uuid, source=source, sequence=sequence, text=text),
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        from .tasks import send_result_delivery_task

        send_task_after_commit(send_result_delivery_task, delivery.pk)
    return delivery


def backoff_seconds(attempts: int) -> int:
    """Wait before attempt ``attempts + 1``: base × 2^(attempts-1), capped."""
    base, cap = settings.RESULT_DELIVERY_BACKOFF_BASE, settings.RESULT_DELIVERY_BACKOFF_MAX
    return int(min(cap, base * (2 ** max(0, attempts - 1))))


def delivery_body(delivery: ResultDelivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _claim_delivery(delivery_id: int) -> uuid.UUID | None:
    token = uuid.uuid4()
    now = timezone.now()
    claimed = ResultDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(status=DeliveryStatus.SENDING, claimed_at=now, claim_token=token, attempts=F("attempts") + 1)
    return token if claimed else None


def send_result_delivery(delivery_id: int) -> ResultDelivery | None:
    """Send one due delivery to its platform and record the attempt.

    1. claim it with a conditional UPDATE (pending and due → sending); 0 rows means another
       worker has it, or it is not due: do nothing;
    2. POST the signed JSON body, outside any transaction, with a timeout; the delivery id goes
       in ``X-Delivery-Id``/``Idempotency-Key`` so the platform can discard a re-send;
    3. record the attempt and move the row: 2xx → delivered; 408/429/5xx/no answer → pending
       again after a back-off, parked after RESULT_DELIVERY_MAX_ATTEMPTS; other 4xx → failed.
       Failed and parked deliveries alert the administrators.
    """
    token = _claim_delivery(delivery_id)
    if token is None:
        return None
    delivery = ResultDelivery.objects.select_related("source").get(pk=delivery_id)
    source = delivery.source
    body = delivery_body(delivery)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        signing.DELIVERY_ID_HEADER: str(delivery.uuid),
        "Idempotency-Key": str(delivery.uuid),
        "User-Agent": "opinion-center-feeds/1.0",
    }
    if source.result_secret:
        headers.update(signing.signed_headers(source.result_secret, body))
    started_at = timezone.now()
    clock = time.monotonic()
    http_status, excerpt, error = None, "", ""
    try:
        response = requests.post(
            source.result_url,
            data=body,
            headers=headers,
            timeout=settings.RESULT_DELIVERY_TIMEOUT,
            allow_redirects=False,
        )
        http_status, excerpt = response.status_code, response.text[:500]
    except requests.RequestException as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:500]
    duration_ms = int((time.monotonic() - clock) * 1000)
    return _record_attempt(
        delivery_id,
        token=token,
        started_at=started_at,
        http_status=http_status,
        excerpt=excerpt,
        error=error,
        duration_ms=duration_ms,
    )


def _retryable(http_status: int | None) -> bool:
    return http_status is None or http_status in (408, 429) or http_status >= 500


def _record_attempt(
    delivery_id: int,
    *,
    token: uuid.UUID,
    started_at,
    http_status: int | None,
    excerpt: str,
    error: str,
    duration_ms: int,
) -> ResultDelivery:
    now = timezone.now()
    alert = None
    retry_in = None
    with transaction.atomic():
        delivery = ResultDelivery.objects.select_for_update().get(pk=delivery_id)
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempt_rows.count() + 1,
            started_at=started_at,
            http_status=http_status,
            response_excerpt=excerpt,
            error=error,
            duration_ms=duration_ms,
        )
        ok = http_status is not None and 200 <= http_status < 300
        ours = delivery.status == DeliveryStatus.SENDING and delivery.claim_token == token
        if ok and delivery.status != DeliveryStatus.DELIVERED:
            # Accepted is accepted, even if the sweeper re-queued the row meanwhile.
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.last_error = ""
        elif not ok and ours:
            reason = error or _("平台返回 HTTP %(status)s：%(body)s") % {"status": http_status, "body": excerpt[:200]}
            delivery.last_error = reason[:500]
            if not _retryable(http_status):
                delivery.status = DeliveryStatus.FAILED
                alert = _("结果回传被平台拒收（%(source)s，诉求编号 %(ext)s），请处理。")
            elif delivery.attempts >= settings.RESULT_DELIVERY_MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.PARKED
                alert = _("结果回传 %(n)s 次未成功，已搁置（%(source)s，诉求编号 %(ext)s），请处理。")
            else:
                delivery.status = DeliveryStatus.PENDING
                retry_in = backoff_seconds(delivery.attempts)
                delivery.next_attempt_at = now + timedelta(seconds=retry_in)
        else:
            return delivery
        delivery.claim_token = None
        delivery.save()
        if alert:
            text = alert % {
                "n": delivery.attempts,
                "source": delivery.source.name,
                "ext": delivery.payload.get("external_id"),
            }
            transaction.on_commit(lambda: _tell_admins_delivery(delivery.pk, delivery.status, text))
        if retry_in is not None and retry_in <= 300:
            from .tasks import send_result_delivery_task

            # A short back-off is kept by the broker; longer ones wait for the sweeper (rule 3).
            send_task_after_commit(send_result_delivery_task, delivery.pk, countdown=retry_in)
    return delivery


def _tell_admins_delivery(delivery_id: int, status: str, text: str) -> None:
    notify(
        users=admins(),
        text=text,
        url=reverse("feeds:delivery", args=[delivery_id]),
        dedupe_key=f"feeds-delivery-{delivery_id}-{status}",
    )


def sweep_result_deliveries() -> dict[str, int]:
    """Every minute: put back deliveries stuck in "sending" (their worker died mid-call) and send
    the due ones again. A re-sent result carries the same delivery id, so the platform keeps one."""
    from .tasks import send_result_delivery_task

    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.RESULT_DELIVERY_SENDING_TIMEOUT)
    revived = 0
    for delivery in ResultDelivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=cutoff)[:200]:
        with transaction.atomic():
            locked = ResultDelivery.objects.select_for_update().get(pk=delivery.pk)
            if locked.status != DeliveryStatus.SENDING or locked.claimed_at != delivery.claimed_at:
                continue
            DeliveryAttempt.objects.create(
                delivery=locked,
                number=locked.attempt_rows.count() + 1,
                started_at=locked.claimed_at,
                error=_("发送中断（执行进程退出），未收到平台应答。"),
            )
            locked.claim_token = None
            locked.last_error = _("发送中断，已重新排队。")
            if locked.attempts >= settings.RESULT_DELIVERY_MAX_ATTEMPTS:
                locked.status = DeliveryStatus.PARKED
                text = _("结果回传 %(n)s 次未成功，已搁置（%(source)s，诉求编号 %(ext)s），请处理。") % {
                    "n": locked.attempts,
                    "source": locked.source.name,
                    "ext": locked.payload.get("external_id"),
                }
                transaction.on_commit(lambda d=locked, t=text: _tell_admins_delivery(d.pk, d.status, t))
            else:
                locked.status = DeliveryStatus.PENDING
                locked.next_attempt_at = now
            locked.save()
            revived += 1
    due = list(
        ResultDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    for pk in due:
        send_task(send_result_delivery_task, pk)
    return {"revived": revived, "sent": len(due)}


def retry_delivery(delivery: ResultDelivery, *, actor: User) -> ResultDelivery:
    """Center staff or an administrator send a failed or parked delivery again (attempts start
    over); a delivery in another state is returned as it is."""
    from .tasks import send_result_delivery_task

    if not permissions.may_retry_delivery(actor):
        raise PermissionDenied
    with transaction.atomic():
        locked = ResultDelivery.objects.select_for_update().get(pk=delivery.pk)
        if not permissions.may_retry_delivery(actor, locked):
            return locked
        locked.status = DeliveryStatus.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.last_error = _("%(user)s 手动重新发送。") % {"user": actor.display_name}
        locked.save()
        send_task_after_commit(send_result_delivery_task, locked.pk)
    return locked
