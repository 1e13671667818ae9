"""Who may act on the feeds: one answer for the services (which refuse with ``PermissionDenied``),
the pages (which show a button or link only when its action is allowed), the admin and the API.

Imports and result deliveries are the center's desk (center staff and administrators); a
source's push key is an administrator's. Platforms pushing with a key are admitted by
``feeds.auth`` (the key names the source), not by a user's role.
"""

from __future__ import annotations

from units.choices import Role
from units.roles import CENTER_ROLES
from units.roles import has_any_role as _has

from .choices import DeliveryStatus

# 数据导入 and 结果回传 (pages, home panel, API).
FEED_ROLES = CENTER_ROLES
# 数据来源: a source's push key (生成新密钥, a new source).
SOURCE_ROLES = (Role.ADMIN,)
# A delivery that gave up or was parked can be sent again by hand.
RETRYABLE = (DeliveryStatus.FAILED, DeliveryStatus.PARKED)


def may_import(user) -> bool:
    """数据导入: upload a file, read the batches and their rejected rows."""
    return _has(user, FEED_ROLES)


def may_read_deliveries(user) -> bool:
    """结果回传: the deliveries, each with its attempts."""
    return _has(user, FEED_ROLES)


def may_retry_delivery(user, delivery=None) -> bool:
    """重新发送 a delivery; on a given one only once it failed or was parked."""
    return _has(user, FEED_ROLES) and (delivery is None or delivery.status in RETRYABLE)


def may_manage_source_keys(user) -> bool:
    """生成新密钥 (the old key stops working at once) and adding a source (which issues one)."""
    return _has(user, SOURCE_ROLES)
