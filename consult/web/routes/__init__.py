"""Route tables, one module per domain concept."""

from __future__ import annotations

from starlette.routing import BaseRoute

from consult.web.routes import (
    accounts,
    answers,
    api,
    articles,
    bills,
    consultations,
    contributions,
    feedback,
    home,
    identity,
    legal,
    moderation,
    my_data,
    notifications,
    opendata,
    organisations,
    questionnaires,
    recovery,
    revisions,
    synthesis,
    two_factor,
)


def all_routes() -> list[BaseRoute]:
    """Every route of the application."""
    return [
        *home.routes,
        *accounts.routes,
        *recovery.routes,
        *my_data.routes,
        *two_factor.routes,
        *identity.routes,
        *legal.routes,
        *consultations.routes,
        *bills.routes,
        *questionnaires.routes,
        *articles.routes,
        *contributions.routes,
        *moderation.routes,
        *synthesis.routes,
        *answers.routes,
        *feedback.routes,
        *revisions.routes,
        *notifications.routes,
        *opendata.routes,
        *organisations.routes,
        *api.routes,
    ]
