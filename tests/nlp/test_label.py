"""Cluster labels: c-TF-IDF keywords, French-aware tokenisation, stop-words and titles."""

from __future__ import annotations

import json
import re
import time
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from consult.nlp.embed import prepare_text
from consult.nlp.label import (
    TITLE_MAX_CHARS,
    ClusterLabel,
    label_clusters,
    stop_words,
    terms_of,
)

BIKES = [
    "Il faut créer beaucoup plus de pistes cyclables séparées pour que les vélos roulent en "
    "sécurité.",
    "Les pistes cyclables actuelles s'arrêtent brutalement ; les vélos se retrouvent au milieu "
    "des voitures.",
    "Je me déplace à vélo tous les jours et l'absence de pistes cyclables continues est "
    "dangereuse.",
    "Des pistes cyclables protégées inciteraient les parents à laisser les enfants aller au "
    "collège à vélo.",
    "Les vélos électriques devraient bénéficier d'une aide à l'achat et de pistes cyclables.",
    "Sans stationnement sécurisé pour les vélos, personne ne laissera sa voiture au garage.",
    "Les communes rurales manquent de pistes cyclables entre les villages.",
]
DATA = [
    "La CNIL doit contrôler l'usage des données personnelles par les administrations.",
    "Mes données personnelles ne doivent pas être revendues à des entreprises privées.",
    "L’accès aux données personnelles de santé doit rester strictement encadré par la CNIL.",
    "Le croisement des fichiers menace la protection des données personnelles des citoyens.",
    "La CNIL manque de moyens pour sanctionner les fuites de données personnelles.",
    "Qu'il s'agisse de santé ou d'impôts, le consentement au traitement des données "
    "personnelles doit être explicite.",
    "Il faut que la CNIL puisse auditer les algorithmes qui traitent nos données personnelles.",
]
HOUSING = [
    "Les loyers ont augmenté bien plus vite que les salaires dans les grandes villes.",
    "L'encadrement des loyers doit être étendu à toutes les zones tendues.",
    "Les propriétaires contournent l'encadrement des loyers avec des compléments de loyer.",
    "Un logement social devrait être proposé aux familles qui consacrent la moitié de leurs "
    "revenus aux loyers.",
    "Il manque des logements sociaux, et les loyers du parc privé sont devenus inabordables.",
    "Le gel des loyers pendant deux ans protégerait les locataires modestes.",
    "Les locataires qui paient des loyers trop élevés n'arrivent plus à épargner.",
]
OTHER = [
    "Merci pour cette consultation.",
    "Je suis d'accord avec l'article 3.",
    "Pas d'avis.",
    "Le texte est trop long à lire.",
]

ENGLISH_BIKES = [
    "We need protected bike lanes so that children can cycle to school safely.",
    "Bike lanes that stop at every junction put cyclists in danger.",
    "More bike lanes would get people out of their cars.",
    "Cyclists deserve bike lanes separated from the traffic.",
    "The city's bike lanes are full of parked cars.",
]
ENGLISH_DATA = [
    "Personal data should never be sold to advertisers.",
    "The regulator must audit how agencies process personal data.",
    "I don't want my personal data shared between government databases.",
    "Health records are the most sensitive personal data of all.",
    "Citizens should be told when their personal data is leaked.",
]


def corpus(*groups: list[str], other: list[str] | None = None) -> tuple[list[str], list[int]]:
    texts: list[str] = []
    labels: list[int] = []
    for label, group in enumerate(groups):
        texts.extend(group)
        labels.extend([label] * len(group))
    for text in other or []:
        texts.append(text)
        labels.append(-1)
    return texts, labels


def first_of_each(labels: list[int]) -> dict[int, int]:
    central: dict[int, int] = {}
    for index, label in enumerate(labels):
        if label >= 0:
            central.setdefault(label, index)
    return central


def words_of(keywords: tuple[str, ...]) -> set[str]:
    return {word for keyword in keywords for word in keyword.split(" ")}


