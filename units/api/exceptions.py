"""One error body for the whole API, and the exceptions views raise to produce it.

Every error the API answers (400, 401, 403, 404, 405, 409, 415, 429 …) has the same JSON shape,
documented in the schema as the ``Error`` component:

    {"detail": "<one sentence>", "code": "<machine code>", "<field>": ["<message>", …], …}

``detail`` and ``code`` are always there; an input error adds one key per faulty field (the
field's messages, as DRF reports them; ``non_field_errors`` for the whole body), so clients that
read the field keys keep working. Views never build error bodies by hand: they raise, or let
the service's exception through — ``units.errors.Refused`` (the domain refusal) is answered 409
with its message and code, Django's ``PermissionDenied`` 403 and ``ValidationError`` 400 — so a
view never catches a service's refusal to re-raise it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from units.errors import Refused

# Codes of messages saying "the object you named does not exist (or you may not see it)".
NOT_FOUND_CODES = frozenset({"does_not_exist", "not_found"})


class Conflict(exceptions.APIException):
    """The object's current state does not allow the move (answered 409)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("当前状态不允许此操作。")
    default_code = "conflict"


class ReferenceNotFound(exceptions.ValidationError):
    """A field names an object that does not exist or that the user may not see (answered 404).

    The same rule as for the path: what the user may not see answers 404, whether it is named in
    the URL or in the body."""

    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"

    def __init__(self, field: str, message: str | None = None):
        super().__init__({field: [message or _("对象不存在或无权查看。")]}, code="not_found")


def from_django_validation_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    """A model/service ``ValidationError`` as the API's 400 (field messages kept per field)."""
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError({field: list(messages) for field, messages in exc.message_dict.items()})
    return exceptions.ValidationError({"detail": " ".join(str(m) for m in exc.messages)})


def _codes(value) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_codes(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_codes(v) for v in value)) if value else set()
    return {str(value)}


def _first_message(value) -> str:
    if isinstance(value, dict):
        for item in value.values():
            text = _first_message(item)
            if text:
                return text
        return ""
    if isinstance(value, list):
        for item in value:
            text = _first_message(item)
            if text:
                return text
        return ""
    return str(value)


def error_body(detail: str, code: str, fields: dict | None = None) -> dict:
    body = dict(fields or {})
    body["detail"] = str(detail)
    body["code"] = str(code)
    return body


def exception_handler(exc, context):
    """DRF's handler, then the body reshaped to ``Error``; Django's own refusals mapped too."""
    if isinstance(exc, Refused):
        exc = Conflict(str(exc), code=exc.code)
    elif isinstance(exc, DjangoValidationError):
        exc = from_django_validation_error(exc)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()

    # A field error that only says "no such object" is the 404 of an object named in the body.
    if type(exc) is exceptions.ValidationError and isinstance(exc.detail, dict):
        codes = _codes(exc.get_codes())
        if codes and codes <= NOT_FOUND_CODES:
            exc.status_code = status.HTTP_404_NOT_FOUND

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(data, dict):
            fields = {k: v for k, v in data.items() if k != "detail"}
            detail = data.get("detail")
            if isinstance(detail, list):
                detail = " ".join(str(m) for m in detail)
            if not fields and detail is None:
                detail = _("输入有误。")
            elif detail is None:
                detail = _first_message(fields)
            code = "not_found" if response.status_code == 404 else "invalid"
            response.data = error_body(detail, code, fields)
        else:  # a list: errors of the body as a whole
            response.data = error_body(_first_message(data) or _("输入有误。"), "invalid", {"non_field_errors": data})
    else:
        detail = data.get("detail", "") if isinstance(data, dict) else _first_message(data)
        code = getattr(getattr(exc, "detail", None), "code", None) or getattr(exc, "default_code", "error")
        response.data = error_body(detail, code)
    return response


@csrf_exempt  # a POST to an unknown API path is a 404 like any other, not a CSRF page
def api_not_found(request, *args, **kwargs):
    """Any /api/… path that names no operation: the JSON 404 of the API, not an HTML page."""
    return JsonResponse(error_body(_("接口不存在。"), "not_found"), status=status.HTTP_404_NOT_FOUND)
