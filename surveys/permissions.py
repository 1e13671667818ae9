"""Who may act in the surveys app: one answer for the services (which refuse with
``PermissionDenied``), the pages (which show a button or form only when its action is allowed)
and the API's permission classes.

Each ``may_*`` looks at the user's role; which rows he sees is ``visible_to(user)`` (the roles that
act here see every unit), and whether the object's state allows the action (a closed callback, a
survey already sent) is the services' business, refused with ``units.errors.Refused``.
``callback_actions`` combines the two for the forms of the callback page.
"""

from __future__ import annotations

from units.choices import Role
from units.roles import CENTER_ROLES
from units.roles import has_any_role as _has

from .choices import CallbackStatus

# 回访评价, 业务记录, 人工回访, 民意调查: read by the center, supervisors and administrators.
READ_ROLES = (Role.CENTER_STAFF, Role.SUPERVISOR, Role.ADMIN)
# 群众评价 and 评价二维码: every staff role, each within the units he sees.
STAFF_ROLES = (Role.CENTER_STAFF, Role.SUPERVISOR, Role.ADMIN, Role.UNIT_LEADER, Role.UNIT_HANDLER)
# The center's work: callbacks, replies to read, imports, rating points, surveys.
WORK_ROLES = CENTER_ROLES
# 号码往来记录: every SMS to and from one phone.
PHONE_HISTORY_ROLES = (Role.ADMIN,)


def may_read(user) -> bool:
    """The overview, the service records, the callback desk and the surveys (read only)."""
    return _has(user, READ_ROLES)


def may_read_ratings(user) -> bool:
    """群众评价 and 评价二维码 (list, page, printable sheet) of the user's units."""
    return _has(user, STAFF_ROLES)


def may_import_records(user) -> bool:
    """导入业务记录 (CSV/XLSX upload)."""
    return _has(user, WORK_ROLES)


def may_work_callback(user) -> bool:
    """登记通话, 派发整改工单, 回访结案: center staff and administrators."""
    return _has(user, WORK_ROLES)


def may_reveal_callback_phone(user) -> bool:
    """查看完整号码 on a callback (with a reason, logged), open or closed alike."""
    return _has(user, WORK_ROLES)


def callback_actions(user, callback) -> dict[str, bool]:
    """The forms of the callback page: each is offered when the user may work the callback and its
    state lets the service do it (``services.callbacks``)."""
    allowed = may_work_callback(user)
    return {
        "can_act": allowed and callback.status != CallbackStatus.CLOSED,
        "can_rectify": allowed and callback.status == CallbackStatus.REACHED and not callback.rectification_appeal_id,
        "can_reveal": may_reveal_callback_phone(user) and bool(callback.rating.sms_id),
    }


def may_handle_replies(user) -> bool:
    """待处理回复: read the replies the parser could not read, mark them or record a rating."""
    return _has(user, WORK_ROLES)


def may_read_phone_history(user) -> bool:
    """号码往来记录 (personal data, each look-up logged)."""
    return _has(user, PHONE_HISTORY_ROLES)


def may_edit_rating_points(user) -> bool:
    """新增, 编辑 a rating point and 更换二维码."""
    return _has(user, WORK_ROLES)


def may_run_surveys(user) -> bool:
    """民意调查: create one, draw or upload its sample, send the invitations, close it."""
    return _has(user, WORK_ROLES)
