"""Titles a ministry can publish for the clusters of a synthesis.

:func:`consult.nlp.label.label_clusters` ranks each cluster's keywords; :func:`choose_title`
turns them and the cluster's texts into a title, by these rules.

Groups of reactions. A cluster whose members are mostly brief, content-free reactions
("d'accord", "+1", "doublon", "hors sujet", "voir plus haut", "agree", "same"...: at most
fifteen words, a known reaction, at most two other words that say something) is not a topic.
It is flagged ``generic`` and titled, in the language of its reactions, with the most frequent
of them: « Réactions brèves : « doublon », « d'accord » » or ``Brief reactions: "agree"``.
"Mostly" is half of the members, weighted by their copies; a quarter is enough when two of the
cluster's five best keywords are themselves words of reactions (*proposition*, *doublon*,
*voir*...), as in a group of remarks about the proposals rather than about a subject.

Topics. The title is the best candidate among

- *phrases* the members write: runs of words that punctuation, verbs such as *est* or *faut*
  and the other stop-words do not interrupt, in which French and English prepositions, definite
  articles and conjunctions may join words (*neutralité du net*, *droit à l'oubli des mineurs*,
  *logiciel libre dans l'administration*) but never start or end the phrase. An article may
  follow a word only when that word is an infinitive, and an infinitive must be followed by
  its object (*interdire la vente liée*, not *créer de catégorie*). A phrase does not start or
  end with a conjugated verb (a word the members write after a subject pronoun, *il
  considère*), start with a past participle, hold an adverb in *-ment*, or stop inside a longer
  phrase the members nearly always write (*données à caractère [personnel]*);
- *headlines*: a title line the caller gives (a proposal's title), or the first line of a text
  when it is short and more lines follow;
- short complete *sentences* of the central text: in the third person, no question, no
  continuation ("De plus, ..."), no quotation or link.

A candidate must contain one of the three best keywords (a bigram keyword counts only as its
two words side by side) and fit in :data:`TITLE_MAX_CHARS` characters. It scores

    carried keyword weight * sqrt(voices writing it / voices read) * shape

where a keyword weighs its c-TF-IDF score relative to the best one, squared (so that the best
keywords lead). Voices count distinct texts, not copies: a text is one voice, a campaign's
copies add the logarithm of their number, and a sentence pasted into several texts counts
once, so that one author's repetitions do not make a topic; singular and plural are one
phrase. A phrase needs two voices, except a short one in a cluster of at most ten texts. The
shape prefers two to four main words (one word is a vague title, more than four a clause) and
halves phrases that open or close on a weak word (*niveau*, *mise*, *venir*...) or that the
members mostly continue with a preposition; a phrase the central text writes gets a small
bonus, and a sentence counts less than a phrase. A run of capitalised words (*Denis Chenu*,
*Fédération Française des Usagers de la Bicyclette*) is a name or a signature, never a title,
and neither is an acronym alone (*CNIL*).

When no candidate carries a top keyword, the title is the best keyword that is no name, as the
members write it (*Pistes cyclables*); with no keyword at all, the central text when it is one
short sentence, else "".

Titles are never cut: a candidate longer than the limit is no candidate. Each word keeps the
case the members mostly give it in mid-sentence (*CNIL*; *internet* rather than *Internet* when
most write it so), a text in capitals is put in lower case, and the first letter is
capitalised. Everything is deterministic, including which texts are read (the first by a hash
of their content) when a cluster is too large to read them all.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from consult.nlp.embed import prepare_text

__all__ = [
    "TITLE_MAX_CHARS",
    "GroupTitle",
    "TitleVocabulary",
    "choose_title",
    "is_brief_reaction",
    "reactions_in",
    "sentences_of",
]

# About the width of a heading line on a phone.
TITLE_MAX_CHARS = 70

# A cluster is a group of reactions when this share of its (weighted) members are brief
# reactions, or this lower share when at least this many of its five best keywords are words
# of reactions ("proposition", "doublon", "voir"...).
_GENERIC_SHARE = 0.5
_GENERIC_LOW_SHARE = 0.25
_GENERIC_KEYWORDS = 5
_GENERIC_KEYWORDS_SAID = 2
# A large cluster is judged on this many of its distinct texts.
_GENERIC_SAMPLE = 300
# How many distinct texts of a cluster are read for candidate phrases, and how much of each:
# the topic phrases of a group show up in any hundred of its texts, and reading everything
# would cost minutes at 100,000 texts. Which texts is decided by a hash of their content, so
# that a cluster gets the same title whatever the order of its texts.
_SAMPLE_TEXTS = 100
_SAMPLE_CHARS = 1_200
# The keywords a title must carry one of, and how many of the best weigh in its score.
_TITLE_KEYWORDS = 3
_SCORED_KEYWORDS = 8
# The longest phrase, in main words, and the preference between lengths.
_MAX_PHRASE_WORDS = 6
_SHAPE = {1: 0.15, 2: 1.0, 3: 1.0, 4: 0.95, 5: 0.85, 6: 0.7}
# A phrase written by one text only is a candidate in clusters of at most this many texts,
# when it has at most this many main words.
_SMALL_CLUSTER = 10
_LEAST_VOICES = 2.0
_SMALL_CLUSTER_ONE_TEXT_WORDS = 4
_CENTRAL_BONUS = 0.15
_SENTENCE_FACTOR = 0.4
_HEADLINE_FACTOR = 1.0
# A weak first or last word halves a phrase's score; a phrase the members always continue
# with a preposition ("règlement européen relatif à la protection [des données]") is a piece
# of a longer one, and loses up to this share of its score.
_WEAK_EDGE_FACTOR = 0.5
_OPEN_ENDING_PENALTY = 0.4
# A phrase met this often next to the same word is a piece of a longer phrase.
_TRUNCATED_SHARE = 0.75
# A brief reaction has at most this many words (links and @mentions are no words), and at most
# this many that are neither stop-words nor words reactions use.
_REACTION_MAX_WORDS = 15
_REACTION_MAX_CONTENT = 2
_REACTION_MAX_CHARS = 400
# A text with no known reaction is still one when it is this short and says nothing.
_BARE_REACTION_MAX_WORDS = 5
# "Oui", "pour", "non" are reactions only in a text of at most this many words.
_ALONE_MAX_WORDS = 3
_LISTED_REACTIONS = 3

Language = Literal["fr", "en"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


@dataclass(frozen=True)
class GroupTitle:
    """The title chosen for one cluster."""

    title: str
    generic: bool = False
    """True when the cluster is a group of brief generic reactions, not a topic."""
    reactions: tuple[str, ...] = ()
    """For a group of reactions, the reactions it holds, most frequent first."""


# --------------------------------------------------------------------------- reactions

# (shown form, variants). Variants are matched on words without accents, so that "deja" and
# "déjà" match alike; a variant marked "=" only counts in a text it nearly makes up alone
# ("Pour !", "Non."), since "pour" or "non" inside a sentence is no reaction.
_REACTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("d'accord", ("d'accord", "daccord", "accord", "entierement d'accord", "je suis d'accord")),
    ("pas d'accord", ("pas d'accord", "pas du tout d'accord", "desaccord", "pas daccord")),
    ("tout à fait", ("tout a fait", "exactement", "absolument", "tres juste", "c'est vrai")),
    ("+1", ("+1", "plussoie", "je plussoie", "=plus un")),
    ("doublon", ("doublon", "doublons", "redondant", "redondante", "deja propose")),
    ("déjà dit", ("deja dit", "deja evoque", "deja debattu", "deja traite", "deja aborde")),
    ("hors sujet", ("hors sujet", "hors-sujet", "=hs", "rien a voir", "aucun rapport")),
    ("voir plus haut", ("voir plus haut", "voir ci-dessus", "voir ci-dessous", "voir plus bas")),
    ("voir ici", ("voir ici", "voir aussi", "lire aussi", "voir la proposition", "voir", "cf")),
    ("idem", ("idem", "pareil", "de meme", "moi aussi", "meme avis", "itou")),
    ("je suis pour", ("je suis pour", "totalement pour", "tout a fait pour", "=pour")),
    ("je suis contre", ("je suis contre", "totalement contre", "=contre")),
    ("oui", ("=oui", "=ok", "=yes", "=oui oui")),
    ("non", ("=non", "=no", "=non non")),
    ("bonne idée", ("bonne idee", "excellente idee", "bonne proposition", "bonne initiative")),
    ("mauvaise idée", ("mauvaise idee", "fausse bonne idee", "mauvaise proposition")),
    ("bravo", ("bravo", "felicitations", "super", "genial", "parfait", "excellent", "=top")),
    ("merci", ("merci", "merci beaucoup")),
    ("je soutiens", ("je soutiens", "soutien", "j'approuve", "j'adhere", "je vote pour")),
    ("n'importe quoi", ("n'importe quoi", "ridicule", "absurde", "aberrant", "grotesque")),
    ("incompréhensible", ("incomprehensible", "pas clair", "je ne comprends pas", "flou")),
    ("incompréhensible", ("je ne comprend pas", "qu'est-ce que ca veut dire")),
    ("incompréhensible", ("qu'est ce que ca veut dire", "que veut dire")),
    ("inutile", ("inutile", "sans interet", "aucun interet", "superflu")),
    ("existe déjà", ("existe deja", "deja le cas", "deja en place")),
    ("agree", ("agree", "i agree", "agreed", "totally agree", "fully agree")),
    ("disagree", ("disagree", "i disagree", "strongly disagree")),
    ("same", ("same", "same here", "me too", "ditto", "likewise")),
    ("duplicate", ("duplicate", "duplicated", "already proposed", "already said")),
    ("off topic", ("off topic", "off-topic", "irrelevant")),
    ("see above", ("see above", "see below", "as above", "see here", "see also")),
    ("good idea", ("good idea", "great idea", "excellent idea", "good point", "well said")),
    ("bad idea", ("bad idea", "terrible idea")),
    ("thanks", ("thanks", "thank you", "well done")),
    ("support", ("i support", "support", "supported", "i support this")),
    ("nonsense", ("nonsense", "ridiculous", "absurd")),
)
_ENGLISH_REACTIONS = frozenset(
    (
        *("agree", "disagree", "same", "duplicate", "off topic", "see above"),
        *("good idea", "bad idea", "thanks", "support", "nonsense"),
    )
)
# Words that a reaction may carry and still say nothing about a topic: "Bonne idée mais à
# améliorer" or "Proposition incompréhensible" are brief reactions. Without accents.
_REACTION_FILLER = _words(
    """
    proposition propositions idee idees article articles sujet sujets commentaire commentaires
    avis argument arguments contribution contributions texte textes principe point points vote
    votes bonne bon bonnes bons mauvaise mauvais tres vraiment totalement completement
    entierement parfaitement ameliorer amelioration precis precise vague ambitieux ambitieuse
    interessant interessante pertinent pertinente utile utiles necessaire possible impossible
    compliquee complique simple realisable faisable applicable pratique reflexion question
    reponse raison exemple effet loi plateforme consultation concertation ici haut bas dessus
    dessous lien source sources concept initiative demarche comprends comprend
    idea post comment proposal thread topic great good bad really totally fully strongly
    """
)
_REACTION_WORD_RE = re.compile(r"\+1|[^\W_]+")
_URL_OR_MENTION_RE = re.compile(r"(?:https?://|www\.)\S+|@[^\W_][\w.-]*")


def _without_accent(char: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))


# Latin letters with diacritics, as a table: str.translate runs in C, a per-character
# normalisation in Python would cost seconds at 100,000 texts.
_ACCENTS = {
    code: _without_accent(chr(code))
    for code in range(0xC0, 0x250)
    if _without_accent(chr(code)) != chr(code)
}


def _strip_accents(text: str) -> str:
    return text.translate(_ACCENTS)


@functools.lru_cache(maxsize=65_536)
def _plain_word(word: str) -> str:
    """A lower-case word without accents; most words are seen many times, hence the cache."""
    return word if word.isascii() else word.translate(_ACCENTS)


def _fold_apostrophes(text: str) -> str:
    for apostrophe in ("\u2019", "\u2018", "\u02bc", "\u2032"):
        if apostrophe in text:
            text = text.replace(apostrophe, "'")
    return text


def _reaction_words(text: str) -> list[str]:
    lowered = _fold_apostrophes(text.lower())
    if "http" in lowered or "www." in lowered or "@" in lowered:
        lowered = _URL_OR_MENTION_RE.sub(" ", lowered)
    return [_plain_word(word) for word in _REACTION_WORD_RE.findall(lowered.replace("'", " "))]


def _variant_words(variant: str) -> tuple[str, ...]:
    return tuple(_REACTION_WORD_RE.findall(_strip_accents(variant).replace("'", " ")))


def _build_reaction_index() -> dict[str, list[tuple[tuple[str, ...], str, bool]]]:
    """First word -> (words, shown form, alone only), longest variants first."""
    index: dict[str, list[tuple[tuple[str, ...], str, bool]]] = {}
    for shown, variants in _REACTIONS:
        for variant in variants:
            words = _variant_words(variant.lstrip("="))
            index.setdefault(words[0], []).append((words, shown, variant.startswith("=")))
    for entries in index.values():
        entries.sort(key=lambda entry: -len(entry[0]))
    return index


_REACTION_INDEX = _build_reaction_index()
# Keywords that say a cluster is about reacting, not about a topic: the one-word reactions,
# and the words reactions are made of ("bonne idée", "cette proposition", "hors sujet"). Not
# "loi" or "article": on a bill they name topics too.
_REACTION_KEYWORDS = _words(
    "proposition propositions idee idees bonne bon mauvaise commentaire commentaires sujet"
    " comprends comprend"
) | frozenset(
    words[0]
    for entries in _REACTION_INDEX.values()
    for words, _shown, _alone in entries
    if len(words) == 1
)


def reactions_in(text: str) -> tuple[list[str], int, list[str]]:
    """The reactions in ``text`` (their shown forms, in order), its number of words, and the
    words left once the reactions are taken out (without accents; links and @mentions are no
    words)."""
    words = _reaction_words(text)
    found: list[str] = []
    left: list[str] = []
    position = 0
    while position < len(words):
        for variant, shown, alone in _REACTION_INDEX.get(words[position], ()):
            end = position + len(variant)
            if tuple(words[position:end]) == variant and not (
                alone and len(words) > _ALONE_MAX_WORDS
            ):
                found.append(shown)
                position = end
                break
        else:
            left.append(words[position])
            position += 1
    return found, len(words), left


def is_brief_reaction(text: str, plain_stops: frozenset[str]) -> tuple[bool, list[str]]:
    """Whether ``text`` is a short, content-free reaction, and the reactions it holds.

    ``plain_stops`` are the stop-words without accents. A text is a brief reaction when it has
    at most fifteen words, holds a known reaction, and at most two of its other words are
    neither stop-words nor words reactions use (*proposition*, *idée*, *pertinent*...); or
    when it is a handful of stop-words, or has no word at all (an emoji, a bare link).
    """
    if len(text) > _REACTION_MAX_CHARS or len(text.split()) > 2 * _REACTION_MAX_WORDS:
        # Fifteen words and a link fit in far less: a long text is never a brief reaction.
        return False, []
    found, total, left = reactions_in(text)
    if total == 0:
        return bool(text.strip()), []
    if total > _REACTION_MAX_WORDS:
        return False, []
    content = sum(
        1
        for word in left
        if len(word) > 1 and word not in plain_stops and word not in _REACTION_FILLER
    )
    if found:
        return content <= _REACTION_MAX_CONTENT, found
    return total <= _BARE_REACTION_MAX_WORDS and content == 0, []


def _is_generic(
    ordered: Sequence[str],
    weight_of: dict[str, float],
    keywords: Sequence[tuple[str, float]],
    plain_stops: frozenset[str],
) -> tuple[bool, Counter[str]]:
    """Whether a cluster is a group of brief reactions, and the reactions its members hold.

    ``ordered`` are the cluster's distinct texts in reading order, ``weight_of`` their total
    weights; a large cluster is judged on the first of them.
    """
    brief = total = 0.0
    reactions: Counter[str] = Counter()
    # An empty text is no reaction; it is nothing, and does not count.
    said = [text for text in ordered if text.strip()]
    for text in said[:_GENERIC_SAMPLE]:
        weight = weight_of[text]
        total += weight
        is_reaction, found = is_brief_reaction(text, plain_stops)
        if is_reaction:
            brief += weight
            reactions.update(set(found))
    if total <= 0 or brief < _GENERIC_LOW_SHARE * total:
        return False, reactions
    if brief >= _GENERIC_SHARE * total:
        return True, reactions
    best = [keyword for keyword, _score in keywords[:_GENERIC_KEYWORDS]]
    reacting = sum(
        all(word in _REACTION_KEYWORDS or word in plain_stops for word in _variant_words(keyword))
        for keyword in best
    )
    return reacting >= _GENERIC_KEYWORDS_SAID, reactions


def _reaction_title(reactions: Counter[str], language: Language) -> str:
    ranked = [r for r, _count in sorted(reactions.items(), key=lambda item: (-item[1], item[0]))]
    if language == "en":
        head, quote, separator = "Brief reactions", '"{}"', ": "
        shown = [r for r in ranked if r in _ENGLISH_REACTIONS or r == "+1"] or ranked
    else:
        # French typography: no-break spaces inside the guillemets and before the colon.
        head, quote, separator = "Réactions brèves", "«\u00a0{}\u00a0»", "\u00a0: "
        shown = [r for r in ranked if r not in _ENGLISH_REACTIONS] or ranked
    title = head
    listed: list[str] = []
    for reaction in shown[:_LISTED_REACTIONS]:
        longer = head + separator + ", ".join(quote.format(r) for r in [*listed, reaction])
        if len(longer) > TITLE_MAX_CHARS:
            break
        listed.append(reaction)
        title = longer
    return title


# --------------------------------------------------------------------------- vocabulary

# Kinds of token in a phrase: a main word, a preposition (contracted ones included), an
# article, a conjunction, or a break (punctuation, any other stop-word, a number).
_WORD, _PREPOSITION, _ARTICLE, _CONJUNCTION, _BREAK = range(5)
# Only those that build noun phrases: "enfants vers les parents" is a fragment.
_PREPOSITIONS = _words(
    "de du des à au aux en pour par sur dans avec sans entre contre d' of for to in on with"
)
# Only definite articles: "à un investissement" or "des plateformes une" read badly in a title.
_ARTICLES = _words("la le les l' the")
_CONJUNCTIONS = _words("et ou and or")
# Prepositions that carry an article: "créer des commissions", "accès aux données".
_CONTRACTED_ARTICLES = _words("des du au aux")
_JOINERS = _PREPOSITIONS | _ARTICLES | _CONJUNCTIONS
_JOINER_KEYS = {"d'": "de", "du": "de", "des": "de", "au": "à", "aux": "à"}
# French elisions that are an article or a preposition ("l'accès", "d'identité"); the others
# (qu', j', n', s', c'...) are a pronoun or a negation, which end a phrase.
_JOINING_ELISIONS = ("l'", "d'")
_ELISION_RE = re.compile(r"(?:jusqu|lorsqu|puisqu|quoiqu|qu|[cdjlmnst])'")
# What a word is after, to tell verbs ("il considère", "qui permet") from nouns ("la vente").
# "de" and "leur" are left out: infinitives follow "de", verbs follow the pronoun "leur".
_BEFORE_VERBS = _words(
    "je tu il elle on nous vous ils elles qui ne se ça ca cela ceci i we they you he she it who"
    " qu'il qu'elle qu'on qu'ils qu'elles"
)
_DETERMINERS = _words(
    "le la les l' un une des du au aux ce cet cette ces mon ma mes ton ta tes son sa ses notre"
    " nos votre vos leurs the a an this these those their our its his her my your"
)
# Conjugated forms that never start or end a title, whatever the context says.
_VERB_ENDINGS = ("ait", "aient", "èrent", "eront", "iront")
_VERB_FORMS = _words(
    "sert servent permet permettent existe existent semble semblent concerne concernent"
    " devient deviennent prévoit prévoient impose imposent oblige obligent rend rendent prend"
    " prennent met mettent vient viennent tient tiennent dépend dépendent signifie implique"
    " impliquent représente représentent constitue constituent contient contiennent comprend"
    " suffit paraît parait apparaît propose proposent considère considèrent nécessite"
    " nécessitent existera permettra pourra devra"
)
# Endings of adverbs in -ment; nouns in -ment (paiement, renseignement) end otherwise.
_ADVERB_ENDINGS = (
    "ivement", "iquement", "ellement", "amment", "emment", "ablement", "iblement", "ument",
    "aiment", "èrement", "eusement", "airement", "actement", "uement", "ûment",
)  # fmt: skip
# Endings of past participles, which open no title either unless the members use the word
# as a noun ("les données", "une idée").
_PARTICIPLE_ENDINGS = ("é", "ée", "és", "ées")
_NOT_VERBS = _words(
    "lait portrait trait souhait attrait retrait extrait bienfait méfait forfait parfait"
)
# Words ending like infinitives that are nouns or adjectives: after them an article starts a
# new phrase ("cadre la", "libre les").
_NOT_INFINITIVES = _words(
    "premier dernier entier particulier avenir loisir plaisir désir souvenir cadre titre ordre"
    " nombre membre centre libre autre notre votre être lettre chiffre offre registre ministre"
    " propre contre outre pouvoir devoir savoir espoir trottoir terroir mer fer hiver hier"
    " cancer danger loyer foyer métier fichier dossier papier courrier quartier clavier"
    " chantier cahier conseiller"
)
_NOUN_LIKE_ENDINGS = ("aire", "oire", "ure", "ère", "tre", "bre", "ier", "eur", "oir")
_VERB_LIKE_EXCEPTIONS = ("ettre", "aître", "ifier", "lier", "oître")
# Words that make a poor first or last word of a title ("niveau européen" is a title, "venir
# au niveau" is not).
_WEAK_EDGES = _words(
    "niveau cadre part exemple mise place sens terme fait rapport compte lieu cf voir ex"
    " etc svp merci bonjour question besoin point façon type venir aller sortir mettre"
    " faire passer proposition propositions article articles idée idées avis"
)
# Pronouns and openers that make a sentence an opinion or a continuation, not a title.
_PERSONAL = _words(
    "je j' me m' moi nous vous tu te toi mon ma mes notre nos votre vos i my we our you your us"
)
_CONTINUATIONS = (
    "de plus", "en plus", "enfin", "ensuite", "mais", "et ", "or ", "donc", "par contre",
    "en effet", "cependant", "pourtant", "qui plus est", "par ailleurs", "au pire", "si ",
    "ainsi", "aussi", "d'autre part", "d'ailleurs", "car ", "puis", "sinon", "bref", "quant",
    "also", "but ", "and ", "however", "moreover", "so ", "then", "ce ", "cela", "ceci",
    "celui", "celle", "il ", "elle ", "ils ", "elles ", "this", "that", "it ", "they",
    "on ", "ça", "ca ", "à condition", "a condition", "pour que", "quand", "lorsque",
)  # fmt: skip
_SENTENCE_BREAKS = frozenset(".!?…;:")
_SENTENCE_BREAK_RE = re.compile(r"[.!?…;:]+")
_TOKEN_RE = re.compile(r"[^\W_]+(?:['-][^\W_]+)*|\S")
_WORD_RE = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
# Links, e-mail addresses and HTML tags: their pieces would read as words ("https").
_NOISE_RE = re.compile(
    r"(?:https?://|www\.)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+|</?[a-z][^<>\n]{0,200}>",
    re.IGNORECASE,
)


def _looks_infinitive(term: str) -> bool:
    if len(term) < 5 or term in _NOT_INFINITIVES:
        return False
    if term.endswith(_VERB_LIKE_EXCEPTIONS):
        return True
    return term.endswith(("er", "ir", "re")) and not term.endswith(_NOUN_LIKE_ENDINGS)


class TitleVocabulary:
    """Stop-words and keyword terms, and a cache of how each token reads in a phrase.

    ``term_of`` maps a lower-case token to the term it counts as in keywords ("" for none):
    the keyword ranking's own function, so that phrases and keywords match exactly. One
    vocabulary serves all the clusters of a call.
    """

    def __init__(
        self,
        stops: frozenset[str],
        term_of: Callable[[str], str],
        french_stops: frozenset[str],
        english_stops: frozenset[str],
    ) -> None:
        self.term_of = term_of
        self.plain_stops = frozenset(_strip_accents(word) for word in stops)
        # Words of one language only, to tell French texts from English ones.
        self.french_only = french_stops - english_stops
        self.english_only = english_stops - french_stops
        self._tokens: dict[str, tuple[tuple[int, str, int], ...]] = {}

    def read(self, lowered: str) -> tuple[tuple[int, str, int], ...]:
        """A lower-case word as phrase tokens: (kind, term or form, length in the text)."""
        known = self._tokens.get(lowered)
        if known is not None:
            return known
        tokens: tuple[tuple[int, str, int], ...]
        elided = _ELISION_RE.match(lowered)
        if elided and len(lowered) > elided.end():
            prefix = lowered[: elided.end()]
            if prefix in _JOINING_ELISIONS:
                kind = _ARTICLE if prefix == "l'" else _PREPOSITION
                tokens = ((kind, prefix, len(prefix)), self._plain(lowered[elided.end() :]))
            else:
                tokens = ((_BREAK, "", len(lowered)),)
        else:
            tokens = (self._plain(lowered),)
        self._tokens[lowered] = tokens
        return tokens

    def _plain(self, word: str) -> tuple[int, str, int]:
        if word in _PREPOSITIONS:
            return (_PREPOSITION, word, len(word))
        if word in _ARTICLES:
            return (_ARTICLE, word, len(word))
        if word in _CONJUNCTIONS:
            return (_CONJUNCTION, word, len(word))
        term = self.term_of(word)
        return (_WORD, term, len(word)) if term else (_BREAK, "", len(word))

    def language(self, texts: Iterable[str]) -> Language:
        """French unless the texts use more English-only stop-words than French-only ones."""
        french = english = 0
        for text in texts:
            for word in _REACTION_WORD_RE.findall(text[:_SAMPLE_CHARS].lower()):
                if word in self.french_only:
                    french += 1
                elif word in self.english_only:
                    english += 1
        return "en" if english > french else "fr"


# --------------------------------------------------------------------------- phrases

# One token of a run: (kind, term, start, end, first word of its sentence).
_Token = tuple[int, str, int, int, bool]


@dataclass
class _Phrase:
    """A candidate phrase: its terms, and how many texts write it, and how."""

    words: tuple[str, ...]
    bigrams: tuple[str, ...]
    size: int
    """Main words in the phrase."""
    texts: int = 0
    voices: float = 0.0
    """The texts writing the phrase, each counted as its number of voices (see _voices)."""
    contexts: set[str] = field(default_factory=set)
    """The distinct sentences the phrase was met in: a sentence pasted into several texts (by
    one author, or a campaign) is one context however many texts hold it."""
    in_central: bool = False
    occurrences: int = 0
    open_endings: int = 0
    """Occurrences followed by a preposition or an article, the phrase going on."""
    before: Counter[str] = field(default_factory=Counter)
    after: Counter[str] = field(default_factory=Counter)
    """The main words met right before and right after the phrase."""
    inner: Counter[str] = field(default_factory=Counter)
    """Surface forms met in the middle of a sentence."""
    initial: Counter[str] = field(default_factory=Counter)
    """Surface forms met at the start of a sentence (capitalised there anyway)."""

    @property
    def support(self) -> float:
        """How many voices write the phrase in their own words: its voices, less the share of
        its texts that only repeat a sentence another text already holds."""
        return self.voices * min(self.texts, len(self.contexts)) / self.texts

    def is_truncated(self) -> bool:
        """Whether the members nearly always write the phrase with the same word before or
        after it: it is then a piece of that longer phrase ("[bande] passante", "données à
        caractère [personnel]"), which is a candidate of its own."""
        return self.occurrences >= 2 and any(
            neighbours and max(neighbours.values()) >= _TRUNCATED_SHARE * self.occurrences
            for neighbours in (self.before, self.after)
        )


@dataclass
class _Reading:
    """What the sample texts of one cluster say: phrases, and how words are used."""

    found: dict[str, _Phrase] = field(default_factory=dict)
    after_subject: Counter[str] = field(default_factory=Counter)
    after_determiner: Counter[str] = field(default_factory=Counter)
    capitalised: Counter[str] = field(default_factory=Counter)
    lower_case: Counter[str] = field(default_factory=Counter)

    def is_verb(self, term: str) -> bool:
        """Whether the members use ``term`` as a conjugated verb."""
        if term in _VERB_FORMS:
            return True
        if term.endswith(_VERB_ENDINGS) and len(term) > 5 and term not in _NOT_VERBS:
            return True
        return self.after_subject[term] > self.after_determiner[term]

    def is_participle(self, term: str) -> bool:
        """Whether ``term`` reads as a past participle: never after an article in the texts."""
        return term.endswith(_PARTICIPLE_ENDINGS) and not self.after_determiner[term]

    def is_adverb(self, term: str) -> bool:
        """Whether ``term`` is an adverb ("uniquement"), never after an article."""
        return term.endswith(_ADVERB_ENDINGS) and not self.after_determiner[term]

    def is_name(self, term: str) -> bool:
        """Whether the members mostly capitalise ``term`` in mid-sentence."""
        return self.capitalised[term] > self.lower_case[term]


def _chunks(
    text: str, vocabulary: TitleVocabulary, reading: _Reading, opens_sentence: bool
) -> list[list[_Token]]:
    """The runs of words phrases are taken from; counts how words are used on the way.

    A run ends at punctuation, at a stop-word that is no preposition, article or conjunction,
    at a third joining word in a row, and at an article that follows a main word unless that
    word looks like an infinitive ("interdire la vente" holds, "neutralité la" does not).
    """
    chunks: list[list[_Token]] = []
    current: list[_Token] = []
    joins = 0
    sentence_start = opens_sentence
    previous = ""
    for match in _TOKEN_RE.finditer(text):
        surface = match.group()
        start = match.start()
        if len(surface) == 1 and not surface.isalnum():
            if current:
                chunks.append(current)
                current, joins = [], 0
            sentence_start = sentence_start or surface in _SENTENCE_BREAKS
            previous = ""
            continue
        first_of_sentence, sentence_start = sentence_start, False
        lowered = surface.lower()
        for kind, term, length in vocabulary.read(lowered):
            end = start + length
            if kind == _WORD:
                if previous in _BEFORE_VERBS:
                    reading.after_subject[term] += 1
                elif previous in _DETERMINERS:
                    reading.after_determiner[term] += 1
                if not first_of_sentence:
                    word = surface[start - match.start() :]
                    if word[:1].isupper() and not word.isupper():
                        reading.capitalised[term] += 1
                    else:
                        reading.lower_case[term] += 1
                current.append((kind, term, start, end, first_of_sentence))
                joins = 0
            elif kind == _BREAK:
                if current:
                    chunks.append(current)
                    current, joins = [], 0
            elif current:
                before = current[-1][0]
                if kind == _ARTICLE:
                    allowed = before in (_PREPOSITION, _CONJUNCTION) or (
                        before == _WORD and _looks_infinitive(current[-1][1])
                    )
                else:
                    allowed = before != _ARTICLE
                if allowed and joins < 2:
                    current.append((kind, term, start, end, first_of_sentence))
                    joins += 1
                else:
                    chunks.append(current)
                    current, joins = [], 0
            previous = term if kind != _BREAK else lowered
            start = end
            first_of_sentence = False
    if current:
        chunks.append(current)
    return chunks


def _parallel(span: Sequence[_Token]) -> bool:
    """Whether an article after a conjunction has its match before it: "la CADA et la CNIL"
    and "logiciels libres et formats ouverts" are balanced, "hébergeur et l'éditeur" is not."""
    for position in range(1, len(span)):
        if span[position][0] == _ARTICLE and span[position - 1][0] == _CONJUNCTION:
            return any(token[0] == _ARTICLE for token in span[: position - 1])
    return True


def _object_follows(span: Sequence[_Token]) -> bool:
    """Whether a phrase opening with an infinitive goes on with its object: "interdire la
    vente liée", "créer des commissions", not "créer de catégorie"."""
    if len(span) < 2 or not _looks_infinitive(span[0][1]):
        return True
    return span[1][0] == _ARTICLE or span[1][1] in _CONTRACTED_ARTICLES


def _singular(term: str) -> str:
    """A light plural fold for counting, French and English: "services" -> "service"."""
    if len(term) > 3 and term[-1] in "sx" and term[-2] not in "su":
        return term[:-1]
    return term


def _bigrams(span: Sequence[_Token]) -> tuple[str, ...]:
    return tuple(
        f"{first[1]} {second[1]}"
        for first, second in itertools.pairwise(span)
        if first[0] == _WORD and second[0] == _WORD
    )


def _title_pattern(title_words: Iterable[str]) -> re.Pattern[str]:
    """Finds where a text writes one of the title words, whatever the case."""
    alternatives = "|".join(
        re.escape(word) for word in sorted(title_words, key=lambda w: (-len(w), w))
    )
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE)


