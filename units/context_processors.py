"""Template context shared by every staff page."""

from .navigation import bounded_counts, count_text, nav_items_for

_CACHE_ATTR = "_units_navigation"


def navigation(request) -> dict:
    """The user's menu with its to-do counts, and the unread-notification badges of the top bar.

    Computed once per request (kept on the request: a page rendering several templates does not
    count twice); every count of the menu is read in one bounded statement.
    """
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    path = request.path
    entries, wanted = [], {}
    for item in nav_items_for(user):
        url = item.url()
        if url is None:
            continue
        counts = []
        for count in item.counts:
            rows = count.rows(user)
            if rows is not None:
                wanted[(item.url_name, count.title)] = rows
                counts.append(count)
        entries.append((item, url, counts))
    found = bounded_counts(wanted)

    items, by_key = [], {}
    for item, url, counts in entries:
        shown = []
        for count in counts:
            n = found.get((item.url_name, count.title))
            if count.key and n is not None:
                by_key[count.key] = n
            if n:  # nothing to do, or the count failed: no badge
                shown.append({"title": count.title, "text": count_text(n), "urgent": count.urgent, "n": n})
        items.append({"label": item.label, "url": url, "active": False, "icon": item.icon, "counts": shown})
    # The entry whose URL is the longest prefix of the page is the active one ("/workorders/review/"
    # lights "待审核", not also "工单" at "/workorders/").
    matches = [i for i in items if (path == i["url"] if i["url"] == "/" else path.startswith(i["url"]))]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    unread, urgent = by_key.get("unread", 0), by_key.get("urgent", 0)
    result = {
        "nav_items": items,
        "unread_notifications": unread,
        "unread_notifications_text": count_text(unread),
        "urgent_notifications": urgent,
        "urgent_notifications_text": count_text(urgent),
    }
    setattr(request, _CACHE_ATTR, result)
    return result
