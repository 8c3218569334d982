"""Reading a questionnaire written by officials: Markdown or JSON (docs/questionnaires.md).

Both formats give the same :class:`ParsedQuestionnaire`: an introduction, then questions in
order, each in a section (or none). A text that cannot be read completely raises
:class:`QuestionnaireParseError` with the line at fault (0: the whole text) and nothing is
saved.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from consult.bills.parser import ParsedBill, ParsedProvision
from consult.i18n import gettext as _
from consult.questionnaires.models import QuestionKind
from consult.text import normalise_user_text

QuestionnaireFormat = Literal["markdown", "json"]
MAX_SOURCE_CHARS = 200_000
MAX_QUESTIONS = 200
MAX_OPTIONS = 50
MAX_PROMPT = 2_000
MAX_OPTION = 300
MAX_SCALE_POINTS = 21
QUESTION_LABEL = "question"
"""The label of the provisions that stand for open questions in a questionnaire's version."""
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class QuestionnaireParseError(ValueError):
    """The text is not a well-formed questionnaire (`line`: 1-based, 0 for the whole text)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(line, message)
        self.line = line
        self.message = message

    def __str__(self) -> str:
        if self.line:
            return _("Line {line}: {message}").format(line=self.line, message=self.message)
        return self.message


@dataclass(frozen=True)
class ParsedQuestion:
    """One question as written."""

    key: str
    kind: QuestionKind
    prompt: str
    section: str = ""
    help: str = ""
    options: tuple[str, ...] = ()
    scale_min: int | None = None
    scale_max: int | None = None
    min_label: str = ""
    max_label: str = ""
    max_length: int | None = None
    line: int = 0


@dataclass(frozen=True)
class ParsedQuestionnaire:
    """An introduction and the questions, in order."""

    introduction: str
    questions: tuple[ParsedQuestion, ...]

    def sections(self) -> list[tuple[str, list[ParsedQuestion]]]:
        """(heading, questions) in order; "" for the questions before the first section."""
        found: list[tuple[str, list[ParsedQuestion]]] = []
        for question in self.questions:
            if not found or found[-1][0] != question.section:
                found.append((question.section, []))
            found[-1][1].append(question)
        return found

    def as_bill(self) -> ParsedBill:
        """The version a questionnaire is published as: its sections, and its open questions
        as the "articles" that open answers are scoped to (decision 0030)."""
        top: list[ParsedProvision] = []
        for number, (heading, questions) in enumerate(self.sections(), start=1):
            articles = tuple(
                ParsedProvision(
                    kind="article",
                    key=q.key,
                    number=str(self.questions.index(q) + 1),
                    heading=q.prompt,
                    text="",
                    line=q.line,
                    label=QUESTION_LABEL,
                    children=(
                        ParsedProvision(
                            "alinea",
                            f"{q.key}-al-1",
                            "1",
                            "",
                            q.help or q.prompt,
                            q.line,
                        ),
                    ),
                )
                for q in questions
                if q.kind is QuestionKind.OPEN
            )
            if heading:
                top.append(
                    ParsedProvision(
                        "section",
                        f"section-{number}",
                        str(number),
                        heading,
                        "",
                        0,
                        children=articles,
                    )
                )
            else:
                top.extend(articles)
        return ParsedBill(self.introduction, tuple(top))


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


_OPEN_WORDS = {"texte", "texte libre", "ouverte", "question ouverte", "libre", "open", "text"}
_SINGLE_WORDS = {"choix unique", "un choix", "single", "single choice", "one choice"}
_MULTIPLE_WORDS = {
    "choix multiple",
    "choix multiples",
    "plusieurs choix",
    "multiple",
    "multiple choice",
    "several choices",
}
_SCALE = re.compile(
    r"^(?:echelle|scale)\s+(?P<low>-?\d+)\s*(?:-|a|to|–|—|\.\.)\s*(?P<high>-?\d+)"
    r"(?:\s*:\s*(?P<labels>.*))?$"
)
_OPEN_LENGTH = re.compile(r"^(?P<word>.+?)\s+(?P<length>\d+)$")
_MARKER = re.compile(r"^(?P<prompt>.*\S)\s*\[(?P<marker>[^\[\]]+)\]\s*$")


def _kind_of(marker: str, raw: str, line: int) -> dict[str, Any]:
    """The kind and its settings from a question's bracketed marker (case and accents do not
    matter; the scale's labels keep theirs)."""
    folded = _fold(marker)
    if folded in _SINGLE_WORDS:
        return {"kind": QuestionKind.SINGLE}
    if folded in _MULTIPLE_WORDS:
        return {"kind": QuestionKind.MULTIPLE}
    if folded in _OPEN_WORDS:
        return {"kind": QuestionKind.OPEN}
    sized = _OPEN_LENGTH.match(folded)
    if sized and sized.group("word") in _OPEN_WORDS:
        return {"kind": QuestionKind.OPEN, "max_length": int(sized.group("length"))}
    scale = _SCALE.match(folded)
    if scale:
        labels = ["", ""]
        if scale.group("labels") is not None:
            # The labels as written (the folded marker only finds where they start).
            written = raw.split(":", 1)[1] if ":" in raw else ""
            parts = [part.strip() for part in written.split("|")]
            if len(parts) != 2:
                raise QuestionnaireParseError(
                    line, _("Write the labels of a scale's two ends separated by “|”.")
                )
            labels = parts
        return {
            "kind": QuestionKind.SCALE,
            "scale_min": int(scale.group("low")),
            "scale_max": int(scale.group("high")),
            "min_label": labels[0],
            "max_label": labels[1],
        }
    raise QuestionnaireParseError(
        line,
        _(
            "“[{marker}]” is not a kind of question: write [texte], [choix unique],"
            " [choix multiples] or [échelle 1-5]."
        ).format(marker=marker.strip()),
    )


