"""The Danish text rules: words, hyphenation, sentences, numbers, the question's language, index terms."""

from __future__ import annotations

import pytest

from assistant.danish import (
    compact, compound_parts, danish_lemmas, danish_words, english_lemmas, holds_name, join_hyphens, names, normalise, numbers, passage_sentences,
    outcome_kind, question_language, repetition_start, split_sentences, terms, without_source_talk,
)  # fmt: skip


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("What was decided about police reporting of violence?", "en"),
        ("Hvornår træder den nye MED-aftale i kraft?", "da"),
        ("Hvad blev besluttet om budgettet?", "da"),
        ("When does the new agreement take effect?", "en"),
        ("Hvem er formand for udvalget", "da"),
        ("Who chairs the committee?", "en"),
        # Danish letters in a name do not make an English question Danish
        ("How many pupils attend Rødovre Gymnasium?", "en"),
        ("What did Køge Kommune decide about the budget?", "en"),
        ("Who chairs Børne- og Ungeudvalget?", "en"),
        ("Hvem er formand for Børne- og Ungeudvalget?", "da"),
        ("Rødovre Kommune: hvornår blev den grundlagt?", "da"),
        ("Er Århus med?", "da"),
        # a Danish title quoted in an English question is a name too; its clause ends at a colon, not at "2."
        ("Has Udskydelse af anlægsprojekter til 2023 been approved?", "en"),
        ("What was decided about Beslutning om godkendelse af huslejestigning som følge af forbedringsarbejder?", "en"),
        ("Has 2. Behandling af specialpædagogisk analyse been approved?", "en"),
        ("Has Lejeaftale matrikel 5bø Hundige By, Kildebrønde med Waves Shoppingcenter been approved?", "en"),
        ("Hvad har Greve Kommune besluttet om skolerne?", "da"),
        ("Hvornår blev Lokalplan 123 for Hundige Strand vedtaget?", "da"),
        ("Hvad sagde MED-udvalget om arbejdsmiljøet?", "da"),
    ],
)
def test_question_language(question: str, language: str) -> None:
    assert question_language(question) == language


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Fristen er fastsat. [1] Den er også kort [2]. Resten uden kilde.", ["Fristen er fastsat. [1]", "Den er også kort [2].", "Resten uden kilde."]),
        ("[1] The decision was taken. [3] The rules change. Later.", ["[1] The decision was taken.", "[3] The rules change.", "Later."]),
        ("Aftalen gælder. [1][2] Derefter.", ["Aftalen gælder. [1][2]", "Derefter."]),
        ("Den træder i kraft pr. 1. januar 2016 [1]. Godt.", ["Den træder i kraft pr. 1. januar 2016 [1].", "Godt."]),
        ("Pga. OvergangsMED behandles sagen kl. 13 i HovedMED.", ["Pga. OvergangsMED behandles sagen kl. 13 i HovedMED."]),
        ("Kun én sætning", ["Kun én sætning"]),
        ("Restfinansieringen er 7,56 mio. kr. Byrådet skal tage stilling.", ["Restfinansieringen er 7,56 mio. kr.", "Byrådet skal tage stilling."]),
        ("Et underskud på 58 mio. Katrine Nissen supplerer.", ["Et underskud på 58 mio.", "Katrine Nissen supplerer."]),
        ("Det koster 100 kr. pr. person og 2 mio. kr. i alt.", ["Det koster 100 kr. pr. person og 2 mio. kr. i alt."]),
        ("Prisen er 50 mio. Kr. betales senere.", ["Prisen er 50 mio. Kr. betales senere."]),
        ("Sagen behandles jf. Forretningsorden for Greve Byråd.", ["Sagen behandles jf. Forretningsorden for Greve Byråd."]),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


