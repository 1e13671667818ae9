"""URL map. Each app brings its own staff URLs and its own API routes under /api/v1/."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from units import views as unit_views
from units.api.exceptions import api_not_found
from units.auth import LockoutAuthenticationForm

PROJECT_APPS = ("units", "intake", "feeds", "workorders", "sms", "surveys", "analytics", "alerts", "routing")


def _optional(module: str) -> list:
    """An app's url module if it has one yet (apps grow their URLs as they grow)."""
    try:
        return [path("", include(module))]
    except ModuleNotFoundError as exc:
        if exc.name is None or not module.startswith(exc.name):
            raise
        return []


api_patterns = [p for app in PROJECT_APPS for p in _optional(f"{app}.api.urls")]

urlpatterns = [
    path("", unit_views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LockoutAuthenticationForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("favicon.ico", unit_views.favicon, name="favicon"),
    path("healthz", unit_views.healthz, name="healthz"),
    path("readyz", unit_views.readyz, name="readyz"),
    path("healthz/", unit_views.healthz),
    path("readyz/", unit_views.readyz),
    path("admin/", admin.site.urls),
    path("units/", include("units.urls")),
    path("api/v1/", include(api_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # Any other /api/… path answers the API's JSON 404, never the HTML page of the site.
    re_path(r"^api/", api_not_found),
]

# Staff and public pages of the other apps: each app's ``urls.py`` declares its own prefixes
# (e.g. "appeals/", "mailbox/") in ``urlpatterns``.
for _app in PROJECT_APPS[1:]:
    urlpatterns += _optional(f"{_app}.urls")

# Uploaded files (import files with citizens' phones, attachments) are never served by a media URL,
# not even in development: each is downloaded through a view that checks who may see it.
