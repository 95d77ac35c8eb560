"""Text rules for Danish (and the English that questions and answers are also written in), in one place.

Words, word lists, number words, hyphenation, sentences, the question's language, and the index terms of the lexical
channel: every stage that reads text takes its rules from here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import snowballstemmer

from .markers import LEADING_MARKER

#: A word: letters and digits ("72", "HovedMED", "2016").
WORD = re.compile(r"[^\W_]+")
#: A word of letters only.
LETTERS = re.compile(r"[^\W\d_]+")
#: A word broken at a line end by a hyphen, "be-\nhandlet", also over a blank line (OCR) ; "aktivitets- og" (a space
#: before the break: a shared compound ending) stays as it is.
_HYPHEN_BREAK = re.compile(r"(\w)-\n\s*(\w)")
_URL = re.compile(r"https?://\S+")


def join_hyphens(text: str) -> str:
    """Words broken at a line end by a hyphen joined again: "be-\\nhandlet" → "behandlet"."""
    return _HYPHEN_BREAK.sub(r"\1\2", text)


def normalise(text: str) -> str:
    """Text for matching phrases: hyphenation undone, lower case, white space folded."""
    return " ".join(join_hyphens(text).lower().split())


def compact(text: str) -> str:
    """Passage text with fewer tokens and the same words: hard line breaks joined, hyphenation undone, links shortened.
    A blank line ends a paragraph and stays a line break."""
    text = join_hyphens(_URL.sub("[link]", text))
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    text = "\n".join(p for p in paragraphs if p)
    return re.sub(r"(?:\[link\] ?)+", "[link] ", text).strip()


# --- the question's language -----------------------------------------------------------------------------------

_LANGUAGE_WORDS = {
    "da": frozenset(
        "hvad hvem hvor hvornår hvordan hvorfor hvilke hvilken hvilket blev er og det der den til af på med skal kan har "
        "om som ikke var ved for fra efter hos vores deres også eller mellem besluttet træder kraft mange meget bliver "
        "blive vil kommer nogen noget sin sit sine hans hendes de vi jeg må får få næste sidste et en i".split()
    ),
    "en": frozenset(
        "what who where when how why which was were is are the of about did does do and to in on for with from by "
        "decided said say has have will many much there their it its be been being any this that these those than into "
        "an a can could would should must may not next last".split()
    ),
}
# Danish names of committees join their parts with "og": "Børne- og Ungeudvalget", "Kultur- og Fritidsudvalget".
_JOINED_NAME = re.compile(r"\b[A-ZÆØÅ][^\W\d_]*-\s+(?:og|eller)\s+[^\W\d_]+")
_ENGLISH_ONLY = _LANGUAGE_WORDS["en"] - _LANGUAGE_WORDS["da"]
_CLAUSE = re.compile(r"[:;?!()\"“”]|(?<=[^\W\d_]{2})\.\s")  # a name ends with its clause (not at "2. behandling")


def _words(question: str) -> Iterator[tuple[str, bool, bool]]:
    """The question's words, each with whether it opens its clause and whether it stands in a name or title. A name
    starts at a capital inside a clause and runs until an English word that Danish does not have: English questions
    quote Danish titles ("Has Udskydelse af anlægsprojekter til 2023 been approved?"), never the other way round."""
    for clause in _CLAUSE.split(_JOINED_NAME.sub(" ", question)):
        in_name = False
        for i, word in enumerate(LETTERS.findall(clause)):
            in_name = (in_name or (i > 0 and word[0].isupper())) and word.lower() not in _ENGLISH_ONLY
            yield word, i == 0, in_name


def question_language(question: str) -> str:
    """"da" or "en": the language a question is asked in, judged from its words. Danish letters and words count for
    Danish, except in names and titles: "How many pupils attend Rødovre Gymnasium?" and "Has Udskydelse af
    anlægsprojekter til 2023 been approved?" are asked in English."""
    da = en = 0
    for word, opens, in_name in _words(question):
        low = word.lower()
        if not in_name:
            en += low in _LANGUAGE_WORDS["en"]
            da += low in _LANGUAGE_WORDS["da"]
            if opens or not word[0].isupper():
                da += 2 * sum(low.count(ch) for ch in "æøå")
    return "en" if en > da else "da"


def name_words(question: str) -> list[str]:
    """The words of the names and titles a question quotes, as written, in their order: in an English question they
    are the minutes' own Danish words ("What was decided about Frigivelse af midler til affaldssortering?")."""
    return [word for word, _, in_name in _words(question) if in_name]


# --- sentences ---------------------------------------------------------------------------------------------------

# A sentence ends at . ! or ? after a word of 4+ characters or a marker (not "pr. 1. januar", "kl.", "Pga."), before a
# capital letter or a marker; and after an amount's unit before a capitalised word ("… på 7,56 mio. kr. Byrådet skal …":
# a Danish noun is not capitalised, so what follows starts a sentence).
_SENTENCE_END = re.compile(
    r"(?:(?<=\w{4}[.!?])|(?<=\][.!?]))((?:\s*\[\d+\])*)\s+(?=[A-ZÆØÅ\[\"(])"
    r"|(?:(?<=\bkr\.)|(?<=\bmio\.)|(?<=\bmia\.))()\s+(?=(?!Kr\b)[A-ZÆØÅ][a-zæøå])"
)
_PARAGRAPH_END = re.compile(r"(?<=[.!?])\n")


