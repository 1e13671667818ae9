"""Staff pages render for the roles that use them, and refuse the others."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_renders_the_desk_detail_hotline_and_reveal_log(client, center, administrator, make_appeal, categories):
    appeal = make_appeal(category=categories["ORDER-NOISE"])
    client.force_login(center)
    assert client.get(reverse("intake:desk")).status_code == 200
    page = client.get(reverse("intake:appeal", args=[appeal.pk]))
    assert page.status_code == 200
    assert appeal.tracking_code in page.content.decode()
    assert client.get(reverse("intake:hotline")).status_code == 200
    assert client.get(reverse("intake:phone_reveals")).status_code == 403
    client.force_login(administrator)
    assert client.get(reverse("intake:phone_reveals")).status_code == 200


def test_it_renders_the_public_pages_without_login(client, city):
    for url in ("/mailbox/mayor/", "/mailbox/director/", "/track/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'src="data:image/png;base64,' in response.content.decode() or url == "/track/"  # the captcha
    assert client.get("/mailbox/nobody/").status_code == 404


def test_it_shows_the_desk_panel_on_the_center_home_page(client, center, make_appeal, risk_words):
    make_appeal(content="再不管我就跳楼")
    client.force_login(center)
    body = client.get("/").content.decode()
    assert 'data-testid="panel-desk"' in body and "风险预警" in body


def test_it_lets_staff_attach_files_and_only_viewers_download_them(
    client, center, handler2, make_appeal, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path)
    appeal = make_appeal()
    client.force_login(center)
    wav = SimpleUploadedFile("call.wav", b"RIFF" + b"\x00" * 40)
    client.post(reverse("intake:upload", args=[appeal.pk]), {"file": wav})
    attachment = appeal.attachments.get()
    assert attachment.type == "audio"
    assert appeal.events.filter(action="attachment_added").count() == 1
    refused = client.post(
        reverse("intake:upload", args=[appeal.pk]), {"file": SimpleUploadedFile("a.pdf", b"%PDF")}, follow=True
    )
    assert "不支持的文件类型" in refused.content.decode()
    assert client.get(reverse("intake:attachment", args=[attachment.pk])).status_code == 200
    client.force_login(handler2)
    assert client.get(reverse("intake:attachment", args=[attachment.pk])).status_code == 404


def test_it_sends_anonymous_users_to_the_login_page(client, make_appeal):
    appeal = make_appeal()
    for name, args in [
        ("intake:desk", []),
        ("intake:hotline", []),
        ("intake:phone_reveals", []),
        ("intake:appeal", [appeal.pk]),
    ]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302 and response.url.startswith("/login/"), name
    for name in ("triage", "close", "merge", "mark_for_dispatch", "reveal_phone", "upload"):
        response = client.post(reverse(f"intake:{name}", args=[appeal.pk]))
        assert response.status_code == 302 and response.url.startswith("/login/"), name
    assert client.post(reverse("intake:caller_history"), {"citizen_phone": appeal.citizen_phone}).status_code == 302
    assert not appeal.phone_reveals.exists()


def test_it_shows_recent_reveals_on_the_admin_home_page(client, administrator, center, make_appeal):
    from intake import services

    appeal = make_appeal()
    services.reveal_phone(appeal, actor=center, reason="联系群众")
    client.force_login(administrator)
    body = client.get("/").content.decode()
    assert 'data-testid="panel-reveals"' in body and appeal.tracking_code in body
    client.force_login(center)
    assert 'data-testid="panel-reveals"' not in client.get("/").content.decode()


def test_it_gives_supervisors_a_read_only_desk(client, supervisor, make_appeal):
    appeal = make_appeal()
    client.force_login(supervisor)
    desk = client.get(reverse("intake:desk")).content.decode()
    assert appeal.tracking_code in desk and reverse("intake:hotline") not in desk
    page = client.get(reverse("intake:appeal", args=[appeal.pk])).content.decode()
    assert 'data-testid="triage"' not in page and 'data-testid="reveal-phone"' in page
    assert (
        client.post(reverse("intake:triage", args=[appeal.pk]), {"kind": "help", "severity": "red"}).status_code == 403
    )
