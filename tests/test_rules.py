"""Each executable coding rule, with sentences written for these tests.

The rules: typo tolerance only for unknown words, nouns need nouns, abbreviations need capitals,
per-pattern negation, wishes, comparisons, "bringt nichts", hedges, compound positions,
require/unless conditions (cues, other codes, the question), named conditions, question words,
at most N codes per unit.
"""

import pandas as pd
import pytest

from pipeline.codebook import codebook_from_data
from pipeline.coding import RuleMatcher
from pipeline.coding.questions import dimensions_in
from pipeline.nlp import load_nlp


def book(codes: list[dict], **top) -> object:
    data = {"name": "Regeln", "version": "1", "matching": {"negation_window": 4, "typos": True},
            "codes": [{"id": d, "label": d, "definition": d, "codable": False} for d in ("huerde", "methode", "innovationsform")] + codes, **top}
    cb, problems = codebook_from_data(data)
    errors = [p for p in problems if p.level == "error"]
    assert not errors, errors
    return cb


def code(cid: str, include: list, **extra) -> dict:
    return {"id": cid, "label": cid, "definition": cid, "anchor_examples": ["x"], "include": include, **extra}


@pytest.fixture(scope="module")
def nlp():
    return load_nlp("qda-de")


def coded(cb, nlp, text: str, question: set[str] | None = None) -> list[str]:
    return sorted({h.code for h in RuleMatcher(cb).match_text(nlp, text, question=question)})


# --- single words ------------------------------------------------------------------------------
def test_typos_only_for_words_the_dictionary_does_not_know(nlp):
    cb = book([code("innovationsform.produkt", ["Rechner"]), code("huerde.zeit", ["Arbeitsbelastung"], lack_counts=True)])
    assert coded(cb, nlp, "Die Arbeitsbelastnug ist enorm.") == ["huerde.zeit"]
    assert coded(cb, nlp, "Das rechnet sich für uns nicht.") == []  # a real word, not a misspelt Rechner


@pytest.mark.parametrize("text", [
    "Die Schullungen waren gut.",          # a typo that keeps its plural ending
    "Die Schulungn waren gut.",
    "die schulunegn sind super",           # swapped letters, lower case
])
def test_typos_keep_their_inflection_ending(nlp, text):
    cb = book([code("methode.schulung", ["Schulung"])])
    assert coded(cb, nlp, text) == ["methode.schulung"]


@pytest.mark.parametrize("text", [
    "Wir haben die Checkliste erabeitet.",        # a letter missing in a participle
    "Die Checkliste wurde eingefürt.",            # in a separable verb's participle
    "Wir haben auf die neue Checkliste umgestelt.",
])
def test_a_misspelt_verb_form_still_satisfies_a_condition(nlp, text):
    cb = book([code("innovationsform.produkt", [{"term": "Checkliste", "require": "eingefuehrt"}])],
              conditions={"eingefuehrt": {"cues": ["erarbeiten", "einführen", "umstellen"]}})
    assert coded(cb, nlp, text) == ["innovationsform.produkt"]
    assert coded(cb, nlp, "Die Checkliste liegt im Schrank.") == []


def test_a_short_term_tolerates_only_two_swapped_letters(nlp):
    cb = book([code("huerde.zeit", ["Zeit"], lack_counts=True), code("huerde.ressourcen", ["Budget"], lack_counts=True),
               code("methode.austausch", ["Forum"]), code("huerde.kompetenz", ["IT"], lack_counts=True)])
    assert coded(cb, nlp, "Keine Ziet, kein Budegt.") == ["huerde.ressourcen", "huerde.zeit"]
    assert coded(cb, nlp, "Im Froum frag ich nach.") == ["methode.austausch"]
    # one other edit in a short word is not tolerated: it too often makes another word
    assert coded(cb, nlp, "Keine Zait, kein Bidget, im Forim.") == []
    assert coded(cb, nlp, "Da fragt man eben.") == []  # "eben" is no typo of anything here
    assert coded(cb, nlp, "Das TI hilft.") == []  # abbreviations never


def test_a_surface_term_tolerates_a_typo_too(nlp):
    cb = book([code("innovationsform.wissenstransfer", [{"term": "gelernt", "match": "surface", "compounds": False}])])
    assert coded(cb, nlp, "Ich hab da echt viel gelehrnt.") == ["innovationsform.wissenstransfer"]
    assert coded(cb, nlp, "Ich hab da echt viel gelehrt.") == []  # a real word, not a misspelling


