"""How an HTML view shows a refused action: one sentence in the messages framework, the same
wherever it happens (the API has its own one place: ``units.api.exceptions``).

Views catch ``REFUSALS`` around a service call and hand the exception to ``show_refusal`` (or to
``refusal_text`` when they put the sentence somewhere else, such as above a bound form).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from .errors import Refused

# What a service call may answer instead of doing the work: the state does not allow it, the user
# may not, or the input is wrong.
REFUSALS = (Refused, PermissionDenied, ValidationError)


def validation_text(exc: ValidationError) -> str:
    """Every message of a ``ValidationError`` (field errors included), joined with "；"."""
    if hasattr(exc, "error_dict"):
        return "；".join(str(m) for ms in exc.message_dict.values() for m in ms)
    return "；".join(str(m) for m in exc.messages)


def refusal_text(exc: Exception) -> str:
    """The sentence a user reads for a refusal, a missing permission or a rejected input."""
    if isinstance(exc, ValidationError):
        return validation_text(exc)
    if isinstance(exc, PermissionDenied):
        return str(exc) or _("您无权执行该操作。")
    return str(exc)


def show_refusal(request: HttpRequest, exc: Exception) -> None:
    """Show the refusal as an error message on the next page."""
    messages.error(request, refusal_text(exc))
