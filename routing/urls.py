from django.urls import path

from . import views

app_name = "routing"

urlpatterns = [
    path("routing/", views.overview, name="overview"),
    path("routing/train/", views.train, name="train"),
    path("routing/auto/", views.auto_settings, name="auto_settings"),
]
