"""``/open311/v2/…``: the extension (``.json`` or ``.xml``) chooses the format."""

from django.urls import re_path

from . import views

FMT = r"\.(?P<fmt>json|xml)"
CODE = r"(?P<code>[A-Za-z0-9_.\-]{1,64}?)"

urlpatterns = [
    re_path(rf"^open311/discovery{FMT}$", views.discovery, name="open311-discovery"),
    re_path(rf"^open311/v2/services{FMT}$", views.service_list, name="open311-services"),
    re_path(rf"^open311/v2/services/{CODE}{FMT}$", views.service_definition, name="open311-service"),
    re_path(rf"^open311/v2/requests{FMT}$", views.requests_view, name="open311-requests"),
    re_path(rf"^open311/v2/requests/{CODE}{FMT}$", views.request_detail, name="open311-request"),
    re_path(rf"^open311/v2/tokens/(?P<token>[A-Za-z0-9]{{1,64}}?){FMT}$", views.token_detail, name="open311-token"),
    re_path(r"^open311/(?P<rest>.*)$", views.not_found, name="open311-not-found"),
]
