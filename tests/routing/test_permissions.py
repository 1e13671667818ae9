"""The routing page's forms are offered exactly to whom ``routing.permissions`` allows: for each
role and a superuser, the page opens iff ``may_view``, and the
auto-dispatch form is shown iff posting it saves a setting (``may_edit``)."""

from __future__ import annotations

import pytest

from intake.models import Category
from routing import permissions
from routing.models import AutoDispatchSetting

pytestmark = pytest.mark.django_db

CAST = ("center", "handler", "leader", "supervisor", "administrator", "superuser")


def test_the_page_and_its_forms_follow_the_rule(request, client, city):
    category = Category.objects.create(code="PERM-NOISE", name="噪音扰民", is_active=True)
    for name in CAST:
        user = request.getfixturevalue(name)
        client.force_login(user)
        page = client.get("/routing/")
        assert (page.status_code == 200) == permissions.may_view(user), name
        shown = page.status_code == 200 and 'action="/routing/auto/"' in page.content.decode()
        train_shown = page.status_code == 200 and 'action="/routing/train/"' in page.content.decode()
        assert shown == train_shown == permissions.may_edit(user), name
        AutoDispatchSetting.objects.all().delete()
        answer = client.post("/routing/auto/", {f"on-{category.pk}": "1", f"threshold-{category.pk}": "90"})
        saved = AutoDispatchSetting.objects.filter(category=category, is_enabled=True).exists()
        assert saved == shown, (name, answer.status_code)
        if not shown:
            assert answer.status_code == 403, name


def test_the_rule_names_who_reads_and_who_edits(request, city):
    expected = {
        "center": (True, False),
        "handler": (False, False),
        "leader": (False, False),
        "supervisor": (False, False),
        "administrator": (True, True),
        "superuser": (True, True),  # an active superuser holds every role
    }
    for name, (view, edit) in expected.items():
        user = request.getfixturevalue(name)
        assert (permissions.may_view(user), permissions.may_edit(user)) == (view, edit), name
