from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from ..auth import client_address, lockout_message
from ..cache import FailOpenThrottleMixin
from ..models import ApiToken, SavedView, Unit
from ..saved_views import delete_view, save_view, update_view
from ..selectors import active_lockout
from ..services import issue_api_token, revoke_api_token
from ..visibility import VisibleViewSetMixin
from .fields import StrictCharField
from .serializers import MeSerializer, SavedViewSerializer, UnitSerializer


class TokenLoginThrottle(FailOpenThrottleMixin, AnonRateThrottle):
    """Password guesses per client address (rate ``anon``); with Redis away logins still work."""


class UnitViewSet(VisibleViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Units the user may see: all for center staff and supervisors, else his subtree."""

    queryset = Unit.objects.all()
    serializer_class = UnitSerializer
    filterset_fields = ["tier", "parent", "is_active", "code"]
    cursor_ordering = "path"


class TokenRequestSerializer(serializers.Serializer):
    # The lengths of the user model's columns (and of any password anyone types).
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=128, trim_whitespace=False)


_TOKEN_ERROR = inline_serializer("TokenError", {"detail": serializers.CharField()})


class TokenView(APIView):
    """``POST`` a username and password for an expiring API token; ``DELETE`` revokes the token
    the request is authenticated with (same as ``POST auth/token/revoke/``)."""

    throttle_classes = [TokenLoginThrottle]

    def get_authenticators(self):
        # Asking for a token needs nothing but the password: a stale token still set in a
        # client's headers must not turn the request into a 401. (The schema generator asks
        # before it has set a request.)
        if getattr(self.request, "method", None) == "POST":
            return []
        return super().get_authenticators()

    def get_permissions(self):
        if self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_throttles(self):
        return super().get_throttles() if self.request.method == "POST" else []

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer(
                "TokenResponse", {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()}
            ),
            400: _TOKEN_ERROR,
            429: inline_serializer(
                "TokenLockout", {"detail": serializers.CharField(), "locked_until": serializers.DateTimeField()}
            ),
        },
    )
    def post(self, request):
        """Exchange a username and password for an API token (sent as ``Authorization: Token …``),
        valid for ``API_TOKEN_LIFETIME_HOURS``.

        The body must be a JSON object (or form) of two strings; anything else answers 400 with the
        field errors beside ``detail``, before authentication is attempted. Wrong passwords count
        towards the same lockout as the login page; while the account or the client address is
        locked the answer is 429 with a Chinese ``detail`` and ``Retry-After``.
        """
        payload = TokenRequestSerializer(data=request.data)
        if not payload.is_valid():
            return Response(
                {
                    "detail": _("请求应包含用户名（username）和密码（password）两个字符串。"),
                    "errors": payload.errors,
                    "code": "invalid",
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        credentials = payload.validated_data
        user = authenticate(request, username=credentials["username"], password=credentials["password"])
        if user is None or not user.is_active:
            lockout = active_lockout(username=credentials["username"], address=client_address(request))
            if lockout is not None:
                seconds = max(1, int((lockout.locked_until - timezone.now()).total_seconds()))
                return Response(
                    {"detail": lockout_message(lockout), "code": "locked", "locked_until": lockout.locked_until},
                    status=status.HTTP_429_TOO_MANY_REQUESTS,
                    headers={"Retry-After": str(seconds)},
                )
            return Response(
                {"detail": _("用户名或密码错误。"), "code": "invalid_credentials"}, status=status.HTTP_400_BAD_REQUEST
            )
        token, key = issue_api_token(user=user)
        return Response({"token": key, "expires_at": token.expires_at})

    @extend_schema(request=None, responses={204: None, 400: _TOKEN_ERROR})
    def delete(self, request):
        """Revoke the token this request is authenticated with; it answers 401 from then on."""
        return _revoke_current(request)


def _revoke_current(request) -> Response:
    if not isinstance(request.auth, ApiToken):
        return Response(
            {"detail": _("请使用要撤销的令牌发起此请求。"), "code": "invalid"}, status=status.HTTP_400_BAD_REQUEST
        )
    revoke_api_token(request.auth, actor=request.user)
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(request=None, responses={204: None, 400: _TOKEN_ERROR})
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def revoke_token(request):
    """Revoke the token this request is authenticated with; it answers 401 from then on."""
    return _revoke_current(request)


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def me(request):
    """The authenticated user, his role and unit."""
    return Response(MeSerializer(request.user).data)


@extend_schema_view(
    list=extend_schema(summary=_l("我的视图列表")),
    retrieve=extend_schema(summary=_l("我的视图详情")),
    create=extend_schema(summary=_l("保存视图")),
    update=extend_schema(summary=_l("修改视图")),
    partial_update=extend_schema(summary=_l("修改视图（部分字段）")),
    destroy=extend_schema(summary=_l("删除视图")),
)
class SavedViewViewSet(viewsets.ModelViewSet):
    """我的视图: the signed-in user's own named filter sets of the staff lists (another user's views
    answer 404). ``query`` is kept to the list's known filter parameters; a name is unique per
    list (400 otherwise)."""

    queryset = SavedView.objects.none()  # the model, for the schema; requests get their own rows
    serializer_class = SavedViewSerializer
    permission_classes = [IsAuthenticated]
    cursor_ordering = "id"
    filterset_fields = ["list_name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False) or not self.request.user.is_authenticated:
            return SavedView.objects.none()
        return SavedView.objects.filter(user=self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            view, _created = save_view(
                user=self.request.user, list_name=data["list_name"], name=data["name"], query=data.get("query", "")
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        serializer.instance = view

    def perform_update(self, serializer):
        data = serializer.validated_data
        view = serializer.instance
        try:
            if "list_name" in data and data["list_name"] != view.list_name:
                view.list_name = data["list_name"]
                if "query" not in data:
                    data["query"] = view.query
            update_view(view, name=data.get("name"), query=data.get("query"))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc

    def perform_destroy(self, instance):
        delete_view(instance)