@pytest.mark.parametrize(
    ("raw", "compacted"),
    [
        ("en ny\norganisering", "en ny organisering"),
        ("be-\nhandlet", "behandlet"),
        ("Afsnit et.\n\nAfsnit to.", "Afsnit et.\nAfsnit to."),
        ("se http://x.dk/a.pdf\nhttp://x.dk/b.pdf her", "se [link] her"),
    ],
)
def test_compact(raw: str, compacted: str) -> None:
    assert compact(raw) == compacted


@pytest.mark.parametrize(
    ("clean", "ocr"),
    [
        ("ønsker", "gnsker"),  # ø read as g
        ("drøftelse", "draftelse"),  # ø read as a
        ("efterfølgende", "efterfelgende"),  # ø read as e
        ("afsættes", "afsaettes"),  # æ read as ae
        ("spørger", "spgrger"),
        ("undersøgelser", "undersggelser"),
        ("arbejdsmiljø", "arbejdsmiljg"),
        ("behandlet", "be-\nhandlet"),  # a line-end hyphen
    ],
)
def test_ocr_misreadings_share_a_term(clean: str, ocr: str) -> None:
    assert set(terms(clean)) & set(terms(ocr))


@pytest.mark.parametrize(("a", "b"), [("politianmeldelse", "politianmeldelser"), ("retningslinjer", "retningslinjerne")])
def test_inflections_share_a_stem(a: str, b: str) -> None:
    assert terms(a)[0] == terms(b)[0]


def test_stopwords_and_ocr_pa_are_dropped() -> None:
    assert terms("på pa og det") == []


@pytest.mark.parametrize(
    ("raw", "joined"),
    [
        ("be-\nhandlet", "behandlet"),
        ("neden-\n\nfor", "nedenfor"),  # OCR text with a blank line after every line
        ("aktivitets- \nog samværstilbud", "aktivitets- \nog samværstilbud"),  # a shared compound ending stays
        ("Børne- og Ungeudvalget", "Børne- og Ungeudvalget"),
    ],
)
def test_join_hyphens(raw: str, joined: str) -> None:
    assert join_hyphens(raw) == joined


def test_normalise_folds_case_space_and_hyphenation() -> None:
    assert normalise("Træder  i\nKRAFT be-\nhandlet") == "træder i kraft behandlet"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Opgaveudvalget kom med seks anbefalinger.", {"6"}),
        ("pr. 1. januar 2016", {"1", "2016"}),
        ("2025-07-01", {"2025", "7", "1"}),
        ("Der er en ny leder.", set()),  # "en" is an article, no number
        ("the third meeting", {"3"}),
    ],
)
def test_numbers(text: str, found: set[str]) -> None:
    assert numbers(text) == found


def test_passage_sentences_end_at_a_full_stop_before_a_paragraph_break() -> None:
    assert passage_sentences("Det drejer sig om.\n\nNæste punkt.") == ["Det drejer sig om.", "Næste punkt."]
    assert passage_sentences("Første halvdel af\n\nsætningen.") == ["Første halvdel af\nsætningen."]


WORDS = frozenset(
    "vold episoder lokal plan planen klima borger samlingens genbrug stationen sygefravær politik forældre betaling "
    "trivsel undersøgelse medarbejder medarbejderne kommune kommunen arbejdsmiljø repræsentant".split()
)


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("voldsepisoder", ("vold", "episoder")),  # a linking -s- dropped
        ("lokalplanen", ("lokal", "planen")),
        ("klimaborgersamlingens", ("klima", "borger", "samlingens")),  # a modifier that is no word is split too
        ("genbrugsstationen", ("genbrug", "stationen")),
        ("sygefraværspolitik", ("sygefravær", "politik")),
        ("arbejdsmiljørepræsentant", ("arbejdsmiljø", "repræsentant")),  # a known modifier stays whole
        ("medarbejderne", ()),  # no known head of four letters or more
        ("kommunen", ()),
        ("vold", ()),  # too short to be a compound
    ],
)
def test_compound_parts(word: str, parts: tuple[str, ...]) -> None:
    assert compound_parts(word, WORDS) == parts


