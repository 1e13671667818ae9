"""URL patterns for tests/units/test_row_urls.py: converters ``row_url`` cannot cut safely."""

from django.http import HttpResponse
from django.urls import path, register_converter


class FourDigits:
    regex = "[0-9]{4}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return f"{value:04d}"


class Hex:
    regex = "[0-9a-f]+"

    def to_python(self, value):
        return int(value, 16)

    def to_url(self, value):
        return f"{value:x}"


register_converter(FourDigits, "yyyy")
register_converter(Hex, "hex")


def view(request, **kwargs):
    return HttpResponse()


urlpatterns = [
    path("year/<yyyy:year>/", view, name="year"),
    path("hex/<hex:n>/", view, name="hex"),
    path("order/<int:pk>/<str:action>/<int:step>/", view, name="two_ids"),
]
