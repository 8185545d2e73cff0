"""The report's own words in English and French, and numbers and dates written for a reader.

Labels that belong to an instrument (node titles, band words, option labels)
come from the instrument file in the report's language; when the file has no
text in that language the English text is shown with a visible ``[en]`` mark,
so a reader knows it was not translated. Everything else the report says
(headings, column names, legends, method notes) is in this catalogue. The web
app will move the catalogue to Flask-Babel; until then it is a plain mapping
so that reports render without an app.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

LANGUAGES = ("en", "fr")
FALLBACK_MARK = " [en]"

#: key -> (English, French). Placeholders use str.format names.
CATALOGUE: dict[str, tuple[str, str]] = {
    # cover and page furniture
    "status.preliminary": ("Preliminary report", "Rapport préliminaire"),
    "status.final": ("Final report", "Rapport final"),
    "status.preliminary.note": (
        "Computed automatically from the answers received. It has not yet been discussed "
        "and validated: figures may change before the final report.",
        "Calculé automatiquement à partir des réponses reçues. Il n'a pas encore été "
        "discuté ni validé : les chiffres peuvent changer d'ici au rapport final.",
    ),
    "status.final.note": (
        "Reviewed and validated; this report replaces any preliminary version.",
        "Examiné et validé ; ce rapport remplace toute version préliminaire.",
    ),
    "cover.unit": ("Unit assessed", "Unité évaluée"),
    "cover.cycle": ("Assessment cycle", "Cycle d'évaluation"),
    "cover.period": ("Period", "Période"),
    "cover.instrument": ("Instrument", "Instrument"),
    "cover.version": ("Version", "Version"),
    "cover.sha256": ("Instrument file SHA-256", "SHA-256 du fichier de l'instrument"),
    "cover.date": ("Date of this report", "Date du présent rapport"),
    "cover.overlay": ("Local adaptation", "Adaptation locale"),
    "cover.overlay_sha256": ("Adaptation file SHA-256", "SHA-256 du fichier d'adaptation"),
    "contents": ("Contents", "Sommaire"),
    # method notes
    "method.heading": ("Method notes", "Notes méthodologiques"),
    "method.instrument": ("About the instrument", "À propos de l'instrument"),
    "method.overlay.heading": ("Local adaptation", "Adaptation locale"),
    "method.overlay": (
        "The questionnaires were asked as adapted by {title} ({overlay_key} {version}, SHA-256 "
        "{sha256}): {hidden} optional item(s) not asked{hidden_list}, {added} local item(s) "
        "added{added_list}. An adaptation can neither hide an item that is required or scored "
        "nor add one that counts in a score: every result is computed as for any other unit.",
        "Les questionnaires ont été posés tels qu'adaptés par {title} ({overlay_key} {version}, "
        "SHA-256 {sha256}) : {hidden} question(s) facultative(s) non posée(s){hidden_list}, "
        "{added} question(s) locale(s) ajoutée(s){added_list}. Une adaptation ne peut ni "
        "masquer une question obligatoire ou notée, ni en ajouter une qui compte dans une "
        "note : chaque résultat est calculé comme pour toute autre unité.",
    ),
    "method.scoring": ("How the results are obtained", "Comment les résultats sont obtenus"),
    "method.bands": ("Rating bands", "Tranches de notation"),
    "method.sources": ("Sources", "Sources"),
    "method.source": ("Source: {source}", "Source : {source}"),
    "method.convention": (
        "These bands are a convention of the instrument file for reading results at a "
        "glance; they are not part of the framework itself.",
        "Ces tranches sont une convention du fichier de l'instrument pour lire les résultats "
        "d'un coup d'œil ; elles ne font pas partie du cadre lui-même.",
    ),
    "method.median_of_respondent_means": (
        "Answers score {scale_min} to {scale_max}; answers such as “don't know”, “does not "
        "exist” or “not applicable”, and blanks, are left out. For each node, each "
        "respondent's mean over their valid answers is taken, then the median of these means "
        "over all respondents of {questionnaires}, unweighted, multiplied by {factor} and "
        "rounded to {decimals} decimals. A score needs at least {minimum} respondent(s) with "
        "a valid answer; otherwise it reads “insufficient data”, never 0.",
        "Les réponses sont notées de {scale_min} à {scale_max} ; les réponses telles que "
        "« ne sait pas », « n'existe pas » ou « sans objet », et les réponses vides, sont "
        "écartées. Pour chaque nœud, on prend la moyenne des réponses valables de chaque "
        "répondant, puis la médiane de ces moyennes sur l'ensemble des répondants de "
        "{questionnaires}, sans pondération, multipliée par {factor} et arrondie à "
        "{decimals} décimales. Une note exige au moins {minimum} répondant(s) ayant donné "
        "une réponse valable ; sinon elle indique « données insuffisantes », jamais 0.",
    ),
    "method.holistic_stage": (
        "Each {level} is placed at one stage, as a single judgement of best fit against its "
        "stage descriptors, backed by a rationale and evidence; the stage is never computed "
        "by averaging indicators. The self-assessed stage and the stage confirmed by the "
        "validator are shown side by side.",
        "Chaque {level} est placé(e) à un stade, par un jugement global de la meilleure "
        "correspondance avec ses descriptions de stade, étayé par une justification et des "
        "éléments probants ; le stade n'est jamais calculé en faisant la moyenne "
        "d'indicateurs. Le stade auto-évalué et le stade confirmé par le validateur sont "
        "présentés côte à côte.",
    ),
    "method.stage_distribution": (
        "{Levels} are shown as the configuration of the stages of their components: lowest, "
        "median and highest stage, the most frequent stage and the count at each stage. The "
        "stages form an ordinal scale, so no average stage is computed.",
        "Les {levels} sont présentés comme la configuration des stades de leurs "
        "composantes : stade le plus bas, médian et le plus haut, stade le plus fréquent et "
        "nombre de composantes à chaque stade. Les stades forment une échelle ordinale : "
        "aucun stade moyen n'est calculé.",
    ),
    "method.rubric_total": (
        "Each {level} is scored on {criteria}, each with a written justification; the total "
        "runs from {scale_min} to {scale_max}.",
        "Chaque {level} est noté(e) sur {criteria}, chaque note étant justifiée par écrit ; "
        "le total va de {scale_min} à {scale_max}.",
    ),
    "method.list_children": (
        "{Levels} receive no score of their own: each lists the results of the nodes under "
        "it beside the written judgement of progress.",
        "Les {levels} ne reçoivent pas de note propre : chacun présente les résultats des "
        "nœuds qui en relèvent, à côté du jugement écrit sur les progrès accomplis.",
    ),
    "and": (" and ", " et "),
    "method.all_questionnaires": ("all questionnaires, pooled", "tous les questionnaires, "
                                  "regroupés"),
    # common table words
    "col.node": ("No.", "N°"),
    "col.title": ("Title", "Intitulé"),
    "col.score": ("Score", "Note"),
    "col.rating": ("Rating", "Appréciation"),
    "col.respondents": ("Respondents", "Répondants"),
    "col.questionnaire": ("Questionnaire", "Questionnaire"),
    "col.item": ("Item", "Question"),
    "col.answers": ("Answers", "Réponses"),
    "col.level": ("Level", "Niveau"),
    "col.text": ("Text", "Texte"),
    "col.respondent": ("Respondent", "Répondant"),
    "col.kind": ("Kind", "Nature"),
    "col.band": ("Band", "Tranche"),
    "col.range": ("Range", "Plage"),
    "none": ("—", "—"),
    "not_recorded": ("Not recorded yet.", "Pas encore consigné."),
    "to_be_agreed": ("to be agreed", "à convenir"),
    "insufficient_data": ("Insufficient data", "Données insuffisantes"),
    "blank": ("blank", "vide"),
    "not_applicable": ("not applicable", "sans objet"),
    "anonymous": ("{questionnaire} (anonymous)", "{questionnaire} (anonyme)"),
    # questionnaire roles
    "role.coordinator": ("Coordinator", "Coordonnateur"),
    "role.focal_point": ("Focal point", "Point focal"),
    "role.partner": ("Partners", "Partenaires"),
    "role.validator": ("Validator", "Validateur"),
    "role.senior_manager": ("Senior managers", "Cadres supérieurs"),
    "role.working_group": ("Working group", "Groupe de travail"),
    # response rates
    "rates.heading": ("Response rates", "Taux de réponse"),
    "rates.intro": (
        "Respondents to the {questionnaire} questionnaire against the organisations taking "
        "part in the unit (response rate) and against those usually attending its meetings "
        "(effective response rate).",
        "Répondants au questionnaire {questionnaire} rapportés aux organisations qui "
        "participent à l'unité (taux de réponse) et à celles qui assistent habituellement à "
        "ses réunions (taux de réponse effectif).",
    ),
    "rates.type": ("Organisation type", "Type d'organisation"),
    "rates.members": ("Organisations taking part", "Organisations participantes"),
    "rates.rate": ("Response rate", "Taux de réponse"),
    "rates.attending": ("Usually attending", "Présentes habituellement"),
    "rates.effective": ("Effective response rate", "Taux de réponse effectif"),
    "rates.overall": ("All types", "Tous types"),
    "rates.unknown": ("Type not given", "Type non indiqué"),
    "rates.by_questionnaire": ("Respondents by questionnaire", "Répondants par questionnaire"),
    "rates.chart": ("Response rates by organisation type", "Taux de réponse par type "
                    "d'organisation"),
    # performance
    "performance.heading": ("Overall performance", "Performance globale"),
    "performance.intro": (
        "Score and rating of every {levels}; the coloured cell always carries the rating in "
        "words.",
        "Note et appréciation de chaque {levels} ; la cellule colorée porte toujours "
        "l'appréciation en toutes lettres.",
    ),
    "performance.chart": ("Scores by {level}", "Notes par {level}"),
    "legend": ("Legend", "Légende"),
    "gap.heading": ("{first} and {second} compared", "Comparaison : {first} et {second}"),
    "gap.intro": (
        "The same nodes scored over each questionnaire's respondents alone; the gap is "
        "{first} minus {second}, in percentage points.",
        "Les mêmes nœuds notés sur les seuls répondants de chaque questionnaire ; l'écart "
        "est {first} moins {second}, en points de pourcentage.",
    ),
    "gap.gap": ("Gap", "Écart"),
    "blocks.heading": ("Performance by {level} and review", "Performance par {level} et "
                       "analyse"),
        "blocks.characteristics": ("Indicative characteristics", "Caractéristiques indicatives"),
    "blocks.constraints": (
        "Constraints, unexpected circumstances and success factors",
        "Contraintes, circonstances imprévues et facteurs de succès",
    ),
    "blocks.good_practice": ("Good practice identified", "Bonnes pratiques relevées"),
    "blocks.follow_up": ("Follow-up actions", "Actions de suivi"),
    "blocks.comments": ("Comments from respondents", "Commentaires des répondants"),
    "blocks.comments_on": ("Comments on {node} {title}", "Commentaires sur {node} {title}"),
    "comments.general": ("General comments", "Commentaires généraux"),
    "distributions.heading": ("Answer distributions", "Répartition des réponses"),
    "distributions.intro": (
        "How many respondents gave each answer to each scored question. Answers that count "
        "are shown by their code, which is also their score; the questionnaire words each "
        "one. Answers left out of the scores have a column each.",
        "Nombre de répondants ayant donné chaque réponse à chaque question notée. Les "
        "réponses prises en compte figurent sous leur code, qui est aussi leur note ; le "
        "questionnaire donne le libellé de chacune. Les réponses écartées des notes ont "
        "chacune leur colonne.",
    ),
    "excluded.dont_know": ("Don't know", "Ne sait pas"),
    "excluded.does_not_exist": ("Does not exist", "N'existe pas"),
    "excluded.not_applicable": ("Not applicable", "Sans objet"),
    # stages
    "stages.profile": ("Stage profile", "Profil des stades"),
    "stages.profile.intro": (
        "The stage of each {level}, self-assessed and validated, side by side.",
        "Le stade de chaque {level}, auto-évalué et validé, côte à côte.",
    ),
    "stages.self": ("Self-assessed", "Auto-évalué"),
    "stages.validated": ("Validated", "Validé"),
    "stages.difference": ("Difference", "Écart"),
    "stages.stage": ("Stage", "Stade"),
    "stages.stage_n": ("Stage {stage}", "Stade {stage}"),
    "stages.not_assessed": ("not assessed", "non évalué"),
    "stages.configuration": ("Configuration", "Configuration"),
    "stages.configuration.intro": (
        "The pattern of stages across all {count} {levels}, and for each {parent}.",
        "La répartition des stades entre les {count} {levels}, et pour chaque {parent}.",
    ),
    "stages.assessed": ("Assessed", "Évalués"),
    "stages.lowest": ("Lowest", "Plus bas"),
    "stages.median": ("Median", "Médiane"),
    "stages.highest": ("Highest", "Plus haut"),
    "stages.modes": ("Most frequent", "Plus fréquent"),
    "stages.all": ("All", "Ensemble"),
    "stages.chart.profile": ("Stages, self-assessed and validated", "Stades auto-évalués et "
                             "validés"),
    "stages.chart.pillars.validated": ("Validated stages by {parent}", "Stades validés par "
                                       "{parent}"),
    "stages.chart.pillars.self": ("Self-assessed stages by {parent}", "Stades auto-évalués par "
                                  "{parent}"),
    "stages.count_axis": ("Number of {levels}", "Nombre de {levels}"),
    "stages.details": ("{Level} by {level}", "{Level} par {level}"),
    "stages.reached": ("Stage reached", "Stade atteint"),
    "stages.next": ("Next stage", "Stade suivant"),
    "stages.top": ("Highest stage reached: no further stage.", "Stade le plus élevé atteint : "
                   "pas de stade suivant."),
    "stages.rationale": ("Rationale", "Justification"),
    "stages.evidence": ("Evidence", "Éléments probants"),
    "stages.comments": ("Comments", "Commentaires"),
    "stages.plans": ("Further developments planned", "Développements prévus"),
    "stages.validator_comments": ("Validator's comments", "Commentaires du validateur"),
    "stages.activities": ("Supporting activities rated", "Activités d'appui notées"),
    # rubric
    "rubric.heading": ("Results framework", "Cadre de résultats"),
    "rubric.intro": (
        "Each {level} with its scores, their written justifications and the recommendation "
        "made for it.",
        "Chaque {level} avec ses notes, leurs justifications écrites et la recommandation "
        "formulée à son sujet.",
    ),
    "rubric.total": ("Total", "Total"),
    "rubric.band": ("Band (convention)", "Tranche (convention)"),
    "rubric.justification": ("Justification", "Justification"),
    "rubric.section": ("Responsible section", "Section responsable"),
    "rubric.chart": ("Scores by {level}", "Notes par {level}"),
    "recommendations.heading": ("Recommendations and decisions", "Recommandations et "
                                "décisions"),
    "recommendations.recommended": ("Recommended", "Recommandé"),
    "recommendations.text": ("Recommendation", "Recommandation"),
    "recommendations.owner": ("To carry out", "Mise en œuvre"),
    "recommendations.timeline": ("By", "Échéance"),
    "recommendations.decision": ("Leadership decision", "Décision de la direction"),
    "recommendations.pending": ("pending", "en attente"),
    # open answers
    "open.no_answer": ("No answer.", "Aucune réponse."),
    # action plan
    "actions.heading": ("Action plan", "Plan d'action"),
    "actions.intro": (
        "Actions drafted from the results; the unit agrees each action, who follows it up, "
        "the support required and the due quarter, and reports on progress every quarter.",
        "Actions préparées à partir des résultats ; l'unité arrête chaque action, qui en "
        "assure le suivi, l'appui requis et le trimestre d'échéance, et rend compte des "
        "progrès chaque trimestre.",
    ),
    "actions.action": ("Action", "Action"),
    "actions.node": ("Linked to", "Rattachée à"),
    "actions.basis": ("Rating or score", "Appréciation ou note"),
    "actions.responsible": ("Responsible organisation", "Organisation responsable"),
    "actions.support": ("Support required (from whom)", "Appui requis (de qui)"),
    "actions.due": ("Due quarter", "Trimestre d'échéance"),
    "actions.status": ("Status", "Statut"),
    "actions.status.draft": ("draft", "projet"),
    "actions.status.planned": ("planned", "prévue"),
    "actions.status.in_progress": ("in progress", "en cours"),
    "actions.status.done": ("done", "réalisée"),
    "actions.status.delayed": ("delayed", "retardée"),
    "actions.status.dropped": ("dropped", "abandonnée"),
    "actions.none": ("No action was drafted from these results.", "Aucune action n'a été "
                     "préparée à partir de ces résultats."),
    "action.raise": (
        "Agree and carry out actions to strengthen {node} {title}, rated {rating} "
        "({score}).",
        "Convenir d'actions pour renforcer {node} {title}, jugé(e) {rating} ({score}), et "
        "les mettre en œuvre.",
    ),
    "action.stage": (
        "Move {node} {title} from stage {current} to stage {next} ({next_title}): {descriptor}",
        "Faire passer {node} {title} du stade {current} au stade {next} ({next_title}) : "
        "{descriptor}",
    ),
    "action.stage.basis": ("stage {stage} ({kind}); target {target}", "stade {stage} ({kind}) "
                           "; cible {target}"),
    "action.recommendation": ("{recommendation}: {text}", "{recommendation} : {text}"),
    # quarterly progress report
    "progress.title": ("Quarterly progress report, {quarter}", "Rapport trimestriel "
                       "d'avancement, {quarter}"),
    "progress.quarter": ("Quarter", "Trimestre"),
    "progress.status.open": ("Quarter not closed", "Trimestre non clos"),
    "progress.status.open.note": (
        "The quarter is still open: stock-takes may still be added before the coordinator "
        "closes it.",
        "Le trimestre est encore ouvert : des points d'étape peuvent encore être ajoutés "
        "avant que le coordonnateur le clôture.",
    ),
    "progress.status.closed": ("Quarter closed", "Trimestre clos"),
    "progress.status.closed.note": ("Closed by {who}: this report is final.",
                                    "Clos par {who} : ce rapport est définitif."),
    "progress.summary": ("Summary", "Synthèse"),
    "progress.intro": (
        "Where every action of the unit's plan stands at the end of {quarter}.",
        "Situation de chaque action du plan de l'unité à la fin de {quarter}.",
    ),
    "progress.rule": (
        "Overdue: not done although its due quarter has ended. Delayed: marked as delayed by "
        "the unit and not yet overdue. On track: every other action still open.",
        "En retard d'échéance : non réalisée alors que son trimestre d'échéance est écoulé. "
        "Retardée : signalée comme retardée par l'unité, pas encore en retard d'échéance. "
        "Dans les temps : toute autre action encore ouverte.",
    ),
    "progress.standing": ("Standing", "Situation"),
    "progress.standing.done": ("Done", "Réalisée"),
    "progress.standing.on_track": ("On track", "Dans les temps"),
    "progress.standing.delayed": ("Delayed", "Retardée"),
    "progress.standing.overdue": ("Overdue", "En retard d'échéance"),
    "progress.standing.dropped": ("Dropped", "Abandonnée"),
    "progress.count": ("Actions", "Actions"),
    "progress.total": ("All actions", "Toutes les actions"),
    "progress.chart": ("Actions by standing, {quarter}", "Actions par situation, {quarter}"),
    "progress.actions": ("Actions", "Actions"),
    "progress.no_actions": ("The unit has no action plan yet.",
                            "L'unité n'a pas encore de plan d'action."),
    "progress.percent": ("Progress", "Avancement"),
    "progress.cycle": ("Plan of", "Plan de"),
    "progress.changes": ("Changes since last quarter", "Évolution depuis le trimestre "
                         "précédent"),
    "progress.changes.since": ("Changed since {quarter} was closed",
                               "Changements depuis la clôture de {quarter}"),
    "progress.first_quarter": (
        "No earlier quarter has been closed, so there is nothing to compare with yet.",
        "Aucun trimestre antérieur n'a été clos : il n'y a pas encore de point de comparaison.",
    ),
    "progress.no_change": ("Nothing changed.", "Aucun changement."),
    "progress.change.new": ("new since {quarter}", "nouvelle depuis {quarter}"),
    "progress.change.status": ("status {before} → {after}", "statut {before} → {after}"),
    "progress.change.percent": ("progress {before} → {after}", "avancement {before} → "
                                "{after}"),
    "progress.stocktakes": ("Stock-takes", "Points d'étape"),
    "progress.stocktakes.of": ("Stock-takes reported for {quarter}", "Points d'étape de "
                               "{quarter}"),
    "progress.no_stocktake": ("No stock-take was recorded for this quarter.",
                              "Aucun point d'étape n'a été consigné pour ce trimestre."),
    "progress.note": ("Note", "Note"),
    "progress.who": ("Recorded by", "Consigné par"),
    "progress.day": ("Date", "Date"),
    # level names of the bundled instruments; other levels show their id
    "level.function": ("function", "fonction"),
    "level.sub_function": ("sub-function", "sous-fonction"),
    "level.indicator": ("indicator", "indicateur"),
    "level.pillar": ("pillar", "pilier"),
    "level.component": ("component", "composante"),
    "level.impact": ("intended impact", "impact escompté"),
    "level.outcome": ("intended outcome", "effet escompté"),
    "level.output": ("output", "produit"),
    "levels.function": ("functions", "fonctions"),
    "levels.sub_function": ("sub-functions", "sous-fonctions"),
    "levels.indicator": ("indicators", "indicateurs"),
    "levels.pillar": ("pillars", "piliers"),
    "levels.component": ("components", "composantes"),
    "levels.impact": ("intended impacts", "impacts escomptés"),
    "levels.outcome": ("intended outcomes", "effets escomptés"),
    "levels.output": ("outputs", "produits"),
    # kinds of written answers (Comments sheet)
    "kind.comment": ("comment", "commentaire"),
    "kind.rationale": ("rationale", "justification"),
    "kind.open_answer": ("open answer", "réponse ouverte"),
    "kind.note": ("note beside an answer", "note accompagnant une réponse"),
    # spreadsheet and CSV headers
    "sheet.answers": ("Answers", "Réponses"),
    "sheet.scores": ("Scores", "Notes"),
    "sheet.evidence": ("Evidence", "Éléments probants"),
    "sheet.comments": ("Comments", "Commentaires"),
    "sheet.actions": ("Action plan", "Plan d'action"),
    "col.parent": ("Parent", "Parent"),
    "col.gap": ("Gap", "Écart"),
    "col.self_stage": ("Self-assessed stage", "Stade auto-évalué"),
    "col.validated_stage": ("Validated stage", "Stade validé"),
    "col.difference": ("Difference", "Écart"),
    "col.total": ("Total", "Total"),
    "col.lowest": ("{kind}: lowest", "{kind} : plus bas"),
    "col.median": ("{kind}: median", "{kind} : médiane"),
    "col.highest": ("{kind}: highest", "{kind} : plus haut"),
    "col.justification": ("{criterion}: justification", "{criterion} : justification"),
    "col.score_of": ("Score, {questionnaire}", "Note, {questionnaire}"),
}

_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
}


class Translator:
    """Words, numbers and dates in one language; ``t("key", name=...)`` formats a phrase."""

    def __init__(self, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(
                f"reports are written in {' or '.join(LANGUAGES)}, not `{language}`"
            )
        self.language = language
        self._column = LANGUAGES.index(language)

    def __call__(self, key: str, **values: object) -> str:
        phrase = CATALOGUE[key][self._column]
        return phrase.format(**values) if values else phrase

    def level(self, level: str, plural: bool = False) -> str:
        """A node level as a word (``sub_function`` -> "sub-function", "sous-fonctions")."""
        key = f"{'levels' if plural else 'level'}.{level}"
        if key in CATALOGUE:
            return self(key)
        word = level.replace("_", " ")
        return word + "s" if plural else word

    def local(self, text: Mapping[str, str] | None) -> str:
        """Instrument text in this language, else English marked ``[en]``; "" for none."""
        if not text:
            return ""
        if self.language in text:
            return text[self.language]
        return text["en"] + FALLBACK_MARK

    def number(self, value: float | int | None, decimals: int = 2) -> str:
        """``62.50`` in English, ``62,50`` in French; a dash for no value."""
        if value is None:
            return self("none")
        text = f"{value:.{decimals}f}" if isinstance(value, float) else str(value)
        return text.replace(".", ",") if self.language == "fr" else text

    def percent(self, value: float | None, decimals: int = 2) -> str:
        return self("none") if value is None else f"{self.number(float(value), decimals)} %"

    def signed(self, value: float | int | None, decimals: int = 2) -> str:
        """A difference with its sign: ``+12.50``, ``-1``."""
        if value is None:
            return self("none")
        sign = "+" if value > 0 else ""
        return sign + self.number(value, decimals)

    def date(self, day: dt.date) -> str:
        """``22 November 2026`` / ``22 novembre 2026``."""
        return f"{day.day} {_MONTHS[self.language][day.month - 1]} {day.year}"
