"""Sentence embedding speed and French paraphrase quality.

    .venv/bin/python -m bench.embed [--texts 2000] [--rounds 2]

Prints the time to load the packaged USE multilingual model, sentences/s for it and for the
hashing test embedder on generated French contribution-like texts of 20-80 words, and the French
paraphrase nearest-neighbour accuracy of each on a built-in set of 20 pairs: once with the other
pairs as the only distractors, once with a same-topic distractor added per pair (harder). When
``CONSULT_EMBEDDING_MODEL`` names a sentence-transformers model and that package is installed,
the same figures are measured for it.

USE's speed is measured three ways, side by side in rounds (the machine's load shifts between
them): in this process with its BLAS on one thread, on two threads (as the embedder ran before
decision 0034), and spread over the embedding processes of the default embedder (one per core,
one BLAS thread each); the ratios to the first are the figures that carry over.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from consult.nlp.embed import (
    Embedder,
    EmbedderUnavailable,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    UniversalSentenceEncoder,
    default_embedding_processes,
    embed_in_batches,
    prepare_text,
)

# (sentence, its paraphrase, a sentence on the same topic that says something else)
PARAPHRASES = [
    (
        "Le délai de préavis du locataire devrait passer de trois mois à un mois.",
        "Il faut réduire à un mois le préavis que doit donner un locataire avant de partir.",
        "Les propriétaires devraient pouvoir demander un dépôt de garantie plus élevé.",
    ),
    (
        "Les petites communes rurales n'ont pas les moyens de financer ces nouvelles obligations.",
        "Les villages n'auront pas le budget nécessaire pour assumer ces charges supplémentaires.",
        "Les petites communes rurales devraient pouvoir fusionner plus facilement.",
    ),
    (
        "La vidéosurveillance algorithmique menace les libertés publiques.",
        "Analyser automatiquement les images des caméras met en danger nos droits fondamentaux.",
        "Il faudrait installer davantage de caméras dans les gares pour rassurer les usagers.",
    ),
    (
        "Les agriculteurs doivent être indemnisés en cas de sécheresse.",
        "Il faut compenser les pertes des exploitants agricoles lorsque l'eau manque.",
        "Les agriculteurs devraient réduire l'usage des pesticides près des habitations.",
    ),
    (
        "Cet article supprime le droit de recours des associations de protection de la nature.",
        "Avec ce texte, les associations écologistes ne pourront plus contester en justice.",
        "Les associations de protection de la nature devraient recevoir plus de subventions.",
    ),
    (
        "Le service civique obligatoire coûtera trop cher à l'État.",
        "Rendre le service civique obligatoire serait une dépense excessive pour les finances "
        "publiques.",
        "Le service civique permet aux jeunes de découvrir le monde associatif.",
    ),
    (
        "Les personnes âgées n'ont pas toutes accès à internet pour faire leurs démarches.",
        "Beaucoup de seniors ne savent pas utiliser les services publics en ligne.",
        "Les personnes âgées attendent trop longtemps une place en maison de retraite.",
    ),
    (
        "Je propose d'interdire la publicité pour les jeux d'argent à la télévision.",
        "Les annonces télévisées pour les paris sportifs et les casinos devraient être bannies.",
        "Les gains aux jeux d'argent devraient être davantage taxés.",
    ),
    (
        "Le télétravail doit rester un droit pour les salariés qui le souhaitent.",
        "Les employés volontaires devraient pouvoir continuer à travailler depuis chez eux.",
        "Le télétravail isole les salariés et abîme la vie d'équipe.",
    ),
    (
        "La vitesse maximale sur les routes départementales devrait revenir à 90 km/h.",
        "Il faut rétablir la limitation à 90 sur le réseau secondaire.",
        "Les routes départementales sont mal entretenues et pleines de nids-de-poule.",
    ),
    (
        "Les médecins devraient être obligés de s'installer dans les déserts médicaux.",
        "Il faut contraindre les praticiens à exercer dans les zones où il manque des docteurs.",
        "Les médecins passent trop de temps sur les tâches administratives.",
    ),
    (
        "Les cantines scolaires doivent servir davantage de produits locaux et biologiques.",
        "Il faudrait plus d'aliments bio et issus de circuits courts dans les repas des écoles.",
        "Le prix des cantines scolaires devrait dépendre des revenus des familles.",
    ),
    (
        "Le texte ne prévoit aucune sanction pour les entreprises qui ne respectent pas la loi.",
        "Rien n'est prévu pour punir les sociétés qui enfreignent ces règles.",
        "Les entreprises auront besoin d'un délai d'un an pour appliquer ce texte.",
    ),
    (
        "Les loyers augmentent beaucoup plus vite que les salaires dans les grandes villes.",
        "Dans les métropoles, le coût du logement progresse bien plus que les revenus.",
        "Les grandes villes devraient construire davantage de logements sociaux.",
    ),
    (
        "Il faut davantage de pistes cyclables sécurisées en ville.",
        "Les communes devraient aménager plus de voies protégées pour les vélos.",
        "Les cyclistes qui grillent les feux rouges devraient être verbalisés.",
    ),
    (
        "La consultation publique a été trop courte pour que les citoyens puissent participer.",
        "Le délai laissé au public pour donner son avis était insuffisant.",
        "Les résultats de la consultation publique doivent être publiés en intégralité.",
    ),
    (
        "Les données de santé ne doivent pas être hébergées par des entreprises américaines.",
        "Il ne faut pas confier le stockage des informations médicales à des sociétés des "
        "États-Unis.",
        "Les données de santé pourraient aider la recherche contre le cancer.",
    ),
    (
        "Le nombre d'élèves par classe est trop élevé en maternelle.",
        "Les classes de petite section sont surchargées.",
        "L'école maternelle devrait devenir obligatoire dès deux ans.",
    ),
    (
        "Les éoliennes défigurent les paysages de nos campagnes.",
        "Ces grandes turbines à vent abîment la beauté de nos régions rurales.",
        "Les éoliennes en mer produisent plus d'électricité que celles à terre.",
    ),
    (
        "La taxe sur les carburants pénalise ceux qui n'ont pas d'alternative à la voiture.",
        "Augmenter le prix de l'essence frappe les ménages qui dépendent de leur véhicule.",
        "Les recettes de la taxe sur les carburants devraient financer les transports en commun.",
    ),
]

# Pieces of generated contributions: a stance, a subject, a claim about it, reasons, a proposal.
OPENINGS = [
    "Je soutiens cet article, car",
    "Je suis opposée à cette disposition :",
    "En tant qu'élu local, je constate que",
    "Cet amendement est bienvenu, mais",
    "Je ne comprends pas pourquoi",
    "Habitant d'une commune rurale, je pense que",
    "Il me semble essentiel de rappeler que",
    "Cette mesure va dans le bon sens, même si",
    "Je partage l'inquiétude de nombreux citoyens :",
    "Soyons clairs :",
]
SUBJECTS = [
    "le délai de préavis des locataires",
    "la limitation de vitesse sur les routes départementales",
    "le financement des petites communes",
    "l'accès aux services publics en ligne",
    "la vidéosurveillance dans l'espace public",
    "l'indemnisation des agriculteurs",
    "le recours des associations devant le juge",
    "la publicité pour les jeux d'argent",
    "le télétravail des agents publics",
    "l'installation des médecins",
    "la restauration scolaire",
    "l'hébergement des données de santé",
    "le nombre d'élèves par classe",
    "l'implantation des éoliennes",
    "la taxe sur les carburants",
    "la durée de la consultation publique",
]
CLAIMS = [
    "pèse surtout sur les ménages modestes",
    "n'est pas assez encadré par le texte",
    "mérite une évaluation indépendante avant toute généralisation",
    "crée une inégalité entre les territoires",
    "devrait faire l'objet d'une concertation plus large",
    "risque d'alourdir encore les démarches administratives",
    "répond à une attente forte des habitants",
    "ne tient pas compte de la situation des outre-mer",
    "coûtera bien plus cher que prévu",
    "protège enfin les plus vulnérables",
]
REASONS = [
    "les collectivités n'ont reçu aucune compensation financière",
    "les associations de terrain n'ont pas été consultées",
    "les délais prévus sont beaucoup trop courts",
    "l'étude d'impact reste muette sur ce point",
    "les contrôles seront impossibles à mettre en œuvre",
    "les personnes âgées seront les premières touchées",
    "les expériences menées à l'étranger ont montré leurs limites",
    "le Conseil d'État a déjà émis des réserves",
    "les jeunes actifs ne pourront plus se loger près de leur travail",
    "la rédaction actuelle laisse trop de place à l'interprétation",
]
PROPOSALS = [
    "Je propose de prévoir une clause de revoyure après deux ans.",
    "Il faudrait ajouter une dérogation pour les communes de moins de 3 500 habitants.",
    "Une phase d'expérimentation dans quelques départements serait plus prudente.",
    "Le décret d'application devrait être soumis à une nouvelle consultation.",
    "Pourquoi ne pas confier ce contrôle à une autorité indépendante ?",
    "Merci de prendre en compte cette remarque.",
    "Il serait plus juste de moduler la mesure selon les revenus.",
    "Un rapport annuel au Parlement permettrait d'en suivre les effets.",
]
CONNECTORS = ["De plus,", "Par ailleurs,", "En outre,", "Surtout,", "Enfin,", "Pourtant,"]


def generate_contributions(count: int, seed: int = 0) -> list[str]:
    """French contribution-like texts of 20 to 80 words, varied and reproducible."""
    rng = random.Random(seed)
    texts: list[str] = []
    while len(texts) < count:
        target = rng.randint(20, 80)
        subject = rng.choice(SUBJECTS)
        words = (
            f"{rng.choice(OPENINGS)} {subject} {rng.choice(CLAIMS)}, car {rng.choice(REASONS)}."
        ).split()
        while len(words) < target:
            extra = rng.choice(
                [
                    f"{rng.choice(CONNECTORS)} {rng.choice(REASONS)}.",
                    f"{rng.choice(CONNECTORS)} {rng.choice(SUBJECTS)} {rng.choice(CLAIMS)}.",
                    rng.choice(PROPOSALS),
                ]
            )
            words.extend(extra.split())
        text = " ".join(words[:target])
        texts.append(text if text.endswith((".", "?")) else text + ".")
    return texts


def paraphrase_accuracy(embedder: Embedder, with_distractors: bool) -> tuple[int, int]:
    """(hits, total) over both directions of every pair: is a sentence's nearest neighbour its
    own paraphrase, among all the other sentences of the set?"""
    count = len(PARAPHRASES)
    texts = [first for first, _, _ in PARAPHRASES] + [second for _, second, _ in PARAPHRASES]
    if with_distractors:
        texts += [distractor for _, _, distractor in PARAPHRASES]
    vectors = embedder.embed(texts)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = similarity.argmax(axis=1)
    hits = sum(int(nearest[i] == i + count) + int(nearest[i + count] == i) for i in range(count))
    return hits, 2 * count


def sentences_per_second(embedder: Embedder, texts: list[str], batch_size: int) -> float:
    embedder.embed(texts[:8])  # warm caches and lazy loads outside the timing
    started = time.perf_counter()
    embed_in_batches(embedder, texts, batch_size=batch_size)
    return len(texts) / (time.perf_counter() - started)


def report(name: str, embedder: Embedder, texts: list[str], batch_size: int) -> None:
    rate = sentences_per_second(embedder, texts, batch_size)
    easy, total = paraphrase_accuracy(embedder, with_distractors=False)
    hard, _ = paraphrase_accuracy(embedder, with_distractors=True)
    print(
        f"{name:<44}{rate:>12.0f}{easy / total:>12.2f} ({easy}/{total})"
        f"{hard / total:>8.2f} ({hard}/{total})"
    )


def blas(threads: int, embedder: Embedder, texts: list[str]) -> float:
    """Sentences/s with this process's BLAS on ``threads`` threads."""
    with threadpool_limits(limits=threads, user_api="blas"):
        return sentences_per_second(embedder, texts, batch_size=256)