def split_sentences(text: str) -> list[str]:
    """Sentences of a text with their citation markers. Markers after a full stop belong to the sentence before it
    ("… timer. [1] Next" → "… timer. [1]"), unless the text opens with a marker: then the model writes them in
    front of each sentence ("[1] The decision … [3] The …")."""
    leading = bool(LEADING_MARKER.match(text))
    parts, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        markers = 1 if m.group(1) is not None else 2  # the markers after the full stop (none after a unit)
        cut = m.start(markers) if leading else m.end(markers)
        parts.append(text[start:cut].strip())
        start = cut if leading else m.end()
    parts.append(text[start:].strip())
    return [p for p in parts if p]


#: Lines of a record that state nothing a question asks about: a table of contents (dot leaders), a list of attachments
#: ("Bilag 1: Kort … Bilag 2: Notat …"), a case's procedure header ("Udvalg: Aarhus Byråd Dato: 09-04-2025 Punktnummer: 17").
_FURNITURE = re.compile(
    r"\.{5,}|…{2,}|\bIndholdsfortegnelse\b|\bPunktnummer:\s*\d|^\s*Bilag\s*(\d+\s*)?:|(\bBilag\s*\d+\s*:.*){2,}"
    r"|^\s*Sagsprocedure\b[^.]{0,150}\.?\s*$",  # the bodies an item goes to, a line of Greve's template
    re.IGNORECASE | re.DOTALL,
)


def is_furniture(sentence: str) -> bool:
    """Whether a sentence is a record's furniture (a table of contents, a list of attachments, a procedure header): the
    dates and numbers in it answer no question."""
    return bool(_FURNITURE.search(sentence))


#: Sentences shorter than this are no evidence ("Godkendt.", "Ad. 3"): they answer nothing on their own.
MIN_EVIDENCE_CHARS = 25


def without_heading(sentence: str, heading: str) -> str:
    """A passage's sentence without the agenda item's heading or the record section's label it opens with ("Ad. 2
    Vold og trusler Tina …", "Beslutning Udvalget …")."""
    heading = " ".join(heading.split())
    label = heading.rpartition(" › ")[2] if " › " in heading else ""
    for prefix in (heading, label):
        if prefix and sentence.startswith(prefix + " "):
            rest = sentence[len(prefix) :].strip()
            if any(ch.isalnum() for ch in rest):
                return rest
    return sentence


def repeats(sentence: str, earlier: list[str]) -> bool:
    """True when ``sentence`` stood before, whole or cut off at a chunk's edge (a long enough prefix of one)."""
    if len(sentence) < 30:
        return sentence in earlier
    return any(e.startswith(sentence) or sentence.startswith(e) for e in earlier if len(e) >= 30)


def evidence_sentences(passages: list[tuple[str, str]]) -> list[list[str]]:
    """For each of a document's passages, as (text, heading) in reading order, its sentences that can answer a question
    on their own: without the heading they open with, long enough, not furniture, and not standing in an earlier
    passage already (neighbouring chunks overlap)."""
    seen: list[str] = []
    out: list[list[str]] = []
    for text, heading in passages:
        kept = []
        for raw in passage_sentences(text):
            sentence = without_heading(raw, heading)
            if len(sentence) >= MIN_EVIDENCE_CHARS and not is_furniture(sentence) and not repeats(sentence, seen) and sentence not in kept:
                kept.append(sentence)
            seen.append(sentence)
        out.append(kept)
    return out


#: Titles of the items every meeting has (agenda, signatures, notices, calendars): their case number recurs at each
#: meeting of a committee's term, and no two of them are one matter.
_STANDING_TITLE = re.compile(
    r"dagsorden|underskrift|huskeliste|orientering fra|gensidig orientering|meddelelse|mødekalender|mødeplan|spørgetid|^eventuelt|"
    r"borgmesteren orienterer|formanden orienterer|lukket punkt",
    re.IGNORECASE,
)
#: A case number at this many meetings under one title is a standing item, whatever its title says.
_STANDING_MEETINGS = 10


def is_standing_item(titles: list[str]) -> bool:
    """Whether agenda items of one case number, with these titles, are a meeting's standing item rather than one
    matter followed from meeting to meeting: a procedural title, or one title at very many meetings."""
    if not titles:
        return False
    most = max(titles.count(t) for t in set(titles))
    return any(_STANDING_TITLE.search(t) for t in titles) or most >= _STANDING_MEETINGS


#: What a meeting did with an agenda item, read off its decision's first sentence: the first kind whose words it holds
#: ("anbefaler … godkendes" is a recommendation, "ikke godkendt" a rejection, "udsat" a postponement whatever follows).
OUTCOMES = (
    ("postponed", re.compile(r"\b(udsat|udsættes|udskudt|udskyd|taget af|genoptages|afventer|sendes tilbage|tilbagesendt)", re.IGNORECASE)),
    ("rejected", re.compile(r"\b(ikke godkend|ikke anbefal|ikke vedtag|forkast|afvis|afvist|afslag|bortfald|faldt)", re.IGNORECASE)),
    ("referred", re.compile(r"\b(sendte sagen|sendes sagen|sendes retur|sendes videre|oversend|henvis|henvist)", re.IGNORECASE)),
    ("recommended", re.compile(r"\b(anbefal|indstiller)", re.IGNORECASE)),
    ("approved", re.compile(r"\b(godkend|vedtag|vedtog|tiltræd|bevilg|besluttede|beslutter|imødekom)", re.IGNORECASE)),
    ("noted", re.compile(r"\b(til efterretning|orienter|temamøde|besvar|drøftet|drøftede|drøftelse|evaluerede)", re.IGNORECASE)),
)


