from django.urls import path

from . import exports, views

app_name = "workorders"

urlpatterns = [
    path("workorders/", views.WorkspaceView.as_view(), name="workspace"),
    path("workorders/review/", views.ReviewView.as_view(), name="review"),
    path("workorders/export.xlsx", exports.WorkspaceExportView.as_view(), name="export"),
    path("workorders/review/export.xlsx", exports.ReviewExportView.as_view(), name="review_export"),
    path("workorders/bulk/<str:name>/", views.bulk, name="bulk"),
    path("workorders/listed/", views.ListedView.as_view(), name="listed"),
    path("workorders/calendar/", views.calendar, name="calendar"),
    path("workorders/dispatch/<int:appeal_pk>/", views.dispatch, name="dispatch"),
    # The desk's dispatch actions (the desk itself is intake's, under /appeals/).
    path("appeals/<int:pk>/triage-dispatch/", views.TriageDispatchView.as_view(), name="triage_dispatch"),
    path("appeals/bulk/dispatch/", views.DeskBulkDispatchView.as_view(), name="desk_bulk_dispatch"),
    path("workorders/attachments/<int:pk>/", views.attachment, name="attachment"),
    path("workorders/<int:pk>/", views.OrderDetailView.as_view(), name="detail"),
    path("workorders/<int:pk>/print/", exports.PrintOrderView.as_view(), name="print_order"),
    path("workorders/<int:pk>/print/supervision/", exports.PrintSupervisionView.as_view(), name="print_supervision"),
    path("workorders/<int:pk>/reply/", views.reply, name="reply"),
    path("workorders/<int:pk>/<slug:name>/", views.move, name="move"),
]