def test_compound_parts_are_index_terms_only_with_a_vocabulary() -> None:
    assert "vold" in terms("voldsepisoder", vocabulary=WORDS)
    assert "vold" not in terms("voldsepisoder")
    assert set(terms("voldsepisoder")) <= set(terms("voldsepisoder", vocabulary=WORDS))


@pytest.mark.parametrize(
    ("word", "lemma"),
    [("buildings", "building"), ("postponed", "postpone"), ("studies", "study"), ("meetings", "meeting"), ("planning", "plan"), ("council's", "council")],
)
def test_english_lemmas(word: str, lemma: str) -> None:
    assert lemma in english_lemmas(word)


@pytest.mark.parametrize(("word", "lemma"), [("politikken", "politik"), ("udvalget", "udvalg"), ("anmeldes", "anmelde"), ("borgerne", "borger")])
def test_danish_lemmas(word: str, lemma: str) -> None:
    assert lemma in danish_lemmas(word)


@pytest.mark.parametrize(
    ("sentence", "claim"),
    [
        ("The passage states that the deadline is 72 hours.", "The deadline is 72 hours."),
        ("The sentence states that police reporting of violence must be done within 72 hours [1].", "Police reporting of violence must be done within 72 hours [1]."),
        ("According to passage 2, the committee closed the school.", "The committee closed the school."),
        ("According to the minutes [1], the budget was approved.", "The budget was approved."),
        ("The passage [1] states: the agreement takes effect on 1 January 2016.", "The agreement takes effect on 1 January 2016."),
        ("The deadline is 72 hours, as stated in passage 1.", "The deadline is 72 hours."),
        ("Det fremgår af passagen, at fristen er 15. august.", "Fristen er 15. august."),
        ("Af passagen fremgår det, at fristen er 72 timer.", "Fristen er 72 timer."),
        ("Passagen nævner, at mødet blev aflyst.", "Mødet blev aflyst."),
        ("Medarbejderne ønsker pavilloner (se passage 2).", "Medarbejderne ønsker pavilloner."),
        ("One supplier was recommended, as discussed in [1] and [2].", "One supplier was recommended."),
        ("The plan was adopted, as stated in passages 1 and 3.", "The plan was adopted."),
        ("The renovation was adopted on 25 June, citing passage [4].", "The renovation was adopted on 25 June."),
        # a sentence only about where the answer stands says nothing
        ("This is stated in passage [1].", ""),
        ("This is mentioned in [2] and [3].", ""),
        ("Dette fremgår af passage 2.", ""),
        # left as they are: a claim about the matter, or Danish whose verb would come first without its opening
        ("Ifølge referatet skal vold anmeldes inden 72 timer.", "Ifølge referatet skal vold anmeldes inden 72 timer."),
        ("In 2025 the council approved it.", "In 2025 the council approved it."),
        ("The text says nothing about the salary.", "The text says nothing about the salary."),
        ("I Randers blev mødet holdt.", "I Randers blev mødet holdt."),
    ],
)
def test_without_source_talk(sentence: str, claim: str) -> None:
    assert without_source_talk(sentence) == claim


ENGLISH = frozenset("due to a sickness absence has stopped falling an will be as mentor the new agreement takes effect on policy employees want natural attrition".split())
DANISH = frozenset("ung ansat sygefraværspolitik naturlig afgang mentor politik".split())


@pytest.mark.parametrize(
    ("answer", "found"),
    [
        # real English answers of the 1.5B model over Danish passages
        ("Due to a skarpet sygefraværspolitik, sickness absence has stopped falling [1].", ["sygefraværspolitik"]),
        ("An ung witharbejder will be ansat as mentor [2].", ["ung", "ansat"]),
        # names (a capital), glosses in brackets and quoted terms are not Danish words to mend
        ("Beskæftigelsesudvalget is chaired by Kim Drejer Nielsen [1].", []),
        ("The employees want natural attrition (naturlig afgang) [1].", []),
        ('The new "sygefraværspolitik" takes effect [1].', []),
        ("The new agreement takes effect on 1 January 2016 [1].", []),
    ],
)
def test_danish_words_in_an_english_answer(answer: str, found: list[str]) -> None:
    assert danish_words(answer, ENGLISH, DANISH) == found