def _load() -> str:
    return "load average " + " / ".join(f"{value:.1f}" for value in os.getloadavg())


def timed(load: Callable[[], None]) -> float:
    started = time.perf_counter()
    load()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=2000, help="generated texts to embed")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the USE comparison")
    args = parser.parse_args()

    texts = generate_contributions(args.texts)
    lengths = [len(text.split()) for text in texts]
    chars = [len(prepare_text(text)) for text in texts]
    print(
        f"{len(texts)} generated French texts, {min(lengths)}-{max(lengths)} words "
        f"(mean {np.mean(lengths):.0f}), {np.mean(chars):.0f} characters on average, "
        f"{len(set(texts))} distinct"
    )

    use = UniversalSentenceEncoder()
    load_s = timed(use.load)
    print(f"USE load (weights + tokenizer): {load_s:.2f} s  [{use.model_id}]")
    spread = UniversalSentenceEncoder(processes=default_embedding_processes())
    spread.load()
    start_s = timed(spread.start_processes)
    print(f"{spread.processes} embedding processes started and loaded in {start_s:.2f} s")
    ways: dict[str, Callable[[], float]] = {
        "one process, 1 BLAS thread": lambda: blas(1, use, texts),
        "one process, 2 BLAS threads (before)": lambda: blas(2, use, texts),
        f"{spread.processes} processes, 1 BLAS thread each": lambda: sentences_per_second(
            spread, texts, batch_size=256
        ),
    }
    rates: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, way in ways.items():
            rates[name].append(way())
    first = float(np.mean(rates[next(iter(ways))]))
    print(f"USE sentences/s over {args.rounds} rounds ({_load()}):")
    for name, values in rates.items():
        shown = ", ".join(f"{value:.0f}" for value in values)
        print(f"  {name:<40}{shown:>16}   x{np.mean(values) / first:.2f}")
    spread.close()
    print()
    print(f"{'embedder':<44}{'sentences/s':>12}{'para. NN acc.':>18}{'with distractors':>20}")
    report("USE multilingual v3, in one process", use, texts, batch_size=256)
    report("HashingEmbedder (tests only)", HashingEmbedder(), texts, batch_size=256)

    setting = os.environ.get("CONSULT_EMBEDDING_MODEL", "").strip()
    if setting.lower() in {"", "use", "usem3", "hashing"}:
        print("sentence-transformers: skipped (CONSULT_EMBEDDING_MODEL names no such model)")
        return
    try:
        model = SentenceTransformerEmbedder(setting)
    except EmbedderUnavailable as error:
        print(f"sentence-transformers: skipped ({error})")
        return
    load_s = timed(model.load)
    print(f"{setting} load: {load_s:.2f} s  [{model.model_id}]")
    report(setting[-44:], model, texts, batch_size=64)


if __name__ == "__main__":
    main()
