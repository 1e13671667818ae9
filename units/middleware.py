"""Site-wide middleware: the Chinese-first locale and the request-body limits.

Chinese first: the interface is in Chinese unless the user has chosen another language.

Django's LocaleMiddleware follows the browser's Accept-Language; an English-language browser on a
police workstation would then get an English interface nobody asked for. Here only an explicit
choice (the language switch, stored in the language cookie) changes the language.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _


class ChineseFirstLocaleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response


class RequestLimitsMiddleware:
    """Refuse an oversized body from its declared length, before anything reads it.

    A JSON body above ``API_JSON_MAX_BYTES``, or any other body except multipart uploads (whose
    files are streamed to disk) above ``DATA_UPLOAD_MAX_MEMORY_SIZE``, answers 413 with a JSON
    ``detail``. Checking here matters for the feed pushes: their signature check reads the raw body
    during authentication, before any parser runs. The parser (``units.parsers``) checks again
    what is actually read. Django's own refusals raised while a view reads the body
    (RequestDataTooBig, too many fields or files) become JSON answers under ``/api/`` too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .parsers import declared_length, too_large_message

        length = declared_length(request.META)
        if length:
            content_type = (request.content_type or "").lower()
            is_json = content_type == "application/json" or content_type.endswith("+json")
            if is_json and length > settings.API_JSON_MAX_BYTES:
                return self._refuse(too_large_message(settings.API_JSON_MAX_BYTES), 413)
            upload_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if upload_limit is not None and not content_type.startswith("multipart/") and length > upload_limit:
                message = _("请求体过大：不能超过 %(limit)s 字节。") % {"limit": f"{upload_limit:,}"}
                return self._refuse(str(message), 413)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not request.path.startswith("/api/"):
            return None  # pages keep Django's own 400 answer
        if isinstance(exception, RequestDataTooBig):
            return self._refuse(str(_("请求体过大。")), 413)
        if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
            return self._refuse(str(_("请求中的字段或文件过多。")), 400)
        return None

    @staticmethod
    def _refuse(message: str, status: int) -> JsonResponse:
        return JsonResponse({"detail": message}, status=status)


class PermissionsPolicyMiddleware:
    """Sends ``Permissions-Policy`` from settings.PERMISSIONS_POLICY on every response.

    Django has no setting for this header; switching off the browser features no page uses
    (camera, microphone, geolocation…) means an injected script could not ask for them either.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(f"{feature}={allow}" for feature, allow in settings.PERMISSIONS_POLICY.items())

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response
