"""A synthetic French consultation on the demo bill, with injected copy-paste campaigns.

:func:`make_consultation_corpus` writes ``size`` contributions on the articles of the demo bill
(``consult/demo/bill_fr.md``): annotations quoting a passage of an alinéa, amendments with new
wording (words replaced or an alinéa rewritten) and their exposé, and arguments pour, contre or
neutre. Each article has three topics of its own; a text recombines a topic's claim with
stance-specific openings, shared reasons, personal details with random figures, a proposal
and a closing, and a share of the texts carry typos. Eight form letters on the demo articles
are injected as campaigns (50 to 2,000 copies at 100,000 contributions, scaled down below),
each copy exact or edited as people do: a word replaced, a sentence added or removed, typos,
typography, a personal line at the start or the end, and independently a signature. Every
contribution has vote counters. The same size and seed always give the same corpus.

bench/campaigns.py builds bare campaign-detection items (text, author, date) on no bill; this
module builds whole contributions on the demo articles and reuses its edits and name lists.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bench.campaigns import (
    ARGUMENTS,
    CAMPAIGN_SIZES,
    CLOSINGS,
    EXAMPLES,
    FIRST_NAMES,
    LAST_NAMES,
    START,
    _fill,
    _typos,
    edited_copy,
)
from consult.bills.parser import parse_bill
from consult.demo.seed import demo_bill_text


@dataclass(frozen=True)
class Topic:
    """What people say about one aspect of an article."""

    subject: str
    """A noun phrase that fits after "sur", "à propos de"."""
    pour: str
    contre: str
    proposal: str
    """An infinitive phrase that fits after "Je propose de"."""
    wording: str
    """New wording an amendment proposes for the article."""


TOPICS: dict[str, list[Topic]] = {
    "art-1": [
        Topic(
            "le droit d'être informé des projets de textes",
            "Poser un droit à l'information est un vrai progrès pour les citoyens.",
            "Un droit proclamé sans moyens ne changera rien pour les citoyens.",
            "préciser par quels canaux chacun est informé",
            "le droit d'être informée, par voie électronique et par affichage en mairie,",
        ),
        Topic(
            "le principe de redevabilité",
            "La redevabilité oblige enfin l'administration à rendre des comptes.",
            "La redevabilité est un anglicisme dont le juge ne saura que faire.",
            "remplacer la redevabilité par l'obligation de rendre compte",
            "de sincérité, de transparence, d'égalité d'accès et d'obligation de rendre compte",
        ),
        Topic(
            "le moment où la consultation intervient",
            "Consulter quand les options sont encore ouvertes est la bonne approche.",
            "Veiller à consulter tôt n'est pas une obligation vérifiable.",
            "interdire de consulter sur un texte déjà transmis au Conseil d'État",
            "Les autorités ouvrent la consultation avant toute saisine du Conseil d'État.",
        ),
    ],
    "art-2": [
        Topic(
            "la définition de la consultation ouverte",
            "La définition de la consultation ouverte est claire et utile.",
            "La définition exclut les consultations sur papier, ce qui est regrettable.",
            "inclure les consultations organisées hors ligne",
            "par voie électronique ou par tout autre moyen",
        ),
        Topic(
            "la notion de contributeur",
            "Inclure les personnes morales parmi les contributeurs est logique.",
            "Mettre sur le même plan une entreprise et un citoyen fausse la consultation.",
            "distinguer les contributions des personnes physiques et morales",
            "toute personne physique ou, en le déclarant, toute personne morale",
        ),
        Topic(
            "la plateforme publique placée auprès du Premier ministre",
            "Une plateforme unique évitera la dispersion des consultations.",
            "Confier la plateforme au Premier ministre la rend dépendante du Gouvernement.",
            "confier la plateforme à une autorité indépendante",
            "placé sous la responsabilité du Haut Conseil de la participation citoyenne",
        ),
    ],
    "art-3": [
        Topic(
            "le champ des décrets et arrêtés soumis à consultation",
            "Soumettre tous les décrets réglementaires à consultation est ambitieux.",
            "Consulter sur chaque arrêté va paralyser l'administration.",
            "limiter l'obligation aux textes les plus importants",
            "les projets de décret en Conseil d'État à caractère réglementaire",
        ),
        Topic(
            "la faculté de consulter sur les avant-projets de loi",
            "Ouvrir les avant-projets de loi à la consultation renforce la démocratie.",
            "Une simple faculté laissée au Gouvernement ne sera jamais utilisée.",
            "rendre obligatoire la consultation sur les avant-projets de loi",
            "Le Gouvernement soumet à une consultation ouverte tout avant-projet de loi.",
        ),
        Topic(
            "l'exception d'urgence",
            "L'exception d'urgence est nécessaire pour les crises.",
            "L'urgence sera invoquée à tout propos pour éviter la consultation.",
            "encadrer l'urgence par un contrôle du Haut Conseil",
            "d'urgence dûment motivé et constaté par le Haut Conseil",
        ),
    ],
    "art-4": [
        Topic(
            "la note de présentation en termes clairs",
            "Une note en langage clair rendra les textes compréhensibles par tous.",
            "La note de présentation sera rédigée par ceux qui défendent le texte.",
            "exiger une version facile à lire de la note",
            "une note de présentation rédigée en termes clairs et une version facile à lire",
        ),
        Topic(
            "la publication des dates et des modalités",
            "Annoncer les dates à l'avance permet aux associations de s'organiser.",
            "Publier les dates le jour même de l'ouverture ne laisse aucun temps.",
            "annoncer chaque consultation quinze jours avant son ouverture",
            "annoncée au moins quinze jours avant son ouverture",
        ),
        Topic(
            "le droit de proposer des rédactions alternatives",
            "Pouvoir proposer une autre rédaction donne du poids aux citoyens.",
            "Les rédactions alternatives favoriseront les lobbies qui ont des juristes.",
            "proposer une aide à la rédaction pour les citoyens",
            "proposer des rédactions alternatives, avec l'aide d'un service public de rédaction",
        ),
    ],
    "art-5": [
        Topic(
            "la durée minimale de vingt et un jours",
            "Vingt et un jours suffisent pour la plupart des textes.",
            "Vingt et un jours sont bien trop courts pour des dossiers techniques.",
            "porter la durée minimale à quarante-cinq jours",
            "ne peut être inférieure à quarante-cinq jours",
        ),
        Topic(
            "la réduction de la durée à dix jours",
            "Réduire la durée pour une simple transposition est raisonnable.",
            "Dix jours, c'est une consultation de façade.",
            "supprimer la possibilité de réduire la durée",
            "La durée de la consultation ne peut être réduite.",
        ),
        Topic(
            "la prolongation de la consultation",
            "Prolonger quand les contributions affluent montre une vraie écoute.",
            "Une prolongation laissée à la discrétion de l'autorité est arbitraire.",
            "rendre la prolongation de droit au-delà d'un seuil de contributions",
            "est prolongée de droit lorsque le nombre de contributions dépasse dix mille",
        ),
    ],
    "art-6": [
        Topic(
            "l'accessibilité de la plateforme",
            "L'accessibilité numérique est une exigence élémentaire.",
            "Les règles d'accessibilité ne sont déjà pas respectées par les sites publics.",
            "prévoir un audit annuel d'accessibilité publié",
            "respecte les règles d'accessibilité, vérifiées chaque année par un audit publié",
        ),
        Topic(
            "les contributions par voie postale",
            "Accepter les contributions par courrier protège ceux qui n'ont pas internet.",
            "Saisir les courriers à la main coûtera cher et prendra du temps.",
            "accepter aussi les contributions déposées en mairie",
            "par voie postale, en mairie ou auprès d'un point d'accueil",
        ),
        Topic(
            "la version facile à lire pour les personnes concernées",
            "Une version facile à lire inclut enfin les personnes en situation de handicap.",
            "Réserver la version facile à lire à certains textes est discriminatoire.",
            "généraliser la version facile à lire à tous les textes",
            "Tout projet de texte est accompagné d'une version facile à lire.",
        ),
    ],
    "art-7": [
        Topic(
            "la synthèse des contributions",
            "Publier une synthèse montre que les contributions sont lues.",
            "Trois mois pour publier la synthèse, c'est beaucoup trop long.",
            "publier la synthèse dans un délai d'un mois",
            "dans un délai d'un mois à compter de la clôture",
        ),
        Topic(
            "la présentation des arguments non retenus",
            "Exposer aussi les arguments écartés est une marque d'honnêteté.",
            "Rien ne garantit que la synthèse reflète fidèlement les arguments.",
            "confier la synthèse à un tiers indépendant",
            "une présentation, établie par un tiers indépendant, des principaux arguments",
        ),
        Topic(
            "la conservation des contributions",
            "Garder les contributions consultables permet de vérifier la synthèse.",
            "Conserver les contributions si longtemps pose un problème de données personnelles.",
            "limiter la conservation à cinq ans",
            "pendant une durée de cinq ans",
        ),
    ],
    "art-7-bis": [
        Topic(
            "le seuil de cinq mille soutiens",
            "Un seuil de cinq mille soutiens est atteignable par une mobilisation sérieuse.",
            "Cinq mille soutiens, c'est hors de portée pour les petites associations.",
            "abaisser le seuil à mille soutiens",
            "le soutien d'au moins mille contributeurs",
        ),
        Topic(
            "la réponse motivée qui ne lie pas l'autorité",
            "Une réponse motivée oblige au moins à argumenter.",
            "Une réponse qui ne lie personne ne sert à rien.",
            "obliger l'autorité à reprendre les propositions très soutenues ou à se justifier",
            "La réponse motivée est publiée et présentée devant le Haut Conseil.",
        ),
        Topic(
            "la vérification de l'authenticité des soutiens",
            "Vérifier les soutiens évite les manipulations par des robots.",
            "Vérifier l'identité des soutiens découragera la participation.",
            "vérifier les soutiens sans collecter de pièce d'identité",
            "sans que puisse être exigée la communication d'une pièce d'identité",
        ),
    ],
    "art-8": [
        Topic(
            "le registre national de la participation",
            "Un registre unique permettra de suivre toutes les consultations.",
            "Un registre de plus, personne ne le consultera.",
            "publier le registre en données ouvertes",
            "Les données du registre sont publiées en format ouvert et réutilisable.",
        ),
        Topic(
            "la mention des projets abandonnés",
            "Savoir qu'un projet a été abandonné est une information utile.",
            "Le registre ne dit pas pourquoi un projet est abandonné.",
            "exiger la publication des motifs de l'abandon",
            "la mention de cet abandon et de ses motifs",
        ),
        Topic(
            "l'inscription facultative des consultations locales",
            "Laisser les collectivités libres respecte la libre administration.",
            "Sans obligation, les consultations locales resteront invisibles.",
            "rendre l'inscription obligatoire pour les grandes collectivités",
            "Les collectivités de plus de cinquante mille habitants inscrivent au registre",
        ),
    ],
    "art-9": [
        Topic(
            "le registre public des algorithmes",
            "Publier les algorithmes publics est une exigence démocratique.",
            "Le registre des algorithmes sera incompréhensible pour le public.",
            "accompagner chaque fiche d'une explication en langage clair",
            "tiennent un registre public, rédigé en termes clairs, des algorithmes",
        ),
        Topic(
            "le seuil de cinquante mille habitants",
            "Le seuil de cinquante mille habitants épargne les petites communes.",
            "Les algorithmes des petites collectivités échappent au contrôle.",
            "abaisser le seuil à dix mille habitants",
            "les collectivités territoriales de plus de dix mille habitants",
        ),
        Topic(
            "l'intervention humaine dans la décision",
            "Indiquer l'intervention humaine rassure les usagers.",
            "Dire qu'un humain intervient ne garantit pas qu'il contrôle quoi que ce soit.",
            "garantir un réexamen humain sur demande",
            "ainsi que le droit d'obtenir un réexamen par un agent",
        ),
    ],
    "art-10": [
        Topic(
            "l'empreinte normative",
            "L'empreinte normative montre enfin qui a influencé un texte.",
            "L'empreinte normative va stigmatiser des contributions légitimes.",
            "étendre l'empreinte normative aux rendez-vous avec les ministres",
            "ainsi que la liste des rencontres avec des représentants d'intérêts",
        ),
        Topic(
            "la déclaration des représentants d'intérêts",
            "Déclarer sa qualité de représentant d'intérêts est la moindre des choses.",
            "La déclaration des mandants est trop lourde pour les petites structures.",
            "simplifier la déclaration pour les associations",
            "déclarent cette qualité selon une procédure simplifiée",
        ),
        Topic(
            "le droit d'opposition à la publication",
            "Permettre l'opposition protège le secret des affaires.",
            "Le droit d'opposition vide l'empreinte normative de sa substance.",
            "supprimer le droit d'opposition",
            "Cette liste mentionne le représentant d'intérêts et le texte de sa contribution.",
        ),
    ],
    "art-11": [
        Topic(
            "la protection des données des contributeurs",
            "Limiter l'usage des données aux fins de la consultation est indispensable.",
            "Rien n'empêche l'administration de croiser ces données avec d'autres fichiers.",
            "interdire explicitement tout croisement de fichiers",
            "ne peuvent être utilisées, ni croisées avec d'autres traitements,",
        ),
        Topic(
            "le choix du pseudonyme",
            "Pouvoir contribuer sous pseudonyme libère la parole.",
            "Le pseudonyme permet à une même personne de contribuer plusieurs fois.",
            "vérifier l'unicité des comptes sans révéler l'identité",
            "sous le pseudonyme choisi par leur auteur, dont l'unicité est vérifiée",
        ),
        Topic(
            "le retrait des contributions injurieuses",
            "Retirer les contributions injurieuses protège le débat.",
            "Le retrait par l'autorité responsable ouvre la porte à la censure.",
            "confier la modération à un tiers indépendant",
            "Le Haut Conseil peut retirer de la plateforme, par une décision motivée,",
        ),
    ],
    "art-12": [
        Topic(
            "la composition du Haut Conseil",
            "Une composition variée garantit l'indépendance du Haut Conseil.",
            "Neuf membres, c'est trop peu pour contrôler toutes les consultations.",
            "porter le nombre de membres à quinze",
            "Le Haut Conseil comprend quinze membres",
        ),
        Topic(
            "le tirage au sort de deux membres",
            "Tirer au sort des contributeurs rapproche l'institution des citoyens.",
            "Des membres tirés au sort n'auront pas l'expertise nécessaire.",
            "former les membres tirés au sort",
            "deux personnes tirées au sort, qui reçoivent une formation préalable,",
        ),
        Topic(
            "la saisine du Haut Conseil",
            "Toute personne peut saisir le Haut Conseil, c'est essentiel.",
            "Un Haut Conseil sans pouvoir de sanction est une autorité de papier.",
            "donner au Haut Conseil un pouvoir d'injonction",
            "Il peut enjoindre à l'autorité concernée de se conformer à ses obligations.",
        ),
    ],
    "art-13": [
        Topic(
            "le recours pour excès de pouvoir",
            "Le recours rend l'obligation de consulter enfin effective.",
            "Ouvrir le recours va multiplier les contentieux et retarder les textes.",
            "encadrer le recours dans un délai de deux mois",
            "peut être invoqué dans un délai de deux mois à l'appui d'un recours",
        ),
        Topic(
            "l'amende des représentants d'intérêts",
            "Sanctionner les lobbies qui se cachent est juste.",
            "L'amende est disproportionnée pour une simple omission.",
            "prévoir un avertissement avant l'amende",
            "est puni, après mise en demeure restée sans effet, d'une amende",
        ),
        Topic(
            "les sanctions sur les données personnelles",
            "Sanctionner la revente des données des contributeurs rassure.",
            "Les peines renvoient à un code que personne ne lit.",
            "préciser les peines dans la loi elle-même",
            "est puni de cinq ans d'emprisonnement et de 300 000 euros d'amende",
        ),
    ],
    "art-14": [
        Topic(
            "la consultation des actes locaux",
            "Étendre la consultation aux collectivités rapproche la décision des habitants.",
            "Les collectivités n'ont pas les moyens d'organiser ces consultations.",
            "prévoir une aide de l'État aux collectivités",
            "avec le concours technique et financier de l'État",
        ),
        Topic(
            "la consultation par voie électronique",
            "La voie électronique facilite la participation des actifs.",
            "Le tout numérique exclut les habitants des zones blanches.",
            "garantir une alternative papier dans chaque mairie",
            "y compris par voie électronique, sans exclure la voie postale,",
        ),
        Topic(
            "l'expérimentation régionale",
            "Une expérimentation de trois ans permet d'évaluer avant de généraliser.",
            "Une expérimentation facultative ne concernera que les collectivités déjà convaincues.",
            "rendre l'expérimentation obligatoire pour les régions",
            "les régions et les départements utilisent la plateforme publique",
        ),
    ],
    "art-15": [
        Topic(
            "le rapport d'évaluation",
            "Évaluer la loi après trois ans est une bonne pratique.",
            "Un rapport du Gouvernement sur sa propre loi ne sera pas objectif.",
            "confier l'évaluation à la Cour des comptes",
            "la Cour des comptes remet au Parlement un rapport évaluant",
        ),
        Topic(
            "la proportion des propositions reprises",
            "Mesurer les propositions reprises dira si la consultation sert à quelque chose.",
            "Compter les propositions reprises ne dit rien de leur importance.",
            "mesurer aussi l'effet qualitatif des propositions",
            "La proportion et la portée des propositions du public reprises",
        ),
        Topic(
            "les délais d'élaboration des textes",
            "Mesurer les délais répondra à ceux qui craignent une paralysie.",
            "L'évaluation des délais servira de prétexte pour réduire les consultations.",
            "publier les délais consultation par consultation",
            "Les effets de la présente loi, consultation par consultation, sur les délais",
        ),
    ],
    "art-16": [
        Topic(
            "l'entrée en vigueur au sixième mois",
            "Six mois laissent le temps de préparer la plateforme.",
            "Six mois, c'est trop tard : la loi doit s'appliquer tout de suite.",
            "avancer l'entrée en vigueur au troisième mois",
            "le premier jour du troisième mois suivant sa promulgation",
        ),
        Topic(
            "les projets déjà engagés",
            "Exclure les projets déjà transmis au Conseil d'État est raisonnable.",
            "Cette exception permettra de faire passer en urgence des textes préparés d'avance.",
            "limiter l'exception aux projets transmis depuis plus d'un mois",
            "à la saisine du Conseil d'État plus d'un mois avant cette date",
        ),
        Topic(
            "le décret d'application",
            "Un décret en Conseil d'État garantit un cadre juridique solide.",
            "Renvoyer à un décret retardera l'application de la loi de plusieurs années.",
            "fixer un délai de six mois pour publier le décret",
            "Un décret en Conseil d'État, publié dans les six mois, précise",
        ),
    ],
}

OPENINGS = {
    "pour": [
        "Je soutiens {subject}.",
        "Je suis favorable à {subject}.",
        "Très bonne idée, {subject}.",
        "Enfin un texte qui traite de {subject} !",
        "Sur {subject}, je suis d'accord avec la rédaction proposée.",
        "Je voterai pour cet article, notamment pour {subject}.",
        "{Subject} va dans le bon sens.",
        "Bravo pour {subject}.",
    ],
    "contre": [
        "Je suis contre {subject}.",
        "Je m'oppose à {subject} tel que rédigé.",
        "{Subject} est une mauvaise idée.",
        "Je ne peux pas soutenir {subject}.",
        "Désolé, mais {subject} ne tient pas la route.",
        "Sur {subject}, le texte fait fausse route.",
        "Je vote contre à cause de {subject}.",
        "{Subject} me pose un vrai problème.",
    ],
    "neutre": [
        "Je m'interroge sur {subject}.",
        "Une question sur {subject}.",
        "Je n'ai pas d'avis tranché sur {subject}.",
        "{Subject} mérite d'être précisé.",
        "Avant de me prononcer sur {subject}, j'aimerais comprendre.",
        "À propos de {subject}, deux remarques.",
    ],
}
NEUTRAL_LINKS = ["D'un côté,", "Certes,", "On peut penser que", "Il est vrai que"]
NEUTRAL_TURNS = ["De l'autre,", "Mais", "Pourtant,", "En revanche,"]
ANNOTATION_OPENINGS = [
    "« {quote} » : que faut-il entendre par là ?",
    "Le passage « {quote} » est flou.",
    "Ici, « {quote} » pose question.",
    "« {quote} » : bonne formulation.",
    "Je relève « {quote} ».",
    "Que signifie concrètement « {quote} » ?",
    "Attention à « {quote} ».",
]
EXPOSE_OPENINGS = [
    "Cet amendement vise à {proposal}.",
    "Il est proposé de {proposal}.",
    "L'objet de cet amendement est de {proposal}.",
    "Amendement pour {proposal}.",
]
PERSONAL = [
    "Je suis {job} à {town}.",
    "{job_cap} depuis {m} ans, je vois ce sujet de près.",
    "J'habite {town} et je participe pour la première fois.",
    "Retraité{e}, j'ai travaillé {m} ans comme {job}.",
    "Mère de {kids} enfants, je m'intéresse à ces questions.",
    "Père de {kids} enfants, je m'intéresse à ces questions.",
]
JOBS = [
    "infirmière",
    "enseignant",
    "agricultrice",
    "agent territorial",
    "avocate",
    "chauffeur de bus",
    "secrétaire de mairie",
    "étudiant en droit",
    "artisan",
    "bénévole associatif",
    "élue municipale",
    "ingénieur",
]
TOWNS = [
    "Limoges",
    "Brest",
    "Saint-Flour",
    "Roubaix",
    "Aubenas",
    "Nancy",
    "Bastia",
    "Pontivy",
    "Mâcon",
    "Cayenne",
    "Montreuil",
    "Figeac",
    "Lyon",
    "Dax",
]

# Form letters on the demo articles: (article, kind, stance, letter, amendment wording).
# Each contains words of bench.campaigns.REPLACEMENTS, so "word replaced" edits apply.
LETTERS: list[tuple[str, str, str | None, str, str]] = [
    (
        "art-13",
        "argument",
        "contre",
        "Je m'oppose fermement au II de l'article 13, qui prévoit une amende pour les "
        "représentants d'intérêts. En tant que professionnel, je participe de bonne foi aux "
        "consultations publiques pour apporter une expertise de terrain dont l'administration ne "
        "dispose pas toujours. Cette sanction disproportionnée découragera les entreprises de "
        "contribuer, au détriment de la qualité des textes. Je demande donc la suppression du II "
        "de l'article 13.",
        "",
    ),
    (
        "art-5",
        "amendment",
        None,
        "Les associations de protection de l'environnement doivent disposer d'au moins soixante "
        "jours pour analyser les projets soumis à consultation. Les dossiers comptent souvent "
        "plusieurs centaines de pages techniques et nos bénévoles ne peuvent pas les étudier en "
        "trois semaines. Un délai trop court vide la participation de son sens. Je demande la "
        "modification de l'article 5 en ce sens.",
        "ne peut être inférieure à soixante jours",
    ),
    (
        "art-6",
        "argument",
        "pour",
        "En tant qu'habitant d'une commune rurale, je soutiens le dépôt des contributions par "
        "voie postale. Dans mon village, la couverture internet est mauvaise et beaucoup de "
        "personnes âgées n'utilisent pas d'ordinateur. La participation ne doit pas être réservée "
        "aux urbains connectés. Je demande que l'article 6 soit adopté sans modification et que "
        "chaque mairie serve de point d'accueil.",
        "",
    ),
    (
        "art-7-bis",
        "argument",
        "contre",
        "Je demande que toutes les propositions soutenues reçoivent une réponse motivée de "
        "l'administration, et pas seulement celles qui atteignent cinq mille soutiens. Participer "
        "sans savoir ce que devient son avis décourage les citoyens et nourrit la défiance. Un "
        "seuil aussi élevé réserve la réponse aux organisations les mieux financées. L'article 7 "
        "bis doit être réécrit pour abaisser fortement ce seuil.",
        "",
    ),
    (
        "art-9",
        "argument",
        "pour",
        "Les algorithmes publics décident de l'accès aux aides, aux places en crèche et à "
        "l'université. Les citoyens ont le droit de savoir comment ces décisions sont prises. Le "
        "registre prévu à l'article 9 est un progrès important que je soutiens pleinement. Je "
        "demande seulement qu'il soit publié en données ouvertes et mis à jour chaque trimestre.",
        "",
    ),
    (
        "art-11",
        "amendment",
        None,
        "Nous demandons que les données des contributeurs ne puissent jamais être croisées avec "
        "d'autres fichiers de l'administration. Beaucoup de personnes hésitent à participer par "
        "crainte d'être fichées. Sans garantie forte, les consultations publiques n'entendront "
        "que ceux qui n'ont rien à craindre. Une interdiction explicite doit figurer à l'article "
        "11.",
        "ne peuvent être utilisées, ni croisées avec aucun autre fichier,",
    ),
    (
        "art-14",
        "argument",
        "contre",
        "Maire d'une petite commune, je refuse que de nouvelles obligations de consultation "
        "soient imposées sans moyens. Nos secrétaires de mairie sont déjà débordées et les "
        "projets locaux prendront des mois de retard. Les élus locaux rencontrent les habitants "
        "chaque jour et n'ont pas besoin d'une plateforme pour les écouter. Je demande le retrait "
        "de l'article 14.",
        "",
    ),
    (
        "art-10",
        "argument",
        "pour",
        "Pour une véritable transparence, l'empreinte normative doit aussi mentionner les "
        "rendez-vous des ministres et de leurs conseillers avec les représentants d'intérêts. "
        "C'est ce que font déjà plusieurs pays européens. Sans cette obligation, l'article 10 "
        "restera une coquille vide. Je demande l'ajout d'un alinéa en ce sens et une sanction "
        "en cas de manquement.",
        "",
    ),
]

# Shares of the organic contributions by kind (the rest are arguments).
ANNOTATION_SHARE = 0.25
AMENDMENT_SHARE = 0.10
TYPO_SHARE = 0.15
SIGNED_SHARE = 0.3
AUTHORS_PER_CONTRIBUTION = 0.4  # people write about 2.5 contributions each
CONSULTATION_DAYS = 30


@dataclass(frozen=True)
class Alinea:
    """One alinéa of the demo bill."""

    article: str
    number: int
    text: str


@dataclass(frozen=True)
class SyntheticContribution:
    """One contribution, with the fields the contributions table needs and how it was made."""

    id: int
    article_key: str
    kind: str
    body: str
    author: str
    created_at: datetime
    stance: str | None = None
    alinea: int | None = None
    quote: str | None = None
    quote_start: int | None = None
    operation: str | None = None
    old_text: str = ""
    new_text: str = ""
    votes_for: int = 0
    votes_mixed: int = 0
    votes_against: int = 0
    campaign: int | None = None
    """Index in :data:`LETTERS` of the injected campaign this is a copy of."""
    made: str = "organic"
    """"organic", or how the copy was made ("as is", an edit kind, "signed")."""


def demo_alineas() -> dict[str, list[Alinea]]:
    """The alinéas of each article of the demo bill, numbered from 1."""
    bill = parse_bill(demo_bill_text(), format="markdown")
    return {
        article.key: [
            Alinea(article.key, number, child.text)
            for number, child in enumerate(article.children, start=1)
        ]
        for article in bill.articles()
    }


_CONTRACTIONS = [
    (re.compile(r"\b([àÀ]) les\b"), lambda m: "aux" if m[1] == "à" else "Aux"),
    (re.compile(r"\b([àÀ]) le\b"), lambda m: "au" if m[1] == "à" else "Au"),
    (re.compile(r"\b([dD])e les\b"), lambda m: f"{m[1]}es"),
    (re.compile(r"\b([dD])e le\b"), lambda m: f"{m[1]}u"),
    (re.compile(r"\b([dD])e ([aeiouéèêâîôh])"), lambda m: f"{m[1]}'{m[2]}"),
    (re.compile(r"\bque ([aeiouéèêâîô])"), lambda m: f"qu'{m[1]}"),
]


def _french(sentence: str) -> str:
    """Contract what filling a template leaves apart: "à les" -> "aux", "de accepter" ->
    "d'accepter"."""
    for pattern, replacement in _CONTRACTIONS:
        sentence = pattern.sub(replacement, sentence)
    return sentence


def _capitalised(text: str) -> str:
    return text[0].upper() + text[1:]


def _personal(rng: random.Random) -> str:
    job = rng.choice(JOBS)
    return rng.choice(PERSONAL).format(
        job=job,
        job_cap=_capitalised(job),
        town=rng.choice(TOWNS),
        m=rng.randint(2, 35),
        e=rng.choice(["", "e"]),
        kids=rng.choice(["deux", "trois", "quatre"]),
    )


def _details(rng: random.Random, sentences: list[str]) -> list[str]:
    """Recombined supporting sentences: shared reasons, a lived example, a closing."""
    extra = rng.sample(ARGUMENTS, rng.randint(0, 2))
    if rng.random() < 0.5:
        extra.append(_fill(rng, rng.choice(EXAMPLES)))
    if rng.random() < 0.35:
        extra.insert(0, _personal(rng))
    rng.shuffle(extra)
    return [*sentences, *extra, rng.choice(CLOSINGS)]


def _join(rng: random.Random, sentences: list[str]) -> str:
    text = " ".join(sentence for sentence in sentences if sentence)
    return _typos(rng, text) if rng.random() < TYPO_SHARE else text


def argument_text(rng: random.Random, topic: Topic, stance: str) -> str:
    """An argument pour, contre or neutre on one topic."""
    opening = _french(
        rng.choice(OPENINGS[stance]).format(
            subject=topic.subject, Subject=_capitalised(topic.subject)
        )
    )
    if stance == "neutre":
        first, second = rng.sample([topic.pour, topic.contre], 2)
        claims = [
            _french(f"{rng.choice(NEUTRAL_LINKS)} {first[0].lower()}{first[1:]}"),
            _french(f"{rng.choice(NEUTRAL_TURNS)} {second[0].lower()}{second[1:]}"),
        ]
    else:
        claims = [topic.pour if stance == "pour" else topic.contre]
    if rng.random() < 0.4:
        claims.append(_french(f"Je propose de {topic.proposal}."))
    return _join(rng, _details(rng, [opening, *claims]))


def _passage(rng: random.Random, alinea: Alinea) -> tuple[str, int]:
    """A run of 3 to 9 words of the alinéa and where it starts."""
    words = alinea.text.split(" ")
    length = min(len(words), rng.randint(3, 9))
    first = rng.randrange(len(words) - length + 1)
    start = len(" ".join(words[:first])) + (1 if first else 0)
    return " ".join(words[first : first + length]), start


def _contribution(
    rng: random.Random, article: str, alineas: list[Alinea], author: str
) -> SyntheticContribution:
    """One organic contribution on the article (its id is set once all are made)."""
    topic = rng.choice(TOPICS[article])
    moment = START + timedelta(days=rng.uniform(0, CONSULTATION_DAYS))
    base = SyntheticContribution(
        id=0, article_key=article, kind="argument", body="", author=author, created_at=moment
    )
    roll = rng.random()
    if roll < ANNOTATION_SHARE:
        alinea = rng.choice(alineas)
        quote, start = _passage(rng, alinea)
        stance = rng.choice(["pour", "contre", "neutre"])
        comment = argument_text(rng, topic, stance)
        body = f"{rng.choice(ANNOTATION_OPENINGS).format(quote=quote)} {comment}"
        return replace(
            base,
            kind="annotation",
            body=body,
            alinea=alinea.number,
            quote=quote,
            quote_start=start,
        )
    if roll < ANNOTATION_SHARE + AMENDMENT_SHARE:
        alinea = rng.choice(alineas)
        expose = [
            _french(rng.choice(EXPOSE_OPENINGS).format(proposal=topic.proposal)),
            topic.pour,
        ]
        body = _join(rng, _details(rng, expose))
        if rng.random() < 0.5:
            old_text, _ = _passage(rng, alinea)
            return replace(
                base,
                kind="amendment",
                body=body,
                alinea=alinea.number,
                operation="replace_words",
                old_text=old_text,
                new_text=topic.wording,
            )
        new_alinea = f"{_capitalised(topic.wording).rstrip(',')} {alinea.text.split(' ', 6)[-1]}"
        return replace(
            base,
            kind="amendment",
            body=body,
            alinea=alinea.number,
            operation="replace_alinea",
            new_text=new_alinea,
        )
    stance = rng.choices(["pour", "contre", "neutre"], weights=[4, 4, 2])[0]
    body = argument_text(rng, topic, stance)
    return replace(base, stance=stance, body=body)


def _copy(rng: random.Random, letter: str) -> tuple[str, str]:
    """A copy of a form letter: as is (half of them) or edited, and sometimes signed."""
    roll = rng.random()
    if roll < 0.5:
        text, made = letter, "as is"
    elif roll < 0.55:
        text, made = f"{_personal(rng)} {letter}", "personal opening"
    elif roll < 0.6:
        text, made = f"{letter} {_personal(rng)}", "personal closing"
    else:
        text, made = edited_copy(rng, letter)
    if rng.random() < SIGNED_SHARE:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        text, made = f"{text}\n\n{name}, {rng.choice(TOWNS)}", f"{made}, signed"
    return text, made


def _votes(rng: random.Random, stance: str | None) -> tuple[int, int, int]:
    """Vote counters: most contributions get a few votes, a few get hundreds."""
    total = min(2000, int(rng.paretovariate(1.2)) - 1)
    if total <= 0:
        return 0, 0, 0
    approval = {"pour": 0.65, "contre": 0.4}.get(stance or "", 0.5) + rng.uniform(-0.3, 0.3)
    approval = min(0.95, max(0.05, approval))
    votes_for = sum(rng.random() < approval for _ in range(min(total, 50)))
    scale = total / min(total, 50)
    votes_for = round(votes_for * scale)
    votes_mixed = round((total - votes_for) * rng.uniform(0, 0.4))
    return votes_for, votes_mixed, total - votes_for - votes_mixed


def make_consultation_corpus(size: int, seed: int = 7) -> list[SyntheticContribution]:
    """``size`` contributions on the demo bill, ids 1 to ``size`` in date order, campaigns
    included (sized as in bench/campaigns.py, scaled by ``size / 100,000``)."""
    rng = random.Random(seed)
    alineas = demo_alineas()
    articles = sorted(alineas)
    # Some articles draw far more attention than others, as in real consultations.
    interest = [rng.paretovariate(1.0) for _ in articles]
    authors = [
        f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)[0]}. ({number})"
        for number in range(max(1, round(size * AUTHORS_PER_CONTRIBUTION)))
    ]
    scale = min(1.0, size / 100_000)
    copies_of = [max(50, round(copies * scale)) for copies in CAMPAIGN_SIZES]
    made: list[SyntheticContribution] = []
    for campaign, ((article, kind, stance, letter, wording), copies) in enumerate(
        zip(LETTERS, copies_of, strict=True)
    ):
        opened = START + timedelta(days=rng.uniform(0, CONSULTATION_DAYS - 5))
        alinea = alineas[article][0]
        replaced, _ = _passage(rng, alinea)
        for copy in range(copies):
            text, how = _copy(rng, letter)
            made.append(
                SyntheticContribution(
                    id=0,
                    article_key=article,
                    kind=kind,
                    stance=stance,
                    body=text,
                    author=f"Signataire {campaign}-{copy}",
                    created_at=opened + timedelta(hours=rng.uniform(0, 96)),
                    alinea=alinea.number if wording else None,
                    operation="replace_words" if wording else None,
                    old_text=replaced if wording else "",
                    new_text=wording,
                    campaign=campaign,
                    made=how,
                )
            )
    while len(made) < size:
        article = rng.choices(articles, weights=interest)[0]
        made.append(_contribution(rng, article, alineas[article], rng.choice(authors)))
    made.sort(key=lambda c: c.created_at)
    numbered = []
    for number, contribution in enumerate(made[:size], start=1):
        votes_for, votes_mixed, votes_against = _votes(rng, contribution.stance)
        numbered.append(
            replace(
                contribution,
                id=number,
                votes_for=votes_for,
                votes_mixed=votes_mixed,
                votes_against=votes_against,
            )
        )
    return numbered