def _read_phrases(
    text: str,
    vocabulary: TitleVocabulary,
    title_words: frozenset[str],
    pattern: re.Pattern[str],
    reading: _Reading,
    voices: float,
    central: bool,
) -> None:
    """Count the candidate phrases of one text in ``reading`` (each once per text, as
    ``voices`` voices).

    Only the sentences that write a title word are read (``pattern`` finds them): a phrase
    must hold one, and tokenising whole texts would cost most of the time.
    """
    text = _fold_apostrophes(unicodedata.normalize("NFC", text[:_SAMPLE_CHARS]))
    if "@" in text or "://" in text or "www." in text or "<" in text:
        text = _NOISE_RE.sub(" | ", text)
    breaks: list[int] | None = None
    seen: set[str] = set()
    read_until = -1
    for hit in pattern.finditer(text):
        if hit.start() < read_until:
            continue
        if breaks is None:
            breaks = [match.end() for match in _SENTENCE_BREAK_RE.finditer(text)]
        at = bisect.bisect_right(breaks, hit.start())
        start = breaks[at - 1] if at else 0
        read_until = breaks[at] if at < len(breaks) else len(text)
        opens = start == 0 or text[start - 1] in ".!?…"
        # The sentence is the context: independent writers do not write the same sentence.
        sentence = text[start:read_until]
        for chunk in _chunks(sentence, vocabulary, reading, opens):
            _count_phrases(sentence, chunk, title_words, reading, seen, voices, central)


