"""The demo's second consultation: a call for proposals on a questionnaire, in the manner of the
one France held before the Open Government Partnership summit of December 2016.

Its answers are composed from hand-written French sentences, a few per subject, so that the
synthesis of the open question finds real groups; the closed answers lean with the subject
(who writes about open data mostly ticks "Données ouvertes"), so the crossing of the two says
something. Everything is seeded: the same answers every time.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.services import find_user_by_email
from consult.consultations.models import Consultation, ConsultationKind, Phase
from consult.consultations.services import create_consultation
from consult.db import utcnow
from consult.organisations.models import Organisation
from consult.questionnaires.answers_import import import_answers
from consult.questionnaires.format import parse_questionnaire
from consult.questionnaires.services import (
    Given,
    load_questionnaire,
    publish_questionnaire,
    save_response,
)

QUESTIONNAIRE_SLUG = "gouvernement-ouvert"
QUESTIONNAIRE_TITLE = "Appel à propositions pour un gouvernement ouvert"
QUESTIONNAIRE_SUMMARY = (
    "Avant le sommet mondial du Partenariat pour un gouvernement ouvert, le ministère appelle"
    " chacun à proposer des actions concrètes pour une action publique plus transparente, plus"
    " participative et plus collaborative."
)
QUESTIONNAIRE_MD = """La France accueille le sommet mondial du **Partenariat pour un gouvernement \
ouvert**. Proposez les engagements que l’État devrait y prendre : chaque proposition sera lue, \
regroupée avec celles qui lui ressemblent et recevra une réponse.

## Vous

### Vous répondez en tant que [choix unique]
- Citoyen ou citoyenne
- Association ou collectif
- Agent public
- Entreprise
- Chercheur ou chercheuse

### Quels thèmes vous tiennent à cœur ? [choix multiples]
Cochez autant de thèmes que vous voulez.
- Transparence de l’action publique
- Participation des citoyens
- Données ouvertes
- Intégrité et prévention des conflits d’intérêts
- Numérique et communs

## Votre proposition

### Quelle action proposez-vous ? [texte 3000]
Une action concrète, que l’État pourrait engager dans les deux ans.

### Qui devrait la mener, et avec qui ? [texte 1500]

## Votre avis

### Les administrations associent-elles assez les citoyens à leurs décisions ?\
 [échelle 1-5 : Pas du tout | Tout à fait]
