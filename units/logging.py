"""A logging filter that masks anything that looks like a Chinese mobile number."""

import logging
import re

_PHONE = re.compile(r"(?<!\d)(\+?86)?(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def scrub(text: str) -> str:
    return _PHONE.sub(lambda m: f"{m.group(2)}****{m.group(3)}", text)


class ScrubPhonesFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if isinstance(record.args, dict):
            # "%(name)s"-style messages (Celery's task log) carry a mapping, which must stay one.
            record.args = {k: scrub(v) if isinstance(v, str) else v for k, v in record.args.items()}
        elif record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(scrub(a) if isinstance(a, str) else a for a in args)
        return True