@pytest.fixture(scope="module")
def french() -> dict[int, ClusterLabel]:
    texts, labels = corpus(BIKES, DATA, HOUSING, other=OTHER)
    return label_clusters(texts, labels, first_of_each(labels))


# --------------------------------------------------------------------------- keywords


def test_french_keywords_are_the_topic_words(french: dict[int, ClusterLabel]) -> None:
    assert set(french) == {0, 1, 2}
    assert french[0].keywords[0] == "pistes cyclables"
    assert {"vélos", "vélo"} <= words_of(french[0].keywords)
    assert french[1].keywords[:2] == ("données personnelles", "cnil")
    assert "loyers" in french[2].keywords[:2]
    assert "encadrement" in words_of(french[2].keywords)
    for label in french.values():
        assert len(label.keywords) == 8
        assert len(set(label.keywords)) == 8


def test_keywords_belong_to_their_own_cluster(french: dict[int, ClusterLabel]) -> None:
    topic_words = {0: {"vélos", "cyclables"}, 1: {"données", "cnil"}, 2: {"loyers", "logement"}}
    for cluster, label in french.items():
        others = set().union(*(words for c, words in topic_words.items() if c != cluster))
        assert not words_of(label.keywords) & others


def test_english_keywords(french: dict[int, ClusterLabel]) -> None:
    texts, labels = corpus(ENGLISH_BIKES, ENGLISH_DATA)
    result = label_clusters(texts, labels, first_of_each(labels))
    assert result[0].keywords[0] == "bike lanes"
    assert result[1].keywords[0] == "personal data"
    # "city's" counts as "city"; "don't" is a stop-word, not "don" and "t".
    assert "city" in words_of(result[0].keywords) or "cyclists" in result[0].keywords
    assert not {"don", "don't", "t"} & words_of(result[1].keywords)


def test_mixed_languages_share_the_stop_words() -> None:
    texts, labels = corpus(BIKES + ENGLISH_BIKES, DATA + ENGLISH_DATA, HOUSING)
    result = label_clusters(texts, labels, first_of_each(labels), top_n=20)
    stops = stop_words()
    for label in result.values():
        assert not words_of(label.keywords) & stops


def test_stop_words_never_appear_as_keywords_or_bigram_edges() -> None:
    texts, labels = corpus(BIKES, DATA, HOUSING, ENGLISH_BIKES, ENGLISH_DATA, other=OTHER)
    result = label_clusters(texts, labels, first_of_each(labels), top_n=50)
    stops = stop_words()
    for label in result.values():
        for keyword in label.keywords:
            parts = keyword.split(" ")
            assert len(parts) in (1, 2)
            assert parts[0] not in stops and parts[-1] not in stops, keyword
    for text in texts:
        for term in terms_of(text):
            assert term.split(" ")[0] not in stops and term.split(" ")[-1] not in stops


def test_the_other_group_gets_no_label_but_weighs_in_the_background() -> None:
    texts, labels = corpus(BIKES, DATA)
    alone = label_clusters(texts, labels, first_of_each(labels), top_n=30)
    # "sécurité" is rare in the clusters; a background full of it makes it common.
    noisy_other = ["La sécurité, la sécurité, toujours la sécurité des vélos."] * 20
    texts_with_other, labels_with_other = corpus(BIKES, DATA, other=noisy_other)
    with_other = label_clusters(
        texts_with_other, labels_with_other, first_of_each(labels_with_other), top_n=30
    )
    assert -1 not in with_other
    rank_alone = alone[0].keywords.index("vélos")
    rank_with_other = with_other[0].keywords.index("vélos")
    assert rank_with_other > rank_alone
    assert "sécurité" not in with_other[0].keywords[:3]


