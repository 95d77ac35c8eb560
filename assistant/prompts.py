"""Prompt templates, read from ``prompts/`` and checked at load time for exactly their variables."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from .records import Hit

#: Each template file and the variables it must use, no more and no fewer.
TEMPLATES: dict[str, set[str]] = {
    "answer_system.txt": {"not_found"},
    "answer_user.txt": {"passages", "question", "language"},
    "passage.txt": {"n", "source", "text"},
    "translate_question.txt": {"question"},
}
LANGUAGES = {"da": "Danish", "en": "English"}
_URL = re.compile(r"https?://\S+")


class PromptError(ValueError):
    """A template is missing or does not use exactly its variables."""


def template_variables(template: str) -> set[str]:
    """The ``{name}`` fields a template uses."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def compact(text: str) -> str:
    """Passage text with fewer tokens and the same words: hard line breaks joined, hyphenation undone, links shortened."""
    text = _URL.sub("[link]", text)
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)  # "be-\nhandlet" -> "behandlet"
    # A single line break is layout; a blank line ends a paragraph.
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    text = "\n".join(p for p in paragraphs if p)
    return re.sub(r"(?:\[link\] ?)+", "[link] ", text).strip()


@dataclass(frozen=True)
class Prompts:
    """The loaded templates and the fixed "not in the documents" answers."""

    templates: dict[str, str]
    not_found: dict[str, str]  #: language code → fixed phrase

    @classmethod
    def load(cls, folder: Path) -> Prompts:
        """Read and check every template in ``folder``."""
        templates: dict[str, str] = {}
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
            templates[name] = text.strip()
        not_found = {}
        for code in LANGUAGES:
            path = folder / f"not_found.{code}.txt"
            if not path.is_file():
                raise PromptError(f"fixed answer {path} is missing; restore it from git")
            not_found[code] = path.read_text("utf-8").strip()
        return cls(templates, not_found)

    def passage_block(self, n: int, hit: Hit, max_chars: int, text: str | None = None) -> str:
        """One numbered passage as the model sees it, with its document, date and agenda item; ``text`` (default: the
        whole passage) may be a selection of its sentences."""
        c = hit.chunk
        date = c.metadata.get("date", "")
        parts = (c.doc_title, "" if date in c.doc_title else date, c.heading)
        source = " | ".join(p for p in parts if p).replace('"', "'")
        text = compact(c.text) if text is None else text
        text = text if len(text) <= max_chars else text[:max_chars].rsplit(" ", 1)[0] + " …"
        # Passage text is data: neutralise anything that could close the delimiter early.
        text = text.replace("</passage", "</ passage").replace("<passage", "< passage")
        return self.templates["passage.txt"].format(n=n, source=source, text=text)

    def system_message(self, language: str) -> dict[str, str]:
        """The answer prompt's fixed part for questions in ``language``."""
        return {"role": "system", "content": self.templates["answer_system.txt"].format(not_found=self.not_found[language])}

    def translation_messages(self, question: str) -> list[dict[str, str]]:
        """Chat messages asking the model to put an English question into Danish (for the lexical channel).

        (Opening them with the answer's system message would let llama.cpp reuse that prefix for the answer, but
        it made the translations worse: seeds English recall@5 0.952 → 0.905.)"""
        return [{"role": "user", "content": self.templates["translate_question.txt"].format(question=question.strip())}]

    def messages(self, question: str, hits: list[Hit], language: str, max_chars: int, texts: list[str] | None = None) -> list[dict[str, str]]:
        """Chat messages asking the model to answer ``question`` from ``hits`` (numbered from 1), shown as ``texts``
        where given."""
        shown = texts or [None] * len(hits)
        passages = "\n\n".join(self.passage_block(i, h, max_chars, t) for i, (h, t) in enumerate(zip(hits, shown), 1))
        return [
            self.system_message(language),
            {
                "role": "user",
                "content": self.templates["answer_user.txt"].format(
                    passages=passages, question=question.strip(), language=LANGUAGES[language]
                ),
            },
        ]
