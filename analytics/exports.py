"""Excel export of a bulletin (XlsxWriter; user text is never read as a formula, and the citizens'
text in it — hotspot labels and addresses, the summary — goes through the mask of phones and
ID-card numbers the logs use, also for bulletins kept from before the labels were masked)."""

from __future__ import annotations

import io

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _

from units.logging import mask

from .choices import METRIC_KEYS, METRIC_LABELS
from .models import Bulletin


def _rate(figures: dict, key: str):
    return (figures.get(key) or {}).get("rate")


def bulletin_xlsx(bulletin: Bulletin) -> bytes:
    """The bulletin as a workbook: 概况 (summary and city figures), 单位 (units), 每日 (days, with a
    chart), 渠道, 一类事 (hotspots) and 预警 (the period's alerts, when the bulletin keeps them).
    Rates are numbers formatted as percentages."""
    c = bulletin.content
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    bold = wb.add_format({"bold": True})
    title = wb.add_format({"bold": True, "font_size": 14})
    pct = wb.add_format({"num_format": "0.0%"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})

    ws = wb.add_worksheet(_("概况"))
    ws.set_column(0, 0, 24)
    ws.set_column(1, 3, 14)
    ws.write_string(0, 0, bulletin.title, title)
    ws.write_string(1, 0, _("统计周期：%(period)s") % {"period": c.get("period", {}).get("label", "")})
    generated = timezone.localtime(bulletin.generated_at)
    ws.write_string(2, 0, _("生成时间：%(time)s") % {"time": f"{generated:%Y-%m-%d %H:%M}"})
    ws.merge_range(3, 0, 3, 5, mask(bulletin.summary), wrap)
    ws.set_row(3, 120)
    ws.write_row(5, 0, [_("指标"), _("分子"), _("分母"), _("比率"), _("上期比率")], bold)
    totals = c.get("totals", {})
    before = (c.get("previous") or {}).get("totals") or {}

    def rate_cell(r: int, col: int, rate) -> None:
        if rate is None:
            ws.write_string(r, col, _("—"))
        else:
            ws.write_number(r, col, rate, pct)

    for i, key in enumerate(METRIC_KEYS, start=6):
        fig = totals.get(key) or {}
        ws.write_string(i, 0, str(METRIC_LABELS[key]))
        ws.write_number(i, 1, fig.get("num") or 0)
        ws.write_number(i, 2, fig.get("den") or 0)
        rate_cell(i, 3, fig.get("rate"))
        rate_cell(i, 4, (before.get(key) or {}).get("rate"))
    row = 6 + len(METRIC_KEYS)
    ws.write_string(row, 0, _("升级投诉（件）"))
    ws.write_number(row, 1, totals.get("escalations") or 0)
    ws.write_string(row + 1, 0, _("受理诉求（件）"))
    ws.write_number(row + 1, 1, totals.get("appeals") or 0)

    ws = wb.add_worksheet(_("单位"))
    ws.set_column(0, 0, 20)
    ws.set_column(1, len(METRIC_KEYS) + 3, 12)
    ws.write_row(
        0, 0, [_("单位"), _("诉求"), _("评价"), *[str(METRIC_LABELS[k]) for k in METRIC_KEYS], _("升级投诉")], bold
    )
    for r, unit in enumerate(c.get("units", []), start=1):
        ws.write_string(r, 0, unit["name"])
        ws.write_number(r, 1, unit.get("appeals") or 0)
        ws.write_number(r, 2, unit.get("ratings") or 0)
        for j, key in enumerate(METRIC_KEYS, start=3):
            rate = _rate(unit, key)
            if rate is None:
                ws.write_string(r, j, _("—"))
            else:
                ws.write_number(r, j, rate, pct)
        ws.write_number(r, 3 + len(METRIC_KEYS), unit.get("escalations") or 0)

    daily_sheet = _("每日")
    ws = wb.add_worksheet(daily_sheet)
    ws.write_row(0, 0, [_("日期"), _("诉求"), _("评价"), _("满意率")], bold)
    daily = c.get("daily", [])
    for r, d in enumerate(daily, start=1):
        ws.write_string(r, 0, d["date"])
        ws.write_number(r, 1, d.get("appeals") or 0)
        ws.write_number(r, 2, d.get("ratings") or 0)
        if d.get("satisfaction") is None:
            ws.write_blank(r, 3, None)
        else:
            ws.write_number(r, 3, d["satisfaction"], pct)
    if daily:
        chart = wb.add_chart({"type": "column"})
        chart.add_series(
            {
                "name": _("诉求"),
                "categories": [daily_sheet, 1, 0, len(daily), 0],
                "values": [daily_sheet, 1, 1, len(daily), 1],
            }
        )
        chart.set_title({"name": _("每日诉求量")})
        chart.set_legend({"none": True})
        ws.insert_chart(1, 5, chart)

    ws = wb.add_worksheet(_("渠道"))
    ws.write_row(0, 0, [_("渠道"), _("诉求")], bold)
    for r, ch in enumerate(c.get("channels", []), start=1):
        ws.write_string(r, 0, ch["label"])
        ws.write_number(r, 1, ch["n"])
    ws.write_row(0, 3, [_("分级"), _("诉求")], bold)
    for r, sev in enumerate(c.get("severities", []), start=1):
        ws.write_string(r, 3, sev["label"])
        ws.write_number(r, 4, sev["n"])

    ws = wb.add_worksheet(_("一类事"))
    ws.set_column(0, 0, 40)
    ws.set_column(3, 4, 24)
    ws.write_row(0, 0, [_("问题"), _("诉求数"), _("反映人数"), _("分类"), _("地点"), _("首次"), _("最近")], bold)
    for r, h in enumerate(c.get("hotspots", []), start=1):
        ws.write_string(r, 0, mask(h["label"]))
        ws.write_number(r, 1, h["appeals"])
        ws.write_number(r, 2, h["citizens"])
        ws.write_string(r, 3, mask(h.get("category") or ""))
        ws.write_string(r, 4, mask(h.get("address") or ""))
        ws.write_string(r, 5, (h.get("first_at") or "")[:16].replace("T", " "))
        ws.write_string(r, 6, (h.get("last_at") or "")[:16].replace("T", " "))
    for section in c.get("sections") or []:
        if section.get("template") == ALERTS_SECTION:
            _alerts_sheet(wb, section.get("data") or {}, bold)
    wb.close()
    return buf.getvalue()