def test_a_plural_the_lemmatizer_does_not_know_finds_its_term(nlp):
    cb = book([code("huerde.kompetenz", ["Vorkenntnis"], lack_counts=True)])
    assert coded(cb, nlp, "Fehlende Vorkenntnisse im Programmieren.") == ["huerde.kompetenz"]


def test_a_compound_with_a_word_only_the_codebook_knows(nlp):
    cb = book([code("huerde.strukturen", ["Mitzeichnung"], lack_counts=True),
               code("huerde.zeit", [{"term": "Zeit", "compounds": "head"}], lack_counts=True)])
    # Mitzeichnung is not in the dictionary, so the dictionary cannot split the compound
    assert coded(cb, nlp, "Das Mitzeichnungsverfahren zieht sich ewig.") == ["huerde.strukturen"]
    assert coded(cb, nlp, "Die Mitzeichnungsfrist ist zu kurz.") == ["huerde.strukturen"]
    # the rest must be a word: no part is made up to fit a term
    assert coded(cb, nlp, "Die Mitzeichnungxyz hat nichts damit zu tun.") == []


def test_a_hyphenated_compound_finds_the_term_written_together(nlp):
    cb = book([code("methode.erprobung", ["Feedbackschleife"])])
    assert coded(cb, nlp, "Danach kam eine Feedback-Schleife mit den Ämtern.") == ["methode.erprobung"]
    assert coded(cb, nlp, "Danach kam eine Feedbackschleife mit den Ämtern.") == ["methode.erprobung"]


def test_a_noun_term_needs_a_noun(nlp):
    cb = book([code("huerde.ressourcen", [{"term": "Stelle", "compounds": False}], lack_counts=True)])
    assert coded(cb, nlp, "Die Stelle ist seit März unbesetzt.") == ["huerde.ressourcen"]
    assert coded(cb, nlp, "Ich stelle das im Dialogkreis vor.") == []
    # in a unit typed entirely in lower case, capitals carry no information
    assert coded(cb, nlp, "bei uns ist die stelle seit märz unbesetzt") == ["huerde.ressourcen"]


def test_a_lower_case_noun_is_still_a_noun(nlp):
    cb = book([code("methode.austausch", ["Barcamp"])])
    assert coded(cb, nlp, "Bei uns: barcamp im Herbst, war super.") == ["methode.austausch"]


def test_abbreviations_match_capitals_only(nlp):
    cb = book([code("huerde.fuehrung", ["OB"], lack_counts=True)])
    assert coded(cb, nlp, "Die OB blockt jedes Projekt.") == ["huerde.fuehrung"]
    assert coded(cb, nlp, "Ich weiß nicht, ob das klappt.") == []


@pytest.mark.parametrize("mode,text,expected", [
    (True, "Der Zeitmangel ist das Problem.", ["huerde.zeit"]),
    (True, "Die Elternzeit der Kollegin läuft.", ["huerde.zeit"]),
    ("modifier", "Der Zeitmangel ist das Problem.", ["huerde.zeit"]),
    ("modifier", "Die Elternzeit der Kollegin läuft.", []),
    ("head", "Die Elternzeit der Kollegin läuft.", ["huerde.zeit"]),
    ("head", "Der Zeitmangel ist das Problem.", []),
    (False, "Der Zeitmangel ist das Problem.", []),
])
def test_compound_position(nlp, mode, text, expected):
    cb = book([code("huerde.zeit", [{"term": "Zeit", "compounds": mode}], lack_counts=True)])
    assert coded(cb, nlp, text) == expected


# --- context ---------------------------------------------------------------------------------
def test_per_pattern_negation_false_is_honoured(nlp):
    cb = book([code("methode.schulung", ["Kurs", {"phrase": "kein Kurs", "negation": False}])])
    assert coded(cb, nlp, "Einen Kurs gab es nicht.") == []
    assert coded(cb, nlp, "Es gibt kein Kurs mehr, schade.") == ["methode.schulung"]


@pytest.mark.parametrize("text", [
    "Ein Mentoring-Programm fänd ich klasse.",
    "Wäre super, wenn es mal ein Mentoring-Programm gäbe.",
    "Ich wünsche mir ein Mentoring-Programm für neue Leute.",
])
def test_a_wished_for_format_is_not_coded(nlp, text):
    cb = book([code("methode.austausch", ["Mentoring-Programm"])])
    assert coded(cb, nlp, text) == []


