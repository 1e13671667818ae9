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
        assert "<svg" in response.content.decode() or url == "/track/"
    assert client.get("/mailbox/nobody/").status_code == 404
