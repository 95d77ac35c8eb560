"""The package's structure: stages call only forward, through interfaces; llama-cpp-python's internals stay in one
adapter; the question's path through the code is short and never climbs back."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"
#: The stages of the question→answer path, in order. Each gets what it needs from the ones before as records, and
#: the later ones it uses (the generator for a translation) as objects through ``interfaces``: no stage imports
#: another, nor the modules that compose them.
STAGES = ("query", "retrieval", "context", "prompts", "generation", "citations")
COMPOSERS = ("qa", "batch", "cli", "ui", "evaluation", "indexing")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every assistant module and the assistant modules it imports, at the top, in functions or for typing alike."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name = _module(path)
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join([*base, *(node.module.split(".") if node.module else [])])
                else:
                    target = node.module or ""
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    found.add(full if (PACKAGE.parent / Path(*full.split("."))).with_suffix(".py").exists() else target)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
        graph[name] = {m for m in found if m.startswith("assistant.") and m != name}
    return graph


def test_no_stage_imports_another_stage_or_a_composer() -> None:
    graph = _imports()
    for stage in STAGES:
        banned = {f"assistant.{m}" for m in (*STAGES, *COMPOSERS) if m != stage}
        assert not graph[f"assistant.{stage}"] & banned, (stage, graph[f"assistant.{stage}"] & banned)
    assert not graph["assistant.retrieval"] & {"assistant.generation", "assistant.citations", "assistant.prompts"}


def test_no_import_cycle() -> None:
    graph = _imports()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            pytest.fail("import cycle: " + " → ".join([*path[path.index(node) :], node]))
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, [*path, node])

    for module in graph:
        visit(module, [])


@pytest.mark.parametrize("attribute", ["_model", "_ctx", "_requires_eval"])
def test_llama_cpp_internals_stay_in_the_adapter(attribute: str) -> None:
    users = [p.name for p in PACKAGE.rglob("*.py") if re.search(rf"\.{attribute}\b", p.read_text("utf-8"))]
    assert users == ["llama_adapter.py"]


def test_the_question_path_is_short_and_never_climbs_back(tmp_path: Path, tiny_corpus: Path) -> None:
    """Follow one question through the code: qa calls at most 8 modules, and no module is re-entered from one it called."""
    from assistant.index import FaissStore
    from assistant.qa import Assistant
    from assistant.settings import Settings
    from tests.conftest import FakeEmbedder, FakeGenerator, build

    embedder = FakeEmbedder()
    settings = Settings(index_dir=tmp_path / "index", min_score=0.0, verify_threshold=0.0)
    build([tiny_corpus], settings.index_dir, embedder)

    class Replies(FakeGenerator):
        """The question's translation first, then the answer."""

        def stream(self, messages, passages=0):  # noqa: ANN001, ANN202
            self.reply = "Vold skal politianmeldes inden 72 timer [1]." if passages else "Hvornår skal vold og trusler politianmeldes?"
            return super().stream(messages, passages)

    assistant = Assistant(settings, embedder=embedder, generator=Replies(""), store=FaissStore.load(settings.index_dir))  # type: ignore[arg-type]
    stack: list[str] = []
    from_qa: list[str] = []
    climbs: list[list[str]] = []

    def profile(frame, event, arg):  # noqa: ANN001, ANN202
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("assistant."):
            return
        if event == "call":
            if stack and stack[-1] == "assistant.qa" and module != "assistant.qa" and module not in from_qa:
                from_qa.append(module)
            if module in stack and stack[-1] != module:
                climbs.append([*stack, module])
            stack.append(module)
        elif event == "return" and stack:
            stack.pop()

    sys.setprofile(profile)
    try:
        answer = assistant.ask("When must violence and threats be reported to the police?")
    finally:
        sys.setprofile(None)
    assert not answer.abstained and answer.citations
    assert not climbs, climbs[0]
    assert len(from_qa) <= 8, from_qa
    stages = [m.removeprefix("assistant.") for m in from_qa if m.removeprefix("assistant.") in STAGES]
    assert stages == [s for s in STAGES if s in stages] and stages[0] == "query" and stages[-1] == "citations", from_qa
