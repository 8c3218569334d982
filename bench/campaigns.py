"""Copy detection (campaigns and reposts) on a synthetic French corpus with injected copies.

    .venv/bin/python -m bench.campaigns [--items 10000 100000] [--signed 20000] [--seed 7]
                                        [--corpus campaigns|consultation]
                                        [--detectors before after]
    .venv/bin/python -m bench.campaigns --real

For each corpus size, builds contributions from varied French sentence fragments (openings,
subjects, arguments, examples with random figures, proposals and closings) and injects eight
form-letter campaigns of 50 to 2,000 copies (scaled down for small corpora), each copy by its
own author (a few sign twice), half of the copies edited: a word replaced, a sentence added or
removed, a short personal line before or after the letter, typos, or only the typography. It
also injects reposts: six authors posting one contribution of theirs 5 to 30 times, and 400
authors per 100,000 contributions (at least 40) posting theirs 2 to 4 times, four copies in
ten edited (a sentence added or removed, a personal line, typos, typography), one small group
in ten with a second author posting one copy. With ``--signed N``, one more run adds a
campaign of N copies that each carry the signer's name, so that every copy is a different
text.
``--corpus consultation`` runs on the synthesis benchmark's corpus (bench/corpus.py) instead:
its eight campaigns, no injected reposts.

Each detector runs in a fresh process: "before" is the detector as it was before campaigns
and reposts were told apart (Jaccard groups of three copies or more, whoever posted them),
kept here for comparison, and "after" is :func:`consult.nlp.campaigns.detect_copies`. Each run
prints the time of the detection, the peak resident memory of the process (and how much of it
came on top of the corpus), then for campaigns and for reposts the groups found and the
precision and recall of membership against the injected truth, per item (is the item in a
group of that kind) and per pair (are two items in the same group), and the share of each kind
of copy found in its letter's (or repost's) main group.

``--real`` prints what both detectors find among the real contributions of République
numérique (``../shared/data/republique-numerique-dev/``, read in place, never copied).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import random
import resource
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from consult.nlp.campaigns import (
    _INDEXED_PER_GROUP,
    _SHINGLE_CACHE,
    Campaign,
    CampaignParams,
    Item,
    UInt32Array,
    _BandIndex,
    _campaign,
    _collector_paused,
    _most_central,
    _similar,
    detect_copies,
    signatures,
)
from consult.nlp.normalize import normalise_for_matching, shingles_of_normalised

OPENINGS = [
    "Je soutiens pleinement {subject}.",
    "Je suis opposé à {subject}.",
    "Je suis opposée à {subject}, du moins dans sa rédaction actuelle.",
    "Concernant {subject}, le texte va dans le bon sens.",
    "À propos de {subject}, j'ai plusieurs réserves.",
    "{Subject} me paraît insuffisamment encadré.",
    "Il faut saluer {subject}, qui répond à une attente ancienne.",
    "Je m'interroge sur la portée réelle de {subject}.",
    "En tant qu'élu local, je voudrais réagir sur {subject}.",
    "Citoyenne engagée, je lis avec attention les dispositions sur {subject}.",
    "Le projet de loi traite enfin de {subject}.",
    "Je ne comprends pas pourquoi {subject} a été modifié par rapport à la version initiale.",
    "Sur {subject}, le texte reste trop timide.",
    "Merci d'ouvrir la discussion sur {subject}.",
    "Ma remarque porte sur {subject}.",
    "Je voudrais alerter les rédacteurs sur {subject}.",
    "Après lecture attentive, {subject} me semble mal conçu.",
    "Je partage l'objectif poursuivi avec {subject}.",
    "Le dispositif relatif à {subject} est bienvenu mais incomplet.",
    "Une précision s'impose au sujet de {subject}.",
    "Je travaille dans une association et {subject} nous concerne directement.",
    "Juriste de formation, je relève une difficulté dans {subject}.",
    "{Subject} risque de rester lettre morte.",
    "Je suis favorable à {subject} sous conditions.",
    "Beaucoup d'habitants de mon quartier m'ont parlé de {subject}.",
    "Il serait utile de revoir {subject}.",
    "Je défends depuis longtemps l'idée qui sous-tend {subject}.",
    "On ne peut qu'approuver {subject}.",
    "J'ai un doute sur la constitutionnalité de {subject}.",
    "Retraité, je participe pour la première fois et je souhaite commenter {subject}.",
    "Enseignante, je constate chaque jour l'importance de {subject}.",
    "Le Conseil d'État devrait se pencher sur {subject}.",
]

SUBJECTS = [
    "le délai de consultation prévu à l'article {a}",
    "l'obligation de publier les avis des commissions",
    "le registre des représentants d'intérêts",
    "l'ouverture des données publiques",
    "l'accessibilité des textes aux personnes handicapées",
    "la version en langage clair des projets de loi",
    "le droit de pétition auprès des assemblées locales",
    "la publication des études d'impact",
    "le rôle de la commission nationale du débat public",
    "la réponse motivée de l'administration aux contributions",
    "la durée minimale de {n} jours avant le vote",
    "la participation des mineurs de plus de {age} ans",
    "l'usage des algorithmes par l'administration",
    "la protection des lanceurs d'alerte",
    "les sanctions prévues à l'article {a}",
    "l'information des communes rurales",
    "la traduction des textes dans les langues régionales",
    "le budget participatif départemental",
    "la transparence des rémunérations des dirigeants publics",
    "le contrôle par la Cour des comptes",
    "la consultation des partenaires sociaux",
    "l'évaluation des lois après trois ans",
    "le référendum d'initiative locale",
    "la place des associations dans les conseils consultatifs",
    "l'archivage des contributions citoyennes",
    "la publicité des votes en commission",
    "la neutralité des plateformes de consultation",
    "l'anonymat des contributeurs",
    "la modération des contributions",
    "le seuil de {n} signatures pour saisir le Parlement",
    "la formation des agents publics à la participation",
    "le financement des maisons de services au public",
    "la lutte contre la fracture numérique",
    "la définition du conflit d'intérêts",
    "le délai de réponse de {n} jours imposé aux ministères",
    "la sincérité des comptes rendus de réunion",
    "la diffusion des débats en direct",
    "le droit d'amendement citoyen",
    "le tirage au sort des conventions citoyennes",
    "les dérogations accordées aux collectivités d'outre-mer",
    "le calendrier d'entrée en vigueur fixé à l'article {a}",
    "la coordination avec le droit européen",
]

ARGUMENTS = [
    "Les petites communes n'ont pas les moyens humains de suivre ces procédures.",
    "Sans sanction, l'obligation ne sera jamais respectée.",
    "Les citoyens doivent pouvoir comprendre ce qu'on leur demande d'approuver.",
    "Un délai trop court favorise ceux qui disposent déjà de juristes.",
    "La confiance dans les institutions se construit par la transparence.",
    "Les associations jouent un rôle de relais qu'il faut reconnaître.",
    "Le numérique exclut encore une partie importante de la population.",
    "Les expériences étrangères montrent que ce type de mesure fonctionne.",
    "Le coût de la mesure est faible au regard de ses bénéfices.",
    "Il existe déjà des dispositifs comparables qui ne sont pas appliqués.",
    "La rédaction actuelle laisse une trop grande marge d'appréciation au ministre.",
    "Les jeunes se sentent rarement écoutés par les pouvoirs publics.",
    "Une évaluation indépendante est indispensable pour juger de l'efficacité.",
    "La charge administrative reposera encore sur les mairies.",
    "Les élus doivent rendre des comptes régulièrement.",
    "Le texte confond information et véritable participation.",
    "Les entreprises pourront contourner la règle sans difficulté.",
    "Il faut éviter que la consultation devienne une simple formalité.",
    "La jurisprudence récente va dans le même sens.",
    "Les personnes âgées risquent d'être oubliées.",
    "La mesure devrait être expérimentée avant d'être généralisée.",
    "On ne peut pas demander aux bénévoles de tout faire.",
    "Le Défenseur des droits a déjà formulé des recommandations en ce sens.",
    "La publication tardive des documents empêche tout débat sérieux.",
    "Le vocabulaire employé est beaucoup trop technique.",
    "Les outre-mer ont des contraintes particulières qu'il faut prendre en compte.",
    "Ce dispositif renforcerait l'égalité entre les territoires.",
    "Les données personnelles des participants doivent être protégées.",
    "La rédaction proposée créera des contentieux inutiles.",
    "Une telle réforme suppose des moyens budgétaires qui ne sont pas prévus.",
    "L'administration doit expliquer pourquoi elle écarte une proposition.",
    "Les syndicats et les associations d'usagers devraient être associés.",
    "Rien ne garantit que les contributions seront réellement lues.",
    "Le texte ne précise pas qui contrôlera le respect de ces règles.",
]

EXAMPLES = [
    "Dans ma commune de {n} habitants, il a fallu {m} mois pour obtenir une réponse.",
    "Lors de la dernière consultation, seules {pct} % des contributions ont reçu une réponse.",
    "Notre association compte {n} adhérents et aucun n'a été informé à temps.",
    "J'ai envoyé {m} courriers restés sans suite depuis {year}.",
    "Le rapport de {year} évaluait le coût à {n} euros par an.",
    "Il y a {m} ans, une mesure semblable avait été abandonnée faute de décret.",
    "Environ {pct} % des habitants de mon canton n'ont pas d'accès fiable à internet.",
    "La réunion publique organisée en {year} avait réuni {n} personnes.",
    "Le formulaire en ligne comportait {m} pages et il fallait plus d'une heure pour le remplir.",
    "Selon la préfecture, {pct} % des dossiers sont traités hors délai.",
    "Nous avons recueilli {n} signatures en {m} semaines sur le marché.",
    "Mon fils de {age} ans a voulu participer mais n'y a pas été autorisé.",
    "En {year}, le conseil municipal a consacré {pct} % de son budget à la participation.",
    "J'ai attendu {m} semaines un simple accusé de réception.",
    "Sur {n} avis déposés, l'administration en a retenu moins de {m}.",
]

PROPOSALS = [
    "porter le délai à {n} jours",
    "prévoir une sanction financière proportionnée",
    "publier systématiquement une synthèse des contributions",
    "associer les associations d'élus ruraux à la rédaction des décrets",
    "rendre le registre accessible en données ouvertes",
    "supprimer l'alinéa {a}",
    "réécrire l'article en termes plus simples",
    "créer un référent participation dans chaque préfecture",
    "ouvrir la participation dès {age} ans",
    "prévoir une évaluation au bout de {m} ans",
    "imposer une réponse motivée à chaque proposition retenue ou écartée",
    "garantir une version papier dans chaque mairie",
    "confier le contrôle à une autorité indépendante",
    "fixer un seuil de {n} participants pour déclencher un débat",
    "traduire les documents principaux en langue des signes",
    "limiter les dérogations aux cas d'urgence",
    "publier l'agenda des rencontres avec les représentants d'intérêts",
    "financer des médiateurs numériques dans les territoires",
    "rendre obligatoire la publication des études d'impact complètes",
    "protéger l'anonymat des contributeurs qui le demandent",
    "prévoir un droit de réponse des associations",
    "réduire le nombre de renvois à des décrets",
    "étendre le dispositif aux établissements publics",
    "supprimer la condition de nationalité",
    "inscrire un calendrier précis dans la loi",
    "organiser des réunions publiques dans chaque canton",
    "permettre le dépôt de contributions par courrier",
    "clarifier la notion de contribution substantielle",
    "aligner le texte sur la convention d'Aarhus",
    "prévoir une clause de revoyure",
]

CLOSINGS = [
    "Merci de votre attention.",
    "Je reste disponible pour en discuter.",
    "Cordialement.",
    "J'espère être entendu.",
    "J'espère être entendue.",
    "Bon courage aux rédacteurs.",
    "C'est une question de démocratie.",
    "Il en va de la crédibilité de toute la démarche.",
    "Merci pour cette consultation.",
    "Je compte sur vous.",
    "",
    "",
    "",
    "Bien à vous.",
    "Vivement la suite des débats.",
    "Ce serait un vrai progrès.",
    "À suivre.",
    "Je vous remercie.",
    "Salutations citoyennes.",
    "Il est encore temps de corriger le tir.",
]

# Form letters of the kind interest groups and petition sites circulate.
TEMPLATES = [
    "Je m'oppose fermement à l'article 13 du projet de loi, qui prévoit une amende pouvant "
    "atteindre quinze mille euros pour les représentants d'intérêts. En tant que professionnel, "
    "je participe de bonne foi aux consultations publiques pour apporter une expertise de "
    "terrain dont l'administration ne dispose pas toujours. Cette sanction disproportionnée "
    "découragera les entreprises de contribuer, au détriment de la qualité des textes. Je "
    "demande donc la suppression du II de l'article 13.",
    "Madame, Monsieur, je soutiens sans réserve la création d'un droit de pétition local. Trop "
    "souvent, les habitants découvrent les projets une fois les décisions prises. Permettre à un "
    "dixième des électeurs d'une commune d'inscrire un sujet à l'ordre du jour du conseil "
    "municipal redonnerait du sens à la démocratie de proximité. Je vous demande d'adopter "
    "l'article 9 tel qu'il est rédigé, sans en relever le seuil.",
    "Parents d'élèves, nous refusons que les mineurs de seize ans soient exclus des "
    "consultations publiques. Nos enfants sont les premiers concernés par les décisions sur "
    "le climat, l'école et le numérique. Ils ont des idées et savent les exprimer. Abaisser "
    "l'âge de participation à seize ans serait un signal fort adressé à toute une génération. "
    "Nous demandons la modification de l'article 4 en ce sens.",
    "Je suis chasseur et je demande le retrait de l'article 21, qui impose une consultation "
    "préalable du public pour chaque arrêté fixant les dates d'ouverture de la chasse. Cette "
    "procédure alourdira le travail des fédérations départementales et retardera des décisions "
    "qui doivent être prises rapidement. Les chasseurs sont les premiers gestionnaires de la "
    "faune sauvage et doivent être écoutés.",
    "Pour une véritable transparence, l'agenda des ministres et de leurs conseillers doit être "
    "publié chaque semaine, avec la liste des représentants d'intérêts rencontrés. C'est ce que "
    "font déjà plusieurs pays européens. Sans cette obligation, le registre prévu à l'article "
    "15 restera une coquille vide. Je demande l'ajout d'un alinéa en ce sens et une sanction "
    "en cas de manquement.",
    "En tant qu'habitant d'une commune rurale, je demande que chaque consultation soit aussi "
    "accessible sur papier en mairie. Dans mon village, la couverture internet est mauvaise et "
    "beaucoup de personnes âgées n'utilisent pas d'ordinateur. La participation ne doit pas être "
    "réservée aux urbains connectés. L'article 6 doit garantir un accès hors ligne à tous les "
    "documents soumis à consultation.",
    "Les associations de protection de l'environnement doivent disposer d'un délai d'au moins "
    "soixante jours pour analyser les projets soumis à consultation. Les dossiers comptent "
    "souvent plusieurs centaines de pages techniques et nos bénévoles ne peuvent pas les "
    "étudier en trois semaines. Un délai trop court vide la participation de son sens. Je "
    "demande la modification de l'article 3.",
    "Je demande que toutes les contributions déposées sur cette plateforme reçoivent une "
    "réponse motivée de l'administration, qu'elles soient retenues ou écartées. Participer "
    "sans savoir ce que devient son avis décourage les citoyens et nourrit la défiance. Une "
    "synthèse publique, rédigée dans un langage clair, devrait être publiée au plus tard deux "
    "mois après la clôture de chaque consultation.",
]
# The letter of the signed campaign (``--signed``): every copy starts with the signer's name.
SIGNED_TEMPLATE = (
    "demande que le Parlement renonce à la réduction du délai de recours contre les décisions "
    "d'urbanisme prévue à l'article 17. Ramener ce délai de deux mois à quinze jours empêcherait "
    "les riverains, qui découvrent souvent les projets tardivement, de faire valoir leurs droits. "
    "Les associations de quartier n'auraient plus le temps de se réunir ni de consulter un avocat. "
    "Je vous prie de maintenir le droit actuel."
)

ADDED_SENTENCES = [
    "Je suis mère de trois enfants et je m'inquiète pour leur avenir.",
    "J'habite dans le Cantal depuis vingt ans.",
    "Merci de prendre en compte mon avis.",
    "C'est la première fois que je participe à une consultation.",
    "Je parle aussi au nom de mes voisins.",
    "Ce sujet me tient particulièrement à cœur.",
    "Je l'ai déjà écrit à mon député, sans réponse.",
    "Je suis artisan et je vois les effets de ces règles au quotidien.",
    "Dans une PME comme la mienne, personne n'a le temps de suivre ces procédures.",
    "Il est urgent d'agir.",
]

# Short personal lines people put before or after a form letter they send.
PERSONAL_LINES = [
    "Bonjour,",
    "Madame, Monsieur,",
    "Habitante du Finistère.",
    "Retraité, ancien artisan.",
    "Je signe cette lettre avec conviction.",
    "Transmis par un parent d'élève.",
    "Signé : {first} {last}.",
    "{first} {last}, {postcode}.",
    "Bien cordialement, {first}.",
    "{first}, {age} ans, étudiante.",
]

REPLACEMENTS = {
    "demande": "réclame",
    "fermement": "vivement",
    "souvent": "fréquemment",
    "doivent": "devraient",
    "publique": "ouverte",
    "projets": "dossiers",
    "décisions": "choix",
    "citoyens": "habitants",
    "rapidement": "vite",
    "véritable": "vraie",
    "important": "essentiel",
    "modification": "réécriture",
    "associations": "structures",
    "personnes": "gens",
    "premiers": "principaux",
}

FIRST_NAMES = [
    "Julien",
    "Sophie",
    "Karim",
    "Nathalie",
    "Thomas",
    "Aïcha",
    "Pierre",
    "Camille",
    "Marc",
    "Émilie",
    "Youssef",
    "Hélène",
    "Bruno",
    "Inès",
    "Olivier",
    "Chantal",
    "Mamadou",
    "Léa",
    "François",
    "Nadia",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Nguyen",
    "Benali",
]

CAMPAIGN_SIZES = [2000, 1200, 800, 500, 300, 150, 80, 50]
# Reposts: one author posting the same contribution again, as the real consultations show
# (an organisation pasting its statement under every article, a citizen posting twice).
# Groups of this many copies by one author each, at any corpus size...
REPOST_SIZES = [30, 20, 12, 8, 6, 5]
# ... and this many groups of 2 to 4 copies per 100,000 contributions (at least 40); one of
# these in ten has a second author posting one copy too (a couple, two branches of one
# association).
REPOSTS_PER_100K = 400
START = datetime(2025, 3, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Corpus:
    """Items, in shuffled order, the injected campaign of each item id (or None), the
    injected repost group of each item id (or None) and how each item was made (organic, a
    copy as is, an edit kind, signed; "repost, " and the edit for reposts)."""

    items: list[Item]
    truth: dict[int, int | None]
    kinds: dict[int, str]
    reposts: dict[int, int | None] = field(default_factory=dict)


def _fill(rng: random.Random, fragment: str) -> str:
    return fragment.format(
        a=rng.randint(1, 40),
        n=rng.choice([rng.randint(10, 99), rng.randint(100, 9999), rng.randint(10_000, 90_000)]),
        m=rng.randint(2, 18),
        pct=rng.randint(3, 97),
        age=rng.randint(12, 17),
        year=rng.randint(2008, 2024),
        subject="{subject}",
        Subject="{Subject}",
    )


def organic_text(rng: random.Random) -> str:
    """One contribution assembled from the fragment lists."""
    subject = _fill(rng, rng.choice(SUBJECTS))
    opening = _fill(rng, rng.choice(OPENINGS)).format(
        subject=subject, Subject=subject[0].upper() + subject[1:]
    )
    sentences = [opening, *rng.sample(ARGUMENTS, 2)]
    if rng.random() < 0.7:
        sentences.append(_fill(rng, rng.choice(EXAMPLES)))
    if rng.random() < 0.8:
        sentences.append(f"Je propose de {_fill(rng, rng.choice(PROPOSALS))}.")
    rng.shuffle(sentences[1:])
    sentences.append(rng.choice(CLOSINGS))
    return " ".join(sentence for sentence in sentences if sentence)


def _split_sentences(text: str) -> list[str]:
    parts = text.replace(". ", ".\n").split("\n")
    return [part for part in parts if part]


def _typos(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(1, len(chars) - 2)
        kind = rng.randrange(3)
        if kind == 0:
            chars[at], chars[at + 1] = chars[at + 1], chars[at]
        elif kind == 1:
            del chars[at]
        else:
            chars.insert(at, chars[at])
    return "".join(chars)


def _typography(rng: random.Random, text: str) -> str:
    """Changes that normalisation folds: quotes, spaces, case, emphasis."""
    text = text.replace("'", "’")
    if rng.random() < 0.5:
        text = text.replace(" ", "\u00a0", 3)
    if rng.random() < 0.3:
        text = text.upper()
    if rng.random() < 0.5:
        words = text.split(" ")
        at = rng.randrange(len(words))
        words[at] = f"**{words[at]}**"
        text = " ".join(words)
    return text


EDIT_KINDS = ["word replaced", "sentence added", "sentence removed", "typos", "typography"]
# Edits of the injected campaigns of this benchmark: those of EDIT_KINDS (which bench/corpus.py
# draws from too) and a short personal line before or after the letter.
COPY_EDITS = [*EDIT_KINDS, "personal line first", "personal line last"]
# Edits a repost gets: its text is an ordinary contribution, which may not hold a word of
# REPLACEMENTS.
REPOST_EDITS = ["sentence added", "sentence removed", "typos", "typography", "personal line last"]


def personal_line(rng: random.Random) -> str:
    """A short line a signer adds to a letter: a greeting, who they are, a signature."""
    return rng.choice(PERSONAL_LINES).format(
        first=rng.choice(FIRST_NAMES),
        last=rng.choice(LAST_NAMES),
        postcode=rng.randint(1000, 95999),
        age=rng.randint(18, 85),
    )


def edited_copy(rng: random.Random, template: str, kind: str | None = None) -> tuple[str, str]:
    """A lightly edited copy of a form letter, as people personalise them, and the edit
    (``kind``, one of :data:`COPY_EDITS`, or drawn from :data:`EDIT_KINDS`)."""
    if kind is None:
        kind = rng.choice(EDIT_KINDS)
    sentences = _split_sentences(template)
    if kind == "word replaced":
        words = [word for word in REPLACEMENTS if word in template]
        word = rng.choice(words)
        return template.replace(word, REPLACEMENTS[word], 1), kind
    if kind == "sentence added":
        sentences.insert(rng.choice([0, len(sentences)]), rng.choice(ADDED_SENTENCES))
        return " ".join(sentences), kind
    if kind == "sentence removed":
        del sentences[rng.randrange(1, len(sentences))]
        return " ".join(sentences), kind
    if kind == "personal line first":
        return f"{personal_line(rng)}\n{template}", kind
    if kind == "personal line last":
        return f"{template}\n{personal_line(rng)}", kind
    if kind == "typos":
        return _typos(rng, template), kind
    return _typography(rng, template), kind


def make_corpus(size: int, seed: int, signed: int = 0) -> Corpus:
    """Build ``size`` items, including the injected campaigns (and ``signed`` signed copies)
    and reposts."""
    rng = random.Random(seed)
    scale = min(1.0, size / 100_000)
    sizes = [max(50, round(copies * scale)) for copies in CAMPAIGN_SIZES]
    # (text, campaign, repost group, how it was made, author, date)
    texts: list[tuple[str, int | None, int | None, str, str, datetime]] = []
    author_number = 0

    def new_author() -> str:
        nonlocal author_number
        author_number += 1
        return f"citoyen-{author_number}"

    for campaign, (template, copies) in enumerate(zip(TEMPLATES, sizes, strict=True)):
        opened = START + timedelta(days=rng.uniform(0, 25))
        authors: list[str] = []
        for _ in range(copies):
            # A few people sign the same letter twice.
            author = rng.choice(authors) if authors and rng.random() < 0.03 else new_author()
            authors.append(author)
            if rng.random() < 0.5:
                text, kind = template, "as is"
            else:
                text, kind = edited_copy(rng, template, rng.choice(COPY_EDITS))
            moment = opened + timedelta(hours=rng.uniform(0, 72))
            texts.append((text, campaign, None, kind, author, moment))
    if signed:
        campaign = len(TEMPLATES)
        for _ in range(signed):
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            letter = f"Je soussigné(e) {name}, domicilié(e) à {rng.randint(1000, 95999)}, "
            moment = START + timedelta(days=rng.uniform(0, 30))
            texts.append((letter + SIGNED_TEMPLATE, campaign, None, "signed", new_author(), moment))
    small = max(40, round(REPOSTS_PER_100K * size / 100_000))
    repost_sizes = REPOST_SIZES + [rng.randint(2, 4) for _ in range(small)]
    for group, copies in enumerate(repost_sizes):
        original = organic_text(rng)
        author = new_author()
        moment = START + timedelta(days=rng.uniform(0, 30))
        for copy in range(copies):
            if copy == 0 or rng.random() < 0.6:
                text, kind = original, "as is"
            else:
                text, kind = edited_copy(rng, original, rng.choice(REPOST_EDITS))
            later = moment + timedelta(hours=rng.uniform(0, 200))
            texts.append((text, None, group, f"repost, {kind}", author, later))
        if group >= len(REPOST_SIZES) and rng.random() < 0.1:
            texts.append((original, None, group, "repost, as is", new_author(), moment))
    while len(texts) < size:
        moment = START + timedelta(days=rng.uniform(0, 30))
        texts.append((organic_text(rng), None, None, "organic", new_author(), moment))
    rng.shuffle(texts)
    items = [
        Item(id=number, text=text, author=author, created_at=moment)
        for number, (text, _, _, _, author, moment) in enumerate(texts, start=1)
    ]
    return Corpus(
        items=items,
        truth={number: row[1] for number, row in enumerate(texts, start=1)},
        kinds={number: row[3] for number, row in enumerate(texts, start=1)},
        reposts={number: row[2] for number, row in enumerate(texts, start=1)},
    )


def _pairs(count: int) -> int:
    return count * (count - 1) // 2


def score(campaigns: list[Campaign], truth: dict[int, int | None]) -> dict[str, float]:
    """Per-item and pairwise precision and recall of campaign membership."""
    found = {member: number for number, c in enumerate(campaigns) for member in c.members}
    injected = {item for item, campaign in truth.items() if campaign is not None}
    both = len(injected & found.keys())
    cells = Counter((found[item], truth[item]) for item in found if truth[item] is not None)
    true_pairs = sum(
        _pairs(n) for n in Counter(c for c in truth.values() if c is not None).values()
    )
    found_pairs = sum(_pairs(len(c.members)) for c in campaigns)
    shared_pairs = sum(_pairs(n) for n in cells.values())
    return {
        "item_precision": both / len(found) if found else 1.0,
        "item_recall": both / len(injected) if injected else 1.0,
        "pair_precision": shared_pairs / found_pairs if found_pairs else 1.0,
        "pair_recall": shared_pairs / true_pairs if true_pairs else 1.0,
    }


def joined_by_kind(
    campaigns: list[Campaign], truth: dict[int, int | None], kinds: dict[int, str]
) -> dict[str, float]:
    """For each way a copy was made, the share of copies found in the same campaign as most
    of their letter's copies."""
    found = {member: number for number, c in enumerate(campaigns) for member in c.members}
    votes = Counter(
        (letter, found[item])
        for item, letter in truth.items()
        if letter is not None and item in found
    )
    main: dict[int, int] = {}
    for (letter, number), _ in votes.most_common():
        main.setdefault(letter, number)
    made = Counter(kinds[item] for item in truth if truth[item] is not None)
    joined = Counter(
        kinds[item]
        for item, letter in truth.items()
        if letter is not None and item in found and found[item] == main.get(letter)
    )
    return {kind: joined[kind] / count for kind, count in sorted(made.items())}