def outcome_kind(decision: str) -> str:
    """The kind of a meeting's decision: "approved", "recommended" (to the next body), "referred" (sent to another body
    or back to the administration), "postponed", "rejected", "noted" (an item for information, a discussion), or ""
    when its words say none of these."""
    return next((kind for kind, words in OUTCOMES if words.search(decision)), "")


def passage_sentences(text: str) -> list[str]:
    """A passage's sentences, its text compacted first. A full stop before a paragraph break ends one too: minutes
    often end a sentence on a short word ("… sig om.") that ``split_sentences`` leaves joined, to spare
    abbreviations ("jf.", "nr."). A bare paragraph break does not: text from some PDFs has a blank line after every
    line."""
    return [s for paragraph in _PARAGRAPH_END.split(compact(text)) for s in split_sentences(paragraph)]


# --- numbers -------------------------------------------------------------------------------------------------------

_DIGITS = re.compile(r"\d+")
# Number words, Danish and English (cardinals and ordinals), as the digits an answer may write for them. "en"/"et"
# and "one" are left out: as articles and pronouns they would credit nearly every passage with a 1 (Danish "to",
# 2, stays, though English text then holds a 2 wherever it says "to": a looser check, not a wrong one).
NUMBER_WORDS = {
    word: str(n)
    for n, words in {
        1: "første first",
        2: "to anden andet two second",
        3: "tre tredje three third",
        4: "fire fjerde four fourth",
        5: "fem femte five fifth",
        6: "seks sjette six sixth",
        7: "syv syvende seven seventh",
        8: "otte ottende eight eighth",
        9: "ni niende nine ninth",
        10: "ti tiende ten tenth",
        11: "elleve ellevte eleven eleventh",
        12: "tolv tolvte twelve twelfth",
        13: "tretten thirteen",
        14: "fjorten fourteen",
        15: "femten fifteen",
        16: "seksten sixteen",
        17: "sytten seventeen",
        18: "atten eighteen",
        19: "nitten nineteen",
        20: "tyve twenty",
        30: "tredive thirty",
        40: "fyrre forty",
        50: "halvtreds fifty",
        60: "tres sixty",
        70: "halvfjerds seventy",
        80: "firs eighty",
        90: "halvfems ninety",
        100: "hundrede hundred",
        1000: "tusind thousand",
    }.items()
    for word in words.split()
}


def digits(text: str) -> set[str]:
    """The numbers written in digits in a text, leading zeros dropped ("1. januar 2016" → {"1", "2016"};
    "14,8" → {"14", "8"}; "2025-07-01" → {"2025", "7", "1"})."""
    return {run.lstrip("0") or "0" for run in _DIGITS.findall(text)}


def numbers(text: str) -> set[str]:
    """The numbers a text states, in digits or in words: minutes write "seks anbefalinger" where an answer writes
    "6 anbefalinger"."""
    return digits(text) | {NUMBER_WORDS[w] for w in WORD.findall(text.lower()) if w in NUMBER_WORDS}


# --- words that carry no content -----------------------------------------------------------------------------------

#: Words that carry no claim of their own in an answer, in the two languages answers are written in.
FILLER = frozenset(
    "the a an is are was were be been will would shall should can could has have had of in on at for to from by with as "
    "and or not no that this these those it its there their they which who whom what when where why how do does did "
    "about into than then also only new name named og i at det en den til er som på de med af for ikke der var har om "
    "vi blev kan skal vil være bliver hvad hvem hvornår hvor hvordan hvilke hvilken et fra efter under over ved nye ny"
    .split()
)
#: Words left out of the lexical index and of lexical queries (Snowball's Danish list, "pa" for OCR's "på", and the
#: English question words).
STOPWORDS = frozenset(
    "og i at det en den til er som på de med han af for ikke der var mig sig men et har om vi min havde ham hun nu "
    "over da fra du ud sin dem os op man hans hvor eller hvad skal selv her alle vil blev kunne ind når være dog noget "
    "ville jo deres efter ned skulle denne end dette mit også under have dig anden hende mine alt meget sit sine vor "
    "mod disse hvis din nogle hos blive mange ad bliver hendes været thi jer sådan pa the of and to in is was what who "
    "when how which about did does do for on at by with from that this are were be".split()
)


# --- index terms of the lexical channel ----------------------------------------------------------------------------

#: Changes whenever ``terms`` gives other terms for the same text: an index built under another version is refused.
TERMS_VERSION = 2  # 2: a compound's parts
_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "é": "e", "@": "o"})
# OCR reads ø as g, a, e or @ ("gnsker", "draftelse", "efterfelgende"): a word without its vowels, æ/ø/å and "g" is
# the same in both spellings ("nskr", "drftls", "ftrflnd").
_NOT_SKELETON = re.compile(r"[aeiouyæøåg@]")
SKELETON_PREFIX = "zq"  #: keeps skeletons apart from real words in one text field
_MIN_SKELETON = 3


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("danish")


