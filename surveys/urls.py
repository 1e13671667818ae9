"""Staff pages of the surveys app and the public QR and survey forms."""

from django.urls import path

from . import exports, views

app_name = "surveys"

urlpatterns = [
    path("surveys/", views.OverviewView.as_view(), name="overview"),
    path("surveys/ratings/", views.RatingListView.as_view(), name="rating_list"),
    path("surveys/ratings/export.xlsx", exports.RatingExportView.as_view(), name="rating_export"),
    path("surveys/records/", views.RecordListView.as_view(), name="record_list"),
    path("surveys/records/export.xlsx", exports.RecordExportView.as_view(), name="record_export"),
    path("surveys/records/import/", views.import_records, name="record_import"),
    path("surveys/callbacks/", views.CallbackDeskView.as_view(), name="callback_desk"),
    path("surveys/callbacks/export.xlsx", exports.CallbackExportView.as_view(), name="callback_export"),
    path("surveys/callbacks/<int:pk>/", views.CallbackDetailView.as_view(), name="callback_detail"),
    path("surveys/callbacks/<int:pk>/print/", exports.PrintCallbackView.as_view(), name="callback_print"),
    path("surveys/callbacks/<int:pk>/reveal-phone/", views.reveal_phone, name="callback_reveal_phone"),
    path("surveys/reviews/", views.ReviewListView.as_view(), name="reviews"),
    path("surveys/phone-history/", views.PhoneHistoryView.as_view(), name="phone_history"),
    path("surveys/rating-points/", views.RatingPointListView.as_view(), name="rating_point_list"),
    path("surveys/rating-points/new/", views.RatingPointEditView.as_view(), name="rating_point_create"),
    path("surveys/rating-points/sheet/", views.RatingPointSheetView.as_view(), name="rating_point_sheet"),
    path("surveys/rating-points/<int:pk>/", views.RatingPointDetailView.as_view(), name="rating_point_detail"),
    path("surveys/rating-points/<int:pk>/edit/", views.RatingPointEditView.as_view(), name="rating_point_edit"),
    path("surveys/rating-points/<int:pk>/rotate/", views.rotate_rating_point, name="rating_point_rotate"),
    # The public form a QR code opens (no login). The token is the signed "<point>.<version>".
    path("qr/<str:token>/", views.qr_form, name="qr_form"),
    path("qr/<str:token>/thanks/", views.qr_thanks, name="qr_thanks"),
    path("surveys/polls/", views.SurveyListView.as_view(), name="survey_list"),
    path("surveys/polls/<int:pk>/", views.SurveyDetailView.as_view(), name="survey_detail"),
    # A citizen's personal survey link (no login); the token is random and unique per invitation.
    path("s/<str:token>/", views.survey_form, name="survey_form"),
]