def _peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the detector as it was before reposts and passages, for comparison ----------------------


def detect_campaigns_before(
    items: Sequence[Item], params: CampaignParams | None = None, min_copies: int = 3
) -> list[Campaign]:
    """Campaigns as the detector found them before: Jaccard near-duplicate groups of at
    least ``min_copies`` items, whoever posted them (``params.containment``,
    ``params.min_size_ratio`` and ``params.min_authors`` are not used)."""
    if len(items) < min_copies:
        return []
    with _collector_paused():
        return _detect_before(items, params or CampaignParams(), min_copies)


def _detect_before(
    items: Sequence[Item], params: CampaignParams, min_copies: int
) -> list[Campaign]:
    by_text: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        normalised = normalise_for_matching(item.text)
        if normalised:
            by_text[normalised].append(item)
    texts = sorted(by_text, key=lambda text: (-len(by_text[text]), text))
    weights = [len(by_text[text]) for text in texts]

    @functools.lru_cache(maxsize=_SHINGLE_CACHE)
    def shingle_set(index: int) -> frozenset[str]:
        return frozenset(shingles_of_normalised(texts[index], params.shingle_size))

    long_texts = [index for index, text in enumerate(texts) if len(text) >= params.min_chars]
    sigs = signatures([texts[index] for index in long_texts], params)
    groups = _near_duplicate_groups_before(len(texts), long_texts, sigs, shingle_set, params)
    row_of = {index: row for row, index in enumerate(long_texts)}
    campaigns = []
    for members in groups:
        if sum(weights[index] for index in members) < min_copies:
            continue
        central = _most_central(members, weights, shingle_set, sigs, row_of)
        campaigns.append(
            _campaign(
                [by_text[texts[index]] for index in members],
                [by_text[texts[index]] for index in central],
            )
        )
    campaigns.sort(key=lambda campaign: (-campaign.copies, campaign.members[0]))
    return campaigns