def _count_phrases(
    sentence: str,
    chunk: list[_Token],
    title_words: frozenset[str],
    reading: _Reading,
    seen: set[str],
    voices: float,
    central: bool,
) -> None:
    """Count the candidate phrases of one run of words (``seen``: those of the text so far)."""
    words = [position for position, token in enumerate(chunk) if token[0] == _WORD]
    if not any(chunk[position][1] in title_words for position in words):
        return
    found = reading.found
    for first_index, first in enumerate(words):
        conjunctions = 0
        for last in words[first_index : first_index + _MAX_PHRASE_WORDS]:
            if last > first and chunk[last - 1][0] == _CONJUNCTION:
                conjunctions += 1
            start, end = chunk[first][2], chunk[last][3]
            if conjunctions > 1 or end - start > TITLE_MAX_CHARS:
                break
            span = chunk[first : last + 1]
            if not _parallel(span) or not _object_follows(span):
                continue
            terms = tuple(token[1] for token in span if token[0] == _WORD)
            if title_words.isdisjoint(terms):
                continue
            # Singular and plural are one phrase ("service public", "services publics"), and so
            # are the forms of the same joining word ("neutralité de l'internet", "neutralité
            # d'internet"); other joining words make another phrase ("accès internet").
            key = " ".join(
                _singular(token[1]) if token[0] == _WORD else _JOINER_KEYS.get(token[1], token[1])
                for token in span
                if token[0] != _ARTICLE
            )
            phrase = found.get(key)
            if phrase is None:
                phrase = found[key] = _Phrase(terms, _bigrams(span), len(terms))
            elif terms != phrase.words:
                phrase.words = tuple(dict.fromkeys(phrase.words + terms))
                phrase.bigrams = tuple(dict.fromkeys(phrase.bigrams + _bigrams(span)))
            if first and chunk[first - 1][0] == _WORD:
                phrase.before[chunk[first - 1][1]] += 1
            if last + 1 < len(chunk):
                following = chunk[last + 1]
                if following[0] == _WORD:
                    phrase.after[following[1]] += 1
                elif following[0] in (_PREPOSITION, _ARTICLE):
                    phrase.open_endings += 1
            phrase.occurrences += 1
            phrase.contexts.add(sentence)
            forms = phrase.initial if chunk[first][4] else phrase.inner
            forms[" ".join(sentence[start:end].split())] += 1
            if key not in seen:
                seen.add(key)
                phrase.texts += 1
                phrase.voices += voices
                phrase.in_central = phrase.in_central or central


