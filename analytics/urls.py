from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("analytics/", views.DashboardView.as_view(), name="dashboard"),
    path("analytics/rankings/", views.RankingListView.as_view(), name="rankings"),
    path("analytics/rankings/compute/", views.ComputeRankingView.as_view(), name="ranking_compute"),
    path("analytics/rankings/<int:pk>/", views.RankingDetailView.as_view(), name="ranking"),
    path("analytics/rankings/<int:pk>/publish/", views.PublishRankingView.as_view(), name="ranking_publish"),
    path("analytics/bulletins/", views.BulletinListView.as_view(), name="bulletins"),
    path("analytics/bulletins/generate/", views.GenerateBulletinView.as_view(), name="bulletin_generate"),
    path("analytics/bulletins/<int:pk>/", views.BulletinDetailView.as_view(), name="bulletin"),
    path("analytics/bulletins/<int:pk>/print/", views.BulletinPrintView.as_view(), name="bulletin_print"),
    path("analytics/bulletins/<int:pk>/excel/", views.BulletinExcelView.as_view(), name="bulletin_excel"),
    path("analytics/bulletins/<int:pk>/pdf/", views.BulletinPdfView.as_view(), name="bulletin_pdf"),
]