def _near_duplicate_groups_before(
    count: int,
    long_texts: Sequence[int],
    sigs: UInt32Array,
    shingle_set: Callable[[int], frozenset[str]],
    params: CampaignParams,
) -> list[list[int]]:
    parent = list(range(count))
    indexed = [0] * count

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    spread = params.threshold * (1.0 - params.threshold) / params.num_perm
    floor = params.threshold - 4.5 * math.sqrt(spread) - 1.0 / params.num_perm
    index = _BandIndex(sigs, params)
    for row, text in enumerate(long_texts):
        found = np.array(sorted(index.query(row)), dtype=np.intp)
        if len(found):
            estimates = np.count_nonzero(sigs[found] == sigs[row], axis=1) / params.num_perm
            found = found[estimates >= floor]
        for candidate in (long_texts[other] for other in found.tolist()):
            mine, theirs = find(text), find(candidate)
            if mine == theirs:
                continue
            if _similar(shingle_set(text), shingle_set(candidate), params.threshold):
                low, high = min(mine, theirs), max(mine, theirs)
                parent[high] = low
                indexed[low] += indexed[high]
        root = find(text)
        if indexed[root] < _INDEXED_PER_GROUP:
            index.insert(row)
            indexed[root] += 1

    groups: dict[int, list[int]] = defaultdict(list)
    for text in range(count):
        groups[find(text)].append(text)
    return list(groups.values())


