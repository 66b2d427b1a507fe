"""Signing in to the web pages: encrypted session cookies, CSRF-protected forms, the page user.

The JSON API keeps its bearer keys; sessions and CSRF checks apply to the pages only.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, ValidationException
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.params import Body, QueryParameter
from litestar.response import Redirect

from accounts.schemas import OrganisationRole, Principal
from accounts.users import PageUser, authenticate_user, get_page_user
from api.deps import DbSession
from api.pages.rendering import LANGUAGE_COOKIE, render_page
from core.errors import DomainError
from core.settings import Settings
from core.signing import Signer

__all__ = (
    "PageForbiddenError",
    "SignInController",
    "SignInRequiredError",
    "SignedIn",
    "csrf_config",
    "home_of",
    "page_exception_handlers",
    "principal_of",
    "provide_page_user",
    "require_role",
    "session_config",
)

# The API, probes, metrics, the schema and static files carry no session and need no CSRF token.
_NOT_PAGES = ["^/v1/", "^/health", "^/metrics", "^/schema", "^/static/"]
_SESSION_USER = "user_id"

SignedIn = NamedDependency[PageUser]
"""The signed-in page user (``page_user``); without one the browser goes to the sign-in page."""


def _session_secret(settings: Settings, signer: Signer) -> bytes:
    if settings.session_secret:
        return hashlib.sha256(settings.session_secret.encode()).digest()
    # Ed25519 signatures are deterministic: signing a fixed label yields a stable secret of the key.
    return hashlib.sha256(b"freight web session\0" + signer.sign(b"freight web session")).digest()


def session_config(settings: Settings, signer: Signer) -> CookieBackendConfig:
    """Client-side sessions (AES-GCM encrypted cookies): any process of the deployment can read them."""
    return CookieBackendConfig(
        secret=_session_secret(settings, signer),
        key="freight_session",
        max_age=int(settings.session_hours * 3600),
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="lax",
        exclude=_NOT_PAGES,
    )


def csrf_config(settings: Settings, signer: Signer) -> CSRFConfig:
    """Double-submit CSRF tokens on every form and page script of the pages."""
    return CSRFConfig(
        secret=_session_secret(settings, signer).hex(),
        cookie_name="freight_csrf",
        header_name="x-csrftoken",
        cookie_secure=settings.session_cookie_secure,
        cookie_samesite="strict",
        exclude=_NOT_PAGES,
    )


class SignInRequiredError(Exception):
    """The page needs a signed-in user; the browser is sent to the sign-in page."""


class PageForbiddenError(Exception):
    """The signed-in user's organisation may not see this page."""


async def provide_page_user(request: Request[Any, Any, Any], db_session: DbSession) -> PageUser:
    """The signed-in user of the session, or a redirect to the sign-in page."""
    raw = request.session.get(_SESSION_USER) if request.scope.get("session") is not None else None
    user = None
    if isinstance(raw, str):
        try:
            user = await get_page_user(db_session, user_id=uuid.UUID(raw))
        except ValueError:
            user = None
    if user is None:
        raise SignInRequiredError
    request.scope.setdefault("state", {})["organisation"] = str(user.organisation_id)  # type: ignore[typeddict-item]
    return user


def require_role(user: PageUser, *roles: OrganisationRole) -> None:
    """Refuse the page unless the user's organisation has one of ``roles``."""
    if user.role not in roles:
        raise PageForbiddenError


def principal_of(user: PageUser) -> Principal:
    """The organisation a page user acts for, as the services know callers."""
    return Principal(organisation_id=user.organisation_id, uscc=user.uscc, name=user.organisation_name, role=user.role)


def home_of(user: PageUser) -> str:
    """Where a user lands after signing in."""
    if user.role in (OrganisationRole.REGULATOR, OrganisationRole.ADMIN):
        return "/regulator"
    if user.role is OrganisationRole.CARRIER:
        return "/carrier"
    return "/account"


def _local_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


class SignInFailures:
    """Recent failed sign-ins per name in this process: after ``limit`` within ``window_s`` the name waits.

    A brake on guessing passwords, not an account lock: it is per process and forgets on restart.
    """

    def __init__(self, limit: int = 5, window_s: float = 900.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, list[float]] = {}

    def _recent(self, username: str) -> list[float]:
        cutoff = time.monotonic() - self.window_s
        recent = [t for t in self._failures.get(username, []) if t > cutoff]
        if recent:
            self._failures[username] = recent
        else:
            self._failures.pop(username, None)
        return recent

    def blocked(self, username: str) -> bool:
        """Whether ``username`` failed ``limit`` times within the window."""
        return len(self._recent(username)) >= self.limit

    def record(self, username: str) -> None:
        """Count a failed sign-in."""
        if len(self._failures) > 100_000:
            self._failures.clear()
        self._failures.setdefault(username, []).append(time.monotonic())

    def forget(self, username: str) -> None:
        """A successful sign-in clears the count."""
        self._failures.pop(username, None)


