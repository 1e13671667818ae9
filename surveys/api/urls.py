from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("service-records", views.ServiceRecordViewSet, basename="service-record")
router.register("evaluations", views.EvaluationViewSet, basename="evaluation")
router.register("ratings", views.RatingViewSet, basename="rating")
router.register("callbacks", views.CallbackViewSet, basename="callback")
router.register("rating-points", views.RatingPointViewSet, basename="rating-point")
router.register("surveys", views.SurveyViewSet, basename="survey")

urlpatterns = [
    path("feeds/service-records/", views.ServiceRecordPushView.as_view(), name="feed-service-records"),
    *router.urls,
]