def test_a_barrier_stays_a_barrier_when_phrased_as_a_wish(nlp):
    cb = book([code("huerde.zeit", ["Zeit"], lack_counts=True)])
    assert coded(cb, nlp, "Ich wünsche mir mehr Zeit für die Treffen.") == ["huerde.zeit"]


@pytest.mark.parametrize("text", [
    "Das Forum bringt mehr als jeder Vortrag.",
    "Das ist greifbarer als jeder Vortrag.",
    "Statt Vortrag machen wir jetzt Fallberatung.",
    "Anders als beim Vortrag kann man in der Fallberatung nachfragen.",
    "Verglichen mit dem Vortrag letztes Jahr war die Fallberatung viel konkreter.",
    "Im Vergleich zum Vortrag bringt die Fallberatung mehr.",
])
def test_a_format_named_only_for_comparison_is_not_coded(nlp, text):
    cb = book([code("methode.impuls", ["Vortrag"])])
    assert coded(cb, nlp, text) == []


def test_a_comparison_word_after_the_format_does_not_make_it_a_foil(nlp):
    cb = book([code("methode.impuls", ["Vortrag"])])
    assert coded(cb, nlp, "Der Vortrag war anders als erwartet, richtig gut.") == ["methode.impuls"]


def test_a_format_that_brings_nothing_is_not_coded(nlp):
    cb = book([code("methode.impuls", ["Newsletter"])])
    assert coded(cb, nlp, "Den Newsletter les ich, bringt mir aber wenig.") == []
    assert coded(cb, nlp, "Den Newsletter les ich jede Woche.") == ["methode.impuls"]


def test_a_hedge_is_no_hypothetical(nlp):
    cb = book([code("innovationsform.wissenstransfer", ["Wissenstransfer"])])
    assert coded(cb, nlp, "Das ist Wissenstransfer, würde ich sagen.") == ["innovationsform.wissenstransfer"]
    assert coded(cb, nlp, "Das wäre Wissenstransfer, wenn es jemand macht.") == []


def test_lack_counts_for_barriers_but_no_problem_takes_back(nlp):
    cb = book([code("huerde.zeit", ["Zeit"], lack_counts=True)])
    assert coded(cb, nlp, "Wir haben keine Zeit dafür.") == ["huerde.zeit"]
    assert coded(cb, nlp, "Zeit war bei uns eigentlich nie das Problem.") == []


# --- conditions --------------------------------------------------------------------------------
def test_require_a_cue_in_the_sentence_or_the_question(nlp):
    cb = book([code("innovationsform.produkt", ["Tool"], require={"cues": ["einfuehrung"], "question": ["innovationsform"]})],
              cues={"einfuehrung": ["einführen", "jetzt"]})
    assert coded(cb, nlp, "Wir haben ein neues Tool eingeführt.") == ["innovationsform.produkt"]
    assert coded(cb, nlp, "Im Kurs wurde ein Tool gezeigt.") == []
    # in an answer to the innovation question, the question supplies the event
    assert coded(cb, nlp, "Ein Tool für die Fristenberechnung.", {"innovationsform"}) == ["innovationsform.produkt"]


def test_a_transcribed_pause_does_not_cut_the_sentence(nlp):
    # the cue after the pause belongs to the same sentence, and so does the denial before it
    cb = book([code("innovationsform.produkt", ["Chatbot"], require={"cues": ["einfuehrung"]}),
               code("methode.schulung", ["Schulung"])], cues={"einfuehrung": ["einführen"]})
    assert coded(cb, nlp, "Also den Chatbot (.) den haben wir dann im Frühjahr eingeführt.") == ["innovationsform.produkt"]
    assert coded(cb, nlp, "Also wir hatten keine (..) Schulung dazu.") == []