"""

# Subjects of the proposals: (theme ticked most often, opening sentences, details, who leads).
_SUBJECTS: list[tuple[int, list[str], list[str], list[str]]] = [
    (
        4,
        [
            "Publier en ligne l’agenda des ministres et de leurs cabinets chaque semaine.",
            "Rendre public l’agenda des rendez-vous des ministres avec les représentants"
            " d’intérêts.",
            "Créer un registre des représentants d’intérêts commun à l’État et au Parlement.",
            "Publier la liste des rencontres entre les décideurs publics et les lobbies.",
        ],
        [
            "On saurait enfin qui rencontre qui avant qu’une loi soit écrite.",
            "Les rendez-vous avec les lobbies doivent être connus de tous.",
            "Le registre doit indiquer les sommes dépensées pour influencer la décision.",
            "Les citoyens pourraient voir l’influence des intérêts privés sur chaque texte.",
        ],
        [
            "La Haute Autorité pour la transparence de la vie publique.",
            "Les cabinets ministériels eux-mêmes.",
        ],
    ),
    (
        3,
        [
            "Ouvrir les données des marchés publics, de l’appel d’offres jusqu’au paiement.",
            "Publier en données ouvertes tous les contrats de la commande publique.",
            "Mettre en open data les marchés publics des collectivités dans un format commun.",
            "Rendre réutilisables les données de la commande publique, contrat par contrat.",
        ],
        [
            "Chacun pourrait suivre où va l’argent public et à quel prix.",
            "Les données des marchés publics permettent de repérer les abus et les ententes.",
            "Un format commun rendrait les données comparables d’une collectivité à l’autre.",
            "Les journalistes et les associations pourraient analyser les contrats.",
        ],
        [
            "La mission Etalab.",
            "La direction des achats de l’État.",
        ],
    ),
    (
        1,
        [
            "Tirer au sort des citoyens pour former une assemblée consultée sur chaque grande"
            " réforme.",
            "Réunir une convention de citoyens tirés au sort sur le climat et l’énergie.",
            "Associer des citoyens tirés au sort à l’évaluation des politiques publiques.",
            "Instaurer des jurys citoyens tirés au sort dans chaque région.",
        ],
        [
            "Le tirage au sort donne la parole à ceux qu’on n’entend jamais.",
            "Une assemblée tirée au sort délibère loin des partis et des lobbies.",
            "Les citoyens tirés au sort doivent être formés et indemnisés.",
            "Les avis de l’assemblée citoyenne devraient recevoir une réponse publique du"
            " gouvernement.",
        ],
        [
            "Le Conseil économique, social et environnemental.",
            "Le Parlement.",
        ],
    ),
    (
        1,
        [
            "Consulter en ligne le public sur chaque projet de loi avant son examen.",
            "Ouvrir chaque projet de décret à une consultation publique en ligne.",
            "Permettre aux citoyens d’amender en ligne les projets de loi.",
            "Généraliser les consultations en ligne article par article comme pour la loi"
            " numérique.",
        ],
        [
            "Chaque contribution devrait recevoir une réponse argumentée du ministère.",
            "La consultation en ligne doit durer assez longtemps pour que chacun participe.",
            "Il faut publier ce que le texte a retenu des contributions.",
            "Les amendements citoyens les plus soutenus devraient être examinés par le Parlement.",
        ],
        [
            "Le secrétariat général du gouvernement, pour tous les ministères.",
            "Chaque ministère qui rédige un projet de loi.",
        ],
    ),
    (
        5,
        [
            "Publier le code source des logiciels développés par l’administration.",
            "Ouvrir le code source des algorithmes publics, comme celui d’APB ou des impôts.",
            "Privilégier les logiciels libres dans les administrations et les écoles.",
            "Expliquer aux usagers les algorithmes qui prennent des décisions les concernant.",
        ],
        [
            "Le code source d’un algorithme public est un document administratif comme un autre.",
            "Les logiciels libres évitent de dépendre d’un seul éditeur.",
            "Chacun doit pouvoir comprendre comment un algorithme a décidé de son dossier.",
            "Le code ouvert permet à d’autres administrations de le réutiliser.",
        ],
        [
            "La direction interministérielle du numérique.",
            "Les administrations qui développent des logiciels.",
        ],
    ),
    (
        4,
        [
            "Protéger les lanceurs d’alerte qui signalent des fraudes dans l’administration.",
            "Créer un canal sûr pour que les agents publics signalent les conflits d’intérêts.",
            "Mieux protéger les lanceurs d’alerte contre les représailles de leur employeur.",
            "Donner aux lanceurs d’alerte un soutien juridique et financier.",
        ],
        [
            "Sans protection, personne n’ose signaler une fraude ou un conflit d’intérêts.",
            "Les représailles contre les lanceurs d’alerte doivent être sanctionnées.",
            "Le signalement doit pouvoir rester anonyme.",
            "Un défenseur indépendant devrait accompagner chaque lanceur d’alerte.",
        ],
        [
            "Le Défenseur des droits.",
            "L’Agence française anticorruption.",
        ],
    ),
]
# Brief answers, as every real call for proposals receives some.
_BRIEF = ["Plus de transparence !", "Écouter vraiment les citoyens.", "Je n’ai pas d’idée précise."]
# What people write around their proposal: how they put it, who they are, how they end. Each
# answer draws one of each, so that two answers on one subject are rarely the same text (a text
# sent by many is a copy-paste campaign for the synthesis, which real calls also receive).
_LEADS = [
    "Je propose de {}",
    "Il faudrait {}",
    "L’État devrait {}",
    "Ma proposition\u00a0: {}",
    "Nous demandons de {}",
    "Pourquoi ne pas {}",
    "Une idée simple\u00a0: {}",
    "Il est temps de {}",
    "{}",
]
_WHO = [
    "Je suis enseignante dans un collège de Bretagne.",
    "Je travaille depuis vingt ans dans une préfecture.",
    "Notre association d’habitants existe depuis 2009.",
    "Je suis étudiant en droit public à Lyon.",
    "Je suis élu d’une petite commune rurale.",
    "Je suis journaliste indépendante.",
    "Je suis développeur dans une jeune entreprise.",
    "Retraité, je suis les débats publics de près.",
    "Je suis infirmière et mère de trois enfants.",
    "Je milite dans une association de consommateurs.",
    "",
    "",
]
_ENDS = [
    "Merci de nous consulter.",
    "C’est une question de confiance.",
    "Cela ne coûterait presque rien.",
    "D’autres pays le font déjà.",
    "La démocratie en sortirait renforcée.",
    "J’espère que cette idée sera retenue.",
    "",
    "",
]
_PARTNERS = [
    "avec les associations",
    "avec les collectivités",
    "en lien avec les chercheurs",
    "avec des citoyens volontaires",
    "sous le contrôle du Parlement",
    "avec l’appui des syndicats",
]

_BECAUSE = [
    "pour garantir son indépendance",
    "car ils connaissent le terrain",
    "dès l’année prochaine",
    "avec un budget dédié",
    "et en rendant compte chaque année",
    "avec un calendrier public",
    "sans attendre une loi",
]


def _lowered(sentence: str) -> str:
    return sentence[0].lower() + sentence[1:]


def _proposal(chance: random.Random, openings: list[str], details: list[str]) -> str:
    """One proposal on a subject, written in one's own way."""
    lead = chance.choice(_LEADS)
    opening = chance.choice(openings)
    parts = [
        chance.choice(_WHO),
        lead.format(_lowered(opening) if lead != "{}" else opening),
        *chance.sample(details, chance.randint(1, 2)),
        chance.choice(_ENDS),
    ]
    return " ".join(part for part in parts if part)