@pytest.mark.parametrize(
    ("reply", "kept"),
    [
        # a real looping reply: the list copied again and again until the token limit
        (
            "Projekter som direktionen vurderer nødvendige af hensyn til opretholdelse af sikker drift, projekter som "
            "direktionen vurderer nødvendige af hensyn til opretholdelse af sikker drift og veje",
            "Projekter som direktionen vurderer nødvendige af hensyn til opretholdelse af sikker drift, ",
        ),
        ("Vold skal anmeldes inden 72 timer [1]. Vold skal anmeldes [2].", None),  # short repeats are language
    ],
)
def test_repetition_start(reply: str, kept: str | None) -> None:
    cut = repetition_start(reply)
    assert (reply[:cut] if cut is not None else None) == kept


@pytest.mark.parametrize(
    ("question", "found"),
    [
        ("Hvornår åbner den nye skole i Randers?", ["Randers"]),
        ("Who chairs HovedMED?", ["HovedMED"]),
        ("How many pupils attend Rødovre Gymnasium?", ["Rødovre", "Gymnasium"]),
        ("Hvornår træder den nye MED-aftale i kraft?", ["MED"]),
        ("When does the new agreement take effect in January?", []),  # a month is no name
        ("Who chairs the employment committee?", []),
    ],
)
def test_names(question: str, found: list[str]) -> None:
    assert names(question) == found


@pytest.mark.parametrize(
    ("text", "name", "held"),
    [
        ("Aftale med Region Sjællands udvalg", "Sjælland", True),  # inflected
        ("Kobenhavns Kommune", "København", True),  # æ/ø/å as OCR and English write them
        ("Greve Kommune besluttede", "Aalborg", False),
    ],
)
def test_holds_name(text: str, name: str, held: bool) -> None:
    assert holds_name(text, name) is held


@pytest.mark.parametrize(
    ("question", "dates"),
    [
        ("What did the city council decide in June 2023 about the heating season?", ["2023-06"]),
        ("Hvad besluttede udvalget i marts 2025 og i 2024?", ["2025-03", "2024"]),
        ("Hvem stemte imod i 2022?", ["2022"]),
        ("What does the policy for 2023-2026 say?", []),  # a period, not a meeting's date
        ("Hvad koster budget 2025-28?", []),
        ("the 2023/2024 heating season", []),
        ("den 12.2024 og 1.298.360 kr", []),
    ],
)
def test_mentioned_dates(question: str, dates: list[str]) -> None:
    from assistant.danish import mentioned_dates

    assert mentioned_dates(question) == dates