# --- runs -------------------------------------------------------------------------------------


def consultation_corpus(size: int, seed: int) -> Corpus:
    """The contributions of bench/corpus.py (the synthesis benchmark's corpus) as a corpus of
    this benchmark: its eight injected campaigns, no injected reposts."""
    from bench.corpus import make_consultation_corpus  # bench.corpus imports this module

    contributions = make_consultation_corpus(size, seed)
    return Corpus(
        items=[Item(c.id, c.body, c.author, c.created_at) for c in contributions],
        truth={c.id: c.campaign for c in contributions},
        kinds={c.id: c.made for c in contributions},
        reposts={c.id: None for c in contributions},
    )


def _shares(shares: dict[str, float]) -> str:
    return ", ".join(f"{kind} {share:.3f}" for kind, share in shares.items())


def run(size: int, seed: int, signed: int, detector: str, corpus_name: str) -> str:
    """Build one corpus, detect its copies with one detector ("before" or "after") and
    return the figures as one table row and the shares joined per kind of copy."""
    if corpus_name == "consultation":
        corpus = consultation_corpus(size, seed)
    else:
        corpus = make_corpus(size, seed, signed)
    distinct = len({item.text for item in corpus.items})
    before = _peak_rss_mb()
    started = time.perf_counter()
    if detector == "before":
        campaigns, reposts = detect_campaigns_before(corpus.items), []
    else:
        found = detect_copies(corpus.items)
        campaigns, reposts = found.campaigns, found.reposts
    elapsed = time.perf_counter() - started
    peak = _peak_rss_mb()
    figures = score(campaigns, corpus.truth)
    repost_figures = score(reposts, corpus.reposts)
    injected = len({c for c in corpus.truth.values() if c is not None})
    injected_reposts = len({r for r in corpus.reposts.values() if r is not None})
    row = (
        f"{size:>8}{signed:>7}{distinct:>9} {detector:<7}{elapsed:>7.1f}{peak:>7.0f}"
        f"{peak - before:>6.0f} |{injected:>4}{len(campaigns):>6}"
        + "".join(f"{figures[key]:>7.3f}" for key in _FIGURES)
        + f" |{injected_reposts:>5}{len(reposts):>6}"
        + "".join(f"{repost_figures[key]:>7.3f}" for key in _FIGURES)
    )
    shares = joined_by_kind(campaigns, corpus.truth, corpus.kinds)
    lines = [
        row,
        "      campaign copies in their letter's main campaign: " + _shares(shares),
        "      " + target_line(shares, figures),
    ]
    if injected_reposts:
        lines.append(
            "      reposts in their group's main repost group: "
            + _shares(joined_by_kind(reposts, corpus.reposts, corpus.kinds))
        )
    return "\n".join(lines)


