"""Translated names of domain values, as template functions.

Plain functions rather than template includes: they are called for every line
of a table of contents, where an include per line would dominate rendering time.
"""

from __future__ import annotations

from typing import Protocol

from consult.accounts.models import Role
from consult.answers.models import AnswerState, state_name
from consult.consultations.models import Phase
from consult.i18n import gettext as _
from consult.i18n import pgettext
from consult.questionnaires.format import QUESTION_LABEL
from consult.questionnaires.models import QuestionKind
from consult.synthesis.models import RunStatus


class Division(Protocol):
    """A provision as stored, or as the bill reader found it in an imported text."""

    @property
    def kind(self) -> object: ...

    @property
    def number(self) -> str: ...

    @property
    def heading(self) -> str: ...


def phase_name(phase: Phase | str) -> str:
    """ "Open", "Closed"... for a consultation phase."""
    names = {
        "draft": pgettext("phase", "Draft"),
        "open": pgettext("phase", "Open"),
        "closed": pgettext("phase", "Closed"),
        "answered": pgettext("phase", "Answered"),
        "published": pgettext("phase", "Published"),
    }
    return names[str(phase)]


def article_name(provision: Division) -> str:
    """ "Article 2 bis", or "Single article"; "Question 3" for an open question of a
    questionnaire (decision 0030)."""
    if getattr(provision, "label", "") == QUESTION_LABEL:
        return _("Question %(number)s") % {"number": provision.number}
    if provision.number == "unique":
        return _("Single article")
    return _("Article %(number)s") % {"number": provision.number}


def division_name(provision: Division, with_heading: bool = True) -> str:
    """ "Chapter II: Heading" for a titre, chapitre, section or sous-section."""
    templates = {
        "titre": _("Title %(number)s"),
        "chapitre": _("Chapter %(number)s"),
        "section": _("Section %(number)s"),
        "sous-section": _("Subsection %(number)s"),
    }
    name = templates[str(provision.kind)] % {"number": provision.number}
    if with_heading and provision.heading:
        return _("%(division)s: %(heading)s") % {"division": name, "heading": provision.heading}
    return name


def question_kind_name(kind: QuestionKind | str) -> str:
    """ "Open question", "Single choice"... for a question of a questionnaire."""
    names = {
        "open": _("Open question"),
        "single": _("Single choice"),
        "multiple": _("Multiple choice"),
        "scale": _("Scale"),
    }
    return names[str(kind)]


def role_name(role: Role | str) -> str:
    """ "Citizen", "Official"... for a role."""
    names = {
        "citizen": _("Citizen"),
        "moderator": _("Moderator"),
        "official": _("Official"),
        "admin": _("Administrator"),
    }
    return names[str(role)]


def run_status_name(status: RunStatus | str) -> str:
    """ "Queued", "Running"... for a synthesis run."""
    names = {
        "queued": pgettext("run", "Waiting to start"),
        "running": pgettext("run", "Running"),
        "succeeded": pgettext("run", "Complete"),
        "failed": pgettext("run", "Failed"),
    }
    return names[str(status)]


def run_stage_name(stage: str) -> str:
    """ "Embedding the texts"... for a stage of the synthesis pipeline."""
    names = {
        "queued": pgettext("stage", "Waiting"),
        "loading": pgettext("stage", "Reading the contributions"),
        "opinions": pgettext("stage", "Finding opinion groups in the votes"),
        "embedding": pgettext("stage", "Reading the meaning of each text"),
        "campaigns": pgettext("stage", "Finding copy-paste campaigns"),
        "clustering": pgettext("stage", "Grouping similar contributions"),
        "saving": pgettext("stage", "Saving the report"),
        "done": pgettext("stage", "Done"),
    }
    return names[str(stage)]


ANSWER_STATES = tuple(state.value for state in AnswerState)

RUN_STAGES = ("loading", "opinions", "embedding", "campaigns", "clustering", "saving")


def accessibility_label(level: str) -> str:
    """The footer's statement of compliance, in the words the RGAA asks for."""
    if level == "full":
        return _("Accessibility: fully compliant")
    if level == "partial":
        return _("Accessibility: partially compliant")
    return _("Accessibility: not compliant")


LABELS = {
    "accessibility_label": accessibility_label,
    "run_status_name": run_status_name,
    "run_stage_name": run_stage_name,
    "run_stages": RUN_STAGES,
    "phase_name": phase_name,
    "article_name": article_name,
    "division_name": division_name,
    "role_name": role_name,
    "question_kind_name": question_kind_name,
    "answer_state_name": state_name,
    "answer_states": ANSWER_STATES,
}
