"""Rotating the phone keys covers every encrypted phone column, not only appeals: put the new key
first and keep the old one after it, run ``rotate_phone_keys --rehash``, drop the old key — every
number still decrypts, every column is ciphertext of the new key, every look-up hash is the new
keyed hash, and the look-ups (same caller, opt-outs, survey dedupe, ratings by phone) still match."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from intake.phones import phone_hash
from sms.models import OptOut, OutboundSms
from surveys.models import Rating

from .test_at_rest_logs_tasks import phone_fields

pytestmark = pytest.mark.django_db


def raw_column(model, f, pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{f.column}" FROM "{model._meta.db_table}" WHERE id = %s', [pk])
        return cursor.fetchone()[0]


def test_rotation_reencrypts_and_rehashes_every_phone_column(request, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PHONE_ENCRYPTION_KEYS = [old]
    old_hash_key = settings.PHONE_HASH_KEY
    flow = request.getfixturevalue("flow")
    before = {
        (model, f.name, obj.pk): getattr(obj, f.name)
        for model, f in phone_fields()
        for obj in model.objects.exclude(**{f.name: ""})
    }
    assert len({m for m, _f, _pk in before}) == len(phone_fields())

    # 1. The new key first, the old one kept as a fallback: nothing is unreadable meanwhile.
    settings.PHONE_ENCRYPTION_KEYS = [new, old]
    settings.PHONE_HASH_KEY = "a-new-hash-key-of-at-least-32-characters"
    assert flow.appeals["hotline"].__class__.objects.get(pk=flow.appeals["hotline"].pk).citizen_phone
    out = io.StringIO()
    call_command("rotate_phone_keys", "--rehash", "--batch", "2", stdout=out)
    call_command("rotate_phone_keys", "--rehash", "--batch", "2", stdout=io.StringIO())  # safe to run again

    # 2. The old key removed: every number decrypts with the new key alone, hashes are the new ones.
    settings.PHONE_ENCRYPTION_KEYS = [new]
    names = {(m, f.name): f for m, f in phone_fields()}
    for (model, name, pk), e164 in before.items():
        obj = model.objects.get(pk=pk)
        assert getattr(obj, name) == e164, (model, pk)
        raw = raw_column(model, names[(model, name)], pk)
        assert Fernet(new.encode()).decrypt(raw.encode()).decode() == e164, (model, pk)
        hash_name = f"{name}_hash"
        if hasattr(obj, hash_name):
            assert getattr(obj, hash_name) == phone_hash(e164), (model, pk)
    # Hashes copied from another row (a rating by SMS carries its SMS's hash) follow too.
    for rating in Rating.objects.filter(sms__isnull=False):
        assert rating.phone_hash == OutboundSms.objects.get(pk=rating.sms_id).phone_hash
        assert rating.phone_hash != ""
    # Look-ups by the new hash find what they found before.
    assert OptOut.objects.filter(phone_hash=phone_hash("+8613800007004")).exists()
    assert not OptOut.objects.filter(phone_hash=phone_hash("+8613800007004") + "x").exists()
    settings.PHONE_HASH_KEY = old_hash_key
    assert not OptOut.objects.filter(phone_hash=phone_hash("+8613800007004")).exists()
    assert "re-encrypted" in out.getvalue()