_FIGURES = ["item_precision", "item_recall", "pair_precision", "pair_recall"]

# The target: copies with one sentence added or removed join their letter's campaign at least
# this often, at the precision measured when campaigns and reposts were told apart (1.000).
TARGET_RECALL = 0.9
TARGET_PRECISION = 0.999
_SENTENCE_EDITS = ("sentence added", "sentence removed")


def target_line(shares: dict[str, float], figures: dict[str, float]) -> str:
    """Whether the copies with a sentence added or removed reached the recall target without
    losing precision."""
    recalls = [shares[kind] for kind in _SENTENCE_EDITS if kind in shares]
    if not recalls:
        return "target: no copy with a sentence added or removed in this corpus"
    precision = min(figures["item_precision"], figures["pair_precision"])
    met = min(recalls) >= TARGET_RECALL and precision >= TARGET_PRECISION
    return (
        f"target (a sentence added or removed >= {TARGET_RECALL:.2f} at precision >= "
        f"{TARGET_PRECISION:.3f}): {'met' if met else 'NOT MET'} ("
        + ", ".join(f"{kind} {shares[kind]:.3f}" for kind in _SENTENCE_EDITS if kind in shares)
        + f", precision {precision:.3f})"
    )


# --- real data ------------------------------------------------------------------------------

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "republique-numerique-dev"


