"""Contribution cards rendered once for everyone, and the viewer's own state put on top.

A card shows the same thing to every reader: its text or the note that replaces a hidden
one, its author, its counts, where its passage stands, its amendment's diff. That part is
rendered from a `CardFacts` (only what the card shows) and kept in a per-process LRU keyed
by those facts and the language: a vote changes the counts, a moderator's decision the
visibility, and either gives a new key, so nothing is ever invalidated by hand and no stale
card can be found again. The template sees nothing else, so it cannot show what the key
leaves out.

What differs from one reader to the next stands in slots in the cached HTML (markers made
of `<`, which escaped text and sanitised Markdown never contain) and is filled per request:
the viewer's vote form with their vote pressed, the reply form with the page's form token
(or shown again with its errors), the report form (not on one's own contributions), and the
thread of replies below (cards themselves). See docs/decisions/0032-fragment-cache.md.

The whole article page is kept the same way (`keep_page`, `fill_page`): rendered once for every
reader under the article's stamp, the database's count of writes to what it shows, with markers
that name the contribution (and, for the report form, its author) where each reader's own part
goes. See docs/decisions/0036-page-stamps.md.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from jinja2 import Environment, Template, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from consult.contributions.models import Contribution
from consult.web.lru import LRU

SLOTS = ("vote", "reply", "report", "children", "token")
_SLOT_RE = re.compile("<consult-slot:(" + "|".join(SLOTS) + ")>")
MARKERS = {name: Markup(f"<consult-slot:{name}>") for name in SLOTS}  # noqa: S704  (constants)
ARTICLE_VOTE = Markup("<consult-slot:article-vote>")
"""Where the viewer's vote form on the article goes, in a page kept for every reader."""
_READER_RE = re.compile(r"<consult-slot:(token|article-vote|vote:\d+|reply:\d+|report:\d+:\d*)>")
PAGES_KEPT = 300
"""Article pages kept per process (each some tens of kilobytes; a new stamp makes a new one)."""
MAX_DEPTH = 3
"""Replies are offered under contributions above this depth in a thread."""

_CARD = '{% from "macros/contributions.html" import card with context %}{{ card(c, env) }}'
_REPLY = (
    '{% from "macros/contributions.html" import reply_form with context %}'
    "{{ reply_form(c, slug, token, opened, errors, values) }}"
)
_REPORT = (
    '{% from "macros/moderation.html" import report_disclosure with context %}'
    "{{ report_disclosure(slug, c) }}"
)
_MORE = (
    '{% from "macros/contributions.html" import more_replies with context %}'
    "{{ more_replies(article_url, contribution_id, count) }}"
)
_VOTE = (
    '{% from "macros/votes.html" import vote_form with context %}'
    '{{ vote_form(action, dom_id, _("Your vote on this contribution"), current) }}'
)
_ARTICLE_VOTE = (
    '{% from "macros/votes.html" import vote_form with context %}'
    '{{ vote_form(action, dom_id, _("Your vote on this article"), current) }}'
)


@dataclass(frozen=True)
class CardFacts:
    """What a contribution's card shows of it, and nothing else."""

    id: int
    kind: str
    stance: str | None
    alinea: int | None
    author_pseudonym: str
    created_at: datetime
    article_key: str
    quote_exact: str | None
    url: str | None
    body: str
    is_visible: bool
    pending_review: bool
    hidden_reason: str
    votes_for: int
    votes_mixed: int
    votes_against: int

    @classmethod
    def of(cls, c: Contribution) -> CardFacts:
        """The facts of a loaded contribution."""
        return cls(
            c.id,
            c.kind,
            c.stance,
            c.alinea,
            c.author_pseudonym,
            c.created_at,
            c.article_key,
            c.quote_exact,
            c.url,
            c.body,
            c.is_visible,
            c.pending_review,
            c.hidden_reason,
            c.votes_for,
            c.votes_mixed,
            c.votes_against,
        )