def test_weights_count_the_copies_of_a_campaign() -> None:
    campaign = "Stop aux trottinettes électriques sur les trottoirs !"
    texts = [*BIKES, campaign]
    labels = [0] * len(texts)
    unweighted = label_clusters(texts, labels, {0: 0})
    weights = [1.0] * len(BIKES) + [50.0]
    weighted = label_clusters(texts, labels, {0: 0}, weights=weights)
    assert "trottinettes" not in unweighted[0].keywords[:2]
    assert weighted[0].keywords[0] in {"trottinettes électriques", "trottinettes", "trottoirs"}
    assert "trottinettes électriques" in weighted[0].keywords[:3]
    # Zero weight: the item is ignored.
    ignored = label_clusters(texts, labels, {0: 0}, weights=[*weights[:-1], 0.0])
    assert not {"trottinettes", "trottoirs"} & words_of(ignored[0].keywords)


def test_top_n_limits_the_keywords(french: dict[int, ClusterLabel]) -> None:
    texts, labels = corpus(BIKES, DATA, HOUSING, other=OTHER)
    three = label_clusters(texts, labels, first_of_each(labels), top_n=3)
    for cluster, label in three.items():
        assert label.keywords == french[cluster].keywords[:3]
    none = label_clusters(texts, labels, first_of_each(labels), top_n=0)
    assert all(label.keywords == () for label in none.values())


def test_a_word_always_inside_one_bigram_is_shown_as_the_bigram(
    french: dict[int, ClusterLabel],
) -> None:
    # "cyclables" only ever occurs in "pistes cyclables": listing it alone would repeat it.
    assert "cyclables" not in french[0].keywords
    assert "personnelles" not in french[1].keywords


def test_ties_are_broken_alphabetically() -> None:
    single_words = ["zèbre", "girafe", "antilope", "okapi"]
    result = label_clusters(single_words, [0, 0, 0, 0], {0: 0})
    assert result[0].keywords == ("antilope", "girafe", "okapi", "zèbre")
    # Every word and bigram twice: all tie, and each word is shown as its bigram.
    texts = ["zèbre girafe. Zèbre girafe !", "antilope okapi, antilope okapi"]
    result = label_clusters(texts, [0, 0], {0: 0}, top_n=10)
    assert result[0].keywords == ("antilope okapi", "zèbre girafe")


def test_a_bigram_met_once_is_no_keyword() -> None:
    result = label_clusters(["zèbre girafe", "antilope okapi"], [0, 0], {0: 0}, top_n=10)
    assert result[0].keywords == ("antilope", "girafe", "okapi", "zèbre")
    weighted = label_clusters(
        ["zèbre girafe", "antilope okapi"], [0, 0], {0: 0}, top_n=10, weights=[2.0, 1.0]
    )
    assert weighted[0].keywords == ("zèbre girafe", "antilope", "okapi")


def test_labelling_is_deterministic() -> None:
    texts, labels = corpus(BIKES, DATA, HOUSING, other=OTHER)
    central = first_of_each(labels)
    first = label_clusters(texts, labels, central)
    assert label_clusters(texts, labels, central) == first
    assert label_clusters(texts, np.asarray(labels), central) == first
    # The order of the texts does not change the keywords.
    order = list(reversed(range(len(texts))))
    shuffled = label_clusters(
        [texts[i] for i in order],
        [labels[i] for i in order],
        {c: order.index(i) for c, i in central.items()},
    )
    assert {c: label.keywords for c, label in shuffled.items()} == {
        c: label.keywords for c, label in first.items()
    }


# --------------------------------------------------------------------------- tokenisation


def test_elisions_and_apostrophes() -> None:
    terms = terms_of("L'accès, l’accès, d'accès, qu'accès ; jusqu'au lorsqu'on aujourd'hui.")
    assert terms == ["accès"] * 4
    assert "prud'hommes" in terms_of("Le conseil de prud'hommes est engorgé.")
    assert terms_of("It's the people's choice, isn't it?") == ["people", "choice", "people choice"]


def test_accents_and_case() -> None:
    assert terms_of("Côte CÔTE côte cote côté") == [
        "côte",
        "côte",
        "côte",
        "cote",
        "côté",
        "côte côte",
        "côte côte",
        "côte cote",
        "cote côté",
    ]
    # Decomposed accents are composed first.
    assert terms_of("e\u0301lectricite\u0301") == ["électricité"]