def real_items(data: Path = REAL_DATA) -> tuple[list[Item], dict[int, str]] | None:
    """The citizens' proposals (title and text) and arguments of the République numérique
    consultation's dev half, as items, with a label for each ("argument 12"); ``None`` when
    the data is not there. The government's articles are left out."""
    if not (data / "arguments.jsonl").exists() or not (data / "opinions.jsonl").exists():
        return None
    items: list[Item] = []
    labels: dict[int, str] = {}
    for name in ["opinions.jsonl", "arguments.jsonl"]:
        with open(data / name, encoding="utf-8") as file:
            rows = [json.loads(line) for line in file if line.strip()]
        for row in rows:
            if row.get("kind") == "article":
                continue
            if name == "opinions.jsonl":
                text, label = f"{row['title']}\n\n{row['body_text']}", f"proposal {row['id']}"
            else:
                text, label = row["body"], f"argument {row['id']}"
            number = len(items) + 1
            moment = datetime.strptime(row["created_at"], "%Y-%m-%dT%H:%M:%S%z")
            items.append(Item(number, text, row["author"], moment))
            labels[number] = label
    return items, labels


def _excerpt(text: str, length: int = 150) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


def _describe(group: Campaign, by_id: dict[int, Item], labels: dict[int, str]) -> str:
    days = (group.last_at - group.first_at).total_seconds() / 86400
    where = ", ".join(labels[member] for member in group.members[:4])
    if group.copies > 4:
        where += ", …"
    return (
        f"    {group.copies} copies ({group.exact_copies} exact), {group.distinct_authors} "
        f"author(s), over {days:.1f} days [{where}]\n"
        f"      « {_excerpt(by_id[group.representative].text)} »"
    )


