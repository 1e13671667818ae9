"""The public captcha resists a short script, allows one answer per challenge (with or without
Redis), and its limits hold when a sender drops the device cookie."""

from __future__ import annotations

import base64
import io
import re
import zlib

import pytest
from django.test import Client, RequestFactory

from intake import captcha, ratelimit
from intake.captcha import answer_for_tests
from intake.models import Appeal

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="captcha_token" value="([^"]+)"')


def open_form(client) -> tuple[str, str]:
    page = client.get("/mailbox/mayor/").content.decode()
    return page, TOKEN.search(page).group(1)


def letter(token, answer, phone="13800005001", **extra) -> dict:
    data = {
        "citizen_name": "李建国",
        "citizen_phone": phone,
        "title": "路灯不亮",
        "content": "小区门口的路灯已经坏了一个多月,晚上出行很不安全,希望尽快处理。",
        "captcha": str(answer),
        "captcha_token": token,
    }
    data.update(extra)
    return data


# --- A naive solver: what a short script would try ------------------------------------------------

_SEGMENT_DIGITS = {
    frozenset("abcdef"): "0",
    frozenset("bc"): "1",
    frozenset("abged"): "2",
    frozenset("abgcd"): "3",
    frozenset("fgbc"): "4",
    frozenset("afgcd"): "5",
    frozenset("afgedc"): "6",
    frozenset("abc"): "7",
    frozenset("abcdefg"): "8",
    frozenset("abcdfg"): "9",
}


def _read_stroke_glyph(lines) -> str:
    """One glyph of stroked lines: an operator, or a seven-segment digit."""
    horizontal = [ln for ln in lines if abs(ln[2] - ln[0]) > abs(ln[3] - ln[1])]
    vertical = [ln for ln in lines if ln not in horizontal]
    if not horizontal and len(vertical) == 2:
        return "1"
    if len(horizontal) == 2 and not vertical:
        return "="
    if len(horizontal) == 1 and len(vertical) == 1:
        return "+"
    left = min(min(ln[0], ln[2]) for ln in horizontal)
    top = min(min(ln[1], ln[3]) for ln in lines)
    height = (max(max(ln[1], ln[3]) for ln in lines) - top) / 2
    segments = set()
    for ln in horizontal:
        segments.add("agd"[min(2, round(((ln[1] + ln[3]) / 2 - top) / height))])
    for ln in vertical:
        right = (ln[0] + ln[2]) / 2 - left > height / 2
        lower = (ln[1] + ln[3]) / 2 - top > height
        segments.add({(False, False): "f", (True, False): "b", (False, True): "e", (True, True): "c"}[right, lower])
    return _SEGMENT_DIGITS.get(frozenset(segments), "?")


def _read_strokes(svg: str) -> str | None:
    """Digits drawn as <line> strokes in an inline SVG: group the lines by position, decode them."""
    group = re.search(r'<g stroke="#1a3a6b"[^>]*>(.*?)</g>', svg, re.S)
    if not group:
        return None
    coords = r'x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"'
    lines = sorted((tuple(map(float, m)) for m in re.findall(coords, group.group(1))), key=lambda ln: min(ln[0], ln[2]))
    glyphs: list[list] = []
    for ln in lines:
        x = min(ln[0], ln[2])
        if not glyphs or x > glyphs[-1][0] + 17:
            glyphs.append([x, []])
        glyphs[-1][1].append(ln)
    text = "".join(_read_stroke_glyph(g[1]) for g in glyphs)
    sums = re.fullmatch(r"(\d+)\+(\d+)=", text)
    return str(int(sums.group(1)) + int(sums.group(2))) if sums else None


def _png_text_chunks(png: bytes) -> str:
    """Text an image carries beside its pixels (tEXt/zTXt/iTXt chunks)."""
    found, pos = [], 8
    while pos + 8 <= len(png):
        length, kind = int.from_bytes(png[pos : pos + 4], "big"), png[pos + 4 : pos + 8]
        body = png[pos + 8 : pos + 8 + length]
        if kind == b"tEXt":
            found.append(body.decode("latin-1"))
        elif kind == b"zTXt":
            found.append(zlib.decompress(body.split(b"\0", 1)[1][1:]).decode("latin-1"))
        elif kind == b"iTXt":
            found.append(body.decode("utf-8", "replace"))
        pos += 12 + length
    return " ".join(found)


def _templates(size: tuple[int, int]):
    from captcha.image import DEFAULT_FONTS
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(DEFAULT_FONTS[0], 44)
    out = {}
    for digit in "0123456789":
        glyph = Image.new("L", (40, 56), 0)
        ImageDraw.Draw(glyph).text((4, 0), digit, font=font, fill=255)
        out[digit] = glyph.crop(glyph.getbbox()).resize(size)
    return out


