"""The public mailboxes and /track/: captcha, rate limits that survive carrier NAT, attachments."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from intake.captcha import answer_for_tests
from intake.choices import Channel
from intake.models import Appeal
from intake.services import close_appeal

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def open_form(client, box="mayor") -> tuple[str, int]:
    page = client.get(f"/mailbox/{box}/").content.decode()
    token = re.search(r'name="captcha_token" value="([^"]+)"', page).group(1)
    return token, answer_for_tests(token)


def letter(token, answer, **extra) -> dict:
    data = {
        "citizen_name": "王秀兰",
        "citizen_phone": "13800002468",
        "title": "小区门口违停严重",
        "content": "小区门口每天晚上都有车辆违停,消防通道被堵,希望交警加强巡查。",
        "address": "临江市江北区滨江路18号",
        "captcha": str(answer),
        "captcha_token": token,
    }
    data.update(extra)
    return data


def letter_from_a_new_browser(**extra):
    """A letter sent from a browser of its own (its own session and captcha); the response."""
    from django.test import Client

    browser = Client()
    token, answer = open_form(browser)
    return browser.post("/mailbox/mayor/", letter(token, answer, **extra))


def test_it_takes_a_letter_and_gives_a_tracking_code(client, city):
    token, answer = open_form(client)
    response = client.post("/mailbox/mayor/", letter(token, answer))
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    appeal = Appeal.objects.get()
    assert appeal.channel == Channel.MAYOR_MAILBOX and appeal.tracking_code in page
    assert appeal.citizen_phone == "+8613800002468" and appeal.title == "小区门口违停严重"
    token, answer = open_form(client, "director")
    client.post(
        "/mailbox/director/",
        letter(token, answer, title="另一封信", content="反映派出所窗口办事排队时间太长,希望增加窗口。"),
    )
    assert Appeal.objects.filter(channel=Channel.DIRECTOR_MAILBOX).count() == 1


def test_it_refuses_a_wrong_reused_or_foreign_captcha(client, city):
    token, answer = open_form(client)
    wrong = client.post("/mailbox/mayor/", letter(token, "0000" if answer != "0000" else "1111"))
    assert wrong.status_code == 400 and "验证码不正确" in wrong.content.decode()
    token, answer = open_form(client)
    assert client.post("/mailbox/mayor/", letter(token, answer)).status_code == 302
    reused = client.post("/mailbox/mayor/", letter(token, answer, title="再来一封"))
    assert reused.status_code == 400
    assert Appeal.objects.count() == 1
    # A challenge issued to another device is not valid here.
    from django.test import Client

    other = Client()
    token, answer = open_form(other)
    assert client.post("/mailbox/mayor/", letter(token, answer, title="借用的验证码")).status_code == 400
    # Without the device cookie (the form was never opened) nothing is accepted.
    bare = Client()
    assert bare.post("/mailbox/mayor/", letter(token, answer)).status_code == 400
    assert Appeal.objects.count() == 1


def test_it_limits_letters_per_phone_across_devices(client, city, settings):
    settings.INTAKE_MAILBOX_PER_PHONE_PER_DAY = 2
    for i in range(2):
        assert letter_from_a_new_browser(title=f"第{i}封").status_code == 302
    refused = letter_from_a_new_browser(title="第三封")
    assert refused.status_code == 429 and "提交过于频繁" in refused.content.decode()
    # Another citizen behind the same NAT address is not affected.
    ok = letter_from_a_new_browser(citizen_phone="13800002469")
    assert ok.status_code == 302
    assert Appeal.objects.count() == 3


def test_it_limits_letters_per_device(client, city, settings):
    settings.INTAKE_MAILBOX_PER_DEVICE_PER_DAY = 1
    token, answer = open_form(client)
    assert client.post("/mailbox/mayor/", letter(token, answer)).status_code == 302
    token, answer = open_form(client)
    assert client.post("/mailbox/mayor/", letter(token, answer, citizen_phone="13800002470")).status_code == 429


def test_it_checks_attachments_type_and_size(client, city, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    token, answer = open_form(client)
    exe = SimpleUploadedFile("virus.exe", b"MZ" + b"\x00" * 10)
    refused = client.post("/mailbox/mayor/", letter(token, answer, attachment=exe))
    assert refused.status_code == 400 and "不支持的文件类型" in refused.content.decode()
    token, answer = open_form(client)
    fake = SimpleUploadedFile("photo.png", b"not really a png at all")
    assert (
        "文件内容与扩展名不符"
        in client.post("/mailbox/mayor/", letter(token, answer, attachment=fake)).content.decode()
    )
    settings.INTAKE_IMAGE_MAX_BYTES = 50
    token, answer = open_form(client)
    big = SimpleUploadedFile("photo.png", PNG)
    assert "文件过大" in client.post("/mailbox/mayor/", letter(token, answer, attachment=big)).content.decode()
    settings.INTAKE_IMAGE_MAX_BYTES = 5000
    token, answer = open_form(client)
    ok = client.post("/mailbox/mayor/", letter(token, answer, attachment=SimpleUploadedFile("photo.png", PNG)))
    assert ok.status_code == 302
    attachment = Appeal.objects.get().attachments.get()
    assert attachment.type == "image" and attachment.size == len(PNG) and attachment.original_name == "photo.png"
    assert "photo" not in attachment.file.name


def test_it_tracks_status_and_reply_for_code_and_phone_only(client, city, center):
    token, answer = open_form(client)
    client.post("/mailbox/mayor/", letter(token, answer))
    appeal = Appeal.objects.get()
    page = client.post("/track/", {"code": appeal.tracking_code.lower(), "phone": "138 0000 2468"}).content.decode()
    assert "已受理" in page and appeal.tracking_code in page
    assert "王秀兰" not in page and "滨江路" not in page and "2468" not in page.split("track-result")[1]
    close_appeal(appeal, actor=center, reply="已安排交警中队每晚巡查,违停车辆已处罚。")
    page = client.post("/track/", {"code": appeal.tracking_code, "phone": "13800002468"}).content.decode()
    assert "已办结" in page and "已安排交警中队每晚巡查" in page
    wrong = client.post("/track/", {"code": appeal.tracking_code, "phone": "13800002469"}).content.decode()
    assert "未找到" in wrong and "已安排" not in wrong
    bad = client.post("/track/", {"code": appeal.tracking_code, "phone": "abc"})
    assert bad.status_code == 400 and "电话号码格式不正确" in bad.content.decode()


def test_it_limits_tracking_lookups_per_device(client, city, settings):
    settings.INTAKE_TRACK_PER_DEVICE_PER_HOUR = 3
    client.get("/track/")
    for _ in range(3):
        assert client.post("/track/", {"code": "AAAAAAAA", "phone": "13800002468"}).status_code == 200
    assert client.post("/track/", {"code": "AAAAAAAA", "phone": "13800002468"}).status_code == 429


def test_it_limits_tracking_guesses_per_address_whatever_the_cookie(city, settings):
    from django.test import Client

    limit = settings.INTAKE_TRACK_PER_IP_PER_HOUR
    assert limit < 30
    statuses = []
    for i in range(30):
        browser = Client(REMOTE_ADDR="203.0.113.7")  # a fresh device cookie for every guess
        browser.get("/track/")
        response = browser.post("/track/", {"code": f"GUESS{i:03d}", "phone": "13800002468"})
        statuses.append(response.status_code)
    assert statuses[:limit] == [200] * limit
    assert statuses[limit:] == [429] * (30 - limit)
    assert "查询次数过多" in response.content.decode()
    # Another address is not affected.
    other = Client(REMOTE_ADDR="203.0.113.8")
    other.get("/track/")
    assert other.post("/track/", {"code": "GUESS999", "phone": "13800002468"}).status_code == 200


def test_it_takes_the_address_from_x_forwarded_for_only_behind_the_trusted_proxy(city, settings):
    from django.test import Client

    settings.INTAKE_TRACK_PER_IP_PER_HOUR = 2

    def guesses(**meta):
        codes = []
        for i in range(3):
            browser = Client(REMOTE_ADDR="10.0.0.2", **meta)
            codes.append(browser.post("/track/", {"code": f"FWD{i:03d}", "phone": "13800002468"}).status_code)
        return codes

    # Not behind the proxy: a client's own X-Forwarded-For header changes nothing.
    settings.BEHIND_TLS_PROXY = False
    spoofed = [
        Client(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
        .post("/track/", {"code": f"SPF{i:03d}", "phone": "13800002468"})
        .status_code
        for i in range(3)
    ]
    assert spoofed == [200, 200, 429]
    # Behind it: the address the proxy appended is the client's, one budget per real client.
    settings.BEHIND_TLS_PROXY = True
    assert guesses(HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.20") == [200, 200, 429]
    assert guesses(HTTP_X_FORWARDED_FOR="198.51.100.21") == [200, 200, 429]


def test_it_locks_a_tracking_code_after_too_many_wrong_phones(client, city, center, settings):
    from django.test import Client

    settings.INTAKE_TRACK_FAILURES_PER_CODE = 3
    token, answer = open_form(client)
    client.post("/mailbox/mayor/", letter(token, answer))
    code = Appeal.objects.get().tracking_code
    for i in range(3):
        wrong = Client(REMOTE_ADDR=f"198.51.100.{i}")  # each guess from another address and device
        assert wrong.post("/track/", {"code": code, "phone": f"1380000900{i}"}).status_code == 200
    # Locked: even the right phone is refused for a while, with a message that says why.
    right = Client(REMOTE_ADDR="198.51.100.50")
    locked = right.post("/track/", {"code": code, "phone": "13800002468"})
    assert locked.status_code == 429
    assert "该查询码错误次数过多" in locked.content.decode()
    # Other codes are not affected.
    assert right.post("/track/", {"code": "AAAAAAAA", "phone": "13800002468"}).status_code == 200


def test_it_refuses_a_letter_whose_hidden_field_was_filled_by_a_robot(client, city):
    token, answer = open_form(client)
    refused = client.post("/mailbox/mayor/", letter(token, answer, website="http://spam.example"))
    assert refused.status_code == 400 and "提交未通过校验" in refused.content.decode()
    assert not Appeal.objects.exists()


def test_it_refuses_an_expired_captcha(client, city, settings):
    import time_machine
    from django.utils import timezone

    settings.INTAKE_CAPTCHA_MAX_AGE = 600
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token, answer = open_form(client)
    with time_machine.travel(start + timezone.timedelta(seconds=601), tick=False):
        late = client.post("/mailbox/mayor/", letter(token, answer))
    assert late.status_code == 400 and "验证码不正确或已过期" in late.content.decode()
    with time_machine.travel(start + timezone.timedelta(seconds=10), tick=False):
        token, answer = open_form(client)
        assert client.post("/mailbox/mayor/", letter(token, answer)).status_code == 302


def test_it_keeps_a_generous_ceiling_per_ip(client, city, settings):
    settings.INTAKE_MAILBOX_PER_IP_PER_HOUR = 2
    for i in range(2):
        assert letter_from_a_new_browser(citizen_phone=f"1380000300{i}").status_code == 302
    assert letter_from_a_new_browser(citizen_phone="13800003009").status_code == 429


def test_it_tracks_a_merged_letter_by_its_original(client, city, center, make_appeal):
    from intake.services import merge_appeal

    token, answer = open_form(client)
    client.post("/mailbox/mayor/", letter(token, answer))
    appeal = Appeal.objects.get()
    original = make_appeal(content="同一路口违停问题的较早反映")
    merge_appeal(appeal, into=original, actor=center)
    close_appeal(original, actor=center, reply="该路口已增设禁停标志并安排巡查。")
    page = client.post("/track/", {"code": appeal.tracking_code, "phone": "13800002468"}).content.decode()
    assert "已办结" in page and "增设禁停标志" in page and "合并办理" in page
    assert original.tracking_code not in page
