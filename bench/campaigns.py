"""Copy-paste campaign detection on a synthetic French corpus, with injected campaigns.

    .venv/bin/python -m bench.campaigns [--items 10000 100000] [--signed 20000] [--seed 7]

For each corpus size, builds contributions from varied French sentence fragments (openings,
subjects, arguments, examples with random figures, proposals and closings) and injects eight
form-letter campaigns of 50 to 2,000 copies (scaled down for small corpora), half of the copies
lightly edited: a word replaced, a sentence added or removed, typos, or only the typography.
With ``--signed N``, one more run adds a campaign of N copies that each carry the signer's
name, so that every copy is a different text. Each run happens in a fresh process and prints
the time of ``detect_campaigns``, the peak resident memory of the process (and how much of it
came on top of the corpus), the campaigns found and the precision and recall of campaign
membership against the injected truth, per item (is the item in a campaign) and per pair
(are two items in the same campaign).
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context

from consult.nlp.campaigns import Campaign, Item, detect_campaigns

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
START = datetime(2025, 3, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Corpus:
    """Items, in shuffled order, the injected campaign of each item id (or None) and how
    each item was made (organic, a copy as is, an edit kind, signed)."""

    items: list[Item]
    truth: dict[int, int | None]
    kinds: dict[int, str]


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


def edited_copy(rng: random.Random, template: str) -> tuple[str, str]:
    """A lightly edited copy of a form letter, as people personalise them, and the edit."""
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
    if kind == "typos":
        return _typos(rng, template), kind
    return _typography(rng, template), kind


def make_corpus(size: int, seed: int, signed: int = 0) -> Corpus:
    """Build ``size`` items, including the injected campaigns (and ``signed`` signed copies)."""
    rng = random.Random(seed)
    scale = min(1.0, size / 100_000)
    sizes = [max(50, round(copies * scale)) for copies in CAMPAIGN_SIZES]
    texts: list[tuple[str, int | None, str, str, datetime]] = []
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
            text, kind = edited_copy(rng, template) if rng.random() < 0.5 else (template, "as is")
            moment = opened + timedelta(hours=rng.uniform(0, 72))
            texts.append((text, campaign, kind, author, moment))
    if signed:
        campaign = len(TEMPLATES)
        for _ in range(signed):
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            letter = f"Je soussigné(e) {name}, domicilié(e) à {rng.randint(1000, 95999)}, "
            moment = START + timedelta(days=rng.uniform(0, 30))
            texts.append((letter + SIGNED_TEMPLATE, campaign, "signed", new_author(), moment))
    while len(texts) < size:
        moment = START + timedelta(days=rng.uniform(0, 30))
        texts.append((organic_text(rng), None, "organic", new_author(), moment))
    rng.shuffle(texts)
    items = [
        Item(id=number, text=text, author=author, created_at=moment)
        for number, (text, _, _, author, moment) in enumerate(texts, start=1)
    ]
    truth = {number: row[1] for number, row in enumerate(texts, start=1)}
    kinds = {number: row[2] for number, row in enumerate(texts, start=1)}
    return Corpus(items=items, truth=truth, kinds=kinds)


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


def run(size: int, seed: int, signed: int) -> str:
    """Build one corpus, detect its campaigns and return the figures as one table row."""
    corpus = make_corpus(size, seed, signed)
    distinct = len({item.text for item in corpus.items})
    before = _peak_rss_mb()
    started = time.perf_counter()
    campaigns = detect_campaigns(corpus.items)
    elapsed = time.perf_counter() - started
    peak = _peak_rss_mb()
    figures = score(campaigns, corpus.truth)
    injected = len({c for c in corpus.truth.values() if c is not None})
    joined = joined_by_kind(campaigns, corpus.truth, corpus.kinds)
    return (
        f"{size:>8}{signed:>8}{distinct:>9}{elapsed:>8.1f}{peak:>8.0f}{peak - before:>7.0f}"
        f"{injected:>5}{len(campaigns):>6}"
        f"{figures['item_precision']:>8.3f}{figures['item_recall']:>8.3f}"
        f"{figures['pair_precision']:>8.3f}{figures['pair_recall']:>8.3f}\n"
        "         copies in their letter's main campaign: "
        + ", ".join(f"{kind} {share:.3f}" for kind, share in joined.items())
    )


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
    args = parser.parse_args()
    runs = [(size, 0) for size in args.items]
    if args.signed:
        runs.append((max(args.items), args.signed))
    print(
        f"{'items':>8}{'signed':>8}{'distinct':>9}{'time s':>8}{'RSS MB':>8}{'+MB':>7}"
        f"{'inj':>5}{'found':>6}{'item P':>8}{'item R':>8}{'pair P':>8}{'pair R':>8}"
    )
    for size, signed in runs:
        # A fresh process per run, so that the peak memory is this run's own.
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            print(pool.submit(run, size, args.seed, signed).result(), flush=True)


if __name__ == "__main__":
    main()