class FragmentCache:
    """An LRU of rendered fragments, each stored as its static parts and slot names."""

    def __init__(self, max_entries: int = 5000) -> None:
        self.entries: LRU[Hashable, tuple[str, ...]] = LRU(max_entries)

    def get(self, key: Hashable) -> tuple[str, ...] | None:
        """The fragment's parts, if kept."""
        return self.entries.get(key)

    def put(self, key: Hashable, html: str) -> tuple[str, ...]:
        """Keep `html`, cut at its slots: static text at even places, slot names at odd ones."""
        return self.keep(key, tuple(_SLOT_RE.split(html)))

    def keep(self, key: Hashable, parts: tuple[str, ...]) -> tuple[str, ...]:
        """Keep `parts` as they are."""
        self.entries.put(key, parts)
        return parts


class CardRenderer:
    """Renders the article's contribution cards from the cache, the viewer's state on top."""

    def __init__(self, environment: Environment, cache: FragmentCache | None = None) -> None:
        self.environment = environment
        self.cache = cache or FragmentCache()
        self.pages = FragmentCache(PAGES_KEPT)
        self._templates: dict[str, Template] = {}

    def _template(self, source: str) -> Template:
        template = self._templates.get(source)
        if template is None:
            template = self._templates[source] = self.environment.from_string(source)
        return template

    def _fragment(self, key: Hashable, source: str, variables: dict[str, Any]) -> tuple[str, ...]:
        parts = self.cache.get(key)
        if parts is None:
            parts = self.cache.put(key, self._template(source).render(variables))
        return parts

    def card(self, context: Context, c: Contribution, env: Mapping[str, Any]) -> str:
        """One card and its thread, as `context`'s viewer sees it."""
        lang, url_for = context["lang"], context["url_for"]
        slug = env["consultation"].slug
        view = env["amendment_views"].get(c.id)
        facts = CardFacts.of(c)
        shown = {
            "placement": env["placements"].get(c.id),
            "view": (view.wording, repr(view.changed), view.applies) if view else None,
            "others": tuple(env["overlaps"].get(c.id, ())),
            "letter": env["copies"].get(c.id),
        }
        key = ("card", facts, *shown.values(), slug, env["article_url"], lang)
        public_env = {
            "slug": slug,
            "article_url": env["article_url"],
            "placements": {c.id: shown["placement"]} if shown["placement"] else {},
            "amendment_views": {c.id: view} if view else {},
            "overlaps": {c.id: list(shown["others"])} if shown["others"] else {},
            "copies": {c.id: shown["letter"]} if shown["letter"] else {},
            "slots": MARKERS,
        }
        # Rendered as nobody: the cached part cannot show anybody's own state.
        variables = {"c": facts, "env": public_env, "lang": lang, "url_for": url_for, "user": None}
        parts = self._fragment(key, _CARD, variables)
        out: list[str] = []
        for index, part in enumerate(parts):
            out.append(part if index % 2 == 0 else self._slot(part, context, c, env))
        return "".join(out)

    def _slot(self, name: str, context: Context, c: Contribution, env: Mapping[str, Any]) -> str:
        user, lang, url_for = context["user"], context["lang"], context["url_for"]
        slug = env["consultation"].slug
        if name == "children":
            thread = "".join(
                f'<div class="thread">{self.card(context, child, env)}</div>'
                for child in env["children"].get(c.id, [])
            )
            more = env["more_in_thread"](c.id) if c.parent_id is None else 0
            if more:
                article_url = env["article_url"]
                variables = {
                    "article_url": article_url,
                    "contribution_id": c.id,
                    "count": more,
                    "url_for": url_for,
                    "lang": lang,
                }
                key = ("more", c.id, article_url, more, lang)
                thread += "".join(self._fragment(key, _MORE, variables))
            return thread
        if env.get("public"):
            return _reader_marker(name, c)
        if user is None or (name != "report" and not env["is_open"]):
            return ""
        if name == "vote":
            return self.vote_form(
                slug, c.article_key, c.id, env["my_votes"].get(c.id), url_for, lang
            )
        if not c.is_visible:
            return ""
        if name == "report":
            if c.author_id == user.id:
                return ""
            return self.report_form(slug, c.id, url_for, lang)
        if c.depth >= MAX_DEPTH:
            return ""
        token = str(escape(env["form_token"]))
        if env["form_name"] == f"reply-{c.id}":
            # Shown again with what was typed and what is wrong: for this viewer only.
            return self._template(_REPLY).render(
                c=_Reply(c.id, c.article_key),
                slug=slug,
                token=token,
                opened=True,
                errors=env["errors"],
                values=env["values"],
                url_for=url_for,
                lang=lang,
            )
        return self.reply_form(slug, c.article_key, c.id, token, url_for, lang)

    def vote_form(
        self,
        slug: str,
        article_key: str,
        contribution_id: int | None,
        current: str | None,
        url_for: Any,
        lang: str,
    ) -> str:
        """A vote form with the viewer's vote pressed (`contribution_id` None: the article's)."""
        if contribution_id is None:
            action = url_for("vote_article", slug=slug, key=article_key)
            source, dom_id = _ARTICLE_VOTE, "article_votes"
        else:
            action = url_for(
                "vote_contribution", slug=slug, key=article_key, contribution_id=contribution_id
            )
            source, dom_id = _VOTE, f"votes-c{contribution_id}"
        variables = {
            "action": action,
            "dom_id": dom_id,
            "current": current,
            "url_for": url_for,
            "lang": lang,
        }
        key = ("vote", contribution_id, slug, action, current, lang)
        return "".join(self._fragment(key, source, variables))

    def report_form(self, slug: str, contribution_id: int, url_for: Any, lang: str) -> str:
        """The form that reports a contribution to the moderators."""
        variables = {"slug": slug, "c": _Id(contribution_id), "url_for": url_for, "lang": lang}
        key = ("report", contribution_id, slug, lang)
        return "".join(self._fragment(key, _REPORT, variables))

    def reply_form(
        self, slug: str, article_key: str, contribution_id: int, token: str, url_for: Any, lang: str
    ) -> str:
        """The folded reply form under a contribution, with the page's form token (escaped)."""
        facts = _Reply(contribution_id, article_key)
        variables = {
            "c": facts,
            "slug": slug,
            "token": MARKERS["token"],
            "opened": False,
            "errors": {},
            "values": {},
            "url_for": url_for,
            "lang": lang,
        }
        parts = self._fragment(("reply", facts, slug, lang), _REPLY, variables)
        return "".join(part if index % 2 == 0 else token for index, part in enumerate(parts))

    def keep_page(self, key: Hashable, title: str, html: str) -> tuple[str, ...]:
        """Keep an article page rendered for every reader (its reader's parts as markers):
        its title, the contributions it shows (for the viewer's votes), then its parts."""
        parts = _READER_RE.split(html)
        shown = " ".join(name[len("vote:") :] for name in parts[1::2] if name.startswith("vote:"))
        return self.pages.keep(key, (title, shown, *parts))

    @staticmethod
    def page_title(page: tuple[str, ...]) -> str:
        """The `<title>` of a kept page."""
        return page[0]

    @staticmethod
    def page_contributions(page: tuple[str, ...]) -> list[int]:
        """The contributions a kept page shows with a vote form (replies included)."""
        return [int(number) for number in page[1].split()]

    def fill_page(self, page: tuple[str, ...], reader: Reader) -> str:
        """A kept page with `reader`'s own parts put in (their votes pressed, their token)."""
        token = str(escape(reader.form_token))
        out: list[str] = []
        for index, part in enumerate(page[2:]):
            out.append(part if index % 2 == 0 else self._reader_part(part, reader, token))
        return "".join(out)

    def _reader_part(self, slot: str, reader: Reader, token: str) -> str:
        name, _, rest = slot.partition(":")
        if name == "token":
            return token
        user, slug, key = reader.user, reader.slug, reader.article_key
        url_for, lang = reader.url_for, reader.lang
        if user is None:
            return ""
        if name == "report":
            reported, _, author = rest.partition(":")
            if author == str(user.id):
                return ""  # nobody reports their own contribution
            return self.report_form(slug, int(reported), url_for, lang)
        if not reader.is_open:
            return ""
        if name == "article-vote":
            return self.vote_form(slug, key, None, reader.my_votes.get(key), url_for, lang)
        contribution_id = int(rest)
        if name == "vote":
            current = reader.my_votes.get(contribution_id)
            return self.vote_form(slug, key, contribution_id, current, url_for, lang)
        return self.reply_form(slug, key, contribution_id, token, url_for, lang)

    def forms(self, context: Context, article_url: str) -> str:
        """The four participation forms of the article: cached with a slot for the page's
        form token while none is shown again (with what was typed, its errors, a preview)."""
        template = self.environment.get_template("articles/_forms.html")
        variables = {**context.get_all(), "article_url": article_url}
        token = str(escape(context["form_token"]))
        if context["form_name"] or context["preview"] or context["similar_preview"]:
            return template.render(variables)
        alineas = tuple(alinea.text for alinea in context["article_in_bill"].alineas)
        amendments = tuple(context["amendment_ids"])
        key = ("forms", article_url, alineas, amendments, context["lang"])
        parts = self.cache.get(key)
        if parts is None:
            # Rendered without anybody's form state: what stays is the article's.
            blank: dict[str, Any] = {"form_token": MARKERS["token"], "user": None}
            blank |= {"values": {}, "errors": {}}
            parts = self.cache.put(key, template.render(variables | blank))
        return "".join(part if index % 2 == 0 else token for index, part in enumerate(parts))


