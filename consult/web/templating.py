"""The Jinja environment and the one render helper that picks page or fragment."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from types import CodeType
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.bccache import Bucket, BytecodeCache
from jinja2_fragments import render_block
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse

from consult import i18n
from consult.accounts.models import User
from consult.contributions.votes import tally_of
from consult.contributions.writing import MAX_BODY
from consult.text import render_markdown
from consult.web import fragments
from consult.web.formatting import FILTERS
from consult.web.labels import LABELS
from consult.web.services import services_of

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
HTMX_VERSION = "4.0.1"


def path_builder(app: Starlette) -> Callable[..., str]:
    """`url_for(name, **params)` for templates: a local path, memoised.

    Paths rather than absolute URLs stay right behind any reverse proxy; the
    route table is fixed once the app is built, so answers can be cached.
    """

    @lru_cache(maxsize=4096)
    def cached(name: str, params: tuple[tuple[str, str], ...]) -> str:
        return str(app.url_path_for(name, **dict(params)))

    def url_for(name: str, **params: Any) -> str:
        return cached(name, tuple(sorted((k, str(v)) for k, v in params.items())))

    return url_for


class CompiledTemplates(BytecodeCache):
    """Templates compiled once per process, shared by every environment built here.

    Compiling a template (parsing it, generating and compiling Python) costs far more than
    running it; an environment compiles each template on first use, so every application built
    in a process (a test suite builds hundreds) paid it again. An entry is used only while the
    template's source has the checksum it was compiled from, so an edited template is compiled
    again. The compiled code depends on the environment's options, which are the same for
    every environment `create_environment` builds.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._compiled: dict[str, tuple[str, CodeType]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        """Give the bucket its compiled code if this very source was compiled before."""
        with self._lock:
            kept = self._compiled.get(bucket.key)
        if kept is not None and kept[0] == bucket.checksum:
            bucket.code = kept[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep what was just compiled."""
        if bucket.code is not None:
            with self._lock:
                self._compiled[bucket.key] = (bucket.checksum, bucket.code)


COMPILED_TEMPLATES = CompiledTemplates()


def create_environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """Autoescaping Jinja environment with gettext wired to the active language."""
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        bytecode_cache=COMPILED_TEMPLATES,
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
    env.filters["markdown"] = render_markdown
    env.globals.update(LABELS)
    env.globals["tally_of"] = tally_of
    env.globals["htmx_version"] = HTMX_VERSION
    # The longest text a contribution may have, said beside each long text field.
    env.globals["body_limit"] = MAX_BODY
    # Contribution cards, cached by what they show, the viewer's own state put on top.
    fragments.install(env)
    return env


def is_partial(request: Request) -> bool:
    """htmx 4 marks requests that target a region (not the whole body) as partial."""
    return request.headers.get("HX-Request-Type") == "partial"


def viewer_of(request: Request) -> User | None:
    """The person logged in, as the route guard found them (None outside a guarded route, and
    after a failed unit of work, whose objects can no longer be read)."""
    user = getattr(request.state, "user", None)
    return user if isinstance(user, User) else None


def layout_context(request: Request, user: User | None) -> dict[str, Any]:
    """What the page layout shows around every page: the account, the language, the nonce."""
    services = services_of(request)
    return {
        "user": user,
        "csp_nonce": request.scope.get("state", {}).get("csp_nonce", ""),
        "lang": i18n.get_language(),
        "languages": [(code, i18n.LANGUAGE_NAMES[code]) for code in services.settings.languages],
        "current_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        # A newcomer's first page after registering says their account is ready.
        "welcome": user is not None and request.query_params.get("welcome") == "1",
        "now": services.clock(),
        "url_for": services.url_for,
        "accessibility": services.settings.accessibility_compliance,
        "identity_provider": (
            services.settings.oidc_provider_name if services.settings.verifies_identity else None
        ),
    }


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    user: User | None = None,
) -> HTMLResponse:
    """Render `template`, or only its `block` for an htmx partial request.

    The block is chosen by the handler, never by the client, so a request
    cannot pull a region it is not meant to see. `user` is the person logged in (by default,
    the one the route guard found).
    """
    env = services_of(request).templates
    full_context = {**layout_context(request, user or viewer_of(request)), **(context or {})}
    if block is not None and is_partial(request):
        body = render_block(env, template, block, **full_context)
    else:
        body = env.get_template(template).render(**full_context)
    response = HTMLResponse(body, status_code=status_code, headers=headers)
    response.headers["Vary"] = "HX-Request, HX-Request-Type, Cookie, Accept-Language"
    return response


def render_document(
    request: Request, template: str, context: Mapping[str, Any], user: User | None
) -> str:
    """A whole template as text, for a document made from it (a PDF)."""
    env = services_of(request).templates
    return env.get_template(template).render(**layout_context(request, user), **context)
