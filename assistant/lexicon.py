"""English → Danish word translation for the lexical channel: an English question's content words become groups of
their Danish renderings (structured query translation), so that words meet the minutes' own words.

Sources, in order of trust: the project's municipal glossary (``glossary.tsv``: the words of local government that
general dictionaries lack), FreeDict's English-Danish dictionary, and FreeDict's Danish-English dictionary read
backwards (Debian packages ``dict-freedict-eng-dan`` and ``dict-freedict-dan-eng``, dictd files; 5,103 Danish
headwords). Without the FreeDict files the glossary alone is used.
"""

from __future__ import annotations

import gzip
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .danish import ENGLISH_STOPWORDS, LETTERS, STOPWORDS, danish_lemmas, danish_words, english_lemmas, load_vocabulary

if TYPE_CHECKING:
    from .settings import Settings

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#: Longest English term in words ("enter into force").
_MAX_TERM = 3
#: Most Danish renderings kept for one English word: a word with many senses would otherwise outweigh the others.
_MAX_RENDERINGS = 4
_BRACKETS = re.compile(r"\[[^\]]*\]|\([^)]*\)|<[^>]*>|/[^/]*/")
_SENSE_NUMBER = re.compile(r"^\s*\d+\.\s*")
_TOKEN = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_POSSESSIVE = re.compile(r"['’]s?$")


@dataclass(frozen=True)
class TranslatedTerm:
    """An English term of a question and the Danish words it may be written as (a name or number: itself)."""

    english: str
    danish: tuple[str, ...]


def _b64(text: str) -> int:
    value = 0
    for ch in text:
        value = value * 64 + _B64.index(ch)
    return value


