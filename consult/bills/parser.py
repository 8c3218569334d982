"""Parse a French draft bill written in Markdown or plain text into a provision tree.

A bill is an optional exposé des motifs followed by divisions (titre > chapitre > section >
sous-section), articles and their alinéas. Headings are recognised whatever their case, their
accents or their spacing, and whether or not they carry Markdown `#` markers or emphasis.
Anything that cannot be understood raises a `BillParseError` naming the line and what was
expected there, so that an author can fix the text before it is published.

Keys (`art-2-bis`, `titre-1-chap-2`, `art-2-bis-al-3`...) only depend on numbering, never on
position, so they stay stable across versions of a bill and can be used in URLs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from consult.i18n import gettext as _

__all__ = [
    "MAX_BILL_CHARS",
    "BillFormat",
    "BillParseError",
    "ParsedBill",
    "ParsedProvision",
    "ProvisionKind",
    "parse_bill",
    "render_bill",
]

ProvisionKind = Literal["titre", "chapitre", "section", "sous-section", "article", "alinea"]
DivisionKind = Literal["titre", "chapitre", "section", "sous-section"]
BillFormat = Literal["markdown", "text"]

MAX_BILL_CHARS = 2_000_000


@dataclass(frozen=True)
class ParsedProvision:
    """One node of a bill: a division, an article or an alinéa."""

    kind: ProvisionKind
    key: str
    number: str
    heading: str
    text: str
    line: int
    label: str = ""
    children: tuple[ParsedProvision, ...] = ()


@dataclass(frozen=True)
class ParsedBill:
    """A parsed bill: its exposé des motifs and its top-level provisions in document order."""

    explanatory_memorandum: str
    provisions: tuple[ParsedProvision, ...]

    def walk(self) -> Iterator[tuple[ParsedProvision, ParsedProvision | None]]:
        """Yield every node with its parent (None at top level), depth-first in pre-order."""
        stack: list[tuple[ParsedProvision, ParsedProvision | None]] = [
            (node, None) for node in reversed(self.provisions)
        ]
        while stack:
            node, parent = stack.pop()
            yield node, parent
            stack.extend((child, node) for child in reversed(node.children))

    def articles(self) -> list[ParsedProvision]:
        """Every article of the bill in document order."""
        return [node for node, _parent in self.walk() if node.kind == "article"]


class BillParseError(ValueError):
    """The text is not a well-formed bill.

    `line` is the 1-based line the problem is on (0 when it concerns the whole text) and
    `message` the translated explanation shown to the author.
    """

    def __init__(self, line: int, message: str) -> None:
        # Both values go to ValueError so that the exception survives pickling (job queues).
        super().__init__(line, message)
        self.line = line
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- Recognition -----------------------------------------------------------------------------

_ADVERBS = (
    "bis",
    "ter",
    "quater",
    "quinquies",
    "sexies",
    "septies",
    "octies",
    "nonies",
    "novies",
    "decies",
    "undecies",
    "duodecies",
    "terdecies",
    "quaterdecies",
    "quindecies",
    "sexdecies",
    "septdecies",
    "octodecies",
    "novodecies",
    "vicies",
)
# The adverbs that number articles inserted between two others, in order (« 3 bis », « 3 ter »).
ORDINAL_ADVERBS = _ADVERBS
# Longest first so that "quater" does not shadow "quaterdecies".
_ADV = "|".join(sorted(_ADVERBS, key=len, reverse=True))

# Separators between a heading's number and its title: " : ", " – ", " — ", " - ", ". ".
_SEP = r"(?:\s*(?:\.\s*[–—-]|[:.–—])\s*|\s+-(?:\s+|$))"

_KEYWORDS = ("titre", "chapitre", "section", "sous", "article", "expose")
_KEYWORD_INITIALS = frozenset(keyword[0] for keyword in _KEYWORDS)

_EXPOSE_RE = re.compile(r"^expose\s+des\s+motifs\s*[:.]?$")
_DIVISION_RE = re.compile(
    r"^(?P<kw>titre|chapitre|sous\s?-?\s?section|section)(?:\s+|(?=[0-9]))"
    r"(?P<num>[ivxlcdm]+(?:er|re)?|[0-9]+(?:er|re)?|premiere?|preliminaire|unique)"
    rf"(?:\s*(?P<adv>{_ADV}))?"
    rf"(?:{_SEP}(?P<heading>.*)|\s*)$"
)
_ARTICLE_RE = re.compile(
    r"^article(?:\s+|(?=[0-9]))"
    r"(?P<base>1\s?er|premier|unique|liminaire|[1-9][0-9]*)"
    rf"(?:\s*(?P<adv>{_ADV}))?"
    r"(?:\s+(?P<letter>[a-z]))?"
    rf"(?:{_SEP}(?P<heading>.*)|\s*)$"
)
# A line that starts like a heading but did not match one of the patterns above.
_ATTEMPT_RE = re.compile(
    r"^(?P<kw>article|titre|chapitre|sous\s?-?\s?section|section)(?=[\s0-9]|$)"
    r"\s*(?P<tok>[^\s:.–—]*)(?P<rest>.*)$"
)
_LEADING_SEP_RE = re.compile(rf"^{_SEP}")
_DIVISION_NUMBERISH_RE = re.compile(
    r"\d\S*|[ivxlcdm]+(?:er|re)?|zero|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix"
    r"|premiere?|preliminaire|unique"
)
_ARTICLE_NUMBERISH_RE = re.compile(r"\d\S*|premier|unique|liminaire")
_SENTENCE_PUNCTUATION_RE = re.compile(r"[.,;!?«»…]")
_HEADING_ATTEMPT_MAX_CHARS = 40

_ROMAN_RE = re.compile(r"m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}

_MD_HEADING_RE = re.compile(r"^#{1,6}(?:\s+|$)")
_EMPHASIS_START_RE = re.compile(r"^[*_]{1,3}(?=[^\s*_])")
_EMPHASIS_RE = re.compile(r"[*_]{1,3}")
_WHITESPACE_RUN_RE = re.compile(r"\s{2,}|\t")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

# Enumerated items whose marker is part of the legal text ("1°", "a)", "I. –", "– ").
_KEPT_LABEL_RE = re.compile(
    rf"^(?:(?P<degree>\d+\s?[°º](?:\s?(?:{_ADV}))?)"
    rf"|(?P<letter>[a-z]{{1,2}}(?:\s(?:{_ADV}))?\))"
    r"|(?P<roman>(?:[IVXLCDM]+|[A-Z])\.)\s?[–—-]"
    r"|(?P<dash>[–—]))(?=\s|$)"
)
# Markdown list markers, which are presentation only and removed from the text.
_MARKDOWN_LABEL_RE = re.compile(r"^(?:(?P<bullet>[-*+])|(?P<ordered>\d{1,9}\.))\s+(?=\S)")

# Spelling variants of "sous-section" are the only keywords missing here.
_DIVISION_KINDS: dict[str, DivisionKind] = {
    "titre": "titre",
    "chapitre": "chapitre",
    "section": "section",
}
_RANK: dict[DivisionKind, int] = {"titre": 0, "chapitre": 1, "section": 2, "sous-section": 3}
_KEY_PREFIX: dict[DivisionKind, str] = {
    "titre": "titre",
    "chapitre": "chap",
    "section": "sec",
    "sous-section": "ssec",
}
_RENDER_WORD: dict[DivisionKind, str] = {
    "titre": "TITRE",
    "chapitre": "Chapitre",
    "section": "Section",
    "sous-section": "Sous-section",
}
_MEMORANDUM_HEADING = "Exposé des motifs"


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    """Fold one character for matching, always returning exactly one character."""
    if char.isspace():
        return " "
    if char in "\u2010\u2011\u2012":
        return "-"
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    # A spacing accent ("´") decomposes to a space: it must not turn into a separator.
    for candidate in (base.lower(), char.lower()):
        if len(candidate) == 1 and not candidate.isspace():
            return candidate
    return char


def _fold(text: str) -> str:
    """Lowercase and strip accents while keeping positions, so matches map back to `text`."""
    return "".join(_fold_char(char) for char in text)


def _collapse(text: str) -> str:
    """Strip and collapse whitespace runs (single non-breaking spaces are kept)."""
    return _WHITESPACE_RUN_RE.sub(" ", text).strip()


def _excerpt(text: str) -> str:
    """The text of a line as quoted in an error message."""
    text = _collapse(text)
    return text if len(text) <= 80 else text[:79] + "…"


def _heading_candidate(stripped: str) -> tuple[str, bool]:
    """The line without Markdown heading markers and emphasis, and whether it had `#` markers."""
    text = stripped
    is_markdown_heading = False
    marker = _MD_HEADING_RE.match(text)
    if marker:
        is_markdown_heading = True
        text = text[marker.end() :]
        if text.endswith("#"):
            # An optional closing sequence: "## Chapitre Ier ##".
            without = text.rstrip("#")
            if not without or without[-1].isspace():
                text = without
    text = _collapse(text)
    if _EMPHASIS_START_RE.match(text):
        text = _collapse(_EMPHASIS_RE.sub("", text))
    return text, is_markdown_heading


def _roman_value(numeral: str) -> int | None:
    """The value of a lowercase Roman numeral, or None if it is not a valid one."""
    if not numeral or not _ROMAN_RE.fullmatch(numeral):
        return None
    total = 0
    for index, char in enumerate(numeral):
        value = _ROMAN_VALUES[char]
        following = _ROMAN_VALUES[numeral[index + 1]] if index + 1 < len(numeral) else 0
        total += -value if value < following else value
    return total


def _to_roman(value: int) -> str:
    """Uppercase Roman numeral for 1 <= value < 4000."""
    result = []
    for amount, numeral in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        count, value = divmod(value, amount)
        result.append(numeral * count)
    return "".join(result)


def _division_number(kind: DivisionKind, num: str, adverb: str | None) -> tuple[str, str] | None:
    """(displayed number, key part) of a division number, or None if it is not valid."""
    feminine = kind in ("section", "sous-section")
    arabic_one = "1re" if feminine else "1er"
    roman_one = "Ire" if feminine else "Ier"
    display: str
    key: str
    if num in ("premier", "premiere"):
        display, key = (arabic_one if feminine else roman_one), "1"
    elif num == "preliminaire":
        display, key = "préliminaire", "preliminaire"
    elif num == "unique":
        display, key = "unique", "unique"
    elif arabic := re.fullmatch(r"([1-9][0-9]*)(er|re)?", num):
        digits, suffix = arabic.group(1), arabic.group(2)
        if suffix and digits != "1":
            return None
        display, key = (arabic_one if digits == "1" else digits), digits
    elif roman := re.fullmatch(r"([ivxlcdm]+?)(er|re)?", num):
        value = _roman_value(roman.group(1))
        if value is None or (roman.group(2) and value != 1):
            return None
        display, key = (roman_one if value == 1 else _to_roman(value)), str(value)
    else:
        return None
    if adverb:
        display, key = f"{display} {adverb}", f"{key}-{adverb}"
    return display, key


@dataclass(frozen=True)
class _Line:
    """One classified source line."""

    kind: Literal["blank", "expose", "division", "article", "text"]
    number: int
    raw: str = ""  # the stripped source line
    clean: str = ""  # without Markdown heading markers and emphasis
    markdown_heading: bool = False  # has `#` markers (Markdown format only)
    division: DivisionKind = "titre"
    display: str = ""
    key: str = ""
    heading: str = ""


def _invalid_heading(line: int, found: str, kind: str) -> BillParseError:
    if kind == "article":
        message = _(
            "Line {line}: invalid article heading “{found}”: expected “Article” followed by a "
            "number such as “1er”, “2”, “2 bis”, “2 bis A” or “unique”, optionally followed "
            "by “ : ” and a title."
        )
    else:
        message = _(
            "Line {line}: invalid heading “{found}”: expected a division such as “TITRE Ier”, "
            "“Chapitre 2” or “Section 1re”, numbered with a valid Roman numeral (Ier, II, "
            "III…) or an Arabic number (1er, 2, 3…), optionally followed by “ : ” and its title."
        )
    return BillParseError(line, message.format(line=line, found=_excerpt(found)))


def _looks_like_heading(clean: str, folded: str, markdown_heading: bool) -> str | None:
    """The keyword of a line meant as a heading that is malformed, else None.

    French alinéas may begin with the same words ("Article 5 of the code is repealed.",
    "Section 2 du chapitre III est abrogée."), so a line only counts as a failed heading when
    it carries Markdown heading markers or is short, capitalised and has no sentence
    punctuation after its number.
    """
    attempt = _ATTEMPT_RE.match(folded)
    if not attempt:
        return None
    keyword = "article" if attempt.group("kw") == "article" else "division"
    token, rest = attempt.group("tok"), attempt.group("rest")
    if keyword == "division" and token and not _DIVISION_NUMBERISH_RE.fullmatch(token):
        return None
    if markdown_heading:
        return keyword
    if not clean[:1].isupper() or len(clean) > _HEADING_ATTEMPT_MAX_CHARS:
        return None
    if not token or _ARTICLE_NUMBERISH_RE.fullmatch(token) or keyword == "division":
        rest = _LEADING_SEP_RE.sub("", rest, count=1)
    if _SENTENCE_PUNCTUATION_RE.search(rest):
        return None
    return keyword


def _classify(raw: str, number: int, markdown: bool) -> _Line:
    """Recognise what a source line is; raise on a malformed heading."""
    stripped = raw.strip()
    if not stripped:
        return _Line("blank", number)
    clean, markdown_heading = _heading_candidate(stripped)
    markdown_heading = markdown_heading and markdown
    # Most lines are alinéas: only fold the whole line when it can be a heading.
    if _fold_char(clean[:1] or " ") in _KEYWORD_INITIALS and _fold(clean[:12]).startswith(
        _KEYWORDS
    ):
        folded = _fold(clean)
        if _EXPOSE_RE.match(folded):
            return _Line("expose", number, stripped, clean, markdown_heading)
        if division := _DIVISION_RE.match(folded):
            kind = _DIVISION_KINDS.get(division.group("kw"), "sous-section")
            parsed = _division_number(kind, division.group("num"), division.group("adv"))
            if parsed is None:
                raise _invalid_heading(number, stripped, "division")
            heading = clean[division.start("heading") :] if division.group("heading") else ""
            return _Line(
                "division",
                number,
                stripped,
                clean,
                division=kind,
                display=parsed[0],
                key=parsed[1],
                heading=_collapse(heading),
            )
        if article := _ARTICLE_RE.match(folded):
            base, adverb, letter = article.group("base", "adv", "letter")
            if base in ("unique", "liminaire") and (adverb or letter):
                raise _invalid_heading(number, stripped, "article")
            if base.replace(" ", "") in ("1", "1er", "premier"):
                base = "1er"
            key_base = "1" if base == "1er" else base
            display = " ".join(part for part in (base, adverb, letter and letter.upper()) if part)
            key = "-".join(part for part in ("art", key_base, adverb, letter) if part)
            heading = clean[article.start("heading") :] if article.group("heading") else ""
            return _Line(
                "article",
                number,
                stripped,
                clean,
                display=display,
                key=key,
                heading=_collapse(heading),
            )
        attempted = _looks_like_heading(clean, folded, markdown_heading)
        if attempted is not None:
            raise _invalid_heading(number, stripped, attempted)
    return _Line("text", number, stripped, clean, markdown_heading)


def _split_label(text: str) -> tuple[str, str]:
    """(label, text) of an alinéa: Markdown list markers are removed, legal markers kept."""
    markdown = _MARKDOWN_LABEL_RE.match(text)
    if markdown:
        label = "-" if markdown.group("bullet") else markdown.group("ordered")
        return label, text[markdown.end() :]
    kept = _KEPT_LABEL_RE.match(text)
    if kept:
        label = next(group for group in kept.group("degree", "letter", "roman", "dash") if group)
        return label, text
    return "", text


def _starts_item(text: str) -> bool:
    return bool(_MARKDOWN_LABEL_RE.match(text) or _KEPT_LABEL_RE.match(text))


def _division_kind(kind: ProvisionKind) -> DivisionKind:
    if kind == "article" or kind == "alinea":
        raise ValueError(f"{kind} is not a division")
    return kind


# --- Tree building ---------------------------------------------------------------------------


@dataclass
class _Node:
    """A provision under construction."""

    kind: ProvisionKind
    key: str
    number: str
    heading: str
    line: int
    text: str = ""
    label: str = ""
    children: list[_Node] = field(default_factory=list)

    def freeze(self) -> ParsedProvision:
        return ParsedProvision(
            kind=self.kind,
            key=self.key,
            number=self.number,
            heading=self.heading,
            text=self.text,
            line=self.line,
            label=self.label,
            children=tuple(child.freeze() for child in self.children),
        )


class _BillBuilder:
    """Consume classified lines in order and build the provision tree."""

    def __init__(self, markdown: bool) -> None:
        self.markdown = markdown
        self.top: list[_Node] = []
        self.open_divisions: list[_Node] = []
        self.memorandum: list[_Line] | None = None
        self.started = False
        self.awaiting_title: _Node | None = None
        self.last_division: _Node | None = None
        self.article: _Node | None = None
        self.article_may_take_title = False
        self.block: list[str] = []
        self.block_line = 0
        self.article_lines: dict[str, int] = {}
        self.division_lines: dict[str, int] = {}

    def feed(self, line: _Line) -> None:
        if line.kind == "blank":
            if self.article is not None:
                self._flush_block()
            elif self.memorandum is not None and not self.started:
                self.memorandum.append(line)
            return
        if line.kind == "expose" and not self.started and self.memorandum is None:
            self.memorandum = []
            return
        if line.kind == "division":
            self._close_article()
            self._open_division(line)
            return
        if line.kind == "article":
            self._close_article()
            self._open_article(line)
            return
        self._feed_text(line)

    def _feed_text(self, line: _Line) -> None:
        if not self.started:
            if self.memorandum is None:
                message = _(
                    "Line {line}: expected “Exposé des motifs” or a heading such as TITRE, "
                    "Chapitre, Section or Article, found “{found}”."
                )
                raise BillParseError(
                    line.number, message.format(line=line.number, found=_excerpt(line.raw))
                )
            self.memorandum.append(line)
            return
        if self.awaiting_title is not None:
            self.awaiting_title.heading = line.clean
            self.awaiting_title = None
            return
        if self.article is not None:
            if line.markdown_heading:
                if self.article_may_take_title:
                    self.article.heading = line.clean
                    self.article_may_take_title = False
                    return
                message = _(
                    "Line {line}: unrecognised heading “{found}”: expected a heading such as "
                    "TITRE, Chapitre, Section, Sous-section or Article."
                )
                raise BillParseError(
                    line.number, message.format(line=line.number, found=_excerpt(line.raw))
                )
            self.article_may_take_title = False
            self._add_text(line)
            return
        # Started with no open article: the last heading was a division's.
        division = self.last_division
        assert division is not None
        message = _(
            "Line {line}: expected an Article heading such as “Article 1er” (or another "
            "division heading) after “{division}”, found “{found}”."
        )
        raise BillParseError(
            line.number,
            message.format(
                line=line.number,
                division=f"{_RENDER_WORD[_division_kind(division.kind)]} {division.number}",
                found=_excerpt(line.raw),
            ),
        )

    def _open_division(self, line: _Line) -> None:
        kind = line.division
        while (
            self.open_divisions
            and _RANK[_division_kind(self.open_divisions[-1].kind)] >= _RANK[kind]
        ):
            self.open_divisions.pop()
        parent = self.open_divisions[-1] if self.open_divisions else None
        if kind == "section" and (parent is None or parent.kind != "chapitre"):
            message = _(
                "Line {line}: “{found}” is outside any chapter: expected a Chapitre heading "
                "before a Section."
            )
            raise BillParseError(
                line.number, message.format(line=line.number, found=_excerpt(line.raw))
            )
        if kind == "sous-section" and (parent is None or parent.kind != "section"):
            message = _(
                "Line {line}: “{found}” is outside any section: expected a Section heading "
                "before a Sous-section."
            )
            raise BillParseError(
                line.number, message.format(line=line.number, found=_excerpt(line.raw))
            )
        own_key = f"{_KEY_PREFIX[kind]}-{line.key}"
        key = f"{parent.key}-{own_key}" if parent is not None else own_key
        if key in self.division_lines:
            message = _(
                "Line {line}: “{found}” is a duplicate: the same division already appears on "
                "line {first}."
            )
            raise BillParseError(
                line.number,
                message.format(
                    line=line.number, found=_excerpt(line.raw), first=self.division_lines[key]
                ),
            )
        self.division_lines[key] = line.number
        node = _Node(kind, key, line.display, line.heading, line.number)
        (parent.children if parent is not None else self.top).append(node)
        self.open_divisions.append(node)
        self.awaiting_title = None if line.heading else node
        self.last_division = node
        self.started = True

    def _open_article(self, line: _Line) -> None:
        if line.key in self.article_lines:
            message = _("Line {line}: Article {number} is already defined on line {first}.")
            raise BillParseError(
                line.number,
                message.format(
                    line=line.number, number=line.display, first=self.article_lines[line.key]
                ),
            )
        self.article_lines[line.key] = line.number
        parent = self.open_divisions[-1] if self.open_divisions else None
        node = _Node("article", line.key, line.display, line.heading, line.number)
        (parent.children if parent is not None else self.top).append(node)
        self.article = node
        self.article_may_take_title = self.markdown and not line.heading
        self.awaiting_title = None
        self.last_division = None
        self.started = True

    def _add_text(self, line: _Line) -> None:
        if not self.markdown:
            self._add_alinea(line.raw, line.number)
            return
        if self.block and _starts_item(line.raw):
            self._flush_block()
        if not self.block:
            self.block_line = line.number
        self.block.append(line.raw)

    def _flush_block(self) -> None:
        if self.block:
            self._add_alinea(" ".join(self.block), self.block_line)
            self.block = []

    def _add_alinea(self, raw: str, line: int) -> None:
        article = self.article
        assert article is not None
        label, text = _split_label(_collapse(raw))
        number = str(len(article.children) + 1)
        article.children.append(
            _Node("alinea", f"{article.key}-al-{number}", number, "", line, text, label)
        )

    def _close_article(self) -> None:
        article = self.article
        if article is None:
            return
        self._flush_block()
        if not article.children:
            message = _("Line {line}: Article {number} has no text: expected at least one alinéa.")
            raise BillParseError(
                article.line, message.format(line=article.line, number=article.number)
            )
        self.article = None

    def finish(self) -> ParsedBill:
        self._close_article()
        if not self.article_lines:
            message = _(
                "The text has no article: expected at least one Article heading such as "
                "“Article 1er”."
            )
            raise BillParseError(0, message)
        return ParsedBill(
            explanatory_memorandum=self._memorandum_text(),
            provisions=tuple(node.freeze() for node in self.top),
        )

    def _memorandum_text(self) -> str:
        if not self.memorandum:
            return ""
        paragraphs: list[str] = []
        current: list[str] = []

        def end_paragraph() -> None:
            if current:
                paragraphs.append(_collapse(" ".join(current)))
                current.clear()

        for line in self.memorandum:
            if line.kind == "blank":
                end_paragraph()
            elif not self.markdown or line.markdown_heading:
                # A Markdown sub-heading of the exposé stays a paragraph of its own.
                end_paragraph()
                paragraphs.append(_collapse(line.raw))
            else:
                current.append(line.raw)
        end_paragraph()
        return "\n\n".join(paragraphs)


# --- Public API ------------------------------------------------------------------------------


def _is_markdown(format: str) -> bool:
    if format not in ("markdown", "text"):
        raise ValueError(f"unknown bill format {format!r}: expected 'markdown' or 'text'")
    return format == "markdown"


def parse_bill(text: str, format: BillFormat = "markdown") -> ParsedBill:
    """Parse the text of a bill into its exposé des motifs and provision tree.

    `format` is "markdown" (blank lines separate alinéas, Markdown list items start new ones)
    or "text" (every non-empty line is an alinéa). Raise `BillParseError` naming the line and
    what was expected when the text is not a well-formed bill, `TypeError` if `text` is not a
    string (bytes must be decoded by the caller).
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_bill expects str, not {type(text).__name__}")
    markdown = _is_markdown(format)
    if len(text) > MAX_BILL_CHARS:
        message = _(
            "The text is too long: {length} characters, the maximum is {maximum} characters."
        )
        raise BillParseError(0, message.format(length=len(text), maximum=MAX_BILL_CHARS))
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise BillParseError(0, _("The text is empty: expected the text of a bill."))
    control = _CONTROL_RE.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        message = _(
            "Line {line}: the text contains a control character (U+{code}), which is not "
            "allowed: expected only printable characters, tabs and line breaks."
        )
        raise BillParseError(line, message.format(line=line, code=f"{ord(control.group()):04X}"))
    text = unicodedata.normalize("NFC", text)
    builder = _BillBuilder(markdown)
    for number, raw in enumerate(text.split("\n"), start=1):
        builder.feed(_classify(raw, number, markdown))
    return builder.finish()