def _check(question: ParsedQuestion) -> ParsedQuestion:
    """Refuse a question that could not be answered as written."""
    line = question.line
    if not question.prompt:
        raise QuestionnaireParseError(line, _("A question has no text."))
    if len(question.prompt) > MAX_PROMPT:
        raise QuestionnaireParseError(
            line, _("A question may have up to {limit} characters.").format(limit=MAX_PROMPT)
        )
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        if len(question.options) < 2:
            raise QuestionnaireParseError(
                line, _("A choice question needs at least two options, one per “- ” line.")
            )
        if len(question.options) > MAX_OPTIONS:
            raise QuestionnaireParseError(
                line, _("A question may have up to {limit} options.").format(limit=MAX_OPTIONS)
            )
        if len({_fold(o) for o in question.options}) != len(question.options):
            raise QuestionnaireParseError(line, _("The same option is written twice."))
        if any(not o or len(o) > MAX_OPTION for o in question.options):
            raise QuestionnaireParseError(
                line,
                _("An option needs a text of up to {limit} characters.").format(limit=MAX_OPTION),
            )
    elif question.options:
        raise QuestionnaireParseError(line, _("Only choice questions have options."))
    if question.kind is QuestionKind.SCALE:
        low, high = question.scale_min, question.scale_max
        if low is None or high is None or high <= low or high - low + 1 > MAX_SCALE_POINTS:
            raise QuestionnaireParseError(
                line,
                _(
                    "A scale goes from a smaller to a larger whole number, {limit} points at most."
                ).format(limit=MAX_SCALE_POINTS),
            )
    if question.max_length is not None and not 1 <= question.max_length <= 20_000:
        raise QuestionnaireParseError(
            line, _("An answer's length is limited to 1 to 20,000 characters.")
        )
    return question


def _finish(introduction: str, questions: list[ParsedQuestion]) -> ParsedQuestionnaire:
    if not questions:
        raise QuestionnaireParseError(0, _("The questionnaire has no question."))
    if len(questions) > MAX_QUESTIONS:
        raise QuestionnaireParseError(
            0, _("A questionnaire may have up to {limit} questions.").format(limit=MAX_QUESTIONS)
        )
    seen: set[str] = set()
    for question in questions:
        if question.key in seen:
            raise QuestionnaireParseError(
                question.line, _("Two questions have the key “{key}”.").format(key=question.key)
            )
        seen.add(question.key)
    return ParsedQuestionnaire(introduction.strip(), tuple(_check(q) for q in questions))


def _parse_markdown(text: str) -> ParsedQuestionnaire:
    introduction: list[str] = []
    questions: list[ParsedQuestion] = []
    section = ""
    current: dict[str, Any] | None = None
    helps: list[str] = []
    options: list[str] = []

    def close() -> None:
        nonlocal current, helps, options
        if current is not None:
            help_text = "\n".join(helps).strip()
            questions.append(ParsedQuestion(help=help_text, options=tuple(options), **current))
        current, helps, options = None, [], []

    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        if heading and len(heading.group(1)) <= 2:
            close()
            section = heading.group(2).strip()
            if not section:
                raise QuestionnaireParseError(number, _("A section heading has no text."))
            continue
        if heading:
            close()
            marked = _MARKER.match(heading.group(2))
            if marked is None:
                raise QuestionnaireParseError(
                    number,
                    _(
                        "A question ends with its kind in brackets, such as [texte],"
                        " [choix unique], [choix multiples] or [échelle 1-5]."
                    ),
                )
            marker = marked.group("marker")
            current = {
                "key": f"q{len(questions) + 1}",
                "prompt": marked.group("prompt").strip(),
                "section": section,
                "line": number,
                **_kind_of(marker, marker, number),
            }
            continue
        if current is None:
            if section and stripped:
                raise QuestionnaireParseError(
                    number, _("Text under a section must belong to a question (a “###” heading).")
                )
            introduction.append(raw.rstrip())
            continue
        item = re.match(r"^[-*]\s+(.*)$", stripped)
        if item:
            options.append(item.group(1).strip())
        elif options and stripped:
            raise QuestionnaireParseError(number, _("Write a question's help before its options."))
        else:
            helps.append(stripped)
    close()
    return _finish("\n".join(introduction), questions)