def read_dictd(stem: Path) -> dict[str, list[str]]:
    """A dictd dictionary (``stem.index`` and ``stem.dict.dz``) as headword → its glosses, each a short phrase;
    empty when the files are absent. Comments in brackets, pronunciations and sense numbers are dropped."""
    index, data = stem.with_suffix(".index"), stem.with_suffix(".dict.dz")
    if not index.is_file() or not data.is_file():
        return {}
    with gzip.open(data, "rb") as fh:  # dictzip is gzip with an extra header field
        body = fh.read()
    entries: dict[str, list[str]] = {}
    for line in index.read_text("utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or parts[0].startswith("00database"):
            continue
        head, offset, length = parts[0], _b64(parts[1]), _b64(parts[2])
        text = body[offset : offset + length].decode("utf-8", "ignore").splitlines()[1:]  # the first line is the headword
        glosses = []
        for gloss_line in text:
            cleaned = _SENSE_NUMBER.sub("", _BRACKETS.sub(" ", gloss_line))
            glosses += [" ".join(g.split()) for g in re.split(r"[,;]", cleaned) if g.strip()]
        if glosses:
            entries.setdefault(head.lower(), []).extend(glosses)
    return entries


def read_glossary(path: Path) -> dict[str, list[str]]:
    """The glossary file: English term → Danish renderings, usual first (``#`` lines are comments)."""
    entries: dict[str, list[str]] = {}
    for lineno, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        english, sep, danish = line.partition("\t")
        renderings = [d.strip() for d in danish.split(",") if d.strip()]
        if not sep or not english.strip() or not renderings:
            raise ValueError(f"{path}:{lineno}: write an English term, a tab, then Danish words separated by commas")
        entries[english.strip().lower()] = renderings
    return entries


class Lexicon:
    """The words of both languages: English → Danish renderings (glossary, dictionaries) for queries, Danish → English
    for glossing answers, and the word lists that tell the languages' words apart; loaded on first use."""

    def __init__(self, glossary: Path, dictionaries: Path, english_words: Path | None = None, danish_words: Path | None = None) -> None:
        self.glossary_path = glossary
        self.dictionaries = dictionaries  #: folder of dictd files (Debian: /usr/share/dictd)
        self.english_words_path = english_words  #: an English word list (Debian wbritish)
        self.danish_words_path = danish_words  #: a Danish word list (Debian wdanish)
        self._vocabularies: tuple[frozenset[str], frozenset[str]] | None = None
        self._vocabulary_lock = threading.Lock()
        self._entries: dict[str, list[str]] | None = None
        self._danish: dict[str, str] = {}  #: Danish word → its usual English rendering
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Lexicon:
        """The lexicon the settings describe."""
        s = settings
        return cls(s.glossary_path, s.dictionaries_dir, s.english_words_path, s.danish_words_path)

    def warm_up(self) -> None:
        """Read the glossary and the dictionaries (once)."""
        with self._lock:
            if self._entries is not None:
                return
            entries: dict[str, list[str]] = {}
            danish_english: dict[str, str] = {}
            # The Danish-English dictionary backwards: an English gloss of one or two words names its headword.
            for danish, glosses in read_dictd(self.dictionaries / "freedict-dan-eng").items():
                danish_english[danish] = glosses[0]
                for gloss in glosses:
                    if len(gloss.split()) <= 2 and " " not in danish:
                        entries.setdefault(gloss.lower(), []).append(danish)
            for english, danish_words in read_dictd(self.dictionaries / "freedict-eng-dan").items():
                entries[english] = list(dict.fromkeys(danish_words + entries.get(english, [])))
            glossary = read_glossary(self.glossary_path)
            for english, danish_words in glossary.items():
                entries[english] = list(dict.fromkeys(danish_words + entries.get(english, [])))
            # Back to English: a Danish word's usual sense is the row that names it first ("service: tilbud, …" over
            # "tender: udbud, tilbud"), else the first row that names it; the glossary before the dictionary.
            back: dict[str, str] = {}
            for first_only in (True, False):
                for english, danish_words in glossary.items():
                    for danish in danish_words[:1] if first_only else danish_words:
                        back.setdefault(danish.lower(), english)
            danish_english.update(back)
            self._danish = danish_english
            self._entries = entries

    def lookup(self, words: list[str]) -> list[str]:
        """The Danish renderings of an English term (one or more words, any inflection), best first; [] if unknown."""
        self.warm_up()
        assert self._entries is not None
        *first, last = [w.lower() for w in words]
        for form in english_lemmas(last):
            term = " ".join([*first, form])
            # English writes some compounds apart, hyphenated or as one word: "day care", "day-care", "daycare".
            for key in dict.fromkeys((term, term.replace("-", " "), term.replace(" ", "").replace("-", ""), term.replace(" ", "-"))):
                found = self._entries.get(key)
                if found:
                    return found[:_MAX_RENDERINGS]
        return []

    def translate(self, question: str) -> list[TranslatedTerm]:
        """The question's terms with their Danish renderings, longest known term first: "the local plan for Tune"
        → local plan: lokalplan, …; Tune: Tune. Names (a capital inside the question) and numbers stand for
        themselves; words no source knows are left out, and so are words that carry no content."""
        tokens: list[str] = []
        for m in _TOKEN.finditer(question):
            word = _POSSESSIVE.sub("", m.group(0))
            # "free-place", "2023-2026": whole if the sources know it, else its parts
            tokens += [word] if "-" not in word or self.lookup([word]) else [w for w in word.split("-") if w]
        terms: list[TranslatedTerm] = []
        i = 0
        while i < len(tokens):
            word = tokens[i]
            name = not LETTERS.fullmatch(word) or (i > 0 and word[0].isupper())
            longest = min(_MAX_TERM, len(tokens) - i)
            sizes = range(longest, 0 if name or word.lower() not in ENGLISH_STOPWORDS else 1, -1)
            size, found = next(((n, f) for n in sizes if (f := self.lookup(tokens[i : i + n]))), (1, []))
            if name:
                found = [word, *found] if size == 1 else found
            if found:
                terms.append(TranslatedTerm(" ".join(tokens[i : i + size]), tuple(found)))
            i += size
        return terms

    def english(self, word: str) -> str:
        """The usual English rendering of a Danish word, "" when unknown: "borgmesteren" → "mayor",
        "sygefraværspolitik" → "sickness absence policy" (a compound part by part, each a known word)."""
        self.warm_up()
        return self._english(word.lower(), depth=0)

    def _english(self, word: str, depth: int) -> str:
        for form in danish_lemmas(word):
            if form in self._danish:
                return self._danish[form]
        if depth >= 2 or len(word) < 7:
            return ""
        # A compound: the longest known head, then its modifier (a linking -s- or -e- dropped), itself split if need be.
        for cut in range(3, len(word) - 2):
            head = next((self._danish[f] for f in danish_lemmas(word[cut:]) if f in self._danish), "")
            if not head:
                continue
            modifier = word[:cut]
            for stem in [modifier[:-1], modifier] if modifier[-1] in "se" else [modifier]:
                before = self._english(stem, depth + 1) if len(stem) >= 3 else ""
                if before:
                    return f"{before} {head}"
        return ""

    def vocabularies(self) -> tuple[frozenset[str], frozenset[str]]:
        """The English and the Danish word lists (empty where a list is absent)."""
        with self._vocabulary_lock:
            if self._vocabularies is None:
                english = load_vocabulary(self.english_words_path) if self.english_words_path else frozenset()
                danish = load_vocabulary(self.danish_words_path) if self.danish_words_path else frozenset()
                self._vocabularies = (english, danish)
            return self._vocabularies

    def english_only(self, word: str) -> bool:
        """Whether ``word`` is an English word that no Danish word list holds ("Safety", "Council"; not "Tune" nor
        "Patient"): in an English question, a word of a name the Danish minutes write in Danish. False without both
        lists."""
        english, danish = self.vocabularies()
        low = word.lower()
        return bool(english and danish) and low in english and low not in danish

    def danish_in(self, text: str) -> list[str]:
        """The Danish words of an English text (see ``danish.danish_words``); none without an English word list."""
        english, danish = self.vocabularies()
        return danish_words(text, english, danish) if english else []

    def _danish_content(self, text: str) -> list[str]:
        """The Danish words of content in an English text: not "til", "og" (glossing the small words of a Danish
        phrase helps no reader)."""
        return [w for w in self.danish_in(text) if len(w) > 3 and w.lower() not in STOPWORDS]

    def unglossed(self, text: str) -> list[str]:
        """The Danish words of content in an English text that no English follows in brackets: what an English
        reader is left with."""
        return [w for w in self._danish_content(text) if not re.search(rf"(?<!\w){re.escape(w)} \(", text)]

    def glossed(self, text: str) -> str:
        """An English text with each Danish word of content it holds followed by its English rendering where one is
        known: "a sygefraværspolitik" → "a sygefraværspolitik (sickness absence policy)"."""
        for word in dict.fromkeys(self._danish_content(text)):
            english = self.english(word)
            if english:
                text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)(?! \()", f"{word} ({english})", text)
        return text
