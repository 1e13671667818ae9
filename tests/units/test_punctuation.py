"""Chinese text uses full-width punctuation, English text uses ASCII.

A Chinese office reads "单位:滨江派出所 (江北分局)" as a typo. Every string a user can see is
scanned: the text of every template, every translatable string of the Python code, every entry
of the Chinese catalogue; an ASCII , : ; ! ? ( ) touching a Chinese character is flagged. The
English catalogue's translations must not carry full-width punctuation (a Chinese comma left
in an English sentence).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ("units", "intake", "feeds", "workorders", "surveys", "analytics", "alerts", "routing", "opinion_center")
GETTEXT_NAMES = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "pgettext",
    "pgettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "npgettext",
    "npgettext_lazy",
}

CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
# An ASCII mark touching a Chinese character (a space between them still counts as touching).
ASCII_IN_CHINESE = re.compile(rf"{CJK} ?[,:;!?()]|[,:;!?()] ?{CJK}")
FULL_WIDTH = re.compile(r"[，。：；（）！？、]")

# Legitimate ASCII marks next to Chinese text, each with why. Keep this list short: a time
# (09:00) or a format placeholder is not touching a Chinese character and needs no entry.
EXCEPTIONS: set[str] = {
    # The "?" key of the keyboard help is a key name, not a question mark.
    "，? 查看快捷键",
    "，? 帮助",
    # The shape of a JSON error body in the API description: code, not prose.
    "{字段: [原因]}",
    # A model field's label: changing it is a schema change of the feeds app (its own migration).
    "耗时(毫秒)",
}


def flagged(text: str) -> list[str]:
    """The offending snippets of ``text`` (a few characters around each ASCII mark)."""
    hits = []
    for match in ASCII_IN_CHINESE.finditer(text):
        start, end = max(match.start() - 6, 0), min(match.end() + 6, len(text))
        snippet = text[start:end]
        if not any(allowed in snippet for allowed in EXCEPTIONS):
            hits.append(snippet)
    return hits


# --------------------------------------------------------------------------------------------
# Sources


def _templates() -> list[Path]:
    return sorted((ROOT / "templates").rglob("*.html")) + sorted((ROOT / "templates").rglob("*.txt"))


_TRANSLATE = re.compile(r"""\{%\s*(?:translate|trans)\s+(["'])(.*?)\1.*?%\}""", re.S)
_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.S)
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)


def template_text(source: str) -> str:
    """What a template shows: its markup with translate strings inlined and other tags dropped
    (a variable becomes a neutral letter, so "名称:{{ x }}" still shows its colon)."""
    source = re.sub(r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", "", source, flags=re.S)
    source = _SCRIPT.sub("", source)
    source = _TRANSLATE.sub(lambda m: m.group(2), source)
    return _TAG.sub(lambda m: "" if m.group(0).startswith("{%") or m.group(0).startswith("{#") else "X", source)


def _python_files() -> list[Path]:
    files = []
    for app in APPS:
        files += [p for p in sorted((ROOT / app).rglob("*.py")) if "migrations" not in p.parts]
    return files


def gettext_strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal passed to a gettext function in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name not in GETTEXT_NAMES:
            continue
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append((arg.lineno, arg.value))
    return found


def po_entries(path: Path) -> list[tuple[str, str]]:
    """(msgid, msgstr) of a catalogue; plural forms give one pair per form."""
    entries: list[tuple[str, str]] = []
    msgid, msgstr, current = [], [], None
    obsolete = False

    def flush():
        if msgid and not obsolete:
            entries.append(("".join(msgid), "".join(msgstr)))

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#~"):
            obsolete = True
            continue
        if line.startswith("msgid ") or line.startswith("msgctxt "):
            if line.startswith("msgid ") and current != "msgctxt":
                flush()
                msgid, msgstr, obsolete = [], [], False
            current = "msgid" if line.startswith("msgid ") else "msgctxt"
            if current == "msgid":
                msgid.append(ast.literal_eval(line[len("msgid ") :]))
            else:
                flush()
                msgid, msgstr, obsolete = [], [], False
            continue
        if line.startswith("msgid_plural "):
            current = "plural"
            continue
        if line.startswith("msgstr"):
            current = "msgstr"
            msgstr.append(ast.literal_eval(line.split(" ", 1)[1]))
            continue
        if line.startswith('"'):
            value = ast.literal_eval(line)
            if current == "msgid":
                msgid.append(value)
            elif current == "msgstr":
                msgstr.append(value)
    flush()
    return entries


# --------------------------------------------------------------------------------------------
# The scans


def test_templates_use_full_width_punctuation_in_chinese_text():
    found = []
    for path in _templates():
        for hit in flagged(template_text(path.read_text(encoding="utf-8"))):
            found.append(f"{path.relative_to(ROOT)}: {hit!r}")
    assert not found, "ASCII punctuation in Chinese text:\n" + "\n".join(found)


def test_translatable_python_strings_use_full_width_punctuation():
    found = []
    for path in _python_files():
        for line, text in gettext_strings(path):
            for hit in flagged(text):
                found.append(f"{path.relative_to(ROOT)}:{line}: {hit!r}")
    assert not found, "ASCII punctuation in Chinese text:\n" + "\n".join(found)


def test_the_chinese_catalogue_uses_full_width_punctuation():
    path = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    found = [f"{msgid!r} → {hit!r}" for msgid, msgstr in po_entries(path) for hit in flagged(msgstr)]
    assert not found, "ASCII punctuation in the Chinese catalogue:\n" + "\n".join(found)


def _source_text() -> str:
    chunks = [p.read_text(encoding="utf-8") for p in _templates()]
    chunks += [p.read_text(encoding="utf-8") for p in _python_files()]
    return "\n".join(chunks)


def test_the_english_catalogue_uses_ascii_punctuation():
    """Entries whose Chinese source text no longer exists are left to the next catalogue refresh."""
    path = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
    source = re.sub(r"\s+", " ", _source_text())
    found = []
    for msgid, msgstr in po_entries(path):
        if not msgstr or not FULL_WIDTH.search(msgstr):
            continue
        if re.sub(r"\s+", " ", msgid) not in source:
            continue  # obsolete: refreshed from the source by `make messages`
        found.append(f"{msgid!r} → {msgstr!r}")
    assert not found, "full-width punctuation in English translations:\n" + "\n".join(found)


def test_the_scan_flags_what_it_should():
    assert flagged("单位:滨江派出所")
    assert flagged("请选择(可多选)")
    assert flagged("已签收, 请处理")
    assert not flagged("单位：滨江派出所（江北分局）")
    assert not flagged("发送时段 09:00–20:00")
    assert not flagged("See /track/?code=AB12")
    assert flagged(template_text('{% translate "查询码" %}:{{ code }}'))
    assert not flagged(template_text('{% translate "查询码" %}：{{ code }}'))
