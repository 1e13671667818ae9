"""Date formats of the Chinese interface, as a bureau's documents write them.

Lists and timelines use the short forms (2026-12-07 09:30), headings and printed sheets the long
ones (2026年12月7日). Templates name the format (``|date:"SHORT_DATETIME_FORMAT"``), never the
pattern, so the English interface shows its own.
"""

DATE_FORMAT = "Y年n月j日"
DATETIME_FORMAT = "Y年n月j日 H:i"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "Y年n月"
MONTH_DAY_FORMAT = "n月j日"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