def test_numbers_and_article_references_leave_no_garbage() -> None:
    text = (
        "L'article L. 123-4 du code, l'article R123-4 et l'alinéa 2 de l'article 49-3, "
        "modifiés le 1er janvier 2024 puis le 3e jour, 5G et CO2."
    )
    terms = terms_of(text)
    unigrams = [term for term in terms if " " not in term]
    assert unigrams == [
        *("article", "code", "article", "alinéa", "article"),
        *("modifiés", "janvier", "jour", "5g", "co2"),
    ]
    assert not any(re.search(r"\d", term) for term in terms if term not in {"5g", "co2"})


def test_hyphens_and_inverted_pronouns() -> None:
    assert terms_of("Faut-il un vélo-cargo ? Peut-on le dire ? Celle-ci est-elle utile ?") == [
        "vélo-cargo",
        "utile",
    ]
    assert terms_of("Le bien-être animal") == ["bien-être", "animal", "bien-être animal"]


def test_bigrams_do_not_cross_punctuation_or_stop_words() -> None:
    assert terms_of("Vélos. Pistes") == ["vélos", "pistes"]
    assert terms_of("accès aux données") == ["accès", "données"]
    assert terms_of("pistes cyclables") == ["pistes", "cyclables", "pistes cyclables"]
    assert terms_of("- vélos\n- pistes") == ["vélos", "pistes"]


def test_urls_emails_and_markup_are_not_terms() -> None:
    text = (
        "Voir https://www.example.org/rapport?id=3 ou www.example.org, écrire à "
        "jean.dupont@example.fr<br/>**important** _urgent_"
    )
    assert terms_of(text) == ["voir", "écrire", "important", "urgent"]


def test_boiler_words_of_a_bill_are_not_stop_words() -> None:
    stops = stop_words()
    for word in ("article", "alinéa", "projet", "loi", "amendement", "bill", "law"):
        assert word not in stops
    for word in ("faut", "cette", "être", "été", "the", "don't", "c'est-à-dire", "a"):
        assert word in stops


def test_stop_word_files_are_shipped_as_package_data() -> None:
    folder = files("consult.nlp").joinpath("stopwords")
    for language in ("fr", "en"):
        lines = folder.joinpath(f"{language}.txt").read_text(encoding="utf-8").splitlines()
        words = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
        assert len(words) > 150
        assert all(word == word.lower() and " " not in word for word in words)


# --------------------------------------------------------------------------- titles


def assert_publishable(label: ClusterLabel) -> None:
    """What every title promises: short, never cut, capitalised, no keyword list."""
    title = label.title
    assert title, label
    assert len(title) <= TITLE_MAX_CHARS, title
    assert not title.endswith(("…", "...")), title
    assert " · " not in title, title
    assert title[0].isupper() or not title[0].isalpha(), title
    if not label.generic:
        assert set(label.keywords[:3]) & set(terms_of(title)), (title, label.keywords)


def test_titles_are_phrases_the_members_write(french: dict[int, ClusterLabel]) -> None:
    assert french[0].title == "Pistes cyclables"
    assert french[1].title == "Données personnelles"
    assert french[2].title == "Encadrement des loyers"
    for label in french.values():
        assert_publishable(label)
        assert not label.generic and label.reactions == ()


def test_english_titles() -> None:
    texts, labels = corpus(ENGLISH_BIKES, ENGLISH_DATA)
    result = label_clusters(texts, labels, first_of_each(labels))
    assert result[0].title == "Bike lanes"
    assert result[1].title == "Personal data"
    for label in result.values():
        assert_publishable(label)