def _surface(phrase: _Phrase) -> str:
    """How the members write a phrase: the commonest mid-sentence form, else the commonest."""
    forms = phrase.inner or phrase.initial
    return min(forms.items(), key=lambda item: (-item[1], item[0]))[0]


def _is_name(phrase: _Phrase, reading: _Reading) -> bool:
    """A run of capitalised words: a person, an organisation, a signature.

    Each word the members write in mid-sentence must be mostly capitalised there, and one at
    least must be; a word only ever met at the start of a sentence does not tell. An acronym in
    capitals (CGU, SMS, FAI) counts as lower case: it names a thing as often as an
    organisation, and alone it is already a weak one-word title.
    """
    seen = [word for word in phrase.words if reading.capitalised[word] or reading.lower_case[word]]
    return bool(seen) and all(reading.is_name(word) for word in seen)


def _in_usual_case(text: str, reading: _Reading, vocabulary: TitleVocabulary) -> str:
    """Each word after the first in the case the members mostly give it mid-sentence."""
    first = True

    def usual(match: re.Match[str]) -> str:
        nonlocal first
        word = match.group()
        if first:
            first = False
        elif word[:1].isupper() and not word.isupper():
            term = vocabulary.read(word.lower())[-1][1]
            if term and reading.lower_case[term] > reading.capitalised[term]:
                return word[:1].lower() + word[1:]
        return word

    return _WORD_RE.sub(usual, text)