def test_nicht_x_sondern_y_corrects_x_for_barriers_and_formats_alike(nlp):
    # a barrier is named by what is missing, so "nicht" alone is evidence; followed by a
    # correction ("sondern", ", eher") it takes the mention back
    cb = book([code("huerde.fuehrung", ["Chef", "Amtsleitung"], lack_counts=True), code("huerde.zeit", [{"phrase": "fehlt an Zeit"}], lack_counts=True),
               code("methode.impuls", ["Vortrag"]), code("methode.austausch", ["Fragerunde"])])
    assert coded(cb, nlp, "Nicht der Chef bremst, eher die Kollegen.") == []
    assert coded(cb, nlp, "Das liegt nicht unbedingt an der Amtsleitung, sondern an uns.") == []
    assert coded(cb, nlp, "Nicht der Vortrag hat was gebracht, sondern die Fragerunde danach.") == ["methode.austausch"]
    # without a correction the lack stays evidence; "nicht nur … sondern auch" adds
    assert coded(cb, nlp, "Der Chef unterstützt das nicht.") == ["huerde.fuehrung"]
    assert coded(cb, nlp, "Nicht nur der Chef bremst, sondern auch die Kollegen.") == ["huerde.fuehrung"]
    # the correction must close the denied clause, in the same sentence
    assert coded(cb, nlp, "Der Chef hat nicht reagiert. Eher die Kollegen.") == ["huerde.fuehrung"]


def test_a_word_naming_the_obstacle_itself_is_taken_back_by_a_negator_before_it(nlp):
    # in a lack_counts code "keine Zeit" is a barrier; "keine Vorgaben" is none: negation: true
    # marks the words that name the obstacle, and only a negator right before them counts
    cb = book([code("huerde.strukturen", [{"term": "Vorgabe", "negation": True}, "Hierarchie"], lack_counts=True),
               code("huerde.zeit", ["Zeit"], lack_counts=True)])
    assert coded(cb, nlp, "Wir haben da keine Vorgaben gemacht.") == []
    assert coded(cb, nlp, "Ohne große Vorgaben ging das schnell.") == []
    assert coded(cb, nlp, "Die Vorgaben lassen das nicht zu.") == ["huerde.strukturen"]  # a negator after it is the barrier
    assert coded(cb, nlp, "Keine Hierarchie, aber auch keine Zeit.") == ["huerde.strukturen", "huerde.zeit"]  # without the flag: lack


def test_denied_relevance_takes_a_barrier_back(nlp):
    cb = book([code("huerde.technik", ["Technik"], lack_counts=True), code("huerde.zeit", ["Zeit"], lack_counts=True)])
    assert coded(cb, nlp, "Mit Technik hat das gar nix zu tun.") == []
    assert coded(cb, nlp, "An der Zeit liegt es nicht.") == []
    assert coded(cb, nlp, "Zeit hab ich keine.") == ["huerde.zeit"]


def test_a_cue_inside_the_hit_does_not_satisfy_its_own_condition(nlp):
    cb = book([code("innovationsform.kommunikation", [{"term": "Website", "require": "ansprache"}])], cues={"ansprache": ["Website", "erklären"]})
    assert coded(cb, nlp, "Die Website hat ein neues Logo.") == []
    assert coded(cb, nlp, "Die Website erklärt jetzt alles in Einfacher Sprache.") == ["innovationsform.kommunikation"]


def test_unless_another_code_or_the_question(nlp):
    cb = book([code("huerde.zeit", ["Zeitmangel"], lack_counts=True),
               code("methode.schulung", ["Kurs"], unless={"codes": ["huerde.*"], "question": ["huerde"]})])
    assert coded(cb, nlp, "Wegen Zeitmangel schaffe ich den Kurs nicht.") == ["huerde.zeit"]
    assert coded(cb, nlp, "Der Kurs zu Datenanalyse war gut.") == ["methode.schulung"]
    assert coded(cb, nlp, "Der Kurs liegt immer in der Nachtschicht.", {"huerde"}) == []


def test_named_conditions_and_question_unless(nlp):
    cb = book([code("huerde.ressourcen", [{"term": "Reisekosten", "require": "hindernis"}], lack_counts=True)],
              cues={"mangel": ["kein", "fehlen"], "entwarnung": [{"phrase": "nichts Nennenswertes"}]},
              conditions={"hindernis": {"cues": ["mangel"], "question": ["huerde"], "question_unless": ["entwarnung"], "scope": "clause"}})
    assert coded(cb, nlp, "Reisekosten übernimmt keiner.") == ["huerde.ressourcen"]
    assert coded(cb, nlp, "Die Reisekosten.", {"huerde"}) == ["huerde.ressourcen"]
    assert coded(cb, nlp, "Nichts Nennenswertes. Die Reisekosten werden übernommen.", {"huerde"}) == []
    assert cb.codes["huerde.ressourcen"].include[0].require.label() == "hindernis"


