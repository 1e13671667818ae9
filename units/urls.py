from django.urls import path

from . import views

app_name = "units"

urlpatterns = [
    path("", views.unit_list, name="list"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read-all/", views.notification_read_all, name="notifications_read_all"),
    path("notifications/<int:pk>/go/", views.notification_go, name="notification_go"),
    path("saved-views/", views.saved_views, name="saved_views"),
    path("saved-views/<int:pk>/", views.saved_view, name="saved_view"),
]
