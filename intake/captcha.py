"""An offline captcha for the public forms: four digits drawn into a distorted PNG.

The digits are rendered by the ``captcha`` library (its bundled font, no network): each one
rotated and warped, overlapping its neighbours, on a noisy background crossed by curves and strokes
in the same colour as the digits. The page carries the image as a ``data:`` URI and nothing else
about the answer: no text, no shapes per digit, and a fixed image size.

The challenge is a signed token holding a random nonce, the answer only as an HMAC (keyed with
SECRET_KEY) and the device it was issued to. It is good for one attempt: the first check spends
the nonce in PostgreSQL (``units.UsedNonce``) before the answer is compared, so a wrong answer
uses it up as surely as a right one, with or without Redis. Four digits leave a blind guess one
chance in 10,000.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
from datetime import timedelta

from captcha.image import ImageCaptcha, random_color
from django.conf import settings
from django.core import signing
from django.utils import timezone
from PIL import ImageDraw, ImageFilter

from units.services import spend_nonce

_SALT = "intake.captcha"
LENGTH = 4
WIDTH, HEIGHT = 160, 60


class _NoisyCaptcha(ImageCaptcha):
    """The library's rotated, warped, overlapping digits, with more clutter in the digits' colour
    (so that removing the clutter by colour also removes the digits) before the final blur."""

    def generate_image(self, chars, bg_color=None, fg_color=None):
        background = bg_color or random_color(225, 255)
        color = fg_color or random_color(10, 150, 255)
        image = self.create_captcha_image(chars, color, background)
        self.create_noise_dots(image, color, width=2, number=60)
        for _ in range(3):
            self.create_noise_curve(image, color)
        draw = ImageDraw.Draw(image)
        for _ in range(2):
            y1, y2 = secrets.randbelow(HEIGHT), secrets.randbelow(HEIGHT)
            draw.line(((0, y1), (WIDTH, y2)), fill=color, width=2)
        return image.filter(ImageFilter.SMOOTH)


_RENDERER = _NoisyCaptcha(width=WIDTH, height=HEIGHT, font_sizes=(40, 44, 48))


def _answer_mac(answer: str, nonce: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{nonce}:{answer}".encode(), hashlib.sha256).hexdigest()[:32]


def render_png(code: str) -> bytes:
    """The PNG of ``code`` (a fresh distortion on every call)."""
    out = io.BytesIO()
    _RENDERER.generate_image(code).save(out, format="PNG", optimize=True)
    return out.getvalue()


def new_challenge(device: str) -> tuple[str, str]:
    """A fresh (token, image) pair for ``device`` (the signed device id of the browser); the image
    is a ``data:image/png`` URI to put in an ``<img>``."""
    code = "".join(secrets.choice("0123456789") for _ in range(LENGTH))
    nonce = secrets.token_hex(16)
    token = signing.dumps({"n": nonce, "m": _answer_mac(code, nonce), "d": device}, salt=_SALT, compress=True)
    return token, "data:image/png;base64," + base64.b64encode(render_png(code)).decode()


def check(token: str, answer: str, device: str) -> bool:
    """True for a right answer to a live challenge issued to this device, on its first attempt only.

    Steps: verify the signature and age; refuse a challenge of another device (without spending
    it: its owner may still answer); spend the nonce (a second attempt stops here, right or
    wrong); compare the answer.
    """
    try:
        data = signing.loads(token or "", salt=_SALT, max_age=settings.INTAKE_CAPTCHA_MAX_AGE)
    except signing.BadSignature:
        return False
    if data.get("d") != device:
        return False
    expires_at = timezone.now() + timedelta(seconds=settings.INTAKE_CAPTCHA_MAX_AGE + 60)
    if not spend_nonce(purpose="captcha", nonce=data["n"], expires_at=expires_at):
        return False
    value = (answer or "").strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if len(value) != LENGTH or not value.isdigit():
        return False
    return hmac.compare_digest(data.get("m", ""), _answer_mac(value, data["n"]))


def answer_for_tests(token: str) -> str:
    """The answer of a challenge, recovered with the server's key by trying the 10,000 codes.

    For tests only: it needs SECRET_KEY, which no visitor has; the page never carries the answer.
    """
    data = signing.loads(token, salt=_SALT)
    return next(
        code
        for code in (f"{n:0{LENGTH}d}" for n in range(10**LENGTH))
        if hmac.compare_digest(data["m"], _answer_mac(code, data["n"]))
    )