def _render_alinea(node: ParsedProvision) -> str:
    text = node.text.replace("\n", " ")
    if node.label == "-" or re.fullmatch(r"\d{1,9}\.", node.label):
        return f"{node.label} {text}"
    return text


def render_bill(bill: ParsedBill, format: BillFormat = "markdown") -> str:
    """Render a bill as canonical text that `parse_bill` reads back into the same tree.

    Divisions are written "TITRE Ier : title", "Chapitre 2", "Section 1re"..., articles
    "Article 2 bis : title", and alinéas are separated by blank lines. In Markdown, headings
    get `#` markers by level (`#` for titres down to `#####` for articles).
    """
    markdown = _is_markdown(format)
    blocks: list[str] = []
    if bill.explanatory_memorandum:
        blocks.append(f"# {_MEMORANDUM_HEADING}" if markdown else _MEMORANDUM_HEADING)
        blocks.extend(
            paragraph.replace("\n", " ")
            for paragraph in bill.explanatory_memorandum.split("\n\n")
            if paragraph.strip()
        )
    for node, _parent in bill.walk():
        if node.kind == "alinea":
            blocks.append(_render_alinea(node))
            continue
        if node.kind == "article":
            level, word = 5, "Article"
        else:
            kind = _division_kind(node.kind)
            level, word = _RANK[kind] + 1, _RENDER_WORD[kind]
        heading = f"{word} {node.number}"
        if node.heading:
            heading += f" : {node.heading}"
        blocks.append(f"{'#' * level} {heading}" if markdown else heading)
    return "\n\n".join(blocks) + "\n"
