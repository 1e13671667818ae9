from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("work-orders", views.WorkOrderViewSet, basename="work-order")
# The dispatch action of an appeal (POST appeals/{id}/dispatch/) belongs to this app.
router.register("appeals", views.AppealDispatchViewSet, basename="appeal")

urlpatterns = router.urls
