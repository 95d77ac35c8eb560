"""The prompt templates and fixed answers in ``prompts/``, read once and checked for exactly their variables."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

#: Each template file and the variables it must use, no more and no fewer.
TEMPLATES: dict[str, set[str]] = {
    "answer_system.txt": {"not_found"},
    "answer_user.txt": {"passages", "question", "language"},
    "passage.txt": {"n", "source", "text"},
    "translate_question.txt": {"question", "words"},
    "hypothetical_passage.txt": {"question"},
    "evidence_system.txt": set(),
    "evidence_user.txt": {"sentences", "question"},
    "evidence_sentence.txt": {"n", "date", "text"},
    "evidence_phrase.txt": {"language", "n"},
    # what a meeting decided, added to an answer about a decision, and a later meeting's word on the same case
    "decision.da.txt": {"body", "date", "outcome"},
    "decision.en.txt": {"body", "date", "outcome"},
    "later_meeting.da.txt": {"body", "date", "outcome"},
    "later_meeting.en.txt": {"body", "date", "outcome"},
}
#: The languages questions are answered in: code → the name the prompt uses.
LANGUAGES = {"da": "Danish", "en": "English"}


class PromptError(ValueError):
    """A template is missing or does not use exactly its variables."""


def template_variables(template: str) -> set[str]:
    """The ``{name}`` fields a template uses."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


@dataclass(frozen=True)
class Templates:
    """The loaded templates and the fixed "not in the documents" answers."""

    texts: dict[str, str]
    not_found: dict[str, str]  #: language code → fixed phrase

    @classmethod
    def load(cls, folder: Path) -> Templates:
        """Read and check every template in ``folder``."""
        texts: dict[str, str] = {}
        for name, wanted in TEMPLATES.items():
            path = folder / name
            if not path.is_file():
                raise PromptError(f"prompt template {path} is missing; restore it from git or set ASSISTANT_PROMPTS_DIR")
            text = path.read_text("utf-8")
            found = template_variables(text)
            if found != wanted:
                raise PromptError(
                    f"prompt template {path} must use exactly {{{', '.join(sorted(wanted))}}}; "
                    f"it uses {{{', '.join(sorted(found))}}}"
                )
            texts[name] = text.strip()
        not_found = {}
        for code in LANGUAGES:
            path = folder / f"not_found.{code}.txt"
            if not path.is_file():
                raise PromptError(f"fixed answer {path} is missing; restore it from git or set ASSISTANT_PROMPTS_DIR")
            not_found[code] = path.read_text("utf-8").strip()
        return cls(texts, not_found)

    def render(self, name: str, **values: object) -> str:
        """Template ``name`` filled in."""
        return self.texts[name].format(**values)

    def says_not_found(self, words: str) -> bool:
        """True when ``words`` (markers removed) are just one of the fixed "not in the documents" phrases."""
        core = words.strip().strip(".").lower()
        return any(core == p.strip().strip(".").lower() for p in self.not_found.values())