@lru_cache(maxsize=200_000)
def _forms(word: str, ocr_robust: bool = True) -> tuple[str, ...]:
    stem = _stemmer().stemWord(word)
    if not ocr_robust:
        return (stem,)
    folded = stem.translate(_FOLD) or word.translate(_FOLD)
    forms = [folded]
    # The skeleton of the stem unifies inflections; that of the whole word survives OCR forms the stemmer misses.
    for skeleton in dict.fromkeys((_NOT_SKELETON.sub("", stem), _NOT_SKELETON.sub("", word))):
        if len(skeleton) >= _MIN_SKELETON:
            forms.append(SKELETON_PREFIX + skeleton)
    return tuple(forms)


def terms(text: str, ocr_robust: bool = True, vocabulary: frozenset[str] = frozenset()) -> list[str]:
    """The lexical index terms of a text: the Snowball Danish stem of each non-stopword with æ/ø/å folded (so "på"
    and OCR's "pa" meet), and its consonant skeletons; words split by line-end hyphens are joined first.

    With a ``vocabulary`` (indexing), a compound's parts are terms too, so that "vold" meets "voldsepisoder" and
    "plan" meets "lokalplanen". ``ocr_robust=False`` gives plain Snowball stems, the baseline of the OCR benchmark.
    """
    if ocr_robust:
        text = join_hyphens(text)
    out: list[str] = []
    for word in WORD.findall(text.lower()):
        if word in STOPWORDS or len(word) < 2:
            continue
        out.extend(_forms(word, ocr_robust))
        if vocabulary:
            out.extend(_part_forms(word, vocabulary))
    return out


@lru_cache(maxsize=200_000)
def _part_forms(word: str, vocabulary: frozenset[str]) -> tuple[str, ...]:
    return tuple(_forms(part, False)[0].translate(_FOLD) for part in compound_parts(word, vocabulary) if part not in STOPWORDS)


# --- compounds -----------------------------------------------------------------------------------------------------

#: The shortest word split into parts, and the shortest head and modifier: "voldsepisoder" → "vold", "episoder".
_MIN_COMPOUND, _MIN_HEAD, _MIN_MODIFIER = 8, 4, 4