@dataclass(frozen=True)
class Reader:
    """The one reader a kept page is filled in for."""

    user: Any
    """The person logged in (a `User`), or None."""
    slug: str
    article_key: str
    is_open: bool
    my_votes: Mapping[int | str, str]
    form_token: str
    url_for: Any
    lang: str


def _reader_marker(name: str, c: Contribution) -> str:
    """Where a reader's own part of a card goes, in a page kept for every reader: what decides
    whether it is shown to a reader (the contribution's visibility, depth, author) goes with it."""
    if name == "vote":
        return f"<consult-slot:vote:{c.id}>"
    if not c.is_visible:
        return ""
    if name == "report":
        return f"<consult-slot:report:{c.id}:{c.author_id or ''}>"
    if c.depth >= MAX_DEPTH:
        return ""
    return f"<consult-slot:reply:{c.id}>"


@dataclass(frozen=True)
class _Id:
    id: int


@dataclass(frozen=True)
class _Reply:
    id: int
    article_key: str


def install(environment: Environment) -> CardRenderer:
    """Make `contribution_card(c, env)` available to templates."""
    renderer = CardRenderer(environment)

    @pass_context
    def contribution_card(context: Context, c: Contribution, env: Mapping[str, Any]) -> Markup:
        return Markup(renderer.card(context, c, env))  # noqa: S704  (escaped by the templates)

    @pass_context
    def participation_forms(context: Context, article_url: str) -> Markup:
        return Markup(renderer.forms(context, article_url))  # noqa: S704  (escaped by the templates)

    environment.globals["contribution_card"] = contribution_card
    environment.globals["participation_forms"] = participation_forms
    environment.globals["article_vote_slot"] = ARTICLE_VOTE
    _renderers[environment] = renderer
    return renderer


_renderers: WeakKeyDictionary[Environment, CardRenderer] = WeakKeyDictionary()


def renderer_of(environment: Environment) -> CardRenderer:
    """The renderer `install` put on `environment`."""
    return _renderers[environment]
