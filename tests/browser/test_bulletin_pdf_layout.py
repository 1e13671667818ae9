"""The charts of a printed bulletin (analytics.js in its still mode, as the PDF printer draws them):
a legend never lies over the plot, however many channels it lists."""

from __future__ import annotations

import json

from django.contrib.staticfiles import finders

CHANNELS = [
    "民意热线",
    "市长信箱",
    "局长信箱",
    "12345政务服务热线",
    "12389举报热线",
    "网上留言板",
    "扫码评警",
    "短信回复",
    "人工回访",
    "便企热线",
]
SEVERITIES = [("红色", "#d32f2f"), ("橙色", "#f57c00"), ("黄色", "#f9c400"), ("蓝色", "#1e88e5")]


def _page(tmp_path) -> str:
    data = {
        "channels": [{"code": f"c{i}", "label": label, "n": 10 + i} for i, label in enumerate(CHANNELS)],
        "daily": [
            {
                "date": f"2026-11-{day:02d}",
                "channels": {f"c{i}": (day + i) % 4 for i in range(len(CHANNELS))},
                "satisfaction": 0.9,
            }
            for day in range(1, 31)
        ],
        "severities": [{"label": label, "n": 5 + i, "colour": colour} for i, (label, colour) in enumerate(SEVERITIES)],
        "units": [{"name": "滨江派出所", "satisfaction": 0.95}, {"name": "北湖派出所", "satisfaction": 0.8}],
        "labels": {"satisfaction": "满意率"},
    }
    scripts = "".join(
        f'<script src="file://{finders.find(path)}"></script>'
        for path in ("vendor/echarts/echarts.min.js", "js/analytics.js")
    )
    css = f'<link rel="stylesheet" href="file://{finders.find("css/bulletin_pdf.css")}">'
    html = (
        f'<!DOCTYPE html><html lang="zh-hans" data-still="1"><head><meta charset="utf-8">{css}</head><body>'
        '<div class="charts"><div class="chart"><div class="an-chart" id="chart-daily"></div></div>'
        '<div class="chart"><div class="an-chart" id="chart-severity"></div></div></div>'
        f'<script id="analytics-data" type="application/json">{json.dumps(data, ensure_ascii=False)}</script>'
        f"{scripts}</body></html>"
    )
    path = tmp_path / "bulletin.html"
    path.write_text(html, encoding="utf-8")
    return path.as_uri()


# The bottom of the legend's texts and the top of the plot, in the chart's own pixels.
MEASURE = """id => {
  const el = document.getElementById(id);
  const chart = echarts.getInstanceByDom(el);
  const labels = new Set(chart.getOption().legend[0].data || chart.getOption().series.flatMap(s => s.data && s.type === 'pie' ? s.data.map(d => d.name) : [s.name]));
  const box = el.getBoundingClientRect();
  const texts = [...el.querySelectorAll('svg text')].filter(t => labels.has(t.textContent));
  const legend = texts.map(t => t.getBoundingClientRect()).map(r => ({top: r.top - box.top, bottom: r.bottom - box.top, left: r.left - box.left, right: r.right - box.left}));
  const grid = chart.getModel().getComponent('grid');
  const plot = grid ? grid.coordinateSystem.getRect() : null;
  const pie = chart.getModel().getSeriesByType('pie')[0];
  const ring = pie ? pie.getData().getItemLayout(0) : null;
  return {legend, plot: plot && {top: plot.y}, ring: ring && {right: ring.cx + ring.r}, count: texts.length};
}"""


def test_the_printed_charts_keep_their_legends_off_the_plot(page, tmp_path):
    page.set_viewport_size({"width": 760, "height": 1000})
    page.goto(_page(tmp_path))
    page.wait_for_selector("#chart-severity svg")

    daily = page.evaluate(MEASURE, "chart-daily")
    assert daily["count"] == len(CHANNELS)
    assert len({round(r["top"]) for r in daily["legend"]}) >= 2  # ten channels wrap
    assert max(r["bottom"] for r in daily["legend"]) <= daily["plot"]["top"]

    severity = page.evaluate(MEASURE, "chart-severity")
    assert severity["count"] == len(SEVERITIES)
    assert min(r["left"] for r in severity["legend"]) >= severity["ring"]["right"]