def load_vocabulary(path: Path) -> frozenset[str]:
    """A word list (one word a line, as Debian's wdanish ``/usr/share/dict/danish``), lower-cased; empty when absent."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError:
        return frozenset()
    return frozenset(w.strip().lower() for w in lines if w.strip() and "'" not in w)


def compound_parts(word: str, vocabulary: frozenset[str]) -> tuple[str, ...]:
    """The parts of a Danish compound that ``vocabulary`` knows, modifier first: "voldsepisoder" → ("vold",
    "episoder"), "klimaborgersamlingens" → ("klima", "borger", "samlingens"); () when the word is not split.

    The head is the longest known ending; the modifier a known word (a linking -s- or -e- dropped), or itself split
    when it is no word; parts shorter than four letters are not taken ("medarbejder" stays whole).
    """
    word = word.lower()
    if len(word) < _MIN_COMPOUND or not vocabulary:
        return ()
    for cut in range(_MIN_MODIFIER, len(word) - _MIN_HEAD + 1):
        head, modifier = word[cut:], word[:cut]
        if head not in vocabulary:
            continue
        stems = [modifier[:-1], modifier] if modifier[-1] in "se" else [modifier]
        for stem in stems:
            if len(stem) >= _MIN_MODIFIER - 1 and stem in vocabulary:
                return (stem, head)
        for stem in stems:
            inner = compound_parts(stem, vocabulary)
            if inner:
                return (*inner, head)
    return ()


# --- English words of questions ------------------------------------------------------------------------------------

#: English words that carry no content in a question (what the dictionary translation leaves out).
ENGLISH_STOPWORDS = frozenset(
    "a an the of in on at for to from by with as about into over under after before between during since until than "
    "and or but not no nor so if then also only just any all some each every both either neither other such same own "
    "is are was were be been being am do does did done doing have has had having will would shall should can could may "
    "might must ought what who whom whose which when where why how that this these those there here it its they them "
    "their theirs he him his she her hers we us our you your i me my mine one ones get got make made give given take "
    "taken say said tell told want wanted need needed go going come came well much many more most less least very "
    "new old next last first second kind way part up down out off again further once yes per via according".split()
)


def english_lemmas(word: str) -> list[str]:
    """Base forms an English word may have, most likely first: "buildings" → ["buildings", "building"],
    "postponed" → ["postponed", "postpone", "postpon"], "studies" → ["studies", "study"]."""
    w = word.lower().replace("’", "'").removesuffix("'s").removesuffix("'")
    forms = [w]
    if w.endswith("ies") and len(w) > 4:
        forms.append(w[:-3] + "y")
    if w.endswith("es") and len(w) > 4:
        forms.append(w[:-2])
    if w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        forms.append(w[:-1])
    if w.endswith("ied") and len(w) > 4:
        forms.append(w[:-3] + "y")
    if w.endswith("ed") and len(w) > 4:
        forms += [w[:-1], w[:-2]] + ([w[:-3]] if w[-3] == w[-4] else [])
    if w.endswith("ing") and len(w) > 5:
        forms += [w[:-3] + "e", w[:-3]] + ([w[:-4]] if w[-4] == w[-5] else [])
    return list(dict.fromkeys(forms))


# --- talk about the sources in an answer ---------------------------------------------------------------------------

_SOURCE = r"(?:passages?|passagen|passagerne|documents?|dokumentet|dokumenterne|texts?|teksten|minutes|referatet|sources?|kilden|sentences?|sætningen)"
_NUMBERED = r"(?:\s*\[\d+\]|\s+\d+)?"
#: A source named by its marker alone: "according to [1]", "as stated in [2][3]", "as discussed in [1] and [2]".
_MARKED = r"(?:\[\d+\])+(?:\s*(?:,|and|og)\s*(?:\[\d+\])+)*"
#: One source or several: "passage 1", "the minutes [2]", "passages 1 and 3", "[1] and [2]".
_SOURCES = rf"(?:(?:the\s+)?{_SOURCE}{_NUMBERED}(?:\s*(?:,|and|og)\s*\d+)*|{_MARKED})"
#: How small models open a sentence about the passage rather than about the matter: "The passage states that …",
#: "According to passage 2, …", "Det fremgår af passagen, at …": the claim follows, in its own word order. (Danish
#: "Ifølge referatet skal …" stays: without its opening the verb would come first.)
_SOURCE_OPENINGS = re.compile(
    rf"^(?:\[\d+\]\s*)*(?:(?:the|this|that)\s+{_SOURCE}{_NUMBERED}\s+(?:clearly\s+)?(?:states?|says?|mentions?|notes?|indicates?|shows?|explains?|"
    rf"describes?|reports?|specifies|specify|confirms?)(?:\s+that|\s*[,:])"
    rf"|(?:according\s+to|as\s+(?:stated|mentioned|described|noted)\s+in|based\s+on|in)\s+(?:(?:the\s+)?{_SOURCE}{_NUMBERED}|{_MARKED})\s*,"
    rf"|(?:ifølge|af)\s+{_SOURCE}{_NUMBERED}\s*,?\s+fremgår\s+det,?\s+at"
    rf"|det\s+fremgår\s+(?:af|i)\s+{_SOURCE}{_NUMBERED},?\s+at"
    rf"|{_SOURCE}{_NUMBERED}\s+(?:siger|nævner|beskriver|fortæller|angiver|viser),?(?:\s+at)?)\s+",
    re.IGNORECASE,
)
#: The same said in passing: "…, as stated in passage 1." "… (se passage 2)".
_SOURCE_ASIDES = re.compile(
    rf",?\s*\(?(?:as\s+(?:stated|mentioned|described|noted|shown|discussed|indicated|specified)\s+in|see|according\s+to|citing|jf\.|se|ifølge)\s+{_SOURCES}\)?"
    r"(?=\s*(?:\[\d+\])*\s*[.,;!?]?\s*$|,)",
    re.IGNORECASE,
)


#: A sentence that says only where the answer stands: "This is stated in passage [1]." "Dette fremgår af passage 2."
_SOURCE_ONLY = re.compile(
    rf"^(?:(?:this|that|it|which)\s+(?:is|was|are|were)\s+(?:also\s+)?(?:stated|mentioned|described|noted|shown|discussed|confirmed|written|indicated|specified)\s+in"
    rf"|(?:dette|det)\s+(?:fremgår|står|nævnes|beskrives)\s+(?:også\s+)?(?:af|i))\s+{_SOURCES}\s*(?:\[\d+\])*\s*[.!]?$",
    re.IGNORECASE,
)


def without_source_talk(sentence: str) -> str:
    """A sentence about the matter rather than about its source: "The passage states that the deadline is 72 hours"
    → "The deadline is 72 hours"; "…, as stated in passage 1." → "…." (its markers left where they are); a sentence
    only about its source ("This is stated in passage [1].") → ""."""
    if _SOURCE_ONLY.match(sentence.strip()):
        return ""
    stripped = _SOURCE_ASIDES.sub("", _SOURCE_OPENINGS.sub("", sentence.strip(), count=1))
    if stripped != sentence.strip() and stripped[:1].islower():
        stripped = stripped[0].upper() + stripped[1:]
    return stripped if any(ch.isalnum() for ch in stripped) else sentence.strip()


# --- Danish words in an English answer -----------------------------------------------------------------------------

_DANISH_ENDINGS = ("ernes", "enes", "erne", "ene", "ers", "ens", "ets", "ne", "en", "et", "er", "es", "e", "s", "ede", "te", "t")


def danish_lemmas(word: str) -> list[str]:
    """Base forms a Danish word may have, the word first: "politikken" → [..., "politik"], "anmeldes" → [..., "anmelde"]."""
    w = word.lower()
    forms = [w]
    for ending in _DANISH_ENDINGS:
        if w.endswith(ending) and len(w) - len(ending) >= 3:
            base = w[: -len(ending)]
            forms += [base, base + "e"]
            if len(base) > 3 and base[-1] == base[-2]:  # "politikk|en" → "politik"
                forms.append(base[:-1])
    return list(dict.fromkeys(forms))


def danish_words(text: str, english: frozenset[str], danish: frozenset[str]) -> list[str]:
    """The Danish words of an English text: words written in lower case (a capital marks a name: "Rødovre",
    "Beskæftigelsesudvalget") that the ``english`` word list lacks in every form, and that are Danish: in the
    ``danish`` word list, or spelt with æ, ø or å. Numbers, words in quotation marks (a document's own term) and in
    brackets (a gloss: "natural attrition (naturlig afgang)") are not counted."""
    unquoted = re.sub(r"[\"“”«»][^\"“”«»]*[\"“”«»]|\([^)]*\)", " ", text)
    found = []
    for word in LETTERS.findall(unquoted):
        low = word.lower()
        if word[0].isupper() or any(form in english for form in english_lemmas(low)):
            continue
        if low in danish or any(ch in low for ch in "æøå"):
            found.append(word)
    return found


# --- a reply that repeats itself -----------------------------------------------------------------------------------

#: Words in a row that, met a second time, mean the model is looping (a list copied from a passage, then again).
REPEAT_WORDS = 10


def repetition_start(text: str, words: int = REPEAT_WORDS) -> int | None:
    """Where ``text`` starts to repeat a run of ``words`` words it already holds (its offset), or None: small models
    at low temperature can copy a passage's list over and over until their token limit."""
    found = list(WORD.finditer(text.lower()))
    if len(found) < 2 * words:
        return None
    seen: dict[tuple[str, ...], int] = {}
    for i in range(len(found) - words + 1):
        run = tuple(m.group(0) for m in found[i : i + words])
        if run in seen and seen[run] + words <= i:
            return found[i].start()
        seen.setdefault(run, i)
    return None


# --- names -----------------------------------------------------------------------------------------------------------

#: Words English writes with a capital that are no names: months, days, languages, "I".
_NOT_NAMES = frozenset(
    "i january february march april may june july august september october november december monday tuesday wednesday "
    "thursday friday saturday sunday danish english".split()
)


def names(question: str) -> list[str]:
    """The names a question mentions: its words with a capital letter, but for its first word ("Hvornår åbner den
    nye skole i Randers?" → ["Randers"]; "Who chairs HovedMED?" → ["HovedMED"]); months, days and "I" are no names."""
    found = []
    for i, m in enumerate(LETTERS.finditer(question)):
        word = m.group(0)
        if i and any(ch.isupper() for ch in word) and word.lower() not in _NOT_NAMES:
            found.append(word)
    return list(dict.fromkeys(found))


def holds_name(text: str, name: str) -> bool:
    """Whether ``text`` mentions ``name``, inflected too ("Sjællands", "HovedMED's"), with æ/ø/å folded as OCR and
    English write them ("Kobenhavn")."""
    wanted = name.lower().translate(_FOLD)
    return any(word.translate(_FOLD).startswith(wanted) for word in LETTERS.findall(text.lower()))


# --- what a question says of when and who: meetings' dates and bodies ----------------------------------------------

MONTHS = {
    **{m: i for i, m in enumerate("januar februar marts april maj juni juli august september oktober november december".split(), 1)},
    **{m: i for i, m in enumerate("january february march april may june july august september october november december".split(), 1)},
}
# A year on its own: not one end of a period ("2023-2026", "2025-28", "2023/24") nor part of a number ("12.2024").
_YEAR = re.compile(r"(?<![\d./-])(20\d\d)(?![\d/-]|\.\d)")
_MONTH_YEAR = re.compile(rf"\b({'|'.join(MONTHS)})\s+(20\d\d)\b", re.IGNORECASE)
#: Words that name a body of the council: a question holding none of them names no committee.
BODY_WORDS = ("udvalg", "byråd", "kommunalbestyrelse", "hovedmed", "med-udvalg", "lokaludvalg", "rådet")
_BODY_SUFFIX = re.compile(r"(udvalgets|udvalget|udvalg)$")


def mentioned_dates(question: str) -> list[str]:
    """The meeting dates a question points at, as ISO prefixes: "in March 2025" → ["2025-03"], "i 2023" → ["2023"];
    the ends of a period ("2023-2026", "budget 2025-28") are no meeting dates."""
    months = [f"{y}-{MONTHS[m.lower()]:02d}" for m, y in _MONTH_YEAR.findall(question)]
    years = [y for y in _YEAR.findall(question) if not any(m.startswith(y) for m in months)]
    return list(dict.fromkeys(months + years))


def body_parts(body: str) -> tuple[str, ...]:
    """The words that tell a body from the others, folded and without "udvalget": "Klima-, Teknik- og
    Miljøudvalget" → ("klima", "teknik", "miljo"); "Byråd 2022-2025" → ("byrad",); "HovedMED" → ("hovedmed",)."""
    parts = []
    for word in LETTERS.findall(body.lower()):
        word = _BODY_SUFFIX.sub("", word) if word not in {"udvalg", "udvalget"} else word
        if len(word) >= 4 and word not in STOPWORDS:
            parts.append(word.translate(_FOLD))
    return tuple(dict.fromkeys(parts))


def named_bodies(text: str, bodies: list[str]) -> list[str]:
    """The bodies among ``bodies`` that ``text`` (a question, with its Danish forms) names: it holds a word for a
    body ("udvalget", "byrådet") and words that begin as the body's own words do, inflected or as a compound's first
    part ("Sundheds- og Omsorgsudvalgets" names "Sundheds- og Omsorgsudvalget", "skoleudvalget" names "Skole-, Børne-
    og Ungeudvalget"): the body's first word or half of its words; the best matched ones."""
    folded = text.lower()
    if not any(w in folded for w in BODY_WORDS):
        return []
    words = [w.translate(_FOLD) for w in LETTERS.findall(folded)]
    scored = []
    for body in bodies:
        parts = body_parts(body)
        hit = [any(w.startswith(part[:6]) for w in words) for part in parts]
        found = sum(hit)
        if parts and (hit[0] or found * 2 >= len(parts)):
            scored.append((found / len(parts), body))
    best = max((s for s, _ in scored), default=0.0)
    return [b for s, b in scored if s == best]


# --- what kind of answer a question asks for, and whether a sentence holds one -------------------------------------

#: The kinds of answer a question can ask for, each with the question's words that ask for it (Danish and English, as
#: the question starts or goes on) and what a sentence holding such an answer shows. "money" and "length" are the
#: amounts of a unit: a price is asked for by what it costs or pays, a length by "hvor lang"; "number" is any other
#: amount or count.
ANSWER_KINDS: dict[str, re.Pattern[str]] = {
    "money": re.compile(
        r"\b(hvad (koster|kostede|kostet)|hvor (meget|mange) (koster|kostede|penge|betal\w*)|hvor mange penge|hvilket beløb"
        r"|hvor meget .{0,60}\b(betale|betaler|betalte|koste|donere\w*|bevilge\w*)\b"
        r"|how much money|how much (does|did|do|will|would|is|was|has|have)\b.{0,60}"
        r"\b(cost|costs|pay|paid|donate|donated|spend|spent)\b"
        r"|what (amount|sum|price)|at what price)\b",
        re.IGNORECASE,
    ),
    "length": re.compile(r"\b(hvor (lang|langt|bred|bredt|dyb|dybt)|how (wide|deep|far)|what length)\b", re.IGNORECASE),
    "number": re.compile(
        r"\b(hvor (mange|meget|stor|stort|store|høj|højt|lang|langt|længe|ofte)|hvad koster|hvilket beløb|how (many|much|large|big|high|long|often)"
        r"|what (amount|sum|share|percentage|price))\b",
        re.IGNORECASE,
    ),
    "date": re.compile(r"\b(hvornår|hvilken dato|fra hvornår|when|what date|which date|from what date|by when|until when)\b", re.IGNORECASE),
    "person": re.compile(r"\b(hvem|who|whom)\b", re.IGNORECASE),
    "name": re.compile(r"\b(hvilket udvalg|hvilken virksomhed|hvilket firma|which (committee|company|firm|body|organisation|organization))\b", re.IGNORECASE),
    "decision": re.compile(r"\b(beslut\w*|vedt\w*|godkend\w*|decid\w*|decision|approv\w*|adopt\w*|agree\w*|resolv\w*)\b", re.IGNORECASE),
}
#: The kinds a sentence must hold to answer at all, however close its words are: an amount of the unit asked for ("en
#: 51 meter lang forbindelse" is no price, "18,8 mio. kr." no length), and for "when" a date or a time (a sentence on
#: the same matter that names no time does not say when). Any other amount or a name can be written many ways.
REQUIRED_KINDS = frozenset({"money", "length", "date"})
_MONTH_WORDS = "|".join(MONTHS)
_AN_AMOUNT = r"(\d[\d.,]*|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r"|en|et|halv|halvanden)"
_A_DATE = re.compile(
    rf"\b(\d{{1,2}}\.\s*({_MONTH_WORDS})|({_MONTH_WORDS})\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}-\d{{1,2}}-\d{{4}}|(19|20)\d\d|uge \d+)\b"
    # minutes write short dates too: "d. 10.6.24", "17.6.2024", "15/8"
    r"|(?<![\d.,/])\d{1,2}\.(0?[1-9]|1[0-2])\.(\d{4}|\d{2})(?![\d,]|\.\d)|(?<![\d.,/])\d{1,2}/(0?[1-9]|1[0-2])(?![\d,/]|\.\d)",
    re.IGNORECASE,
)
#: "30 min": the short form after digits only ("min" alone is also "my").
_MINUTES = r"\b\d+\s*min\b"
#: What else answers "when" beside a calendar date: a deadline or a span ("indenfor 72 timer", "hvert fjerde år"), a
#: part of a year or a term ("i første halvdel af valgperioden", "efter sommerferien", "i august"), a time of day.
_A_WHEN = re.compile(
    rf"\b{_AN_AMOUNT}\.?\s*(minutter|minut|timer|time|døgn|dage|dag|uger|uge|måneder|måned|år|minutes|hours|days|weeks|months|years)\b|{_MINUTES}"
    r"|\b(hver|hvert|every)\s+(\d+\.|\w+)\s+(år|måned|uge|year|month|week)\b|\b(hver|every)\s+(valgperiode|term)\b"
    r"|\b(første|anden|sidste|first|second|last)\s+(halvdel|halvår|kvartal|half|quarter)\b|\b\d\.\s*(halvår|kvartal)\b"
    r"|\b(foråret|efteråret|sommeren|vinteren|årsskiftet|sommerferien|efterårsferien|vinterferien|juleferien|nytår|spring|summer|autumn|winter)\b"
    rf"|\b(primo|medio|ultimo|i|fra|til|inden|efter|før|in|from|until|by|before|after)\s+({_MONTH_WORDS})\b"
    r"|\b(næste|kommende|sidste|next|coming)\s+(år|måned|uge|year|month|week)\b|\bkl\.\s*\d",
    re.IGNORECASE,
)
_A_DURATION = re.compile(rf"\b{_AN_AMOUNT}\.?\s*(minutter|timer|døgn|dage|uger|måneder|år|minutes|hours|days|weeks|months|years)\b|{_MINUTES}", re.IGNORECASE)
_A_SUM = re.compile(
    rf"\b{_AN_AMOUNT}\s*(mio|mia|mill|million|millioner|millions|milliard|milliarder|billion|billions"
    r"|t\.?\s?kr|tkr|kr|kroner|kroners|dkk|euro|eur)\b"
    r"|\b(kr|dkk)\.?\s*\d|\d\s*(€|\$)|(€|\$)\s*\d",
    re.IGNORECASE,
)
_A_LENGTH = re.compile(
    rf"\b{_AN_AMOUNT}\s*(m|meter|meters|metres|km|kilometer|kilometers|kilometres|cm|mm|m2|m²|kvm|kvadratmeter|hektar|ha)(?![\w²])", re.IGNORECASE
)
_A_DECISION = re.compile(
    r"\b(besluttede|besluttet|beslutter|godkendte|godkendt|godkendes|vedtog|vedtaget|vedtages|anbefaler|anbefales|anbefalede|tiltrådte|tiltræder|"
    r"indstiller|indstillede|tog .{0,40}til efterretning|stemte|imod|undlod|afslag|bevilgede|bevilges|fastholdt)\b",
    re.IGNORECASE,
)
# Two capitalised words in a row (a person, a place, a company), an acronym, or a party's letter in brackets.
_A_NAME = re.compile(r"\b[A-ZÆØÅ][\wæøå]+(?:\s+[A-ZÆØÅ][\wæøå]+)+|\b[A-ZÆØÅ]{2,}\b|\([A-ZÆØÅ]{1,3}\)")
# A capitalised word before another (with a middle initial or a second first name between), or a party's letter in
# brackets ("(UP)", "(UP-1)"): a person when the first is a first name.
# The rest is a lookahead: in "Centerchef Gitte Lind" the match at "Centerchef" must not consume "Gitte".
_A_PERSON = re.compile(r"\b([A-ZÆØÅ][a-zæøåéü]+)(?=(?:-[A-ZÆØÅ][a-zæøåéü]+)?\s+(?:[A-ZÆØÅ]\.\s+)?[A-ZÆØÅ][\wæøå]+)|\(([A-ZÆØÅ]{1,3})(?:-\d+)?\)")


