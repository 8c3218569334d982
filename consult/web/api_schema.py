"""The OpenAPI 3.1 description of the read API (``/api/v1/openapi.json``).

Written by hand, next to the handlers in ``consult/web/routes/api.py``; tests/web/test_api.py
checks every answer of the API against it with schemathesis.
"""

from __future__ import annotations

import enum
from typing import Any, get_args

from consult.answers.models import AnswerScope, AnswerState
from consult.consultations.models import ConsultationKind, Phase
from consult.contributions.models import ContributionKind, Stance, Visibility
from consult.opendata.public import ChangeOrigin
from consult.questionnaires.models import QuestionKind
from consult.revisions.redline import Kind as RedlineKind

# The longest page of a list the API answers.
MAX_PER_PAGE = 200


def _values(enumeration: type[enum.StrEnum]) -> list[str]:
    return [member.value for member in enumeration]


_STRING = {"type": "string"}
_INT = {"type": "integer"}
_NULLABLE_INT = {"type": ["integer", "null"]}
_NULLABLE_STRING = {"type": ["string", "null"]}
_DATE = {"type": "string", "format": "date-time"}
_NULLABLE_DATE = {"type": ["string", "null"], "format": "date-time"}
_STATES = _values(AnswerState)
_KINDS = {"enum": _values(ContributionKind)}
# Kept text is no change: a version's changes are the words it inserted or deleted.
_CHANGE_KINDS = [kind for kind in get_args(RedlineKind) if kind != "equal"]
_STATE_COUNTS = {"type": "object", "propertyNames": {"enum": _STATES}, "additionalProperties": _INT}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERROR = _json(_ref("Error"), "What went wrong")
_TOO_MANY = {
    "description": "Too many requests from this address; retry after a minute",
    "content": {"text/html": {}},
}
_SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "description": "The consultation's address",
    "schema": {"type": "string"},
}
_NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "description": "A version number, from 1",
    "schema": {"type": "integer", "minimum": 1},
}
_PAGE = {
    "name": "page",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1},
}
_PER_PAGE = {
    "name": "per_page",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
}


def _get(
    operation_id: str,
    summary: str,
    schema: dict[str, Any],
    parameters: list[dict[str, Any]],
    bad_request: bool = False,
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": _json(schema, summary),
        "404": _ERROR,
        "429": _TOO_MANY,
    }
    if bad_request:
        responses["400"] = _ERROR
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": parameters,
            "responses": responses,
        }
    }


_SUMMARY = {
    "slug": _STRING,
    "kind": {"enum": _values(ConsultationKind)},
    "title": _STRING,
    "ministry": _STRING,
    "phase": {"enum": _values(Phase)},
    "languages": {"type": "array", "items": _STRING},
    "links": _ref("Links"),
}
_COUNTS = {
    "received": _INT,
    "answered": _INT,
    "unanswered": _INT,
    "states": _STATE_COUNTS,
}

SCHEMAS: dict[str, Any] = {
    "Error": _object({"error": _STRING}),
    "Links": _object({"self": _STRING, "html": _STRING, "open_data": _STRING}),
    "ConsultationSummary": _object(_SUMMARY),
    "Consultation": _object(
        {
            **_SUMMARY,
            "summary": _STRING,
            "phases": {
                "type": "array",
                "items": _object({"phase": {"enum": _values(Phase)}, "starts_at": _NULLABLE_DATE}),
            },
            "versions": {
                "type": "array",
                "items": _object({"number": _INT, "published_at": _NULLABLE_DATE}),
            },
            "contributions": _INT,
            "answered": _INT,
        }
    ),
    "Version": _object(
        {
            "number": _INT,
            "published_at": _NULLABLE_DATE,
            "articles": {
                "type": "array",
                "items": _object(
                    {
                        "key": _STRING,
                        "number": _STRING,
                        "heading": _STRING,
                        "alineas": {"type": "array", "items": _STRING},
                    }
                ),
            },
        }
    ),
    "Answer": _object(
        {
            "id": _INT,
            "scope": {"enum": _values(AnswerScope)},
            "contribution_id": _NULLABLE_INT,
            "cluster_id": _NULLABLE_INT,
            "campaign_id": _NULLABLE_INT,
            "article_key": _STRING,
            "subject": _STRING,
            "state": {"enum": _STATES},
            "reason": _STRING,
            "reach": _INT,
            "published_at": _NULLABLE_DATE,
        }
    ),
    "Contribution": _object(
        {
            "id": _INT,
            "article_key": _STRING,
            "version": _INT,
            "kind": _KINDS,
            "stance": {"enum": [*_values(Stance), None]},
            "parent_id": _NULLABLE_INT,
            "alinea": _NULLABLE_INT,
            "quote": _NULLABLE_STRING,
            "operation": _NULLABLE_STRING,
            "old_text": _STRING,
            "new_text": _STRING,
            "body": _STRING,
            "url": {
                **_NULLABLE_STRING,
                "description": "The link a source gives (null for the other kinds)",
            },
            "author": _STRING,
            "created_at": _DATE,
            "votes": _object({"for": _INT, "mixed": _INT, "against": _INT}),
            "visibility": {"enum": _values(Visibility)},
            "answer": {"oneOf": [_ref("Answer"), {"type": "null"}]},
        }
    ),
    "Counts": _object(_COUNTS),
    "Question": _object(
        {
            "key": {**_STRING, "description": "An open question's answers have it as article_key"},
            "section": _STRING,
            "kind": {"enum": _values(QuestionKind)},
            "prompt": _STRING,
            "help": _STRING,
            "options": {"type": "array", "items": _STRING},
            "scale": {
                "oneOf": [
                    _object({"min": _INT, "max": _INT, "min_label": _STRING, "max_label": _STRING}),
                    {"type": "null"},
                ]
            },
            "results": {
                "description": (
                    "null while the questionnaire is open. `counts`: per option, or per point "
                    "of the scale from its minimum (empty for an open question)"
                ),
                "oneOf": [
                    _object({"answered": _INT, "counts": {"type": "array", "items": _INT}}),
                    {"type": "null"},
                ],
            },
        }
    ),
    "Questionnaire": _object(
        {
            "introduction": _STRING,
            "respondents": {**_NULLABLE_INT, "description": "null while it is open"},
            "questions": {"type": "array", "items": _ref("Question")},
        }
    ),
}


