from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("appeals/<int:pk>/", views.AppealDetailView.as_view(), name="appeal"),
]
