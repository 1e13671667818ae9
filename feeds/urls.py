from django.urls import path

from . import exports, views
from .open311.urls import urlpatterns as open311_urlpatterns

app_name = "feeds"

urlpatterns = [
    path("feeds/imports/", views.ImportListView.as_view(), name="imports"),
    path("feeds/imports/export.xlsx", exports.ImportBatchExportView.as_view(), name="imports-export"),
    path("feeds/imports/template.csv", views.ImportTemplateView.as_view(), name="import-template"),
    path("feeds/imports/<int:pk>/", views.BatchDetailView.as_view(), name="batch"),
    path("feeds/imports/<int:pk>/errors.csv", views.BatchErrorsCsvView.as_view(), name="batch-errors"),
    path("feeds/deliveries/", views.DeliveryListView.as_view(), name="deliveries"),
    path("feeds/deliveries/export.xlsx", exports.DeliveryExportView.as_view(), name="deliveries-export"),
    path("feeds/deliveries/<int:pk>/", views.DeliveryDetailView.as_view(), name="delivery"),
    path("feeds/deliveries/<int:pk>/retry/", views.DeliveryRetryView.as_view(), name="delivery-retry"),
    path("feeds/demo-platform/results/", views.DemoPlatformView.as_view(), name="demo-platform"),
    # Open311 GeoReport v2 at /open311/v2/ (docs/open311.md): its clients are this app's sources.
    *open311_urlpatterns,
]
