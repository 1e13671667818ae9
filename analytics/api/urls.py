from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("metrics", views.MetricsViewSet, basename="metrics")
router.register("rankings", views.RankingViewSet, basename="ranking")
router.register("bulletins", views.BulletinViewSet, basename="bulletin")

urlpatterns = router.urls