def _publishable_case(text: str) -> str:
    """Lower-case a shouted text (long words in capitals), then capitalise the first letter."""
    letters = [char for char in text if char.isalpha()]
    if (
        letters
        and all(char.isupper() for char in letters)
        and any(len(word) > 4 for word in _REACTION_WORD_RE.findall(text))
    ):
        text = text.lower()
    return text[:1].upper() + text[1:] if text[:1].islower() else text


# --------------------------------------------------------------------------- sentences

_LINE_BREAK_RE = re.compile(r"\n\s*")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])\s+")
_LEFTOVER_MARKUP_RE = re.compile(r"[*_#`~]+")
_SPACES_RE = re.compile(r"\s+")
_TRAILING_PUNCTUATION = " .,;:-–—"
_QUOTES_AND_LINKS = ("http", "www.", "@", "(", ")", "[", '"', "«", "»", "“", "”")


def sentences_of(text: str) -> list[str]:
    """The plain-text sentences of a (Markdown) text, in order."""
    sentences: list[str] = []
    # Lines first: a list item or a heading ends where its line does, full stop or not.
    for line in _LINE_BREAK_RE.split(text):
        plain = prepare_text(line, max_chars=max(len(line), 1))
        plain = _SPACES_RE.sub(" ", _LEFTOVER_MARKUP_RE.sub("", plain)).strip()
        sentences.extend(s.strip() for s in _SENTENCE_END_RE.split(plain) if s.strip())
    return sentences


