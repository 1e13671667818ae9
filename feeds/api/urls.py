from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("result-deliveries", views.ResultDeliveryViewSet, basename="result-delivery")
router.register("import-batches", views.ImportBatchViewSet, basename="import-batch")

urlpatterns = [
    path("feeds/<slug:source>/appeals/", views.AppealPushView.as_view(), name="feeds-push-appeal"),
    *router.urls,
]