def test_clause_scope(nlp):
    cb = book([code("huerde.technik", [{"term": "Laptop", "require": {"cues": ["mangel"], "scope": "clause"}}], lack_counts=True)],
              cues={"mangel": ["kein", "fehlen", "alt"]})
    assert coded(cb, nlp, "Der Laptop ist uralt, und die Kurse sind kein Problem.") == []
    assert coded(cb, nlp, "Einen Laptop hab ich keinen.") == ["huerde.technik"]


def test_invalid_conditions_are_reported_with_their_place():
    data = {"name": "x", "version": "1", "codes": [
        {"id": "a", "label": "a", "definition": "a", "codable": False},
        {"id": "a.b", "label": "b", "definition": "b", "include": ["X"], "require": {"cues": ["gibtsnicht?*"], "codes": ["z.*"], "question": ["q"], "scope": "absatz"}},
    ]}
    _, problems = codebook_from_data(data)
    msgs = [f"{p.location}: {p.message}" for p in problems if p.level == "error"]
    assert "codes → a.b → require → scope: must be one of clause, sentence, unit, not 'absatz'" in msgs
    assert "codes → a.b → require → codes: 'z.*' matches no codable code" in msgs
    assert any(m.startswith("codes → a.b → require → question: 'q' is neither a dimension") for m in msgs)


def test_a_list_of_condition_names_is_refused_not_read_as_words():
    # `unless: [a, b]` looks like two conditions but is a list of cue words that never occur
    data = {"name": "x", "version": "1", "cues": {"stoerung": ["Headset"]},
            "conditions": {"gestoert": {"cues": ["stoerung"], "scope": "unit"}, "laeuft": {"cues": ["läuft"]}},
            "codes": [{"id": "a", "label": "a", "definition": "a", "codable": False},
                      {"id": "a.b", "label": "b", "definition": "b", "include": ["X"], "unless": ["gestoert", "laeuft"]}]}
    _, problems = codebook_from_data(data)
    msgs = [f"{p.location}: {p.message}" for p in problems if p.level == "error"]
    assert any(m.startswith("codes → a.b → unless → cues: 'gestoert' names a condition, not a cue list") for m in msgs), msgs
    assert any("'laeuft' names a condition" in m for m in msgs), msgs


# --- the question ------------------------------------------------------------------------------
@pytest.mark.parametrize("question,dims", [
    ("Q_huerden", {"huerde"}),
    ("Welche Hindernisse erleben Sie?", {"huerde"}),
    ("Wie ist der Innovationszirkel aufgebaut?", set()),  # Innovation only as a modifier
    ("Gab es eine Neuerung in Ihrem Haus?", {"innovationsform"}),
    # a denied word names no topic: politeness, or a question about what did not happen
    ("Kein Hindernis, erzählen Sie ruhig weiter.", set()),
    ("Gab es Häuser, die gar keine Neuerung übernommen haben?", set()),
])
def test_question_words_on_lemmas_and_compound_heads(question, dims):
    cb = book([code("huerde.zeit", ["Zeit"])], questions={"huerde": ["Hürde", "Hindernis", "Huerden"], "innovationsform": ["Innovation", "Neuerung"]})
    assert dimensions_in(question, cb) == dims


def test_a_backchannel_keeps_the_interviewers_question_for_the_turn_after_it():
    import pandas as pd

    from pipeline.coding.questions import question_dimensions, question_texts

    cb = book([code("huerde.zeit", ["Zeit"])], questions={"huerde": ["Hürde"], "methode": ["Format"]})
    seg = pd.DataFrame({"doc_id": ["d"] * 7, "is_interviewer": [True, False, True, False, True, False, False],
                        "text": ["Welche Hürden gab es bei Ihnen?", "Vor allem die Zeit.", "Mhm.", "Und die Vertretung fehlt.",
                                 "Welches Format hat Ihnen am meisten gebracht?", "Das Barcamp.", "Und die Tech Talks."]})
    assert question_dimensions(seg, cb) == [None, {"huerde"}, None, {"huerde"}, None, {"methode"}, {"methode"}]
    assert question_texts(seg)[3] == "Welche Hürden gab es bei Ihnen? Mhm."
    # a short follow-up adds its topic to the question before it; a full question replaces it
    seg.loc[2, "text"] = "Und welches Format?"
    assert question_dimensions(seg, cb)[3] == {"huerde", "methode"}
    seg.loc[2, "text"] = "Gab es auch noch weitere Formate, die Sie genutzt haben?"
    assert question_dimensions(seg, cb)[3] == {"methode"}