def test_phrases_join_words_with_prepositions_never_at_their_ends() -> None:
    texts = [
        "Le droit à l'oubli des mineurs doit être garanti par la loi.",
        "Pour le droit à l'oubli des mineurs, la CNIL doit pouvoir agir vite.",
        "Un vrai droit à l'oubli des mineurs, voilà ce qui manque aujourd'hui.",
        "Le droit à l'oubli pour les mineurs existe déjà en partie.",
        "Les mineurs publient des photos qu'ils regrettent ensuite.",
    ]
    result = label_clusters([*texts, *BIKES], [0] * 5 + [1] * 7, {0: 0, 1: 5})
    assert result[0].title == "Droit à l'oubli des mineurs"
    joiners = {"de", "des", "du", "à", "au", "aux", "la", "le", "les", "l'", "et", "pour"}
    for label in result.values():
        words = label.title.lower().replace("'", "' ").split()
        assert words[0] not in joiners and words[-1] not in joiners, label.title


def test_a_long_central_sentence_is_never_cut() -> None:
    central = (
        "Les pistes cyclables devraient être séparées de la chaussée par une bordure continue "
        "sur toute la longueur des grands axes."
    )
    result = label_clusters([central, *BIKES], [0] * (len(BIKES) + 1), {0: 0})
    assert_publishable(result[0])
    assert result[0].title == "Pistes cyclables"


def test_a_short_headline_can_be_the_title() -> None:
    # Few texts, each saying it differently: the proposal's own title carries the keywords.
    texts = [
        "Imposer la vente séparée du système d'exploitation et de l'ordinateur.",
        "Le consommateur paie une licence Windows qu'il n'a pas choisie avec son ordinateur.",
        "Vendre un ordinateur nu permettrait d'installer le système de son choix.",
    ]
    headlines = ["Interdire la vente liée ordinateur et système d'exploitation", "", ""]
    result = label_clusters(
        [*texts, *DATA], [0] * 3 + [1] * len(DATA), {0: 1, 1: 3}, headlines=[*headlines] + [""] * 7
    )
    assert_publishable(result[0])
    assert "ordinateur" in result[0].title.lower() or "système" in result[0].title.lower()
    with pytest.raises(ValueError, match="headlines"):
        label_clusters(texts, [0, 0, 0], {0: 0}, headlines=["un seul"])


def test_a_headline_line_on_top_of_a_text_is_a_candidate() -> None:
    # The first line of a Markdown text, followed by more lines, reads as its title.
    texts = [
        "Accès à internet en prison\n\nLes détenus doivent pouvoir préparer leur sortie en "
        "ligne, sous contrôle.",
        "Un accès encadré à internet faciliterait la réinsertion des détenus.",
        "Internet en prison : les détenus perdent tout lien avec l'emploi.",
        "La prison coupe les détenus du monde numérique.",
    ]
    result = label_clusters([*texts, *BIKES], [0] * 4 + [1] * 7, {0: 0, 1: 4})
    assert_publishable(result[0])
    assert {"prison", "détenus", "internet"} & set(terms_of(result[0].title))


def test_a_name_or_a_signature_is_never_the_title() -> None:
    # A campaign signed by an organisation: its name is in every text, and among the keywords.
    texts = [
        f"{sentence} Jean Dupont, Collectif Vélo Libre"
        for sentence in (
            "Des pistes cyclables séparées partout en ville.",
            "Il faut des pistes cyclables protégées près des écoles.",
            "Des pistes cyclables continues entre les communes.",
            "Financer les pistes cyclables avant les parkings.",
        )
    ]
    result = label_clusters([*texts, *DATA], [0] * 4 + [1] * len(DATA), {0: 0, 1: 4})
    assert {"jean dupont", "collectif vélo"} & set(result[0].keywords) or "dupont" in " ".join(
        result[0].keywords
    )
    assert_publishable(result[0])
    assert "Dupont" not in result[0].title and "Collectif" not in result[0].title


