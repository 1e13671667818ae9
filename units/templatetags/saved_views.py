"""``{% saved_view_tabs "desk" %}``: the user's saved views of a list as tabs (我的视图), the one
matching the current filters marked, and the form that saves the current filters under a name."""

from __future__ import annotations

from django import template

from ..saved_views import sanitise, url_of, views_for

register = template.Library()


@register.inclusion_tag("units/_saved_views.html", takes_context=True)
def saved_view_tabs(context, list_name: str) -> dict:
    request = context["request"]
    current = sanitise(list_name, request.GET)
    views = [
        {"view": view, "url": url_of(view), "active": view.query == current}
        for view in views_for(request.user, list_name)
    ]
    return {"list_name": list_name, "views": views, "current": current, "csrf_token": context.get("csrf_token")}
