"""Staff pages of the SMS layer and the providers' webhooks.

The webhook paths are configured at the providers (Twilio's Messaging Service, the Aliyun and
Tencent consoles): they never change."""

from django.urls import path

from . import views
from .providers import views as provider_views

app_name = "sms"

urlpatterns = [
    path("sms/outbox/", views.OutboxView.as_view(), name="outbox"),
    path("sms/outbox/export.xlsx", views.OutboxExportView.as_view(), name="outbox_export"),
    path("sms/outbox/<int:pk>/requeue/", views.requeue_sms, name="requeue"),
    path("sms/opt-outs/", views.OptOutListView.as_view(), name="optouts"),
    path("sms/simulator/", views.SimulatorView.as_view(), name="simulator"),
    path("sms/twilio/inbound/", views.twilio_inbound, name="twilio_inbound"),
    path("sms/twilio/status/", views.twilio_status, name="twilio_status"),
    # Aliyun and Tencent callbacks: the secret token in the path authenticates them (with the
    # provider's source addresses); see sms.providers.views.
    path("sms/aliyun/<str:token>/report/", provider_views.aliyun_report, name="aliyun_report"),
    path("sms/aliyun/<str:token>/reply/", provider_views.aliyun_reply, name="aliyun_reply"),
    path("sms/tencent/<str:token>/report/", provider_views.tencent_report, name="tencent_report"),
    path("sms/tencent/<str:token>/reply/", provider_views.tencent_reply, name="tencent_reply"),
]