BODIES = [
    "Byråd 2022-2025", "Økonomiudvalget", "Klima-, Teknik- og Miljøudvalget", "Sundheds- og Omsorgsudvalget", "Plan- og Tryghedsudvalget",
    "Skole-, Børne- og Ungeudvalget", "Kultur- og Fritidsudvalget", "Beskæftigelses- og Erhvervsudvalget", "Social- og Handicapudvalget", "HovedMED",
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Hvorfor blev sagen trukket fra Sundheds- og Omsorgsudvalgets dagsorden?", ["Sundheds- og Omsorgsudvalget"]),
        ("Hvad besluttede byrådet om budgettet?", ["Byråd 2022-2025"]),
        ("What did the school committee decide? skole udvalg", ["Skole-, Børne- og Ungeudvalget"]),  # its first word
        ("climate, technical and environment committee klima teknik miljø udvalget", ["Klima-, Teknik- og Miljøudvalget"]),
        ("Hvad sagde økonomiudvalget?", ["Økonomiudvalget"]),
        ("Hvad siger lokalplanen, som udvalget vedtog?", []),  # "plan" inside a compound names no committee
        ("Hvad blev besluttet om sundhed?", []),  # no word for a body
        ("Hvem sidder i HovedMED?", ["HovedMED"]),
    ],
)
def test_named_bodies(text: str, named: list[str]) -> None:
    from assistant.danish import named_bodies

    assert named_bodies(text, BODIES) == named


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Hvor meget koster broen mellem Dokk1 og Balticagade?", "money"),
        ("Hvad koster et månedskort til bussen?", "money"),
        ("Hvor mange penge blev afsat til en helhedsplan?", "money"),
        ("Hvor meget skal kommunen betale tilbage?", "money"),
        ("How much does Salling Fondene donate to the route?", "money"),
        ("How much does a single ticket to the swimming pool cost?", "money"),
        ("Hvor lang bliver Kongeruten i Kongelunden?", "length"),
        ("How wide is the new bridge?", "length"),
        ("Hvor meget vil Strandparken hæve budgettet for 2023?", "number"),  # a share or a sum: any amount answers
        ("Hvor stort er det overskydende provenu i 2026?", "number"),
        ("How many members did the task committee have?", "number"),
        ("How long will the renovation take?", "number"),  # English "how long" is mostly a duration
        ("Hvornår træder den nye MED-aftale i kraft?", "date"),
        ("Who chairs the employment committee?", "person"),
        ("Hvem deltager under punktet?", "person"),
        ("Which committee approved the plan?", "name"),
        ("What was decided about police reporting of violence?", "decision"),
        ("Hvad står CHIME-modellen for?", ""),
    ],
)
def test_answer_kind(question: str, kind: str) -> None:
    from assistant.danish import answer_kind

    assert answer_kind(question) == kind


@pytest.mark.parametrize(
    ("sentence", "kind", "holds"),
    [
        ("Der gives anlægsbevilling på 18,8 mio. kr. fordelt over tre år.", "money", True),
        ("Enkeltbillet til svømmehallen fastholdes på 76 kr.", "money", True),
        ("Der afsættes kr. 100.000 til en helhedsplan.", "money", True),
        ("Kommunen skal betale to millioner kroner tilbage.", "money", True),
        ("Udgiften er 14,8 mio.kr. i 2026.", "money", True),
        ("Model C er en 51 meter lang og 9 meter bred forbindelse.", "money", False),  # a length is no price
        ("Mødet begyndte kl. 10 i byrådssalen.", "money", False),
        ("Model C er en 51 meter lang og 9 meter bred forbindelse.", "length", True),
        ("Ruten bliver fem kilometer lang.", "length", True),
        ("Grunden er på 300 m² og ligger ved havnen.", "length", True),
        ("Der gives anlægsbevilling på 18,8 mio. kr. til ruten.", "length", False),  # a price is no length
        ("Der kom seks anbefalinger fra udvalget.", "number", True),
        ("Aftalen træder i kraft 1. januar 2016.", "number", False),  # a date is no amount
        ("Aftalen træder i kraft 1. januar 2016.", "date", True),
        ("Katrine blev konstitueret som ny centerleder d. 10.6.24.", "date", True),  # minutes' short dates
        ("Høringssvar sendes senest 15/8 til sekretariatet.", "date", True),
        ("Anmeldelse til politiet skal ske indenfor 72 timer.", "date", True),  # a deadline says when
        ("Byrådet skal i første halvdel af hver valgperiode offentliggøre en planstrategi.", "date", True),
        ("Planstrategien revideres hvert fjerde år.", "date", True),
        ("Byggeriet begynder efter sommerferien.", "date", True),
        ("Mødet starter kl. 17.00 på rådhuset.", "date", True),
        ("Katrine blev konstitueret som ny centerleder d. 10.6.24.", "number", False),  # a short date is no amount
        ("Der afsættes 1.250.000 kr. til projektet.", "date", False),
        ("Version 2.1.3 af planen blev godkendt.", "date", False),
        ("Broen skal forbinde Dokk1 og Balticagade.", "date", False),
        ("Kontrakten løber i 4 år med mulighed for forlængelse.", "length", True),  # how long: a duration
        ("Høringsperioden er på 8 uger.", "length", True),
        ("Der er afsat 30 minutter til oplægget.", "length", True),  # how long the talk is
        ("Oplægget varer 30 min. inklusiv spørgsmål.", "length", True),
        ("Det er en min kollega, der holder oplægget.", "length", False),  # "min" alone is "my"
        ("Der kom seks anbefalinger fra udvalget.", "length", False),
        ("Udvalget godkendte indstillingen.", "decision", True),
        ("Katrine Nissen er konstitueret som centerleder.", "name", True),
        ("Greve Kommune har modtaget en ansøgning.", "name", True),  # any name, without a list of first names
        ("Greve Kommune har modtaget en ansøgning.", "person", True),
    ],
)
def test_holds_answer_kind(sentence: str, kind: str, holds: bool) -> None:
    from assistant.danish import holds_answer_kind

    assert holds_answer_kind(sentence, kind) is holds