# The alerts app's contribution to a bulletin (its BULLETIN_SECTIONS): the period's alerts as
# ``alerts.selectors.period_alerts`` keeps them.
ALERTS_SECTION = "alerts/_bulletin.html"


def _alerts_sheet(wb, data: dict, bold) -> None:
    """预警: the counts (in all, not yet handled, per detector) and the alert rows kept with the
    bulletin, as the page, the print view and the PDF show them."""
    ws = wb.add_worksheet(_("预警"))
    ws.set_column(0, 0, 17)
    ws.set_column(2, 3, 30)
    ws.set_column(4, 5, 16)
    ws.write_string(
        0, 0, _("共%(total)s条，未处置%(open)s条") % {"total": data.get("total", 0), "open": data.get("open", 0)}, bold
    )
    for j, d in enumerate(data.get("by_detector") or []):
        ws.write_string(1, 2 * j, d.get("label", ""))
        ws.write_number(1, 2 * j + 1, d.get("n") or 0)
    header = [
        _("预警时间"),
        _("类型"),
        _("预警"),
        _("地点/来电人"),
        _("分类"),
        _("责任单位"),
        _("观测数"),
        _("基线期望"),
        _("预警阈值"),
        _("状态"),
        _("挂牌督办"),
    ]
    ws.write_row(3, 0, header, bold)
    rows = data.get("rows") or []
    for r, a in enumerate(rows, start=4):
        ws.write_string(r, 0, a.get("raised_at", ""))
        ws.write_string(r, 1, a.get("detector_display", ""))
        ws.write_string(r, 2, mask(a.get("title", "")))
        ws.write_string(r, 3, mask(a.get("where", "")))
        ws.write_string(r, 4, a.get("category", ""))
        ws.write_string(r, 5, a.get("unit", ""))
        ws.write_number(r, 6, a.get("observed") or 0)
        if a.get("expected") is None:
            ws.write_string(r, 7, _("—"))
        else:
            ws.write_number(r, 7, round(a["expected"], 2))
        if a.get("threshold"):
            ws.write_number(r, 8, a["threshold"])
        else:
            ws.write_string(r, 8, _("—"))
        ws.write_string(r, 9, a.get("state_display", ""))
        ws.write_string(r, 10, _("是") if a.get("is_listed") else "")
    if len(rows) < (data.get("total") or 0):
        ws.write_string(4 + len(rows) + 1, 0, _("仅列出最近%(n)s条。") % {"n": len(rows)})
