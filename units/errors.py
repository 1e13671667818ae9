"""The one domain refusal of the platform.

A service raises ``Refused`` when the object's state or the rules of the domain do not allow what
was asked (sign an order already closed, publish a month not yet over, merge an appeal into
itself …). ``str(exc)`` is one translated sentence for the user; ``code`` is a short machine code
(``conflict`` unless the service names the case, e.g. ``frozen``).

How it is answered is decided in one place for each kind of client:

* the API: ``units.api.exceptions.exception_handler`` turns it into a 409 with the ``Error`` body
  (``{"detail": …, "code": …}``), like every other API error;
* HTML views: ``units.refusals.show_refusal`` puts the same sentence in the messages framework
  (``refusal_text`` for views that place the text themselves).

Missing permission stays Django's ``PermissionDenied`` (403) and bad input Django's
``ValidationError`` (400): a refusal is about the state, not about who asks or what was typed.
"""

from __future__ import annotations


class Refused(Exception):
    """The move is not allowed now; ``str(exc)`` says why (Chinese, translated)."""

    default_code = "conflict"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    def __str__(self) -> str:
        return str(self.message)
