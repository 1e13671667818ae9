from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("work-orders", views.WorkOrderViewSet, basename="work-order")

urlpatterns = router.urls
