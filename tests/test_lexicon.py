"""The lexicon: the glossary (a test per row), FreeDict's dictd files, word-by-word query translation, and glossing
Danish words in English answers."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from assistant.danish import compound_parts, load_vocabulary
from assistant.lexicon import Lexicon, read_dictd, read_glossary
from assistant.settings import Settings

GLOSSARY = Settings().glossary_path
ROWS = read_glossary(GLOSSARY)
#: Debian's Danish word list, where installed (`make` installs it): the glossary's Danish is checked against it.
DANISH = load_vocabulary(Settings().danish_words_path)
#: Danish words of the glossary that the word list lacks.
NOT_IN_WORD_LIST = {
    "børne", "drøftede", "sundhedshus", "dagtilbud", "jobcenter", "specialpædagogisk", "specialpædagogik",
    # words the Greve minutes use that the list lacks
    "medfinansieret", "medfinansiering", "handicapråd", "foranalyse", "hjemløshed", "udearealer", "stenrev", "botilbud", "seniorråd",
}  # fmt: skip


def _lexicon(tmp_path: Path) -> Lexicon:
    """The real glossary without dictionaries: what a machine without the FreeDict packages has."""
    return Lexicon(GLOSSARY, tmp_path / "no-dictionaries")


@pytest.mark.parametrize(("english", "danish"), sorted(ROWS.items()))
def test_glossary_row(english: str, danish: list[str], tmp_path: Path) -> None:
    """Each row is found by its English term (in the plural too) and gives its Danish first."""
    lexicon = _lexicon(tmp_path)
    assert lexicon.lookup(english.split())[0] == danish[0]
    if english.isalpha() and not english.endswith("s") and english + "s" not in ROWS:
        assert lexicon.lookup([english + "s"])[0] == danish[0]
    if not DANISH:
        pytest.skip("no Danish word list (Debian wdanish) to check the row's Danish against")
    for word in (w for d in danish for w in d.replace("-", " ").split() if w.islower()):
        # a word of the list, a compound of its words, or one of the few it lacks (checked by hand)
        assert word in DANISH or compound_parts(word, DANISH) or word in NOT_IN_WORD_LIST, f"{english}: is '{word}' Danish?"


def test_glossary_refuses_a_malformed_row(tmp_path: Path) -> None:
    bad = tmp_path / "glossary.tsv"
    bad.write_text("# comment\nmayor borgmester\n", "utf-8")
    with pytest.raises(ValueError, match=r"glossary.tsv:2: write an English term, a tab"):
        read_glossary(bad)


def _dictd(folder: Path, name: str, entries: dict[str, str]) -> None:
    """A dictd dictionary as Debian ships it: a gzip'd body and an index of base64 offsets."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    def b64(n: int) -> str:
        out = ""
        while True:
            out = alphabet[n % 64] + out
            n //= 64
            if not n:
                return out

    body, index = b"", []
    for head, text in entries.items():
        chunk = f"{head} /ipa/ <n>\n{text}\n".encode()
        index.append(f"{head}\t{b64(len(body))}\t{b64(len(chunk))}")
        body += chunk
    (folder / f"{name}.index").write_text("00databaseshort\tA\tB\n" + "\n".join(index) + "\n", "utf-8")
    with gzip.open(folder / f"{name}.dict.dz", "wb") as fh:
        fh.write(body)


def test_dictd_files_are_read_and_inverted(tmp_path: Path) -> None:
    _dictd(tmp_path, "freedict-dan-eng", {"borgmester": "1. mayor\n2. burgomaster [gammel titel]", "skole": "school"})
    _dictd(tmp_path, "freedict-eng-dan", {"apple": "æble"})
    assert read_dictd(tmp_path / "freedict-dan-eng") == {"borgmester": ["mayor", "burgomaster"], "skole": ["school"]}
    lexicon = Lexicon(GLOSSARY, tmp_path)
    assert lexicon.lookup(["apples"]) == ["æble"]
    assert "borgmester" in lexicon.lookup(["mayor"])  # the glossary's renderings, and the dictionary's
    assert lexicon.english("skolen") == "school"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # a term of several words before its words; names and numbers stand for themselves; filler words go
        ("When must the city council publish a planning strategy?", {"city council": "byråd", "planning strategy": "planstrategi"}),
        ("Why does the Tune waterworks need a new local plan?", {"Tune": "Tune", "waterworks": "vandværk", "local plan": "lokalplan"}),
        ("When do the contracts for bus routes 120 and 225 run out?", {"bus routes": "buslinje", "120": "120", "run out": "udløbe"}),
        ("Which school's parental payment case concerns the limitation period?", {"school": "skole", "case": "sag"}),
    ],
)
def test_translate_a_question(question: str, expected: dict[str, str], tmp_path: Path) -> None:
    terms = {t.english: t.danish for t in _lexicon(tmp_path).translate(question)}
    for english, danish in expected.items():
        assert danish in terms[english], (english, terms)
    assert not {"the", "when", "must", "a", "why", "does", "for", "and"} & {e.lower() for e in terms}


def test_danish_words_in_an_english_answer_are_glossed(tmp_path: Path) -> None:
    english, danish = tmp_path / "english", tmp_path / "danish"
    english.write_text("due\nto\na\nsickness\nabsence\nhas\nstopped\nfalling\nthe\ncommittee\ndecided\nthat\ncontinues\n", "utf-8")
    danish.write_text("sygefraværspolitik\nindkøbsstop\nkommunen\n", "utf-8")
    lexicon = Lexicon(GLOSSARY, tmp_path, english, danish)
    assert lexicon.glossed("Due to a sygefraværspolitik, sickness absence has stopped falling [1].") == (
        "Due to a sygefraværspolitik (sickness absence policy), sickness absence has stopped falling [1]."
    )
    assert lexicon.glossed("The committee decided that the indkøbsstop continues [1].") == (
        "The committee decided that the indkøbsstop (purchasing freeze) continues [1]."
    )
    # without an English word list nothing can be told apart: the text stays as written
    assert Lexicon(GLOSSARY, tmp_path).glossed("Due to a sygefraværspolitik [1].") == "Due to a sygefraværspolitik [1]."


@pytest.mark.parametrize("written", [["day", "care"], ["day-care"], ["daycare"], ["day", "cares"]])
def test_a_compound_written_apart_or_hyphenated_is_found(written: list[str], tmp_path: Path) -> None:
    assert _lexicon(tmp_path).lookup(written)[0] == "dagtilbud"
