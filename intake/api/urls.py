from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("appeals", views.AppealViewSet, basename="appeal")
router.register("phone-reveals", views.PhoneRevealViewSet, basename="phone-reveal")

urlpatterns = router.urls
