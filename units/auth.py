"""Password checks with lockout, the login form that explains a lockout, and expiring API tokens.

The lockout lives in the backend so that every door that checks a password — the login page, the
admin login and ``POST /api/v1/auth/token/`` — counts failures and honours a lock the same way.
Its state is in PostgreSQL (``LoginFailure``, ``LoginLockout``); the cache is not involved.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from . import selectors, services
from .models import LoginLockout


def client_address(request) -> str | None:
    """The client's IP address: REMOTE_ADDR, or behind our TLS proxy the address it appended.

    Behind the proxy every request comes from the proxy itself, so per-address limits would
    lump all clients together; the proxy appends the real client as the last X-Forwarded-For
    entry (earlier entries are whatever the client sent and are not trusted).
    """
    if request is None:
        return None
    meta = getattr(request, "META", {})
    if getattr(settings, "BEHIND_TLS_PROXY", False):
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return meta.get("REMOTE_ADDR") or None


def lockout_message(lockout: LoginLockout) -> str:
    """The Chinese explanation shown on the login page and in the API's 429 answer."""
    minutes = max(1, int((lockout.locked_until - timezone.now()).total_seconds() // 60) + 1)
    if lockout.scope == LoginLockout.Scope.ADDRESS:
        return _("该网络地址登录失败次数过多，已暂停登录，请 %(minutes)s 分钟后再试，或联系系统管理员解锁。") % {
            "minutes": minutes
        }
    return _("该账号连续登录失败次数过多，已被锁定，请 %(minutes)s 分钟后再试，或联系系统管理员解锁。") % {
        "minutes": minutes
    }


class LockoutModelBackend(ModelBackend):
    """Django's username/password check, refused outright while the account or address is locked.

    1. a live lock on the username or the client address → PermissionDenied (Django then stops
       and answers "wrong credentials"; callers ask ``selectors.active_lockout`` for the reason);
    2. a wrong password → one ``LoginFailure`` row, and a lock when the count reaches the limit;
    3. a right password → the account's failures are forgotten.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        address = client_address(request)
        if selectors.active_lockout(username=username, address=address) is not None:
            raise PermissionDenied
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            services.record_login_failure(username=username, address=address)
        else:
            services.clear_login_failures(username=username)
        return user


class LockoutAuthenticationForm(AuthenticationForm):
    """The login form; when the account or address is locked it says so instead of "wrong password"."""

    locked_message = ""

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            lockout = selectors.active_lockout(
                username=self.cleaned_data.get("username") or "", address=client_address(self.request)
            )
            if lockout is None:
                raise
            self.locked_message = lockout_message(lockout)
            raise ValidationError(self.locked_message, code="locked") from None


class ExpiringTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>`` against ``ApiToken``: unknown, expired or revoked → 401."""

    def authenticate_credentials(self, key):
        token = selectors.live_api_token(key)
        if token is None:
            raise AuthenticationFailed(_("令牌无效、已过期或已撤销，请重新获取。"))
        if not token.user.is_active:
            raise AuthenticationFailed(_("用户已停用。"))
        return (token.user, token)