def test_a_campaign_counts_but_its_signature_is_no_title() -> None:
    # 150 copies of one signed text beside a few individual ones: the campaign's words lead
    # the keywords, its signature (a sentence of capitalised words) is still no title.
    campaign = (
        "Nous demandons des pistes cyclables sécurisées dans chaque commune. "
        "Fédération Française des Usagers de la Bicyclette"
    )
    texts = [campaign, *BIKES, *DATA]
    labels = [0] * (1 + len(BIKES)) + [1] * len(DATA)
    weights = [150.0] + [1.0] * (len(texts) - 1)
    result = label_clusters(texts, labels, {0: 0, 1: 1 + len(BIKES)}, weights=weights)
    assert "fédération française" in result[0].keywords
    assert_publishable(result[0])
    assert result[0].title == "Pistes cyclables"


def test_titles_keep_the_case_members_use_and_lower_a_shouted_text() -> None:
    texts = [
        "RENFORCER LE RÔLE DE LA CNIL DANS LES ENTREPRISES",
        "Le rôle de la CNIL doit être renforcé auprès des entreprises.",
        "Le rôle de la CNIL reste flou pour les petites entreprises.",
        "Sans moyens, le rôle de la CNIL restera symbolique.",
    ]
    result = label_clusters([*texts, *BIKES], [0] * 4 + [1] * 7, {0: 1, 1: 4})
    assert_publishable(result[0])
    assert "CNIL" in result[0].title
    assert not result[0].title.isupper()


def test_title_is_plain_text() -> None:
    central = (
        "## Mon avis\n\n**Les pistes cyclables** sont _indispensables_ pour les "
        "[vélos](https://example.org/velos) #mobilité"
    )
    result = label_clusters([central, *BIKES], [0] * (len(BIKES) + 1), {0: 0})
    title = result[0].title
    assert_publishable(result[0])
    assert not re.search(r"[*_#\[\]()]|https?|example", title)


def test_title_falls_back_to_the_best_keyword() -> None:
    # Acronyms alone are no phrase candidates (an organisation, or the vaguest of titles): with
    # nothing else to say, the title is the best keyword as the members write it, not a list.
    texts = ["Les CGV !", "Et les CGU ?", "CGV, CGU.", "Les CGV.", "Les CGU."]
    result = label_clusters([*texts, *BIKES], [0] * 5 + [1] * 7, {0: 0, 1: 5})
    assert result[0].keywords[:2] == ("cgu", "cgv")
    assert result[0].title == "CGU"
    # No central item at all changes nothing.
    again = label_clusters([*texts, *BIKES], [0] * 5 + [1] * 7, {})
    assert again[0].title == "CGU"
    assert again[1].title == "Pistes cyclables"


def test_clusters_without_terms() -> None:
    # Stop-words only, but too long to be a brief reaction: the central sentence, if short.
    texts = [
        "Il faut que ce soit fait.",
        "",
        "12 345",
        "Il faut que tout cela soit fait. Et alors ?",
    ]
    result = label_clusters(texts, [0, 1, 1, 2], {0: 0, 1: 1, 2: 3})
    assert result[0] == ClusterLabel(keywords=(), title="Il faut que ce soit fait")
    assert result[1] == ClusterLabel(keywords=(), title="")
    assert result[2] == ClusterLabel(keywords=(), title="")


# --------------------------------------------------------------------------- reactions

FRENCH_REACTIONS = [
    "D'accord !",
    "+1",
    "Doublon.",
    "Tout à fait d'accord",
    "Hors sujet",
    "Voir plus haut",
    "idem",
    "Je suis pour.",
    "Doublon avec la proposition https://example.org/propositions/12",
    "Entièrement d'accord.",
]
ENGLISH_REACTIONS = ["Agree!", "+1", "Same here", "I agree.", "Duplicate", "Off topic", "agreed"]


def test_a_group_of_brief_reactions_is_flagged_and_named_so() -> None:
    texts = [*FRENCH_REACTIONS, *BIKES]
    labels = [0] * len(FRENCH_REACTIONS) + [1] * len(BIKES)
    result = label_clusters(texts, labels, {0: 0, 1: len(FRENCH_REACTIONS)})
    reactions = result[0]
    assert reactions.generic
    assert reactions.reactions[:2] == ("d'accord", "doublon")
    nbsp = "\u00a0"
    assert reactions.title == (
        f"Réactions brèves{nbsp}: «{nbsp}d'accord{nbsp}», «{nbsp}doublon{nbsp}», «{nbsp}+1{nbsp}»"
    )
    assert_publishable(reactions)
    assert not result[1].generic
    assert result[1].title == "Pistes cyclables"


