"""Eight chat users at once: queued, served one model call at a time, each gets its own answer."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from assistant.qa import Assistant
from assistant.settings import Settings
from tests.test_ui import _served


class EchoGenerator:
    """Answers with the question it was asked, slowly, and records how many callers were inside at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self._count = threading.Lock()

    def warm_up(self) -> None:
        pass

    def stream(self, messages: list[dict[str, str]], passages: int = 0) -> Iterator[str]:
        with self._count:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        try:
            question = re.search(r"Question: (.*)", messages[-1]["content"]).group(1)  # type: ignore[union-attr]
            for word in f"Svar på: {question} [1].".split(" "):
                time.sleep(0.02)
                yield word + " "
        finally:
            with self._count:
                self.inside -= 1


def test_eight_simultaneous_users_each_get_their_own_answer(seeds_index, seeds_settings: Settings, real_embedder) -> None:  # noqa: ANN001
    from gradio_client import Client

    generator = EchoGenerator()
    # The echo makes no claim the passage supports: the sentence check is off here, concurrency is what is tested.
    settings = seeds_settings.model_copy(update={"translate_questions": False, "min_score": 0.0, "verify_threshold": 0.0})
    assistant = Assistant(settings, embedder=real_embedder, generator=generator, store=seeds_index)  # type: ignore[arg-type]
    # Names, not numbers: a number in an answer must occur in its passage, and these echoes are no real answers.
    names = ["Anna", "Bo", "Carl", "Dorte", "Emil", "Freja", "Gustav", "Hanne"]
    questions = [f"Bruger {name} spørger hvornår vold skal anmeldes til politiet" for name in names]
    with _served(settings, assistant) as url:

        def ask(question: str) -> str:
            result = Client(url, verbose=False).predict(question, [], [], [], "", "", api_name="/respond")
            history = result[0]
            content = history[-1]["content"]
            return content if isinstance(content, str) else " ".join(part.get("text", "") for part in content)

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(ask, questions))
    for name, answer in zip(names, answers):
        assert answer.startswith(f"Svar på: Bruger {name} spørger"), answer
        assert re.findall(r"Bruger (\w+)", answer) == [name]  # nobody got another user's answer
    assert generator.most_inside == 1
