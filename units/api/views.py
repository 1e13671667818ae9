from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from ..cache import FailOpenThrottleMixin
from ..models import Unit
from ..visibility import VisibleViewSetMixin
from .serializers import MeSerializer, UnitSerializer


class TokenLoginThrottle(FailOpenThrottleMixin, AnonRateThrottle):
    """Password guesses per client address (rate ``anon``); with Redis away logins still work."""


class UnitViewSet(VisibleViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Units the user may see: all for center staff and supervisors, else his subtree."""

    queryset = Unit.objects.all()
    serializer_class = UnitSerializer
    filterset_fields = ["tier", "parent", "is_active", "code"]
    cursor_ordering = "path"


class StrictCharField(serializers.CharField):
    """A string and nothing else: DRF's CharField would turn a number into its digits."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TokenRequestSerializer(serializers.Serializer):
    # The lengths of the user model's columns (and of any password anyone types).
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=128, trim_whitespace=False)


@extend_schema(
    request=TokenRequestSerializer,
    responses={
        200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
        400: inline_serializer("TokenError", {"detail": serializers.CharField()}),
    },
)
@api_view(["POST"])
@permission_classes([AllowAny])
@throttle_classes([TokenLoginThrottle])
def obtain_token(request):
    """Exchange a username and password for an API token (sent as ``Authorization: Token …``).

    The body must be a JSON object (or form) of two strings; anything else answers 400 with the
    field errors beside ``detail``, before authentication is attempted.
    """
    payload = TokenRequestSerializer(data=request.data)
    if not payload.is_valid():
        return Response(
            {"detail": _("请求应包含用户名（username）和密码（password）两个字符串。"), "errors": payload.errors},
            status=status.HTTP_400_BAD_REQUEST,
        )
    credentials = payload.validated_data
    user = authenticate(request, username=credentials["username"], password=credentials["password"])
    if user is None or not user.is_active:
        return Response({"detail": _("用户名或密码错误。")}, status=status.HTTP_400_BAD_REQUEST)
    token, _created = Token.objects.get_or_create(user=user)
    return Response({"token": token.key})


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def me(request):
    """The authenticated user, his role and unit."""
    return Response(MeSerializer(request.user).data)