def _headline_of(text: str) -> str:
    """The first line of a text when it reads as its title: short, and more lines follow."""
    line, newline, rest = text.lstrip().partition("\n")
    if not newline or not rest.strip():
        return ""
    line = line.strip().lstrip("#").strip()
    if len(line) > TITLE_MAX_CHARS or line.endswith((",", ";", ":", "…", "...")):
        return ""
    return line


def _clean_sentence(sentence: str) -> str:
    plain = _fold_apostrophes(" ".join(prepare_text(sentence).split()))
    plain = _LEFTOVER_MARKUP_RE.sub("", plain).strip()
    # A full stop, or a colon or comma left by a headline, ends no title; an ellipsis stays,
    # and so the sentence is refused as a cut one.
    return plain if plain.endswith(("...", "…")) else plain.rstrip(_TRAILING_PUNCTUATION)


def _reads_as_title(sentence: str) -> bool:
    """A statement a ministry could print: no question, no "I", no "De plus, ..."."""
    if not sentence or len(sentence) > TITLE_MAX_CHARS or sentence.endswith(("?", "…", "...")):
        return False
    if not sentence[:1].isupper() or any(mark in sentence for mark in _QUOTES_AND_LINKS):
        return False
    lowered = sentence.lower()
    if lowered.startswith(_CONTINUATIONS):
        return False
    words = [word for word in _TOKEN_RE.findall(lowered) if word[:1].isalnum()]
    if len(words) < 3:
        return False
    for word in words:
        elided = _ELISION_RE.match(word)
        if word in _PERSONAL or (elided and word[: elided.end()] in ("j'", "m'")):
            return False
    return True


