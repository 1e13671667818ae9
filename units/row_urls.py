"""``reverse`` for the rows of a list: the same URL, built by joining strings.

A list page names the same few views for each of its 50–150 rows (an order's page, its approve
and return forms…). ``reverse`` matches the arguments against the pattern for every one of them:
some 300 calls and a sixth of the review page's rendering. Here a view name with the shape of its
arguments (which are row ids, which are fixed words) is reversed once per process with stand-in
ids, and cut where the ids go; each row's URL is then those pieces joined around its own ids.

Row ids only: a non-negative ``int`` is put in place of its stand-in, written as the int converter
writes it (``str``). Any other argument is part of the shape (a fixed word such as an action's
name), reversed with it. Whenever the stand-ins cannot be found exactly once each in the reversed
URL (a converter that writes them differently, a pattern that refuses them) the shape falls back
to ``reverse`` for every call, so the URL is always ``reverse``'s.
"""

from __future__ import annotations

from functools import lru_cache

from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

# Stand-ins for row ids: numbers no row of a demo or a test reaches, and long enough that they
# cannot be part of a pattern's fixed text.
_STAND_IN = 987_654_321_012


def _is_row_id(value) -> bool:
    return type(value) is int and value >= 0


@lru_cache(maxsize=512)
def _pieces(prefix: str, urlconf, viewname: str, shape: tuple) -> tuple[str, ...] | None:
    """The reversed URL of ``viewname`` cut around its row ids (``None`` in ``shape``), or None
    when it cannot be cut safely. ``prefix`` and ``urlconf`` key the cache only."""
    args = [_STAND_IN + i if word is None else word for i, word in enumerate(shape)]
    try:
        url = reverse(viewname, urlconf=urlconf, args=args)
    except NoReverseMatch:
        return None
    pieces, rest = [], url
    for i, word in enumerate(shape):
        if word is not None:
            continue
        token = str(_STAND_IN + i)
        if url.count(token) != 1:
            return None
        head, rest = rest.split(token)
        pieces.append(head)
    pieces.append(rest)
    return tuple(pieces)


def row_url(viewname: str, *args) -> str:
    """``reverse(viewname, args=args)`` (same string), cheap when called for every row."""
    shape = tuple(None if _is_row_id(a) else a for a in args)
    try:
        pieces = _pieces(get_script_prefix(), get_urlconf(), viewname, shape)
    except TypeError:  # an argument that cannot be a cache key
        pieces = None
    if pieces is None:
        return reverse(viewname, args=args)
    ids = [str(a) for a in args if _is_row_id(a)]
    out = [pieces[0]]
    for value, piece in zip(ids, pieces[1:], strict=True):
        out.append(value)
        out.append(piece)
    return "".join(out)
