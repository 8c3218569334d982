"""Citizen-written text: normalisation, safe Markdown rendering and plain-text views.

Contributions (comments on a draft bill, arguments, amendment rationales) are written in a
small Markdown subset: paragraphs, line breaks, *emphasis*, **strong**, `inline code`,
links, autolinks in angle brackets, bullet and numbered lists, block quotes and code blocks.
Raw HTML is shown as text, images become their alt text and headings stay plain paragraphs.

Rendering is done in two independent layers so that a mistake in one is caught by the other:
markdown-it-py is configured never to emit anything outside the subset, and every piece of
HTML it produces then goes through an nh3 (ammonia) allowlist.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock, paragraph
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup

__all__ = [
    "ALLOWED_TAGS",
    "LINK_REL",
    "MAX_MARKDOWN_CHARS",
    "excerpt",
    "normalise_user_text",
    "plain_text",
    "render_markdown",
]

MAX_MARKDOWN_CHARS = 20_000

# --- normalisation -------------------------------------------------------------------------

# Invisible characters that let a writer hide text or make it display in a different order than
# it is stored (bidi overrides, "Trojan Source"-style tricks), plus zero-width characters and
# the byte-order mark. The zero-width joiner and non-joiner (U+200C, U+200D) stay: emoji
# sequences and several scripts (Persian, Indic) are spelled with them.
_INVISIBLE_RE = re.compile("[\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# C0 and C1 control characters except newline and tab (tab is turned into a space first).
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Lone surrogates cannot be encoded as UTF-8, so neither the database nor the Rust sanitizer
# would accept them.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_TRAILING_SPACES_RE = re.compile(" +$", re.MULTILINE)


def normalise_user_text(text: str) -> str:
    """Return ``text`` in the canonical form that services store.

    The result is NFC-normalised, uses ``\\n`` line endings, has no trailing spaces on any
    line and no blank lines at either end; control characters other than newline are removed
    (a tab becomes a single space), as are zero-width, bidi-override and byte-order-mark
    characters (U+200B, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069, U+FEFF). Lone
    surrogates become U+FFFD. Leading spaces of the first line are kept because Markdown gives
    them meaning. The function is idempotent.
    """
    text = _SURROGATE_RE.sub("\ufffd", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE_RE.sub("", text)
    text = _CONTROL_RE.sub("", text.replace("\t", " "))
    # Composition runs after the removals: deleting a character between a base letter and a
    # combining mark can create a new composable pair.
    text = unicodedata.normalize("NFC", text)
    text = _TRAILING_SPACES_RE.sub("", text)
    return text.strip("\n")


# --- Markdown ------------------------------------------------------------------------------

# Only absolute web and mail links become links; relative URLs (which could point at our own
# state-changing endpoints) and every other scheme stay visible as the text that was typed.
_ALLOWED_LINK_RE = re.compile(r"(?:https?://[^/?#\s]|mailto:\S)", re.IGNORECASE)
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


class _ContributionMarkdown(MarkdownIt):
    """markdown-it with a strict link policy."""

    def validateLink(self, url: str) -> bool:
        """Accept only absolute ``http``, ``https`` and ``mailto`` URLs."""
        return _ALLOWED_LINK_RE.match(url) is not None

    def normalizeLink(self, url: str) -> str:
        """Normalise like markdown-it, with the scheme lower-cased.

        Browsers treat schemes case-insensitively; lower-casing them keeps every emitted href
        starting with exactly ``http://``, ``https://`` or ``mailto:``.
        """
        normalized = super().normalizeLink(url)
        match = _SCHEME_RE.match(normalized)
        if match is None:
            return normalized
        return match.group().lower() + normalized[match.end() :]


def _images_to_alt_text(state: StateCore) -> None:
    """Replace every image with its description.

    Disabling markdown-it's image rule is not enough: ``![alt](src)`` would then be parsed
    as ``!`` followed by a link to the image, so the image rule stays on and its tokens are
    swapped for their (already parsed) alt-text tokens here.
    """
    for token in state.tokens:
        if token.type == "inline" and token.children:
            token.children = _expand_images(token.children)


def _expand_images(tokens: Sequence[Token]) -> list[Token]:
    expanded: list[Token] = []
    for token in tokens:
        if token.type == "image":
            # Image descriptions may themselves contain images.
            expanded.extend(_expand_images(token.children or []))
        else:
            expanded.append(token)
    return expanded


# markdown-it silently drops everything nested deeper than its maxNesting option (20 levels,
# a list and its item counting one each). Below this level further quotes and lists are kept
# as literal text in a paragraph instead, so that no words go missing.
_MAX_BLOCK_LEVEL = 12


def _flatten_deep_nesting(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    if state.level < _MAX_BLOCK_LEVEL:
        return False
    return paragraph(state, start_line, end_line, silent)


def _build_markdown() -> MarkdownIt:
    md = _ContributionMarkdown(
        "commonmark",
        # html=False: raw HTML is escaped and shown. breaks=True: a single newline in a
        # textarea is a visible line break. linkify stays off: it needs linkify-it-py.
        {"html": False, "breaks": True, "linkify": False, "typographer": False},
    )
    # The commonmark preset has no table rule to disable. "hr" goes too: <hr> is not in the
    # sanitizer's allowlist and would silently vanish, whereas a typed "---" stays visible.
    md.disable(["heading", "lheading", "hr"])
    md.block.ruler.before("code", "flatten_deep_nesting", _flatten_deep_nesting)
    md.core.ruler.after("inline", "images_to_alt_text", _images_to_alt_text)
    return md


_MARKDOWN = _build_markdown()

# --- sanitizing ----------------------------------------------------------------------------

ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "code", "pre", "a", "ul", "ol", "li", "blockquote"}
)
LINK_REL = "nofollow ugc noopener noreferrer"
_ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
_ORDERED_LIST_START_RE = re.compile(r"[0-9]{1,9}")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    # Repeats the link policy at the HTML level and keeps <ol start> to a plain number, so
    # the sanitizer does not rely on the renderer being right.
    if tag == "a" and attribute == "href":
        return value if _ALLOWED_LINK_RE.match(value) else None
    if tag == "ol" and attribute == "start":
        return value if _ORDERED_LIST_START_RE.fullmatch(value) else None
    return value


_SANITIZER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    # <ol start> keeps a list that begins at "3." numbered 3, not 1: citizens refer to
    # numbered points and articles, so renumbering would change what they wrote.
    # The empty "*" entry matters: without it ammonia keeps its default generic attributes
    # (lang and title) on every tag.
    attributes={"*": set(), "a": {"href"}, "ol": {"start"}},
    attribute_filter=_filter_attribute,
    link_rel=LINK_REL,
    url_schemes=_ALLOWED_URL_SCHEMES,
    # Relative URLs are dropped, not passed through (nh3's default).
    url_relative="deny",
    strip_comments=True,
)


# ammonia removes an href it cannot parse as a URL (markdown-it is more lenient, e.g. with
# "http://a%20b/" or an empty destination) but keeps the <a>; such an anchor is unwrapped so
# that only its text remains. ammonia's serialisation is canonical: an anchor without href
# has exactly this form, and anchors never nest.
_HREFLESS_LINK_RE = re.compile(f'<a rel="{re.escape(LINK_REL)}">(.*?)</a>', re.DOTALL)


def _check_length(text: str) -> None:
    if len(text) > MAX_MARKDOWN_CHARS:
        raise ValueError(
            f"Markdown text is {len(text)} characters long; the maximum is {MAX_MARKDOWN_CHARS}"
        )


@functools.lru_cache(maxsize=8192)
def render_markdown(text: str) -> Markup:
    """Render a contribution written in the Markdown subset to safe HTML.

    The output only contains the tags ``p br em strong code pre a ul ol li blockquote``;
    links carry only ``href`` (absolute ``http``, ``https`` or ``mailto``) and
    ``rel="nofollow ugc noopener noreferrer"``, and ordered lists a numeric ``start``.
    Raw HTML is shown escaped, images as their alt text, headings as ordinary paragraphs,
    and links to anything else as the Markdown that was typed. Blank input gives an empty
    ``Markup``.

    Raises:
        ValueError: if ``text`` is longer than ``MAX_MARKDOWN_CHARS``.
    """
    _check_length(text)
    if not text.strip():
        return Markup("")
    html = _MARKDOWN.render(_SURROGATE_RE.sub("\ufffd", text))
    cleaned = _HREFLESS_LINK_RE.sub(r"\1", _SANITIZER.clean(html))
    # The sanitized HTML is trusted from here on; Markup stops Jinja from escaping it again.
    return Markup(cleaned.strip())  # noqa: S704


# --- plain text ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    text: str
    # Consecutive paragraphs of tight list items of the same list are separated by a single
    # newline rather than a blank line. ``list_number`` counts top-level lists (0: none).
    tight: bool
    list_number: int


def _inline_text(tokens: Sequence[Token]) -> str:
    parts: list[str] = []
    for token in tokens:
        if token.type in ("text", "text_special", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "".join(parts)


def _indented(text: str, prefix: str, indent: str) -> str:
    lines = text.split("\n")
    continuation = " " * len(prefix)
    return "\n".join(
        [indent + prefix + lines[0]] + [indent + continuation + line for line in lines[1:]]
    )


def _plain_blocks(tokens: Sequence[Token]) -> list[_Block]:
    blocks: list[_Block] = []
    # One entry per open list: True for an ordered list.
    lists: list[bool] = []
    # One entry per open list item: the width of its marker, by which its content is indented.
    items: list[int] = []
    list_number = 0
    marker = ""
    tight = False
    for token in tokens:
        if token.type in ("bullet_list_open", "ordered_list_open"):
            if not lists:
                list_number += 1
            lists.append(token.type == "ordered_list_open")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "list_item_open":
            marker = f"{token.info}{token.markup} " if lists and lists[-1] else "• "
            items.append(len(marker))
        elif token.type == "list_item_close":
            items.pop()
            marker = ""
        elif token.type == "paragraph_open":
            tight = token.hidden
        elif token.type in ("inline", "code_block", "fence"):
            if token.type == "inline":
                content = _inline_text(token.children or [])
            else:
                content = token.content.rstrip("\n")
            # Only the first block of a list item carries its marker; the item's later blocks
            # line up with the text after the marker.
            indent = " " * (sum(items[:-1]) if marker else sum(items))
            blocks.append(
                _Block(
                    _indented(content, marker, indent),
                    tight=tight and token.type == "inline",
                    list_number=list_number if lists else 0,
                )
            )
            marker = ""
            tight = False
    return blocks


def plain_text(text: str) -> str:
    """Return the readable text of a contribution, without Markdown syntax.

    Meant for excerpts, e-mails, search and embeddings. Emphasis, code and link markup is
    removed (a link keeps its text, not its URL), images become their alt text, character
    references and backslash escapes are resolved. Blocks are separated by a blank line;
    list items are kept one per line, marked "• " or with their number. The result is plain
    text, not HTML: whatever ``<`` or ``&`` the writer typed is returned as is and must be
    escaped by whoever embeds it in HTML.

    Raises:
        ValueError: if ``text`` is longer than ``MAX_MARKDOWN_CHARS``.
    """
    _check_length(text)
    if not text.strip():
        return ""
    blocks = _plain_blocks(_MARKDOWN.parse(text))
    parts: list[str] = []
    previous: _Block | None = None
    for block in blocks:
        if previous is not None:
            same_list = previous.list_number == block.list_number != 0
            parts.append("\n" if previous.tight and block.tight and same_list else "\n\n")
        parts.append(block.text)
        previous = block
    return "".join(parts).strip()


_ELLIPSIS = "…"
# Punctuation that would read oddly right before the ellipsis.
_TRAILING_PUNCTUATION = " ,;:-–—"


def excerpt(text: str, length: int = 200) -> str:
    """Return the plain text of a contribution on one line, at most ``length`` characters.

    Whitespace, line breaks included, is collapsed to single spaces. Longer text is cut at the
    last word boundary that fits and ends with "…" (counted in ``length``); a single word
    longer than ``length`` is cut mid-word.

    Raises:
        ValueError: if ``length`` is less than 1 or ``text`` is longer than
            ``MAX_MARKDOWN_CHARS``.
    """
    if length < 1:
        raise ValueError("excerpt length must be at least 1")
    flat = " ".join(plain_text(text).split())
    if len(flat) <= length:
        return flat
    cut = flat[: length - 1]
    # Unless the cut already falls on a boundary, back off to the last space.
    if flat[length - 1] != " ":
        space = cut.rfind(" ")
        if space > 0:
            cut = cut[:space]
    return cut.rstrip(_TRAILING_PUNCTUATION) + _ELLIPSIS
