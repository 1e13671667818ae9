"""The work-order API parses JSON with the same size and depth limits as the rest of the API."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("levels", [1_000, 100_000])
def test_a_deeply_nested_body_answers_400_not_500(order, handler, levels):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(handler)
    client.post(f"/api/v1/work-orders/{order.pk}/sign/")
    body = b"[" * levels + b"]" * levels
    response = client.post(f"/api/v1/work-orders/{order.pk}/hand-back/", data=body, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    assert "嵌套" in response.json()["detail"]