@pytest.mark.parametrize(
    ("text", "kind", "asking"),
    [
        ("What was decided about police reporting of violence?", "decision", {"decid"}),
        ("Hvad besluttede byrådet om budgettet?", "decision", {"beslut"}),
        ("Hvornår blev planen godkendt?", "date", {"hvornar"}),
        ("Hvad står CHIME-modellen for?", "", set()),
    ],
)
def test_kind_terms(text: str, kind: str, asking: set[str]) -> None:
    """The index terms of the words asking for the answer's kind, which the kind weighs, not the words shared."""
    from assistant.danish import kind_terms, terms

    found = kind_terms(text, kind)
    assert found <= set(terms(text)) and all(any(t.startswith(a) for t in found) for a in asking)
    assert bool(found) is bool(asking)


@pytest.mark.parametrize(
    ("sentence", "holds"),
    [
        ("Centerchef Gitte Lind deltager under punktet.", True),
        ("Fra Greve Seniorråd er Anna Winnifred udpeget.", True),
        ("Bente Lis Clausen er udpeget fra Handicaprådet.", True),
        ("Liselott Blixt (UP) undlod at tage stilling.", True),  # a first name the list lacks: the party's letter
        ("For stemte (V), (C) og (Ø).", True),
        ("Greve Kommune har modtaget en ansøgning fra Greve Seniorråd.", False),  # a place and a body, no person
        ("Sagen behandles i Skole-, Børne- og Ungeudvalget.", False),
        ("Udvalget tog orienteringen til efterretning.", False),
    ],
)
def test_holds_a_person(sentence: str, holds: bool) -> None:
    """A "who" question is answered by a person: a first name (the word list's names that are no word in lower case)
    before another capitalised word, or a party's letter; "Greve" is a town and a count, no first name."""
    from assistant.danish import first_names, holds_answer_kind
    from assistant.settings import Settings

    path = Settings().danish_words_path
    if not path.exists():
        pytest.skip("no Danish word list (Debian wdanish) to take the first names from")
    names = first_names(path)
    assert {"Gitte", "Anna", "Bente"} <= names and "Greve" not in names
    assert holds_answer_kind(sentence, "person", names) is holds


