"""The Jinja environment and the one render helper that picks page or fragment."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2_fragments import render_block
from starlette.requests import Request
from starlette.responses import HTMLResponse

from consult import i18n
from consult.web.formatting import FILTERS

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
HTMX_VERSION = "4.0.1"


def create_environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """Autoescaping Jinja environment with gettext wired to the active language."""
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
    )
    env.filters.update(FILTERS)
    env.globals["htmx_version"] = HTMX_VERSION
    return env


def is_partial(request: Request) -> bool:
    """htmx 4 marks requests that target a region (not the whole body) as partial."""
    return request.headers.get("HX-Request-Type") == "partial"


def base_context(request: Request) -> dict[str, Any]:
    """What every template can use."""
    return {
        "request": request,
        "user": getattr(request.state, "user", None),
        "csp_nonce": request.scope.get("state", {}).get("csp_nonce", ""),
        "lang": i18n.get_language(),
        "languages": [
            (code, i18n.LANGUAGE_NAMES[code]) for code in request.app.state.settings.languages
        ],
        "current_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "now": request.app.state.clock(),
        # Paths, not absolute URLs: correct behind any reverse proxy.
        "url_for": lambda name, **params: str(request.app.url_path_for(name, **params)),
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render `template`, or only its `block` for an htmx partial request.

    The block is chosen by the handler, never by the client, so a request
    cannot pull a region it is not meant to see.
    """
    env: Environment = request.app.state.templates
    full_context = {**base_context(request), **(context or {})}
    if block is not None and is_partial(request):
        body = render_block(env, template, block, **full_context)
    else:
        body = env.get_template(template).render(**full_context)
    response = HTMLResponse(body, status_code=status_code, headers=headers)
    response.headers["Vary"] = "HX-Request, HX-Request-Type, Cookie, Accept-Language"
    return response
