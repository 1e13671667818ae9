"""Business operations of the surveys app, one module per sub-domain: ``records`` (service records
and the daily evaluation run), ``replies`` (citizens' replies, ratings, the review list),
``callbacks`` (the callback desk), ``qr_ratings`` (扫码评警) and ``polls`` (民调); refusals in
``errors``. Views, the API, tasks and commands import from the sub-module; nothing else changes a
status.
"""
