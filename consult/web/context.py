"""What handlers work with: each request's unit of work.

Every guarded handler receives a `RequestContext`: the database session of its unit of work,
the person logged in, the time of the request and typed access to the rest. Nothing else of
the request's state is read by handlers or templates.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from consult.accounts.models import Role, User
from consult.consultations.models import Consultation
from consult.consultations.services import get_consultation
from consult.jobs import JobFunction
from consult.organisations.services import acts_for
from consult.settings import Settings
from consult.web.errors import error_response
from consult.web.forms import redirect_after_post
from consult.web.services import Services
from consult.web.templating import render, render_document

AfterCommit = Callable[[], Awaitable[None]]


def page_context(page: object) -> dict[str, Any]:
    """A page object's fields as template variables (one level: nothing is copied)."""
    if page is None:
        return {}
    if is_dataclass(page) and not isinstance(page, type):
        return {f.name: getattr(page, f.name) for f in fields(page)}
    if isinstance(page, Mapping):
        return dict(page)
    raise TypeError(f"a page is a dataclass instance or a mapping, not {type(page).__name__}")


@dataclass
class RequestContext:
    """One request's unit of work, as a guarded handler sees it."""

    request: Request
    services: Services
    db: AsyncSession
    user: User | None
    now: datetime
    checked_consultation: Consultation | None = None
    """The path's consultation, loaded when the route's permission checked that this person
    acts for its organisation."""
    follow_ups: list[AfterCommit] = field(default_factory=list)
    keeps_refusal: bool = False
    """Commit this request's writes although it answers with a refusal (4xx)."""

    @property
    def settings(self) -> Settings:
        """The application's settings."""
        return self.services.settings

    @property
    def member(self) -> User:
        """The person logged in, on routes whose permission requires one."""
        if self.user is None:
            raise RuntimeError("this route's permission lets anonymous readers in")
        return self.user

    @property
    def query(self) -> QueryParams:
        """The query string's parameters."""
        return self.request.query_params

    def path(self, name: str) -> str:
        """A text parameter of the route's path."""
        return str(self.request.path_params[name])

    def path_id(self, name: str) -> int:
        """A numeric parameter of the route's path (the route's converter checked it)."""
        return int(self.request.path_params[name])

    def url_for(self, name: str, **params: Any) -> str:
        """The local path of a named route."""
        return self.services.url_for(name, **params)

    async def consultation(self) -> Consultation:
        """The consultation named by the path, if this person may see it (else NotFound);
        on an organisation's route, the one its permission was checked against."""
        if self.checked_consultation is not None:
            return self.checked_consultation
        return await get_consultation(self.db, self.path("slug"), self.user, self.now)

    async def is_official_of(self, consultation: Consultation) -> bool:
        """Whether the person logged in is an official of `consultation`'s organisation (or an
        administrator): what a public page shows them beyond the public's view."""
        user = self.user
        if user is None or not user.has_role(Role.OFFICIAL):
            return False
        return await acts_for(self.db, user, consultation)

    async def is_moderator_of(self, consultation: Consultation) -> bool:
        """Whether the person logged in moderates `consultation`: a moderator or official of
        its organisation, or an administrator."""
        user = self.user
        if user is None or not user.has_role(Role.MODERATOR, Role.OFFICIAL):
            return False
        return await acts_for(self.db, user, consultation)

    def keep_writes_of_refusal(self) -> None:
        """A refused request whose refusal must be remembered (a wrong password counts towards
        pausing logins): its writes are committed like a success's."""
        self.keeps_refusal = True

    def after_commit(self, action: AfterCommit) -> None:
        """Run `action` once this request's writes are committed."""
        self.follow_ups.append(action)

    def enqueue(self, job: JobFunction, *args: Any, job_id: str) -> None:
        """Queue a job once this request's writes are committed (the job reads them)."""
        jobs = self.services.jobs

        async def queue() -> None:
            await jobs.enqueue(job, *args, job_id=job_id)

        self.after_commit(queue)

    @property
    def is_partial(self) -> bool:
        """htmx 4 marks requests that target a region (not the whole body) as partial."""
        return self.request.headers.get("HX-Request-Type") == "partial"

    def render(
        self,
        template: str,
        page: object = None,
        *,
        block: str | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        """Render `template` with `page`'s fields, or only its `block` for a partial request."""
        return render(
            self.request,
            template,
            page_context(page),
            block=block,
            status_code=status_code,
            user=self.user,
        )

    def render_document(self, template: str, page: object) -> str:
        """The whole of `template` with `page`'s fields, as text (for a PDF)."""
        return render_document(self.request, template, page_context(page), self.user)

    def redirect(self, url: str) -> Response:
        """POST → 303 → GET without JavaScript; a full-page redirect header for htmx."""
        return redirect_after_post(self.request, url)

    def error(self, status_code: int, detail: str | None = None) -> Response:
        """The error page with `status_code` and, if given, a message of the handler's own."""
        return error_response(self.request, status_code, detail)


Handler = Callable[[RequestContext], Awaitable[Response]]
