"""An offline captcha for the public forms: a small sum drawn as strokes in an inline SVG.

No external service and no font: digits are seven-segment strokes with jitter and noise lines, so
the answer is not in the page as text. The challenge is a signed token (the answer only as an
HMAC, bound to the device cookie) and is single use.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets

from django.conf import settings
from django.core import signing

from units.cache import soft_cache

_SALT = "intake.captcha"

# Seven segments: a (top), b (top right), c (bottom right), d (bottom), e (bottom left), f (top left), g (middle).
_SEGMENTS = {
    "a": ((0, 0), (1, 0)),
    "b": ((1, 0), (1, 1)),
    "c": ((1, 1), (1, 2)),
    "d": ((0, 2), (1, 2)),
    "e": ((0, 1), (0, 2)),
    "f": ((0, 0), (0, 1)),
    "g": ((0, 1), (1, 1)),
}
_DIGITS = {
    "0": "abcdef",
    "1": "bc",
    "2": "abged",
    "3": "abgcd",
    "4": "fgbc",
    "5": "afgcd",
    "6": "afgedc",
    "7": "abc",
    "8": "abcdefg",
    "9": "abcdfg",
}


def _answer_mac(answer: int, nonce: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{nonce}:{answer}".encode(), hashlib.sha256).hexdigest()[:32]


def _glyph(ch: str, x: float, rnd: random.Random) -> list[str]:
    w, h = 14, 15
    y0 = 10 + rnd.uniform(-3, 3)
    lines = []
    if ch in _DIGITS:
        for seg in _DIGITS[ch]:
            (x1, y1), (x2, y2) = _SEGMENTS[seg]
            j = [rnd.uniform(-1.5, 1.5) for _ in range(4)]
            lines.append(
                f'<line x1="{x + x1 * w + j[0]:.1f}" y1="{y0 + y1 * h + j[1]:.1f}" '
                f'x2="{x + x2 * w + j[2]:.1f}" y2="{y0 + y2 * h + j[3]:.1f}" />'
            )
    elif ch == "+":
        lines.append(f'<line x1="{x:.1f}" y1="{y0 + h:.1f}" x2="{x + w:.1f}" y2="{y0 + h:.1f}" />')
        lines.append(
            f'<line x1="{x + w / 2:.1f}" y1="{y0 + h / 2:.1f}" x2="{x + w / 2:.1f}" y2="{y0 + 1.5 * h:.1f}" />'
        )
    elif ch == "=":
        lines.append(f'<line x1="{x:.1f}" y1="{y0 + h - 4:.1f}" x2="{x + w:.1f}" y2="{y0 + h - 4:.1f}" />')
        lines.append(f'<line x1="{x:.1f}" y1="{y0 + h + 4:.1f}" x2="{x + w:.1f}" y2="{y0 + h + 4:.1f}" />')
    return lines


def render_svg(text: str, rnd: random.Random) -> str:
    parts = []
    x = 10.0
    for ch in text:
        if ch == " ":
            x += 6
            continue
        parts.extend(_glyph(ch, x, rnd))
        x += 22 + rnd.uniform(-2, 2)
    width = int(x + 10)
    noise = "".join(
        f'<line x1="{rnd.uniform(0, width):.1f}" y1="{rnd.uniform(0, 50):.1f}" x2="{rnd.uniform(0, width):.1f}" '
        f'y2="{rnd.uniform(0, 50):.1f}" stroke="#{rnd.randint(0x80, 0xCC):02x}{rnd.randint(0x80, 0xCC):02x}{rnd.randint(0x80, 0xCC):02x}" stroke-width="1" />'
        for _ in range(7)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="50" viewBox="0 0 {width} 50" role="img" '
        f'class="captcha-img"><rect width="100%" height="100%" fill="#f3f6fb"/>{noise}'
        f'<g stroke="#1a3a6b" stroke-width="2.6" stroke-linecap="round">{"".join(parts)}</g></svg>'
    )


def new_challenge(device: str) -> tuple[str, str]:
    """A fresh (token, svg) pair for ``device`` (the signed device id of the browser)."""
    rnd = random.Random(secrets.randbits(64))
    a, b = rnd.randint(10, 49), rnd.randint(1, 9)
    nonce = secrets.token_hex(8)
    token = signing.dumps({"n": nonce, "m": _answer_mac(a + b, nonce), "d": device}, salt=_SALT, compress=True)
    return token, render_svg(f"{a}+{b}=", rnd)


def check(token: str, answer: str, device: str) -> bool:
    """True once for a right answer to a live challenge issued to this device; then never again."""
    try:
        data = signing.loads(token or "", salt=_SALT, max_age=settings.INTAKE_CAPTCHA_MAX_AGE)
    except signing.BadSignature:
        return False
    value = (answer or "").strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not value.isdigit() or len(value) > 4:
        return False
    if data.get("d") != device or not hmac.compare_digest(data.get("m", ""), _answer_mac(int(value), data["n"])):
        return False
    # Single use: the first successful check claims the nonce. With the cache away the claim fails
    # open (a replay within the challenge's lifetime is possible then, a refused citizen is worse).
    return soft_cache.add(f"intake:captcha:{data['n']}", 1, settings.INTAKE_CAPTCHA_MAX_AGE + 60)


def answer_for_tests(token: str) -> int:
    """The answer of a challenge, found by trying the small answer space (used by tests only)."""
    data = signing.loads(token, salt=_SALT)
    return next(n for n in range(11, 59) if hmac.compare_digest(data["m"], _answer_mac(n, data["n"])))
