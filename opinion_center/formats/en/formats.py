"""Date formats of the English interface: day before month, 24-hour clock (07 Dec 2026 09:30).

Django's own English formats are American (12/07/2026 9:30 a.m.), which a reader of a Chinese
bureau's data takes for 12 July.
"""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y H:i"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "d M Y"
SHORT_DATETIME_FORMAT = "d M Y H:i"