_SIGN_IN_FAILURES = SignInFailures()


def _sign_in_form(request: Request[Any, Any, Any], data: SignInForm, *, status_code: int, error: str) -> Response[str]:
    """The sign-in form again, with the name typed and why it did not work."""
    username = data.username.strip()[:100]
    return render_page(
        request, "login.html", status_code=status_code, next=_local_path(data.next, ""), error=error, username=username
    )


class SignInForm(msgspec.Struct, kw_only=True, frozen=True):
    """The sign-in form (its CSRF token field is checked by the middleware and ignored here)."""

    username: str = ""
    password: str = ""
    next: str = ""


def _to_sign_in(request: Request[Any, Any, Any], _: SignInRequiredError) -> Response[Any]:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/login?next={quote(target, safe='')}", status_code=303)


def _forbidden(request: Request[Any, Any, Any], _: PageForbiddenError) -> Response[str]:
    return render_page(request, "error.html", status_code=403, status=403)


def _page_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[str]:
    return render_page(request, "error.html", status_code=exc.status_code, status=exc.status_code)


def _page_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[str]:
    return render_page(request, "error.html", status_code=exc.status_code, status=exc.status_code)


page_exception_handlers: dict[type[Exception], Any] = {
    SignInRequiredError: _to_sign_in,
    PageForbiddenError: _forbidden,
    ValidationException: _page_http_error,
    HTTPException: _page_http_error,
    DomainError: _page_domain_error,
}
"""Exception handlers of the page controllers: HTML error pages instead of the API's problem documents."""


class SignInController(Controller):
    """Sign in, sign out, choose the language."""

    include_in_schema = False
    exception_handlers = page_exception_handlers  # type: ignore[assignment]

    @get("/", sync_to_thread=False)
    def root(self) -> Redirect:
        """The site's front door: the sign-in page."""
        return Redirect("/login")

    @get("/login", sync_to_thread=False)
    def sign_in_page(
        self, request: Request[Any, Any, Any], next_path: Annotated[str | None, QueryParameter(name="next")] = None
    ) -> Response[str]:
        """The sign-in form."""
        return render_page(request, "login.html", next=_local_path(next_path, ""), error=None, username="")

    @post("/login", status_code=303)
    async def sign_in(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        data: Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[Any]:
        """Check the name and password; on success start a session and go on."""
        username = data.username.strip().lower()[:100]
        if _SIGN_IN_FAILURES.blocked(username):
            return render_page(
                request,
                "login.html",
                status_code=429,
                next=_local_path(data.next, ""),
                error="blocked",
                username=username,
            )
        user = await authenticate_user(db_session, username=username, password=data.password[:200])
        if user is None:
            _SIGN_IN_FAILURES.record(username)
            return render_page(
                request,
                "login.html",
                status_code=401,
                next=_local_path(data.next, ""),
                error="wrong",
                username=username,
            )
        _SIGN_IN_FAILURES.forget(username)
        await db_session.commit()
        request.set_session({_SESSION_USER: str(user.user_id)})
        return Redirect(_local_path(data.next, home_of(user)), status_code=303)

    @post("/logout", status_code=303, sync_to_thread=False)
    def sign_out(self, request: Request[Any, Any, Any]) -> Redirect:
        """End the session."""
        request.clear_session()
        return Redirect("/login", status_code=303)

    @get("/language", sync_to_thread=False)
    def choose_language(
        self,
        to: Annotated[str, QueryParameter(name="to", pattern="^(zh|en)$")],
        next_path: Annotated[str | None, QueryParameter(name="next")] = None,
    ) -> Redirect:
        """Switch the pages' language (kept in a cookie for a year) and go back."""
        return Redirect(
            _local_path(next_path),
            cookies=[Cookie(key=LANGUAGE_COOKIE, value=to, max_age=365 * 86_400, httponly=True, samesite="lax")],
        )

    @get("/account")
    async def account(self, request: Request[Any, Any, Any], page_user: SignedIn) -> Response[str]:
        """Who is signed in, for users whose organisation has no pages yet."""
        return render_page(request, "account.html", user=page_user)