def test_english_reactions_get_an_english_title() -> None:
    texts = [*ENGLISH_REACTIONS, *ENGLISH_BIKES]
    labels = [0] * len(ENGLISH_REACTIONS) + [1] * len(ENGLISH_BIKES)
    result = label_clusters(texts, labels, {0: 0, 1: len(ENGLISH_REACTIONS)})
    assert result[0].generic
    assert result[0].title.startswith('Brief reactions: "agree"')
    assert_publishable(result[0])
    assert not result[1].generic


def test_english_reactions_without_stop_words_are_still_english() -> None:
    texts = ["Agree!", "+1", "Duplicate", "Agreed.", *ENGLISH_BIKES]
    result = label_clusters(texts, [0] * 4 + [1] * 5, {0: 0, 1: 4})
    assert result[0].generic
    assert result[0].title == 'Brief reactions: "agree", "+1", "duplicate"'


def test_a_topic_with_a_few_reactions_is_still_a_topic() -> None:
    texts = [*BIKES, "D'accord !", "+1"]
    result = label_clusters(texts, [0] * len(texts), {0: 0})
    assert not result[0].generic
    assert result[0].title == "Pistes cyclables"


def test_campaign_weights_count_in_the_reaction_share() -> None:
    # One "+1" pasted 40 times outweighs the few topical texts around it.
    texts = ["+1", *BIKES[:3]]
    result = label_clusters(texts, [0] * 4, {0: 1}, weights=[40.0, 1.0, 1.0, 1.0])
    assert result[0].generic
    assert result[0].reactions == ("+1",)
    unweighted = label_clusters(texts, [0] * 4, {0: 1})
    assert not unweighted[0].generic


def test_titles_are_deterministic_and_order_free() -> None:
    texts, labels = corpus(BIKES, DATA, HOUSING, FRENCH_REACTIONS, other=OTHER)
    central = first_of_each(labels)
    first = label_clusters(texts, labels, central)
    assert label_clusters(texts, labels, central) == first
    order = list(reversed(range(len(texts))))
    shuffled = label_clusters(
        [texts[i] for i in order],
        [labels[i] for i in order],
        {c: order.index(i) for c, i in central.items()},
    )
    assert shuffled == first


# --------------------------------------------------------------------------- real data

RN_DATA = Path("/work/shared/data/republique-numerique-dev")