def test_an_answer_to_a_question_about_wishes_names_wishes_not_formats():
    import pandas as pd

    from pipeline.coding import code_segments

    cb = book([code("methode.entwicklung", ["Hackathon"]), code("huerde.zeit", ["Zeit"], lack_counts=True)])
    seg = pd.DataFrame({"segment_id": [f"d:{i}" for i in range(1, 7)], "doc_id": ["d"] * 6, "start_char": [0] * 6,
                        "kind": ["interview"] * 6, "is_interviewer": [True, False, True, False, True, False],
                        "text": ["Was haben Sie gemacht?", "Einen Hackathon mit drei Kreisen.",
                                 "Und was würden Sie sich für die Zukunft wünschen?", "Einen richtigen Hackathon mal. Und mehr Zeit.",
                                 "Mhm.", "Und nen Hackathon mit den Ländern, aber dafür fehlt die Zeit."]})
    got = code_segments(seg, cb, use_cache=False).codings.groupby("segment_id")["code"].apply(sorted).to_dict()
    assert got == {"d:2": ["methode.entwicklung"], "d:4": ["huerde.zeit"], "d:6": ["huerde.zeit"]}


def test_at_most_max_codes_per_unit_the_questions_dimension_first(tmp_path):
    import pandas as pd

    from pipeline.coding import code_segments

    cb = book([code("huerde.zeit", ["Zeitmangel"], lack_counts=True), code("huerde.ressourcen", ["Budget"], lack_counts=True),
               code("methode.schulung", ["Kurs"]), code("methode.impuls", ["Vortrag"])], matching={"max_codes": 2})
    seg = pd.DataFrame({"segment_id": ["1:ideen"], "text": ["Zeitmangel, kein Budget, aber der Kurs und der Vortrag waren gut."],
                        "start_char": [0], "code_scope": ["methode"]})
    got = code_segments(seg, cb, use_cache=False).codings["code"].tolist()
    assert got == ["methode.schulung", "methode.impuls"]  # in codebook order


# --- question topics ------------------------------------------------------------------------------
def _topic_book(**conditions):
    return {"name": "Regeln", "version": "1", "matching": {"negation_window": 4},
            "questions": {"methode": ["Format"], "einstieg": [{"regex": r"\bwie\b.*\bgekommen\b"}, "stellen Sie sich"]},
            "conditions": {"hintergrund": {"question": ["einstieg"]}, **conditions},
            "codes": [{"id": "methode", "label": "m", "definition": "m", "codable": False},
                      code("methode.impuls", ["Newsletter"], unless="hintergrund")]}


def test_a_question_topic_serves_a_condition():
    cb, problems = codebook_from_data(_topic_book())
    assert not [p for p in problems if p.level == "error"], problems
    assert dimensions_in("Wie sind Sie zum Netzwerk gekommen?", cb) == {"einstieg"}
    assert dimensions_in("Stellen Sie sich kurz vor?", cb) == {"einstieg"}
    assert dimensions_in("Welches Format hilft Ihnen?", cb) == {"methode"}
    nlp = load_nlp("qda-de")
    text = "Über den Newsletter vom Städtetag."
    assert coded(cb, nlp, text, dimensions_in("Wie sind Sie zum Netzwerk gekommen?", cb)) == []
    assert coded(cb, nlp, text, dimensions_in("Welches Format hilft Ihnen?", cb)) == ["methode.impuls"]


def test_a_question_topic_limits_no_hard_scope_and_no_verifier_feature():
    from pipeline.coding import code_segments

    cb, _ = codebook_from_data({**_topic_book(), "codes": [{"id": "methode", "label": "m", "definition": "m", "codable": False},
                                                          code("methode.impuls", ["Newsletter"])]})
    seg = pd.DataFrame({"segment_id": ["s1"], "doc_id": ["d"], "start_char": [0], "kind": ["answer"],
                        "question": ["Wie sind Sie zum Netzwerk gekommen?"], "text": ["Über den Newsletter."]})
    # --scope hard drops codes outside the question's *dimensions*; a topic names none
    assert code_segments(seg, cb, scope="hard", use_cache=False).codings["code"].tolist() == ["methode.impuls"]