@lru_cache(maxsize=4)
def first_names(path: Path) -> frozenset[str]:
    """The word list's names that are no word in lower case ("Gitte", "Torben"; not "Greve", a count as well as a
    town): what tells a person ("Centerchef Gitte Lind") from a place or a body ("Greve Kommune"). Empty when the
    list is absent."""
    try:
        lines = path.read_text("utf-8").split()
    except OSError:
        return frozenset()
    lower = {w for w in lines if w[:1].islower()}
    return frozenset(w for w in lines if w[:1].isupper() and w.lower() not in lower)


def holds_person(sentence: str, names: frozenset[str]) -> bool:
    """Whether a sentence names a person (a first name ``names`` knows before another capitalised word) or a party's
    letter; without ``names``, whether it holds any name."""
    if not names:
        return bool(_A_NAME.search(sentence))
    return any(m.group(2) or m.group(1) in names for m in _A_PERSON.finditer(sentence))


def answer_kind(question: str) -> str:
    """What the question asks for: "money" (what it costs, pays), "length" (how long, wide), "number" (any other how
    many, how much), "date" (when), "person" (who), "name" (which committee, which company), "decision" (what was
    decided), or "" when it asks for none of these."""
    for kind in ("money", "length", "number", "date", "person", "name"):
        if ANSWER_KINDS[kind].search(question):
            return kind
    return "decision" if ANSWER_KINDS["decision"].search(question) else ""


