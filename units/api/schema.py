"""The OpenAPI schema describes what the API does: every error an operation can answer, one shape.

``AutoSchema`` (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``) adds to each operation the error
statuses its view can produce — 400 (a body or query parameters to refuse), 401/403 (any
permission beyond "anyone"), 404 (an id in the path, an object named in the body, a stale page
cursor), 409 (a move on an object in the wrong state), 413/415 (a body too large or in a media type not parsed),
429 (a throttled view) — each with the ``Error`` body of :mod:`units.api.exceptions`. Error
responses a view declares itself keep their description but get the same body.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

# Some character that str.strip() keeps: at least one that is neither whitespace to Python
# (which also strips \x1c-\x1f and \x85) nor to the regex engine of the validator.
NOT_BLANK_PATTERN = r"[^\s\x1c-\x1f\x85]"


class ErrorSerializer(serializers.Serializer):
    """Every error body of the API; an input error adds one key per faulty field (its messages)."""

    detail = serializers.CharField(help_text=_("一句话说明原因"))
    code = serializers.CharField(help_text=_("机器可读的错误码，如 invalid、not_found、conflict、not_authenticated"))

    class Meta:
        ref_name = "Error"


ERROR_DESCRIPTIONS = {
    400: _("输入有误：detail 说明原因，出错的字段各有一个键，值为该字段的错误信息列表"),
    401: _("未登录或令牌无效"),
    403: _("无权执行该操作"),
    404: _("对象不存在或无权查看（含请求体中指名的对象、失效的分页游标）"),
    409: _("当前状态不允许此操作"),
    413: _("请求体过大"),
    415: _("不支持的请求体类型"),
    429: _("请求过于频繁，请稍后再试"),
}


class AutoSchema(openapi.AutoSchema):
    def _is_list_view(self, serializer=None) -> bool:
        # A ViewSet's "list" that answers one object (e.g. the metrics of a period) says so.
        if getattr(self.view, "schema_single_object", False):
            return False
        return super()._is_list_view(serializer)

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request" or field.read_only:
            return schema
        # What the field refuses, said in the schema: a list that may not be empty …
        if isinstance(field, serializers.ManyRelatedField) and not field.allow_empty and schema.get("type") == "array":
            schema.setdefault("minItems", 1)
        # … and text that may not be blank once trimmed (DRF strips what str.strip() strips).
        if (
            isinstance(field, serializers.CharField)
            and not isinstance(field, (serializers.ChoiceField, serializers.RegexField))
            and not field.allow_blank
            and field.trim_whitespace
            and schema.get("type") == "string"
            and "pattern" not in schema
        ):
            schema["pattern"] = NOT_BLANK_PATTERN
        return schema

    def map_parsers(self):
        # The API speaks JSON; only a body carrying files is multipart. (The form parsers stay
        # for the browser's own pages, but a form cannot say null, so they are not the contract.)
        types = super().map_parsers()
        wanted = "multipart/form-data" if self._has_file_field() else "application/json"
        return [wanted] if wanted in types else types

    def _has_file_field(self) -> bool:
        serializer = force_instance(self.get_request_serializer())
        serializer = getattr(serializer, "child", serializer)  # many=True
        if not isinstance(serializer, serializers.Serializer):
            return False
        for field in serializer.fields.values():
            child = getattr(field, "child", None)
            if isinstance(field, serializers.FileField) or isinstance(child, serializers.FileField):
                return True
        return False

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        code = int(str(status_code)[:3]) if str(status_code)[:3].isdigit() else 0
        if 400 <= code < 500:
            description = serializer.description if isinstance(serializer, OpenApiResponse) else ""
            serializer = OpenApiResponse(ErrorSerializer, description=description or ERROR_DESCRIPTIONS.get(code, ""))
            media_types = None
        return super()._get_response_for_code(serializer, status_code, media_types, direction)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in sorted(self._error_codes()):
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(ErrorSerializer, str(code), direction=direction)
        return dict(sorted(responses.items()))

    def _has_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None

    def _error_codes(self) -> set[int]:
        view = self.view
        codes: set[int] = set()
        in_path = "{" in self.path
        has_body = self._has_body()
        is_list = self.method == "GET" and self._is_list_view()
        if has_body or is_list or self.get_override_parameters():
            codes.add(400)
        if has_body:
            codes.update((404, 413, 415))
        permissions = view.get_permissions() if hasattr(view, "get_permissions") else []
        if any(not isinstance(p, AllowAny) for p in permissions):
            codes.update((401, 403))
        if in_path or (is_list and getattr(view, "pagination_class", None)):
            codes.add(404)
        if in_path and self.method != "GET":
            codes.add(409)
        if hasattr(view, "get_throttles") and view.get_throttles():
            codes.add(429)
        return codes
