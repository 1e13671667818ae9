"""Template context shared by every staff page."""

from .navigation import nav_items_for


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    path = request.path
    items = []
    for item in nav_items_for(user):
        url = item.url()
        if url is not None:
            items.append({"label": item.label, "url": url, "active": False, "icon": item.icon})
    # The entry whose URL is the longest prefix of the page is the active one ("/workorders/review/"
    # lights "待审核", not also "工单" at "/workorders/").
    matches = [i for i in items if (path == i["url"] if i["url"] == "/" else path.startswith(i["url"]))]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    from .models import Notification

    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    return {"nav_items": items, "unread_notifications": unread}
