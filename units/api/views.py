from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from ..models import Unit
from ..visibility import VisibleViewSetMixin
from .serializers import MeSerializer, UnitSerializer


class UnitViewSet(VisibleViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Units the user may see: all for center staff and supervisors, else his subtree."""

    queryset = Unit.objects.all()
    serializer_class = UnitSerializer
    filterset_fields = ["tier", "parent", "is_active", "code"]
    cursor_ordering = "path"


@extend_schema(
    request=inline_serializer(
        "TokenRequest", {"username": serializers.CharField(), "password": serializers.CharField()}
    ),
    responses={
        200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
        400: inline_serializer("TokenError", {"detail": serializers.CharField()}),
    },
)
@api_view(["POST"])
@permission_classes([AllowAny])
@throttle_classes([AnonRateThrottle])
def obtain_token(request):
    """Exchange a username and password for an API token (sent as ``Authorization: Token …``)."""
    user = authenticate(request, username=request.data.get("username", ""), password=request.data.get("password", ""))
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
