from django.urls import path

from . import exports, views

app_name = "intake"

urlpatterns = [
    path("appeals/", views.DeskView.as_view(), name="desk"),
    path("appeals/bulk/", views.DeskBulkView.as_view(), name="bulk"),
    path("appeals/export.xlsx", exports.DeskExportView.as_view(), name="export"),
    path("appeals/hotline/", views.HotlineView.as_view(), name="hotline"),
    path("appeals/caller-history/", views.CallerHistoryView.as_view(), name="caller_history"),
    path("appeals/severity-preview/", views.SeverityPreviewView.as_view(), name="severity_preview"),
    path("appeals/phone-reveals/", views.PhoneRevealListView.as_view(), name="phone_reveals"),
    path("appeals/attachments/<int:pk>/", views.AttachmentDownloadView.as_view(), name="attachment"),
    path("appeals/<int:pk>/", views.AppealDetailView.as_view(), name="appeal"),
    path("appeals/<int:pk>/triage/", views.TriageView.as_view(), name="triage"),
    path("appeals/<int:pk>/close/", views.CloseView.as_view(), name="close"),
    path("appeals/<int:pk>/merge/", views.MergeView.as_view(), name="merge"),
    path("appeals/<int:pk>/mark-for-dispatch/", views.MarkForDispatchView.as_view(), name="mark_for_dispatch"),
    path("appeals/<int:pk>/attachments/", views.AttachmentUploadView.as_view(), name="upload"),
    path("appeals/<int:pk>/reveal-phone/", views.RevealPhoneView.as_view(), name="reveal_phone"),
    path("mailbox/<str:box>/", views.mailbox, name="mailbox"),
    path("mailbox/<str:box>/sent/", views.mailbox_sent, name="mailbox_sent"),
    path("track/", views.track, name="track"),
]
