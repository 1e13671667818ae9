"""Citizens' phone numbers: validation, normalisation, encryption at rest, look-up hash, masking.

A number is stored twice: encrypted (Fernet, keys from PHONE_ENCRYPTION_KEYS, newest first, so
keys can rotate) and as a keyed hash (HMAC-SHA256 of the E.164 form with PHONE_HASH_KEY) that is
indexed for "same caller" look-ups. The number itself is never indexed, never put in a URL, a
log line or a task argument (ARCHITECTURE rule 8).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import time
from functools import lru_cache

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumbers import PhoneMetadata

DEFAULT_REGION = "CN"


def normalize_phone(raw: str) -> str:
    """The E.164 form of a Chinese mobile or landline (or any valid international number).

    Raises ValidationError with a message in the user's language when the number is not valid.
    """
    text = (raw or "").strip().replace(" ", "").replace("-", "").replace("－", "")
    text = text.translate(str.maketrans("０１２３４５６７８９＋", "0123456789+"))
    if not text:
        raise ValidationError(_("请填写电话号码。"), code="required")
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("电话号码格式不正确。"), code="invalid") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("电话号码格式不正确。"), code="invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _separated(pattern: str) -> str:
    """A phonenumbers pattern of national digits, letting a space or dash follow every digit
    (``normalize_phone`` drops them): ``\\d{3}`` becomes ``(?:[0-9][ -]?){3}``, ``[25-7]`` becomes
    ``[25-7][ -]?``. ``[0-9]`` rather than ``\\d``, which would also match other scripts' digits."""
    separator = "[ -]?"
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith(r"\d", i):
            i += 2
            count = re.match(r"\{\d+(?:,\d+)?\}", pattern[i:])
            if count:
                out.append(f"(?:[0-9]{separator}){count.group(0)}")
                i += len(count.group(0))
            else:
                out.append(f"[0-9]{separator}")
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out.append(pattern[i : end + 1] + separator)
            i = end + 1
        elif pattern[i].isdigit():
            out.append(pattern[i] + separator)
            i += 1
        elif pattern[i] == "{":  # a count on a group: not in the CN metadata, and not handled
            raise ValueError(f"unsupported phone pattern at {pattern[i:]!r}")
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def _mainland_phone_pattern() -> str:
    """The mainland mobiles and landlines ``normalize_phone`` accepts, as a regular expression
    built from the same phonenumbers metadata: 13800001234, 138 0000 1234, +86 138-0000-1234,
    0086…, 024-23456789, +86 24 2345 6789. Anchored, for JSON Schema's search semantics."""
    cn = PhoneMetadata.metadata_for_region(DEFAULT_REGION)
    mobile = _separated(cn.mobile.national_number_pattern)
    landline = _separated(cn.fixed_line.national_number_pattern)
    international = r"(?:\+86|0086)[ -]?"
    return rf"^(?:(?:{international})?(?:{mobile})|{international}(?:{landline})|0[ -]?(?:{landline}))$"


# What an API field holding a citizen's phone accepts, said in the schema and checked by the
# field itself, so that the two cannot disagree (a blank field, "no number", is allowed beside
# it). Other countries' numbers and other spellings are refused by the API (the staff forms
# still take any valid number).
MAINLAND_PHONE_PATTERN = _mainland_phone_pattern()


def phone_hash(e164: str) -> str:
    """Keyed hash of an E.164 number, for indexed equality look-ups."""
    return hmac.new(settings.PHONE_HASH_KEY.encode(), e164.encode(), hashlib.sha256).hexdigest()


def hash_of(raw: str) -> str | None:
    """The look-up hash of a raw number, or None when it is not a valid number."""
    try:
        return phone_hash(normalize_phone(raw))
    except ValidationError:
        return None


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def encrypt(value: str) -> str:
    return _fernet(tuple(settings.PHONE_ENCRYPTION_KEYS)).encrypt(value.encode()).decode()


def encrypt_many(values: list[str]) -> list[str]:
    """``encrypt`` for a batch (a file import): the same Fernet tokens, about 7× cheaper each.

    Fernet is AES-128-CBC with a random IV, then HMAC-SHA256. A number of at most 15 bytes (every
    E.164 number but the longest) pads to one block, and CBC over one block is the block cipher
    applied to plaintext XOR IV; so all those blocks go through one AES call on one buffer instead
    of one cipher object per number. Longer values take ``encrypt``. Tokens decrypt with
    ``decrypt`` (and any Fernet implementation) under the newest key, as ``encrypt``'s do.
    """
    short = [i for i, value in enumerate(values) if len(value.encode()) <= 15]
    out = [encrypt(value) if len(value.encode()) > 15 else "" for value in values]
    if not short:
        return out
    key = base64.urlsafe_b64decode(settings.PHONE_ENCRYPTION_KEYS[0])
    signing_key, encryption_key = key[:16], key[16:]
    padded = b"".join((data := values[i].encode()) + bytes([16 - len(data)]) * (16 - len(data)) for i in short)
    ivs = os.urandom(len(padded))
    mixed = (int.from_bytes(padded, "big") ^ int.from_bytes(ivs, "big")).to_bytes(len(padded), "big")
    # One block per value, each already chained with its own IV: ECB here is CBC, value by value.
    encryptor = Cipher(algorithms.AES(encryption_key), modes.ECB()).encryptor()
    blocks = encryptor.update(mixed) + encryptor.finalize()
    head = b"\x80" + int(time.time()).to_bytes(8, "big")
    for n, i in enumerate(short):
        body = head + ivs[16 * n : 16 * n + 16] + blocks[16 * n : 16 * n + 16]
        out[i] = base64.urlsafe_b64encode(body + hmac.digest(signing_key, body, "sha256")).decode()
    return out


def decrypt(token: str) -> str:
    try:
        return _fernet(tuple(settings.PHONE_ENCRYPTION_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # Never hand back ciphertext as if it were a number.
        raise ValueError("phone number cannot be decrypted with the configured keys") from exc


# A Chinese mobile in E.164: its national form is the 11 digits after +86 (what phonenumbers'
# NATIONAL format gives without its spaces), read without parsing: lists mask one per row.
_CN_MOBILE = re.compile(r"\+861[3-9][0-9]{9}")


def national(e164: str) -> str:
    """The number as a Chinese user writes it: 13800001234, 02412345678."""
    if not e164:
        return ""
    if _CN_MOBILE.fullmatch(e164):
        return e164[3:]
    try:
        number = phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 86:
        return (
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            .replace(" ", "")
            .replace("-", "")
        )
    return e164


def mask(e164: str) -> str:
    """138****1234 for mobiles; keep the area code and last 4 digits of landlines."""
    digits = national(e164)
    if not digits:
        return ""
    if len(digits) >= 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 6:
        return f"{digits[:-8] if len(digits) > 8 else digits[:2]}****{digits[-4:]}"
    return "****"


def phone_last4(e164: str) -> str:
    """The last four digits a masked number shows (``mask``), or "" when it shows none."""
    digits = national(e164)
    return digits[-4:] if len(digits) > 6 and digits[-4:].isdigit() else ""


class EncryptedPhoneField(models.TextField):
    """Holds an E.164 number encrypted. Assign the E.164 string; read it back decrypted."""

    description = "Encrypted phone number"

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)