def _read_pixels(png: bytes, length: int) -> str:
    """Plain OCR by template: ink = darker than the background, cut the ink's columns into
    ``length`` equal parts, match each with the undistorted font's digits."""
    from PIL import Image, ImageChops, ImageStat

    image = Image.open(io.BytesIO(png)).convert("L")
    threshold = ImageStat.Stat(image).mean[0] - 30
    ink = image.point(lambda v: 255 if v < threshold else 0)
    box = ink.getbbox()
    if not box:
        return "0" * length
    left, top, right, bottom = box
    step = max(1, (right - left) // length)
    size = (max(4, step), max(4, bottom - top))
    templates = _templates(size)
    digits = []
    for i in range(length):
        part = ink.crop((left + i * step, top, left + (i + 1) * step, bottom)).resize(size)
        scores = {d: ImageStat.Stat(ImageChops.difference(part, t)).mean[0] for d, t in templates.items()}
        digits.append(min(scores, key=scores.get))
    return "".join(digits)


def naive_solve(page: str) -> str:
    """Read the answer the way a short script would: text in the markup, the drawing's strokes,
    data in the image file, and finally the image's pixels."""
    block = page[page.find('class="field captcha"') :][:20000]
    for attr in re.findall(r'(?:alt|title|aria-label|data-[\w-]+)="([^"]*)"', block):
        if re.fullmatch(r"\d{2,4}", attr.strip()):
            return attr.strip()
    strokes = _read_strokes(block)
    if strokes:
        return strokes
    image = re.search(r'src="data:image/png;base64,([^"]+)"', block)
    if not image:
        return "0000"
    png = base64.b64decode(image.group(1))
    text = re.search(r"\d{4}", _png_text_chunks(png))
    if text:
        return text.group(0)
    return _read_pixels(png, 4)


def device_of(client) -> str:
    request = RequestFactory().get("/")
    request.COOKIES[ratelimit.DEVICE_COOKIE] = client.cookies[ratelimit.DEVICE_COOKIE].value
    return ratelimit.device_of(request)


def test_a_naive_solver_reads_fewer_than_one_in_a_hundred_challenges(client, city):
    tries, solved = 200, 0
    for _ in range(tries):
        page, token = open_form(client)
        solved += captcha.check(token, naive_solve(page), device_of(client))
    assert solved / tries < 0.01, f"{solved} of {tries} challenges read by a short script"


def test_the_page_carries_only_an_image_of_fixed_size(client, city):
    page, token = open_form(client)
    block = page[page.find('class="field captcha"') :]
    block = block[: block.find("</div>", block.find("captcha-row"))]
    assert "<svg" not in block and "<line" not in block and "<path" not in block
    assert re.search(r'<img class="captcha-img" src="data:image/png;base64,[^"]+" width="160" height="60"', block)
    assert answer_for_tests(token) not in block.replace(token, "")


def test_a_wrong_answer_uses_up_the_challenge(client, city):
    page, token = open_form(client)
    answer = answer_for_tests(token)
    wrong = "0000" if answer != "0000" else "1111"
    assert client.post("/mailbox/mayor/", letter(token, wrong)).status_code == 400
    again = client.post("/mailbox/mayor/", letter(token, answer))
    assert again.status_code == 400 and "验证码不正确" in again.content.decode()
    assert not Appeal.objects.exists()
    # A fresh challenge answered right on its first attempt goes through.
    page, token = open_form(client)
    assert client.post("/mailbox/mayor/", letter(token, answer_for_tests(token))).status_code == 302


def test_a_challenge_is_single_use_while_redis_is_down(client, city, settings):
    page, token = open_form(client)
    answer = str(answer_for_tests(token))
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    device = device_of(client)
    assert captcha.check(token, "0000" if answer != "0000" else "1111", device) is False
    assert captcha.check(token, answer, device) is False
    page, token = open_form(client)
    answer = str(answer_for_tests(token))
    assert captcha.check(token, answer, device_of(client)) is True
    assert captcha.check(token, answer, device_of(client)) is False


def test_dropping_the_device_cookie_does_not_reset_the_limits(city, settings):
    settings.INTAKE_MAILBOX_PER_DEVICE_PER_DAY = 1
    settings.INTAKE_MAILBOX_PER_IP_PER_DAY = 2
    for i in range(2):
        browser = Client()  # a fresh cookie jar each time, same address
        page, token = open_form(browser)
        sent = browser.post("/mailbox/mayor/", letter(token, answer_for_tests(token), phone=f"1380000510{i}"))
        assert sent.status_code == 302
    browser = Client()
    page, token = open_form(browser)
    refused = browser.post("/mailbox/mayor/", letter(token, answer_for_tests(token), phone="13800005109"))
    assert refused.status_code == 429 and "提交过于频繁" in refused.content.decode()
    # Another address is not affected.
    elsewhere = Client(REMOTE_ADDR="10.30.0.5")
    page, token = open_form(elsewhere)
    ok = elsewhere.post("/mailbox/mayor/", letter(token, answer_for_tests(token), phone="13800005108"))
    assert ok.status_code == 302


def test_wrong_answers_are_limited_per_address_across_fresh_cookies(city, settings):
    settings.INTAKE_CAPTCHA_FAILURES_PER_IP_PER_HOUR = 3
    for _ in range(3):
        browser = Client()
        page, token = open_form(browser)
        answer = answer_for_tests(token)
        assert browser.post("/mailbox/mayor/", letter(token, "0000" if answer != "0000" else "1111")).status_code == 400
    browser = Client()
    page, token = open_form(browser)
    refused = browser.post("/mailbox/mayor/", letter(token, answer_for_tests(token)))
    assert refused.status_code == 429 and "验证码错误次数过多" in refused.content.decode()
    assert not Appeal.objects.exists()