def real_data_report(data: Path = REAL_DATA, shown: int = 12) -> str:
    """What both detectors find among the real contributions, for a reader to judge."""
    loaded = real_items(data)
    if loaded is None:
        return f"real data: skipped, {data} does not hold arguments.jsonl and opinions.jsonl"
    items, labels = loaded
    by_id = {item.id: item for item in items}
    before = detect_campaigns_before(items)
    found = detect_copies(items)
    single = sum(1 for campaign in before if campaign.distinct_authors == 1)
    lines = [
        f"real data: {data.name}, {len(items)} contributions (proposals and arguments)",
        f"  before: {len(before)} campaigns, {single} of them by a single author",
    ]
    lines += [_describe(campaign, by_id, labels) for campaign in before[:shown]]
    lines.append(
        f"  after: {len(found.campaigns)} campaigns (at least "
        f"{CampaignParams().min_authors} distinct authors)"
    )
    lines += [_describe(campaign, by_id, labels) for campaign in found.campaigns[:shown]]
    by_size = Counter(group.copies for group in found.reposts)
    lines.append(
        f"  after: {len(found.reposts)} repost groups, "
        f"{sum(group.copies for group in found.reposts)} contributions ("
        + ", ".join(f"{count} of {size} copies" for size, count in sorted(by_size.items()))
        + f"), {sum(1 for group in found.reposts if group.distinct_authors > 1)} with two "
        "authors; the largest:"
    )
    lines += [_describe(group, by_id, labels) for group in found.reposts[:shown]]
    short = [
        by_id[group.representative].text
        for group in found.reposts
        if len(normalise_for_matching(by_id[group.representative].text))
        < CampaignParams().min_chars
    ]
    lines.append(
        f"  of the repost groups, {len(short)} are short reactions posted twice: "
        + ", ".join(f"« {_excerpt(text, 40)} »" for text in short)
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--signed",
        type=int,
        default=0,
        help="also run the largest size with a campaign of this many signed copies",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--corpus",
        choices=["campaigns", "consultation"],
        default="campaigns",
        help="this benchmark's corpus, or bench/corpus.py's (the synthesis benchmark's)",
    )
    parser.add_argument(
        "--detectors",
        nargs="+",
        choices=["before", "after"],
        default=["before", "after"],
    )
    parser.add_argument(
        "--real",
        action="store_true",
        help=f"only show what the detectors find in the real contributions of {REAL_DATA}",
    )
    args = parser.parse_args()
    if args.real:
        print(real_data_report())
        return
    runs = [(size, 0) for size in args.items]
    if args.signed:
        runs.append((max(args.items), args.signed))
    print(
        f"{'':>33}{'':>7}{'':>6} | campaigns{'':>35} | reposts\n"
        f"{'items':>8}{'signed':>7}{'distinct':>9} {'detect':<7}{'time s':>7}{'RSS MB':>7}"
        f"{'+MB':>6} |{'inj':>4}{'found':>6}{'itemP':>7}{'itemR':>7}{'pairP':>7}{'pairR':>7}"
        f" |{'inj':>5}{'found':>6}{'itemP':>7}{'itemR':>7}{'pairP':>7}{'pairR':>7}"
    )
    for size, signed in runs:
        for detector in args.detectors:
            # A fresh process per run, so that the peak memory is this run's own.
            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                result = pool.submit(run, size, args.seed, signed, detector, args.corpus)
                print(result.result(), flush=True)


if __name__ == "__main__":
    main()