@dataclass(frozen=True)
class DemoAnswer:
    """One participant's answers to the demo questionnaire (options numbered from 1)."""

    reference: str
    who: int
    themes: tuple[int, ...]
    proposal: str
    who_leads: str
    scale: int | None


def demo_answers(count: int, seed: int = 2016) -> list[DemoAnswer]:
    """`count` participants' answers, the same for the same seed."""
    chance = random.Random(seed)  # noqa: S311  (the demo is the same on every machine)
    answers: list[DemoAnswer] = []
    for number in range(1, count + 1):
        if chance.random() < 0.05:
            proposal, theme, leads = chance.choice(_BRIEF), chance.randint(1, 5), ""
        else:
            theme, openings, details, leaders = chance.choice(_SUBJECTS)
            proposal = _proposal(chance, openings, details)
            leads = ""
            if chance.random() < 0.6:
                extra = [chance.choice(_PARTNERS), chance.choice(_BECAUSE)]
                leads = f"{chance.choice(leaders)[:-1]}, {', '.join(chance.sample(extra, 2))}."
        themes = {theme} | {t for t in range(1, 6) if t != theme and chance.random() < 0.2}
        who = chance.choices(range(1, 6), weights=(60, 20, 10, 5, 5))[0]
        scale = chance.choices((1, 2, 3, 4, 5), weights=(30, 35, 20, 10, 5))[0]
        answers.append(
            DemoAnswer(
                reference=f"ogp-{number:04d}",
                who=who,
                themes=tuple(sorted(themes)),
                proposal=proposal,
                who_leads=leads,
                scale=scale if chance.random() < 0.9 else None,
            )
        )
    return answers


def answers_csv(answers: list[DemoAnswer]) -> str:
    """The answers as the CSV a ministry would import (one row per participant)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["reference", "q1", "q2", "q3", "q4", "q5"])
    for a in answers:
        writer.writerow(
            [
                a.reference,
                a.who,
                "|".join(str(t) for t in a.themes),
                a.proposal,
                a.who_leads,
                "" if a.scale is None else a.scale,
            ]
        )
    return out.getvalue()


DEMO_RESPONSES = 300


async def seed_questionnaire_demo(
    session: AsyncSession, now: datetime | None = None, count: int = DEMO_RESPONSES
) -> Consultation:
    """The call for proposals, open like the bill's demo, with `count` participants' answers
    (imported, as a ministry imports those collected elsewhere) and the demo citizen's own."""
    from consult.demo.seed import (
        DEMO_MINISTRY,
        DEMO_ORGANISATION_SLUG,
        demo_schedule,
        seed_demo,
    )

    now = now or utcnow()
    await seed_demo(session, now=now)
    existing = await session.scalar(
        select(Consultation).where(Consultation.slug == QUESTIONNAIRE_SLUG)
    )
    if existing is not None:
        return existing
    official = await find_user_by_email(session, "ministere@demo.consult.test")
    citizen = await find_user_by_email(session, "citoyenne@demo.consult.test")
    assert official is not None and citizen is not None
    organisation = await session.scalar(
        select(Organisation).where(Organisation.slug == DEMO_ORGANISATION_SLUG)
    )
    consultation = await create_consultation(
        session,
        slug=QUESTIONNAIRE_SLUG,
        kind=ConsultationKind.QUESTIONNAIRE,
        title=QUESTIONNAIRE_TITLE,
        summary=QUESTIONNAIRE_SUMMARY,
        ministry=DEMO_MINISTRY,
        owner=official,
        organisation=organisation,
        phase_starts=demo_schedule(now),
    )
    await publish_questionnaire(
        session,
        consultation,
        parse_questionnaire(QUESTIONNAIRE_MD),
        source_text=QUESTIONNAIRE_MD,
        source_format="markdown",
        published_by=official,
    )
    questionnaire = await load_questionnaire(session, consultation)
    assert questionnaire is not None
    opened = demo_schedule(now)[Phase.OPEN]
    await import_answers(
        session, questionnaire, answers_csv(demo_answers(count)), now=opened, actor_id=official.id
    )
    own = {
        "q1": Given(choices=(1,)),
        "q2": Given(choices=(2, 3)),
        "q3": Given(
            text="Publier en données ouvertes tous les contrats de la commande publique."
            " Chacun pourrait suivre où va l’argent public et à quel prix."
        ),
        "q5": Given(value=2),
    }
    await save_response(session, questionnaire, citizen, own, revision=0, now=now)
    return consultation