def kind_terms(text: str, kind: str) -> set[str]:
    """The index terms of the words in ``text`` that ask for the answer ``kind`` ("besluttet" for a decision)."""
    pattern = ANSWER_KINDS.get(kind)
    return {t for m in pattern.finditer(text) for t in terms(m.group(0))} if pattern else set()


def holds_answer_kind(sentence: str, kind: str, first: frozenset[str] = frozenset()) -> bool:
    """Whether a sentence holds the kind of answer ``kind`` names: a sum of money, a length or area, an amount or
    count, a date, a person (by the ``first`` names, ``first_names``) or a party, a name, a decision's verb. Any
    sentence holds the empty kind."""
    if kind == "money":
        return bool(_A_SUM.search(sentence))
    if kind == "length":
        # "Hvor lang en frist …", "how long is the contract": a length of time answers as well as one of distance.
        return bool(_A_LENGTH.search(sentence) or _A_DURATION.search(sentence))
    if kind == "number":
        return bool(numbers(_A_DATE.sub(" ", sentence)))
    if kind == "date":
        return bool(_A_DATE.search(sentence) or _A_WHEN.search(sentence))
    if kind == "person":
        return holds_person(sentence, first)
    if kind == "name":
        return bool(_A_NAME.search(sentence))
    if kind == "decision":
        return bool(_A_DECISION.search(sentence))
    return True
