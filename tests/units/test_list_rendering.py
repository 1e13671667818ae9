"""What list pages build per row is built the cheap way and shows what the stock way showed.

- Choice labels (``units.choice_labels``, the ``label`` filter, the API's ``ChoiceLabelField``)
  equal ``get_<field>_display()`` for every value, in every language, and an unknown value as is.
- The quick selects (``units.widgets``) write the HTML Django's widgets write and accept the same.
- A mobile's national form is read without parsing, equal to what phonenumbers gives.
- The workspace and review rows load neither the caller's number nor the assisting units.
"""

from __future__ import annotations

import random

import phonenumbers
import pytest
from django import forms
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation
from django.utils.html import escape

from intake.models import Appeal
from intake.phones import national
from sms.models import OutboundSms
from surveys.models import Callback, Rating, ServiceRecord
from units.choice_labels import choice_label
from units.forms import FilterBooleanField
from units.widgets import QuickNullBooleanSelect, QuickSelect, QuickYesNoAllSelect, quicken
from workorders.models import WorkOrder

CHOICE_FIELDS = [
    (Appeal, "status"),
    (Appeal, "channel"),
    (Appeal, "kind"),
    (Appeal, "severity"),
    (WorkOrder, "status"),
    (WorkOrder, "severity"),
    (WorkOrder, "feedback_result"),
    (WorkOrder, "contact_method"),
    (Callback, "status"),
    (Callback, "verdict"),
    (Rating, "verdict"),
    (ServiceRecord, "state"),
    (ServiceRecord, "skip_reason"),
    (OutboundSms, "status"),
    (OutboundSms, "purpose"),
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(("model", "name"), CHOICE_FIELDS)
def test_a_choice_label_is_what_get_display_gives(model, name, language):
    field = model._meta.get_field(name)
    values = [value for value, _label in field.flatchoices] + ["no-such-value"]
    with translation.override(language):
        for value in values:
            row = model(**{field.attname: value})
            stock = getattr(row, f"get_{name}_display")()
            assert choice_label(row, name) == stock
            assert choice_label(model, name, value) == stock
            rendered = Template('{% load choice_labels %}{{ row|label:"' + name + '" }}').render(Context({"row": row}))
            assert rendered == Template("{{ stock }}").render(Context({"stock": stock}))


def test_the_label_of_a_language_is_kept_apart_from_the_others():
    row = Appeal(status="new")
    with translation.override("zh-hans"):
        chinese = choice_label(row, "status")
    with translation.override("en"):
        english = choice_label(row, "status")
    with translation.override("zh-hans"):
        assert choice_label(row, "status") == chinese
    assert chinese == "待研判" and english != chinese


def test_the_api_display_fields_give_the_stock_labels():
    from intake.api.serializers import AppealSerializer
    from workorders.api.serializers import WorkOrderSerializer

    appeal = Appeal(channel="hotline", kind="complaint", severity="red", status="dispatched")
    with translation.override("en"):
        data = {k: v for k, v in AppealSerializer().fields.items() if k.endswith("_display")}
        assert {k: f.to_representation(getattr(appeal, f.source)) for k, f in data.items()} == {
            "channel_display": appeal.get_channel_display(),
            "kind_display": appeal.get_kind_display(),
            "severity_display": appeal.get_severity_display(),
            "status_display": appeal.get_status_display(),
        }
        order = WorkOrder(status="signed")
        field = WorkOrderSerializer().fields["status_display"]
        assert field.read_only and field.to_representation(order.status) == order.get_status_display()


CHOICES = [("", "全部"), (1, "江北分局"), (2, "<b>滨江</b>派出所"), ("g", [(3, "甲 & 乙"), (4, "丙")])]


@pytest.mark.parametrize("value", [None, "", "2", 3, ["4"]])
def test_the_quick_select_writes_what_djangos_select_writes(value):
    quick = QuickSelect(choices=CHOICES, attrs={"class": "x", "required": True})
    stock = forms.Select(choices=CHOICES, attrs={"class": "x", "required": True})
    attrs = {"id": "id_unit"}
    assert parse_html(quick.render("unit", value, attrs=attrs)) == parse_html(stock.render("unit", value, attrs=attrs))
    assert quick.render("unit", value, attrs=attrs).startswith('<select name="unit"')


@pytest.mark.parametrize("value", [None, "", True, False, "true", "false", "unknown"])
def test_the_quick_yes_no_select_writes_what_djangos_writes(value):
    quick, stock = QuickNullBooleanSelect(), forms.NullBooleanSelect()
    assert parse_html(quick.render("f", value)) == parse_html(stock.render("f", value))


@pytest.mark.parametrize(
    ("value", "chosen"),
    [(None, ""), ("", ""), ("unknown", ""), (True, "true"), ("true", "true"), (False, "false"), ("false", "false")],
)
def test_the_yes_no_all_filter_shows_the_choice_made(value, chosen):
    # Django's template marks the first option whose value is *in* the formatted string: "" is in
    # "true", so the stock widget showed 全部 after a filter on 是 or 否.
    html = QuickYesNoAllSelect().render("f", value)
    assert parse_html(html) == parse_html(
        '<select name="f">'
        + "".join(
            f'<option value="{v}"{" selected" if v == chosen else ""}>{label}</option>'
            for v, label in (("", "全部"), ("true", "是"), ("false", "否"))
        )
        + "</select>"
    )


@pytest.mark.django_db
def test_a_quickened_form_renders_and_reads_as_before():
    from intake.models import Category

    class Filters(forms.Form):
        category = forms.ModelChoiceField(Category.objects.select_related("parent"), required=False, empty_label="全部")
        severity = forms.ChoiceField(choices=[("", "全部"), ("red", "红"), ("blue", "蓝")], required=False)
        listed = FilterBooleanField(required=False)
        day = forms.DateField(required=False)

    parent = Category.objects.create(code="T-ORDER", name="治安<秩序>")
    category = Category.objects.create(code="T-NOISE", name="噪音 & 扰民", parent=parent)
    data = {"category": str(category.pk), "severity": "red", "listed": "true", "day": "2026-12-01"}
    stock, quick = Filters(data), Filters(data)
    quicken(quick)
    assert isinstance(quick.fields["category"].widget, QuickSelect)
    assert isinstance(quick.fields["listed"].widget, QuickYesNoAllSelect)
    for name in ("category", "severity", "day"):
        assert parse_html(str(quick[name])) == parse_html(str(stock[name]))
    assert '<option value="true" selected>' in str(quick["listed"])
    assert stock.is_valid() and quick.is_valid()
    assert quick.cleaned_data == stock.cleaned_data
    assert escape(str(category)) in str(quick["category"])  # the label with its parent, escaped


@pytest.mark.django_db(transaction=True)  # kept only outside the transaction that saved the units
def test_the_unit_select_keeps_its_options_and_marks_each_requests_choice(rf, center, handler, station, other_station):
    """The desk's unit select is rendered once per listing statement and language and kept
    (``units.widgets.model_options``); each request marks its own choice; a renamed unit shows."""
    from intake.filters import AppealFilter
    from intake.models import Appeal
    from units.widgets import _options, model_options

    def select(user, chosen=""):
        request = rf.get("/appeals/", {"unit": chosen} if chosen else {})
        request.user = user
        form = AppealFilter(request.GET, queryset=Appeal.objects.all(), request=request).form
        widget = form.fields["unit"].widget
        fresh = _options(widget._pairs(), {chosen})  # what rendering from the rows gives
        return str(form["unit"]), fresh

    model_options.clear()
    for user, chosen in ((center, ""), (center, str(station.pk)), (center, str(other_station.pk)), (handler, "")):
        html, fresh = select(user, chosen)
        assert fresh in html, (user, chosen)
        assert html.count(" selected>") == 1
    assert len(model_options.get()) == 2  # the center's listing and the handler's
    with translation.override("en"):
        html, fresh = select(center)
        assert fresh in html and 'value="" selected>All<' in html.replace("\n", "")
    station.name = "滨江派出所（新址）"
    station.save()
    assert "滨江派出所（新址）" in select(center, str(station.pk))[0]


def test_a_mobiles_national_form_is_what_phonenumbers_gives():
    rng = random.Random(7)
    numbers = [f"+861{rng.choice('3456789')}{rng.randrange(10**9):09d}" for _ in range(500)]
    numbers += ["+8613800001234", "+862412345678", "+85291234567", "+14155550100", "+8610123456789"]
    for e164 in numbers:
        parsed = phonenumbers.parse(e164, "CN")
        expected = (
            phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
            .replace(" ", "")
            .replace("-", "")
            if parsed.country_code == 86
            else e164
        )
        assert national(e164) == expected, e164


@pytest.mark.django_db
def test_work_list_rows_load_no_caller_number_and_no_assisting_units(client, center, django_assert_max_num_queries):
    from workorders import selectors

    orders = selectors.list_rows(selectors.orders_for(center))
    assert "assisting_units" not in str(orders._prefetch_related_lookups)
    assert orders.query.deferred_loading[0] == {"appeal__citizen_phone"}
    client.force_login(center)
    for url in ("/workorders/?tab=all", "/workorders/review/"):
        response = client.get(url)
        assert response.status_code == 200
        assert b"order-table" in response.content
