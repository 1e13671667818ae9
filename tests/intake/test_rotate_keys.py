"""Phone keys can be rotated: re-encrypt with the newest key, re-hash with a new hash key."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from intake.models import Appeal
from intake.phones import phone_hash
from tests.helpers import stored_column

pytestmark = pytest.mark.django_db


def test_it_reencrypts_and_rehashes_so_the_old_keys_can_go(make_appeal, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PHONE_ENCRYPTION_KEYS = [old]
    appeal = make_appeal(citizen_phone="13800006060")
    blank = make_appeal(citizen_phone="")
    settings.PHONE_ENCRYPTION_KEYS = [new, old]
    settings.PHONE_HASH_KEY = "a-new-hash-key"
    for _ in range(2):
        call_command("rotate_phone_keys", "--rehash", "--batch", "1", stdout=io.StringIO())
    settings.PHONE_ENCRYPTION_KEYS = [new]
    fresh = Appeal.objects.get(pk=appeal.pk)
    assert fresh.citizen_phone == "+8613800006060"
    assert fresh.citizen_phone_hash == phone_hash("+8613800006060")
    assert Fernet(new.encode()).decrypt(stored_column(appeal, "citizen_phone").encode()) == b"+8613800006060"
    assert Appeal.objects.get(pk=blank.pk).citizen_phone == ""
