"""Appeals the browser journeys start from: a numbered hotline appeal received through the one
door (``create_appeal``) for the desk, and the barbecue appeal already waiting for dispatch for
the work-order pages."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from intake import services as intake_services
from intake.models import Appeal
from intake.phones import phone_hash


def desk_appeal(n: int, **kwargs) -> Appeal:
    """Hotline appeal number ``n`` (the n-th complaint of the same barbecue noise, from 1380000nnnn),
    received ``100 - n`` minutes ago so that a higher ``n`` is newer; ``kwargs`` override its fields."""
    kwargs.setdefault("content", f"滨江路夜市烧烤噪音扰民第{n}次反映")
    kwargs.setdefault("address", "临江市江北区滨江路18号")
    kwargs.setdefault("citizen_phone", f"1380000{n:04d}")
    appeal, _created = intake_services.create_appeal(channel="hotline", **kwargs)
    Appeal.objects.filter(pk=appeal.pk).update(received_at=timezone.now() - timedelta(minutes=100 - n))
    return appeal


def waiting_appeal(phone: str) -> Appeal:
    """The yellow hotline appeal about the night market's smoke and noise on 滨江路, from ``phone``
    (E.164), waiting for dispatch."""
    return Appeal.objects.create(
        channel="hotline",
        content="滨江路夜市烧烤油烟和噪音扰民，每晚持续到凌晨。",
        address="临江市江北区滨江路18号",
        citizen_name="王秀英",
        citizen_phone=phone,
        citizen_phone_hash=phone_hash(phone),
        severity="yellow",
        status="pending_dispatch",
    )