def _sentence_terms(
    sentence: str, vocabulary: TitleVocabulary
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    words: list[str] = []
    bigrams: list[str] = []
    previous = ""
    for match in _TOKEN_RE.finditer(sentence.lower()):
        surface = match.group()
        if len(surface) == 1 and not surface.isalnum():
            previous = ""
            continue
        for kind, term, _length in vocabulary.read(surface):
            if kind == _WORD:
                words.append(term)
                if previous:
                    bigrams.append(f"{previous} {term}")
            previous = term if kind == _WORD else ""
    return tuple(words), tuple(bigrams)


# --------------------------------------------------------------------------- choice


@dataclass(frozen=True)
class _Candidate:
    score: float
    text: str


def _coverage(
    words: Iterable[str], bigrams: Iterable[str], weights: dict[str, float], top: frozenset[str]
) -> tuple[float, bool]:
    """The keyword weight a candidate carries, and whether it carries a top keyword."""
    terms = set(words) | set(bigrams)
    covered = [keyword for keyword in weights if keyword in terms]
    return sum(weights[keyword] for keyword in covered), not top.isdisjoint(covered)


def _sample_key(text: str) -> tuple[int, str]:
    # A hash of the content: deterministic, and free of the order the texts come in.
    return zlib.crc32(text.encode("utf-8", "surrogatepass")), text


def choose_title(
    texts: Sequence[str],
    weights: Sequence[float],
    central_text: str,
    headlines: Sequence[str],
    keywords: Sequence[tuple[str, float]],
    vocabulary: TitleVocabulary,
) -> GroupTitle:
    """The title of one cluster (see the module docstring for the rules).

    ``texts`` are the cluster's members, ``weights`` their counts (a campaign's copies),
    ``headlines`` an optional title line per member ("" for none), ``central_text`` the most
    central member's text, and ``keywords`` the ranked keywords with their c-TF-IDF scores,
    best first.
    """
    # Distinct texts only: an author posting the same text ten times is one voice. They are
    # read in the order of a hash of their content, the same whatever order they come in.
    headline_of: dict[str, str] = {}
    weight_of: dict[str, float] = {}
    for text, weight, headline in zip(texts, weights, headlines, strict=True):
        weight_of[text] = weight_of.get(text, 0.0) + weight
        if text or headline:
            headline_of.setdefault(text, headline)
    ordered = sorted(headline_of, key=_sample_key)
    generic, reactions = _is_generic(ordered, weight_of, keywords, vocabulary.plain_stops)
    sample = ordered[:_SAMPLE_TEXTS]
    if generic:
        ranked_reactions = sorted(reactions.items(), key=lambda item: (-item[1], item[0]))
        english = sum(count for r, count in reactions.items() if r in _ENGLISH_REACTIONS)
        french = sum(reactions.values()) - english - reactions["+1"]
        # The reactions tell the language ("Agree!" has no stop-word), else the stop-words do.
        if english != french:
            language: Language = "en" if english > french else "fr"
        else:
            language = vocabulary.language(sample)
        return GroupTitle(
            title=_reaction_title(reactions, language),
            generic=True,
            reactions=tuple(reaction for reaction, _count in ranked_reactions),
        )

    ranked = list(keywords[:_SCORED_KEYWORDS])
    if not ranked:
        return GroupTitle(title=_title_without_keywords(central_text))
    best_score = ranked[0][1] or 1.0
    # Squared, so that the best keywords lead: a phrase of two minor keywords is worth less
    # than the best keyword.
    weights_of = {keyword: (score / best_score) ** 2 for keyword, score in ranked}
    top = frozenset(keyword for keyword, _score in ranked[:_TITLE_KEYWORDS])
    title_words = frozenset(word for keyword in top for word in keyword.split(" "))

    if central_text and central_text not in headline_of:
        sample.append(central_text)
    reading = _Reading()
    pattern = _title_pattern(title_words)
    readers = 0.0
    for text in sample:
        voices = _voices(weight_of.get(text, 1.0))
        readers += voices
        _read_phrases(
            text, vocabulary, title_words, pattern, reading, voices, central=text == central_text
        )
    readers = max(readers, 1.0)
    # Phrases of two texts at least; in a small cluster, short ones of one text too, since
    # few phrases there are shared at all.
    candidates = _phrase_candidates(reading, readers, len(sample), weights_of, top)

    # Headlines and sentences: written once, by their text's voices.
    whole: set[tuple[str, float, float]] = set()
    for text in ordered:
        voices = _voices(weight_of.get(text, 1.0))
        for line in (headline_of[text], _headline_of(text)):
            if line:
                whole.add((line, _HEADLINE_FACTOR, voices))
    if central_text:
        voices = _voices(weight_of.get(central_text, 1.0))
        whole |= {(line, _SENTENCE_FACTOR, voices) for line in sentences_of(central_text)}
    for raw, factor, voices in sorted(whole):
        sentence = _clean_sentence(raw)
        if not _reads_as_title(sentence):
            continue
        words, bigrams = _sentence_terms(sentence, vocabulary)
        carried, has_top = _coverage(words, bigrams, weights_of, top)
        if has_top and not _is_name(_Phrase(words, bigrams, len(words)), reading):
            shape = _SHAPE[min(max(len(words), 1), _MAX_PHRASE_WORDS)]
            score = carried * (voices / readers) ** 0.5 * shape * factor
            candidates.append(_Candidate(score, sentence))

    if candidates:
        # Ties go to the shorter, then the alphabetically first title.
        best = min(candidates, key=lambda c: (-round(c.score, 12), len(c.text), c.text))
        title = best.text
    else:
        title = _keyword_title([keyword for keyword, _score in ranked], reading)
    return GroupTitle(title=_publishable_case(_in_usual_case(title, reading, vocabulary)))


def _voices(weight: float) -> float:
    """How many voices a text counts as: one, and a campaign's copies (``weight``) add the
    logarithm of their number, so that 160 signatures weigh like six writers, not 160; a
    campaign is more than one author's quirk, but one text still."""
    return 1.0 + math.log(weight) if weight > 1 else 1.0


def _phrase_candidates(
    reading: _Reading,
    readers: float,
    texts: int,
    weights_of: dict[str, float],
    top: frozenset[str],
) -> list[_Candidate]:
    """The scored phrases of the ``texts`` texts read, ``readers`` voices in all (see the
    module docstring)."""
    small = texts <= _SMALL_CLUSTER
    candidates: list[_Candidate] = []
    for phrase in reading.found.values():
        support = phrase.support
        if support < _LEAST_VOICES and not (
            small
            and phrase.size <= _SMALL_CLUSTER_ONE_TEXT_WORDS
            # One writer's words need more warrant: the last one met as a noun somewhere
            # ("hébergeur commence" ends with a verb no pronoun gave away).
            and (reading.after_determiner[phrase.words[-1]] or phrase.words[-1] in weights_of)
        ):
            continue
        carried, has_top = _coverage(phrase.words, phrase.bigrams, weights_of, top)
        if not has_top or _is_name(phrase, reading):
            continue
        first, last = phrase.words[0], phrase.words[-1]
        if (
            reading.is_verb(first)
            or reading.is_verb(last)
            or reading.is_participle(first)
            or any(reading.is_adverb(word) for word in phrase.words)
            or phrase.is_truncated()
        ):
            continue
        surface = _surface(phrase)
        if phrase.size == 1 and surface.isupper():
            # An acronym alone names an organisation (CNIL) or is the vaguest of titles (SMS).
            continue
        shape = _SHAPE[phrase.size]
        if first in _WEAK_EDGES or last in _WEAK_EDGES:
            shape *= _WEAK_EDGE_FACTOR
        shape *= 1 - _OPEN_ENDING_PENALTY * phrase.open_endings / phrase.occurrences
        score = carried * (support / readers) ** 0.5 * shape
        if phrase.in_central:
            score *= 1 + _CENTRAL_BONUS
        candidates.append(_Candidate(score, surface))
    return candidates


def _keyword_title(keywords: Sequence[str], reading: _Reading) -> str:
    """The best keyword that is no name (a signature's), as the members write it."""
    for keyword in keywords:
        phrase = reading.found.get(" ".join(_singular(word) for word in keyword.split(" ")))
        if phrase is None or not (phrase.inner or phrase.initial):
            if not any(reading.is_name(word) for word in keyword.split(" ")):
                return keyword
        elif not _is_name(phrase, reading):
            return _surface(phrase)
    return keywords[0]


def _title_without_keywords(central_text: str) -> str:
    """A cluster with no keyword: its central text when that is one short sentence."""
    sentences = sentences_of(central_text) if central_text else []
    if len(sentences) == 1:
        sentence = _clean_sentence(sentences[0])
        if len(sentence) <= TITLE_MAX_CHARS:
            return _publishable_case(sentence)
    return ""