def openapi_document(server: str = "") -> dict[str, Any]:
    """The whole description, with ``server`` as the base address when given."""
    one = "/api/v1/consultations/{slug}"
    page = {"page": _INT, "per_page": _INT, "total": _INT}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "consult read API",
            "version": "1",
            "description": (
                "Public consultations on draft bills and questionnaires: their versions and "
                "questions, the contributions "
                "received, the answers given and what changed in the text. Read only; authors "
                "are pseudonymised, as in the open-data export. A contribution hidden by "
                "moderation keeps its place with its texts withheld: `quote` and `url` null, "
                "`old_text`, `new_text` and `body` empty. Errors are JSON objects with an "
                "`error` message."
            ),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": server}] if server else [],
        "paths": {
            "/api/v1/consultations": _get(
                "listConsultations",
                "Every public consultation",
                _object({"consultations": {"type": "array", "items": _ref("ConsultationSummary")}}),
                [],
            ),
            one: _get("getConsultation", "One consultation", _ref("Consultation"), [_SLUG]),
            f"{one}/versions/{{number}}": _get(
                "getVersion", "The text of a version", _ref("Version"), [_SLUG, _NUMBER]
            ),
            f"{one}/versions/{{number}}/changes": _get(
                "getVersionChanges",
                "What a version changed, and where each change came from",
                _object(
                    {
                        "version": _INT,
                        "changes": {
                            "type": "array",
                            "items": _object(
                                {
                                    "article_key": _STRING,
                                    "alinea": _INT,
                                    "kind": {"enum": _CHANGE_KINDS},
                                    "text": _STRING,
                                    "contribution_id": _NULLABLE_INT,
                                    "answer_id": _NULLABLE_INT,
                                    "by": {"enum": _values(ChangeOrigin)},
                                }
                            ),
                        },
                    }
                ),
                [_SLUG, _NUMBER],
            ),
            f"{one}/contributions": _get(
                "listContributions",
                "Contributions, oldest first, each with its standing answer",
                _object({**page, "items": {"type": "array", "items": _ref("Contribution")}}),
                [
                    _SLUG,
                    _PAGE,
                    _PER_PAGE,
                    {
                        "name": "kind",
                        "in": "query",
                        "required": False,
                        "schema": _KINDS,
                    },
                    {
                        "name": "article",
                        "in": "query",
                        "required": False,
                        "description": "An article key, such as art-3",
                        "schema": {"type": "string"},
                    },
                ],
                bad_request=True,
            ),
            f"{one}/contributions/{{contribution_id}}": _get(
                "getContribution",
                "One contribution with its standing answer",
                _ref("Contribution"),
                [
                    _SLUG,
                    {
                        "name": "contribution_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1},
                    },
                ],
            ),
            f"{one}/answers": _get(
                "listAnswers",
                "Published answers, oldest first",
                _object({**page, "items": {"type": "array", "items": _ref("Answer")}}),
                [_SLUG, _PAGE, _PER_PAGE],
                bad_request=True,
            ),
            f"{one}/feedback": _get(
                "getFeedback",
                "Contributions received and their fate, in all and per article",
                _object(
                    {
                        "total": _ref("Counts"),
                        "articles": {
                            "type": "array",
                            "items": _object({"key": _STRING, **_COUNTS}),
                        },
                    }
                ),
                [_SLUG],
            ),
            f"{one}/questionnaire": _get(
                "getQuestionnaire",
                "The questions of a questionnaire consultation and, once closed, its figures",
                _ref("Questionnaire"),
                [_SLUG],
            ),
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenAPI",
                    "summary": "This description",
                    "parameters": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "429": _TOO_MANY,
                    },
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }
