"""Masking of citizens' mobile numbers and ID-card numbers in every log line (ARCHITECTURE rule 8).

A phone or an ID-card number reaches a log through a URL (``/api/v1/appeals/?q=139…``), a request
line, an exception message. ``MaskPersonalData`` is put on every handler of ``LOGGING`` and on
gunicorn's loggers (``GunicornLogger``, named in ``opinion_center/gunicorn.conf.py``). It masks the
formatted message, so a number split between the format string and its arguments is caught too.
"""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger as _GunicornBaseLogger

# Mainland mobile numbers: 1[3-9] and nine more digits, optionally after +86 / 86 and with one
# space or hyphen after the 3rd and 7th digits ("138 0000 1111"). Not inside a longer number.
_PHONE = re.compile(r"(?<!\d)((?:\+|%2B)?86[ -]?)?(1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?!\d)", re.IGNORECASE)
# 18-digit resident ID-card numbers (身份证号): a 6-digit area code, the birth date (YYYYMMDD), 3
# digits and a check digit or X. Requiring a plausible date, and no decimal point before, keeps
# durations (0.011116123456783951) and long order numbers unmasked.
_ID_CARD = re.compile(
    r"(?<![\d.])(\d{6})(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(\d{3}[\dXx])(?![\dXx])"
)


def mask(text: str) -> str:
    """``text`` with mobile numbers as 138****1111 and ID-card numbers as 110105********002X.

    The one masking rule of free text: log records (``MaskPersonalData``) and every file handed
    out (import error reports, bulletins) go through it.
    """
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    return _PHONE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(3)}", text)


_exception_formatter = logging.Formatter()


class MaskPersonalData(logging.Filter):
    """Rewrites a record whose formatted message (or traceback) holds a phone or an ID-card number.

    The message is formatted once here (``msg % args``) and masked; only when that changed the
    text are ``msg`` and ``args`` replaced by the masked message and no arguments, so formatting
    it again gives the same text and records without personal data keep their template. Never
    drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's own error to report
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the traceback is printed masked.
            record.exc_text = _exception_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


# The former name, kept for configurations that still name it.
ScrubPhonesFilter = MaskPersonalData


def mask_handlers(logger: logging.Logger) -> None:
    """Put the mask on ``logger`` itself and on each of its handlers (idempotent)."""
    for target in (logger, *logger.handlers):
        if not any(isinstance(f, MaskPersonalData) for f in target.filters):
            target.addFilter(MaskPersonalData())


class GunicornLogger(_GunicornBaseLogger):
    """gunicorn's logger with the mask on its access log and error log.

    The access line is formatted from the request's atoms (request line, query string, referer…)
    and then masked like every other record.
    """

    def setup(self, cfg) -> None:
        super().setup(cfg)
        mask_handlers(self.error_log)
        mask_handlers(self.access_log)


__all__ = ["GunicornLogger", "MaskPersonalData", "ScrubPhonesFilter", "mask", "mask_handlers"]
