"""Staff pages of the intake app: the triage desk, the appeal page, the hotline form."""

from __future__ import annotations

from django.views.generic import DetailView

from units.visibility import VisibleMixin

from .models import Appeal


class AppealDetailView(VisibleMixin, DetailView):
    model = Appeal
    template_name = "intake/appeal_detail.html"
    context_object_name = "appeal"