@pytest.mark.parametrize(
    ("sentence", "furniture"),
    [
        ("Indholdsfortegnelse Godkendelse af dagsorden........................ 3", True),  # a table of contents
        ("Bilag Indstilling Bilag 1: Kort over Lisbjerg Bilag 2: Notat MKB 19.08.2025 (påført 26.08.2025)", True),
        ("Bilag: Notat om trafikken på Grenåvej", True),
        ("Sagsforløb Udvalg: Aarhus Byråd Dato: 09-04-2025 Punktnummer: 17", True),  # a procedure header
        ("Sagsprocedure Klima-, Teknik- og Miljøudvalget, Økonomiudvalget og Byrådet.", True),
        ("Bilag 3 viser, at udgiften bliver 5 mio. kr.", False),  # a sentence that names an attachment
        ("Høringssvaret (jf. bilag 3) er sendt til Movia inden fristen den 31. maj 2024.", False),
        ("Udvalget godkendte indstillingen.", False),
    ],
)
def test_is_furniture(sentence: str, furniture: bool) -> None:
    from assistant.danish import is_furniture

    assert is_furniture(sentence) is furniture


@pytest.mark.parametrize(
    ("sentence", "heading", "kept"),
    [
        ("Ad. 2 Vold og trusler Tina fortalte om sagen.", "Ad. 2 Vold og trusler", "Tina fortalte om sagen."),
        ("Beslutning Udvalget godkendte.", "Budget 2025 › Beslutning", "Udvalget godkendte."),
        ("Beslutning", "Budget 2025 › Beslutning", "Beslutning"),  # nothing would be left
        ("Udvalget godkendte.", "Budget 2025 › Beslutning", "Udvalget godkendte."),
    ],
)
def test_without_heading(sentence: str, heading: str, kept: str) -> None:
    from assistant.danish import without_heading

    assert without_heading(sentence, heading) == kept


def test_evidence_sentences_leave_out_the_short_the_furniture_and_what_an_earlier_passage_said() -> None:
    from assistant.danish import evidence_sentences

    first = "Resume Der skal bygges en ny daginstitution i Tune. Godkendt. Bilag: Notat om trafikken på Grenåvej"
    second = "Der skal bygges en ny daginstitution i Tune. Den får plads til 120 børn i alt."  # the chunks overlap
    assert evidence_sentences([(first, "Daginstitution › Resume"), (second, "Daginstitution › Resume")]) == [
        ["Der skal bygges en ny daginstitution i Tune."],
        ["Den får plads til 120 børn i alt."],
    ]


@pytest.mark.parametrize(
    ("titles", "standing"),
    [
        (["Godkendelse af dagsorden"] * 3, True),
        (["Underskriftsark", "Underskriftsark"], True),
        (["Meddelelser"], True),
        (["Mødekalender 2025", "Mødekalender 2026"], True),
        (["Ny daginstitution i Tune"] * 3, False),  # one matter from committee to city council
        (["Ny daginstitution i Tune", "Genoptagelse - Ny daginstitution i Tune"], False),
        (["Budgetopfølgning"] * 12, True),  # one title at very many meetings is a standing item, whatever it says
        ([], False),
    ],
)
def test_is_standing_item(titles: list[str], standing: bool) -> None:
    from assistant.danish import is_standing_item

    assert is_standing_item(titles) is standing


@pytest.mark.parametrize(
    ("decision", "kind"),
    [
        ("Byrådet godkendte Økonomiudvalgets indstilling.", "approved"),
        ("Godkendt.", "approved"),
        ("Økonomiudvalget anbefaler overfor Byrådet, at indstillingen godkendes.", "recommended"),
        ("1.-2. Anbefales.", "recommended"),
        ("Orienteringen blev taget til efterretning.", "noted"),
        ("Sagen blev udsat.", "postponed"),
        ("Udvalget udskyder sagen til næste møde.", "postponed"),
        ("Indstillingen blev ikke godkendt.", "rejected"),
        ("Byrådet sendte sagen til realitetsbehandling i Økonomiudvalget.", "referred"),
        ("Bjarke Abel (A) deltog som stedfortræder.", ""),
        ("", ""),
    ],
)
def test_outcome_kind(decision: str, kind: str) -> None:
    assert outcome_kind(decision) == kind
