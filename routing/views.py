"""The routing page: training history with the time-split figures, acceptance, hand-back rate,
and the auto-dispatch settings (administrators)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from intake.models import Category
from units.enqueue import send_task

from . import permissions, selectors
from .models import AutoDispatchSetting


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


@login_required
def overview(request):
    _require(permissions.may_view(request.user))
    settings_by_category = {s.category_id: s for s in AutoDispatchSetting.objects.all()}
    categories = [
        (c, settings_by_category.get(c.pk))
        for c in Category.objects.filter(is_active=True).order_by("sort_order", "code")
    ]
    return render(
        request,
        "routing/overview.html",
        {
            "active": selectors.active_model(),
            "runs": selectors.training_runs(),
            "acceptance": selectors.acceptance(),
            "handback": selectors.handback_rates(),
            "categories": categories,
            "can_edit": permissions.may_edit(request.user),
        },
    )


@login_required
@require_POST
def train(request):
    """Queue a training run now (the same job as the nightly one)."""
    _require(permissions.may_edit(request.user))
    from .tasks import train_model_task

    if send_task(train_model_task):
        messages.success(request, _("已提交训练任务，完成后本页显示结果。"))
    else:
        messages.error(request, _("任务队列暂时不可用，训练任务未提交，请稍后再试；夜间训练照常进行。"))
    return redirect("routing:overview")


@login_required
@require_POST
def auto_settings(request):
    """Turn auto-dispatch on or off per category and set its threshold (percent, 50–100)."""
    _require(permissions.may_edit(request.user))
    changed = 0
    for category in Category.objects.filter(is_active=True):
        enabled = request.POST.get(f"on-{category.pk}") == "1"
        raw = request.POST.get(f"threshold-{category.pk}", "").strip()
        try:
            threshold = int(raw) / 100 if raw else 0.95
        except ValueError:
            threshold = -1
        if not 0.5 <= threshold <= 1.0:
            messages.error(request, _("「%(category)s」的阈值应为 50 至 100。") % {"category": category.name})
            continue
        current = AutoDispatchSetting.objects.filter(category=category).first()
        if current is None and not enabled:
            continue
        AutoDispatchSetting.objects.update_or_create(
            category=category,
            defaults={"is_enabled": enabled, "threshold": threshold, "updated_by": request.user},
        )
        changed += 1
    messages.success(request, _("自动派单设置已保存（%(n)d 个分类）。") % {"n": changed})
    return redirect("routing:overview")