@pytest.fixture(scope="module")
def republique_numerique() -> tuple[dict[int, str], list[dict[str, object]]]:
    """The République numérique 2015 consultation's opinions and arguments (dev half)."""
    if not (RN_DATA / "arguments.jsonl").exists():
        pytest.skip(f"the République numérique data set is not at {RN_DATA} (CI has it)")
    opinions = {}
    for line in (RN_DATA / "opinions.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        opinions[int(row["id"])] = str(row["title"])
    arguments = [
        json.loads(line)
        for line in (RN_DATA / "arguments.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    return opinions, arguments


def test_real_groups_get_publishable_titles(
    republique_numerique: tuple[dict[int, str], list[dict[str, object]]],
) -> None:
    # The arguments about a few opinions, labelled with every other argument as "other".
    _opinions, arguments = republique_numerique
    groups = {87: 0, 71: 1, 79: 2, 177: 3, 110: 4}  # SMS, neutrality, oblivion, bundling, prison
    texts = [prepare_text(str(a["body"])) for a in arguments]
    labels = [groups.get(int(str(a["opinion_id"])), -1) for a in arguments]
    central = first_of_each(labels)
    result = label_clusters(texts, labels, central)
    for label in result.values():
        assert_publishable(label)
        assert not label.generic
    assert "SMS" in result[0].title
    assert "neutralité" in result[1].title.lower()
    assert "oubli" in result[2].title.lower()
    assert "exploitation" in result[3].title.lower() or "vente liée" in result[3].title.lower()
    assert {"prison", "détenus", "internet"} & set(terms_of(result[4].title))


def test_real_short_reactions_form_a_group_of_reactions(
    republique_numerique: tuple[dict[int, str], list[dict[str, object]]],
) -> None:
    # Arguments that say "doublon", "d'accord", "hors sujet"..., beside the arguments on paying
    # by SMS: the first group is recognised, the second is not.
    _opinions, arguments = republique_numerique
    bodies = [prepare_text(str(a["body"])) for a in arguments]
    wanted = ("doublon", "d'accord", "hors sujet", "déjà", "incompréhensible", "voir")
    short = [b for b in bodies if len(b.split()) <= 8 and any(w in b.lower() for w in wanted)]
    sms = [prepare_text(str(a["body"])) for a in arguments if a["opinion_id"] == 87]
    assert len(short) >= 10
    texts = [*short, *sms]
    labels = [0] * len(short) + [1] * len(sms)
    result = label_clusters(texts, labels, {0: 0, 1: len(short)})
    assert result[0].generic
    assert result[0].title.startswith("Réactions brèves")
    assert_publishable(result[0])
    assert not result[1].generic


# --------------------------------------------------------------------------- odd inputs


def test_empty_and_all_other_inputs() -> None:
    assert label_clusters([], [], {}) == {}
    assert label_clusters(BIKES, [-1] * len(BIKES), {}) == {}
    assert label_clusters(["", "", ""], [0, 0, -1], {0: 0}) == {
        0: ClusterLabel(keywords=(), title="")
    }
    # Emoji alone are reactions without words.
    result = label_clusters(["🚲", "🎉🎉"], [0, 1], {0: 0, 1: 1})
    assert result[0] == ClusterLabel(keywords=(), title="Réactions brèves", generic=True)
    assert result[1] == ClusterLabel(keywords=(), title="Réactions brèves", generic=True)


def test_very_long_texts() -> None:
    long_text = " ".join(["Des pistes cyclables pour les vélos"] * 290)  # ~10,000 chars
    unbroken = "a" * 10_000
    texts = [long_text, unbroken, *DATA]
    labels = [0, 0] + [1] * len(DATA)
    started = time.perf_counter()
    result = label_clusters(texts, labels, {0: 0, 1: 2})
    assert time.perf_counter() - started < 2.0
    assert result[0].keywords[0] == "pistes cyclables"
    assert_publishable(result[0])
    assert not any("aaa" in keyword for keyword in result[0].keywords)
    # A single 10,000-character "word" has no term and no short sentence: no title at all
    # rather than a cut one.
    only = label_clusters([unbroken], [0], {0: 0})[0]
    assert only == ClusterLabel(keywords=(), title="")


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError, match="labels"):
        label_clusters(["a b"], [0, 0], {})
    with pytest.raises(ValueError, match="weights"):
        label_clusters(["vélo"], [0], {}, weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="negative"):
        label_clusters(["vélo"], [0], {}, weights=[-1.0])
    with pytest.raises(ValueError, match="central"):
        label_clusters(["vélo"], [0], {0: 3})
    with pytest.raises(ValueError, match="-1"):
        label_clusters(["vélo"], [-2], {})
    with pytest.raises(TypeError, match="integers"):
        label_clusters(["vélo"], np.array([0.5]), {})


def test_large_corpus_is_fast() -> None:
    texts, labels = corpus(BIKES, DATA, HOUSING, other=OTHER)
    many_texts = [f"{text} Contribution {i}." for i in range(600) for text in texts]
    many_labels = labels * 600
    started = time.perf_counter()
    result = label_clusters(many_texts, many_labels, first_of_each(many_labels))
    assert time.perf_counter() - started < 5.0  # ~15,000 texts; generous for a loaded machine
    assert result[0].keywords[0] == "pistes cyclables"