def _text(value: object, where: str, line: int = 0) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise QuestionnaireParseError(line, _("“{field}” must be text.").format(field=where))
    return value.strip()


def _json_question(data: object, section: str, position: int) -> ParsedQuestion:
    where = _("question {number}").format(number=position)
    if not isinstance(data, dict):
        raise QuestionnaireParseError(
            0, _("Each question must be an object ({where}).").format(where=where)
        )
    kind_name = _text(data.get("kind"), "kind")
    try:
        kind = QuestionKind(kind_name)
    except ValueError:
        raise QuestionnaireParseError(
            0,
            _("{where}: “kind” is one of open, single, multiple, scale.").format(where=where),
        ) from None
    key = _text(data.get("key"), "key") or f"q{position}"
    if not _KEY.match(key):
        raise QuestionnaireParseError(
            0,
            _("{where}: a key has lowercase letters, digits and hyphens only.").format(where=where),
        )
    options = data.get("options") or []
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise QuestionnaireParseError(
            0, _("{where}: “options” is a list of texts.").format(where=where)
        )
    scale = data.get("scale")
    low = high = None
    if scale is not None:
        if not (
            isinstance(scale, list)
            and len(scale) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in scale)
        ):
            raise QuestionnaireParseError(
                0, _("{where}: “scale” is two whole numbers, such as [1, 5].").format(where=where)
            )
        low, high = scale
    labels = data.get("labels") or ["", ""]
    if not (
        isinstance(labels, list) and len(labels) == 2 and all(isinstance(v, str) for v in labels)
    ):
        raise QuestionnaireParseError(0, _("{where}: “labels” is two texts.").format(where=where))
    max_length = data.get("max_length")
    if max_length is not None and (not isinstance(max_length, int) or isinstance(max_length, bool)):
        raise QuestionnaireParseError(
            0, _("{where}: “max_length” is a whole number.").format(where=where)
        )
    if kind is QuestionKind.SCALE and scale is None:
        low, high = 1, 5
    return ParsedQuestion(
        key=key,
        kind=kind,
        prompt=_text(data.get("prompt"), "prompt"),
        section=section,
        help=_text(data.get("help"), "help"),
        options=tuple(o.strip() for o in options),
        scale_min=low,
        scale_max=high,
        min_label=labels[0].strip(),
        max_label=labels[1].strip(),
        max_length=max_length,
    )


def _parse_json(text: str) -> ParsedQuestionnaire:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise QuestionnaireParseError(
            error.lineno, _("This is not valid JSON: {reason}.").format(reason=error.msg)
        ) from None
    except RecursionError:  # brackets nested thousands deep: no questionnaire is
        raise QuestionnaireParseError(
            0, _("The JSON must be an object with a list of “sections”.")
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("sections"), list):
        raise QuestionnaireParseError(0, _("The JSON must be an object with a list of “sections”."))
    questions: list[ParsedQuestion] = []
    for section in data["sections"]:
        if not isinstance(section, dict) or not isinstance(section.get("questions"), list):
            raise QuestionnaireParseError(0, _("Each section must have a list of “questions”."))
        title = _text(section.get("title"), "title")
        for entry in section["questions"]:
            questions.append(_json_question(entry, title, len(questions) + 1))
    return _finish(_text(data.get("introduction"), "introduction"), questions)


def parse_questionnaire(text: str, format: QuestionnaireFormat = "markdown") -> ParsedQuestionnaire:
    """Read a questionnaire, or raise :class:`QuestionnaireParseError`."""
    if len(text) > MAX_SOURCE_CHARS:
        raise QuestionnaireParseError(
            0, _("The text is longer than {limit} characters.").format(limit=MAX_SOURCE_CHARS)
        )
    text = normalise_user_text(text)
    if not text:
        raise QuestionnaireParseError(0, _("The text is empty."))
    if format == "json":
        return _parse_json(text)
    return _parse_markdown(text)
