"""Filters survive the appeal page: opened from the desk with ``?back=``, its forms keep the way
back to the same filtered desk."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_saving_the_triage_on_the_appeal_page_keeps_the_way_back(client, center, make_appeal):
    appeal = make_appeal()
    desk = "/appeals/?status=new&severity=yellow&q=%E7%83%A7%E7%83%A4"
    client.force_login(center)
    url = reverse("intake:appeal", args=[appeal.pk])
    page = client.get(url, {"back": desk}).content.decode()
    assert f'href="{desk.replace("&", "&amp;")}" data-testid="back-to-desk"' in page
    own = page.split(f'action="{reverse("intake:triage", args=[appeal.pk])}"', 1)[1].split("</form>", 1)[0]
    assert 'name="next" value="/appeals/' in own and "back=" in own
    next_value = own.split('name="next" value="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    response = client.post(
        reverse("intake:triage", args=[appeal.pk]),
        {"kind": "complaint", "severity": "orange", "next": next_value},
    )
    assert response.status_code == 302 and response["Location"] == next_value
    back_page = client.get(response["Location"]).content.decode()
    assert f'href="{desk.replace("&", "&amp;")}" data-testid="back-to-desk"' in back_page
