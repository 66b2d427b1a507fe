"""Rendering the server-side pages: one Jinja environment per language, times in Beijing time.

Pages are Simplified Chinese by default; ``/language?to=en`` keeps English in a cookie. Strings come
from the message catalogues in ``locale/`` (``make translations``), never from the templates alone.
"""

from __future__ import annotations

import html
from datetime import datetime
from functools import lru_cache
from typing import Any

import jinja2
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup

from waybill.document import DISPLAY_ZONE, TEMPLATE_DIR, Language, choose_language, template_environment

__all__ = ("LANGUAGE_COOKIE", "page_language", "render_page", "render_text")

LANGUAGE_COOKIE = "freight_lang"


def page_language(request: Request[Any, Any, Any]) -> Language:
    """The page language: English if the language cookie says so, else Simplified Chinese.

    ``Accept-Language`` is not consulted: the people who use these pages work in Chinese, and a
    browser set up in English still shows the Chinese pages until someone switches.
    """
    return choose_language(request.cookies.get(LANGUAGE_COOKIE), None)


def local_time(value: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as Beijing time; ``—`` for none."""
    if value is None:
        return "—"
    return value.astimezone(DISPLAY_ZONE).strftime(pattern)


@lru_cache(maxsize=2)
def _environment(language: Language) -> jinja2.Environment:
    environment = template_environment(language, TEMPLATE_DIR / "pages")
    environment.filters["local_time"] = local_time
    environment.globals["language"] = language
    environment.globals["html_lang"] = "zh-Hans-CN" if language == "zh" else "en"
    return environment


def render_text(request: Request[Any, Any, Any], template: str, **context: Any) -> str:
    """Render ``web/templates/pages/<template>`` in the request's language, with its CSRF token."""
    token = ScopeState.from_scope(request.scope).csrf_token
    csrf_token = token if isinstance(token, str) else ""
    return (
        _environment(page_language(request))
        .get_template(template)
        .render(
            request_path=request.url.path,
            request_query=request.url.query,
            csrf_token=csrf_token,
            csrf_input=Markup(f'<input type="hidden" name="_csrf_token" value="{html.escape(csrf_token)}">'),
            **context,
        )
    )


def render_page(
    request: Request[Any, Any, Any], template: str, *, status_code: int = 200, **context: Any
) -> Response[str]:
    """An HTML response of ``template``; pages are never cached by shared caches."""
    return Response(
        render_text(request, template, **context),
        status_code=status_code,
        media_type=MediaType.HTML,
        headers={"Cache-Control": "private, no-store", "Content-Language": _content_language(request)},
    )


def _content_language(request: Request[Any, Any, Any]) -> str:
    return "zh-Hans-CN" if page_language(request) == "zh" else "en"