@pytest.mark.parametrize("questions,conditions,message", [
    ({"einstieg": ["Einstieg"]}, {}, "no condition asks for it"),
    ({"einstieg": [{"regex": "wie (sind"}]}, {"c": {"question": ["einstieg"]}}, "invalid regular expression"),
    ({"einstieg": [{"regexp": "wie"}]}, {"c": {"question": ["einstieg"]}}, "{regex: PATTERN}"),
    ({}, {"c": {"question": ["einstieg"]}}, "nor a question topic"),
])
def test_bad_question_topics_are_located_errors(questions, conditions, message):
    data = {"name": "Regeln", "version": "1", "questions": questions, "conditions": conditions,
            "codes": [{"id": "methode", "label": "m", "definition": "m", "codable": False}, code("methode.impuls", ["Newsletter"])]}
    _, problems = codebook_from_data(data)
    errors = [p for p in problems if p.level == "error"]
    assert any(message in p.message for p in errors), errors
    assert all(p.location.startswith(("questions", "conditions")) for p in errors), errors


def test_a_regex_question_entry_survives_writing_and_reading():
    import yaml

    from pipeline.codebook.serialize import dump_codebook

    cb, _ = codebook_from_data(_topic_book())
    text = dump_codebook(cb)
    assert "regex:" in text
    back, problems = codebook_from_data(yaml.safe_load(text))
    assert back.questions == cb.questions and not [p for p in problems if p.level == "error"]


def test_a_verdict_after_a_left_dislocation(nlp):
    cb = book([code("huerde.technik", ["Technik"]), code("huerde.zeit", ["Zeit"], lack_counts=True)])
    assert coded(cb, nlp, "Die Technik, die war nie das Problem.") == []
    assert coded(cb, nlp, "Die Technik, die ist von 2009 und stürzt ständig ab.") == ["huerde.technik"]
    assert coded(cb, nlp, "Zeit, das ist bei uns gar kein Thema.") == []
    assert coded(cb, nlp, "Keine Zeit, das ist das Hauptproblem.") == ["huerde.zeit"]


def test_an_unmatched_anchor_is_quoted_whole_or_cut_with_an_ellipsis(nlp):
    from pipeline.coding import check_anchors

    long = "Wir haben den Chatbot erst zwei Monate nur intern laufen lassen, dann für alle."
    cb, _ = codebook_from_data({"name": "R", "version": "1", "codes": [
        {"id": "methode", "label": "m", "definition": "m", "codable": False},
        {"id": "methode.erprobung", "label": "e", "definition": "e", "anchor_examples": [long, "Kurz und unpassend."], "include": ["Pilot"]}]})
    messages = [p.message for p in check_anchors(cb, nlp)]
    assert messages == ["not matched by the code's own patterns: „Wir haben den Chatbot erst zwei Monate nur intern laufen la…“",
                        "not matched by the code's own patterns: „Kurz und unpassend.“"]


def test_a_sentence_without_nouns_is_not_read_as_typed_in_lower_case(nlp):
    # "wissen" is the verb: no capital after the sentence start, yet the writer capitalises
    cb = book([code("huerde.kompetenz", [{"term": "Wissen", "compounds": False}], lack_counts=True)])
    assert coded(cb, nlp, "Wir wissen nicht, ob das so geht.") == []
    assert coded(cb, nlp, "wir wissen nicht, ob das so geht, das wissen fehlt halt") == ["huerde.kompetenz"]


def test_nur_noch_does_not_open_a_clause(nlp):
    cb = book([code("huerde.strukturen", [{"term": "Antrag", "require": "bremst"}], unless="frei")],
              cues={"bremse": ["dauern"], "besser": [{"phrase": "nur noch"}]},
              conditions={"bremst": {"cues": ["bremse"], "scope": "clause"}, "frei": {"cues": ["besser"], "scope": "clause"}})
    assert coded(cb, nlp, "Der Antrag dauert ewig.") == ["huerde.strukturen"]
    assert coded(cb, nlp, "Der Antrag dauert nur noch zwei Tage.") == []
    # "nur" as "but" still opens one: the cue after it is no longer in the hit's clause
    assert coded(cb, nlp, "Der Antrag dauert, nur noch nicht bei uns.") == ["huerde.strukturen"]
