from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("units", views.UnitViewSet, basename="unit")
router.register("saved-views", views.SavedViewViewSet, basename="saved-view")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("auth/token/revoke/", views.revoke_token, name="api-token-revoke"),
    path("me/", views.me, name="api-me"),
    *router.urls,
]
