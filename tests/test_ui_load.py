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


def _answer_line(message: str) -> str:
    """The model's line of a chat message: the paragraph after the evidence quoted first ("> …" lines)."""
    return next(p for p in message.split("\n\n") if not p.startswith(">"))


class EchoGenerator:
    """Answers with the question it was asked, slowly, and records how many callers were inside at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self._count = threading.Lock()

    def warm_up(self) -> None:
        pass

    def choose(self, messages: list[dict[str, str]], options: int) -> list[float]:
        """Always the best-ranked sentence: the answer is then phrased on it, one call after the choice."""
        return [0.0, 1.0] + [0.0] * (options - 1)

    def stream(self, messages: list[dict[str, str]], passages: int = 0) -> Iterator[str]:
        with self._count:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        try:
            # the question stands in the choice prompt; the phrasing step adds only its instruction after it
            question = re.search(r"Question: (.*)", "\n".join(m["content"] for m in messages)).group(1)  # type: ignore[union-attr]
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
    # Lower-case names, not numbers: a number in an answer, and a capitalised name in the question, must occur in a
    # cited passage, and these echoes are no real answers.
    names = ["anna", "bo", "carl", "dorte", "emil", "freja", "gustav", "hanne"]
    questions = [f"bruger {name} spørger hvornår vold skal anmeldes til politiet" for name in names]
    with _served(settings, assistant) as url:

        def ask(question: str) -> str:
            result = Client(url, verbose=False).predict(question, [], [], [], "", "", api_name="/respond")
            history = result[0]
            content = history[-1]["content"]
            text = content if isinstance(content, str) else " ".join(part.get("text", "") for part in content)
            return _answer_line(text)

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(ask, questions))
    for name, answer in zip(names, answers):
        assert answer.startswith(f"Svar på: bruger {name} spørger"), answer
        assert re.findall(r"bruger (\w+)", answer) == [name]  # nobody got another user's answer
    assert generator.most_inside == 1


class SlowOpenAIServer:
    """A slow fake of an OpenAI-compatible server, over real HTTP: asked for one token (the choice), replies "1"; asked to
    stream, streams "Svar på: <question> [1]." word by word and records how many replies it was writing at once."""

    def __init__(self) -> None:
        import asyncio
        import json

        import uvicorn
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse, StreamingResponse
        from starlette.routing import Route

        from tests.conftest import free_port

        self.inside = self.most_inside = 0

        async def chat(request):  # noqa: ANN001, ANN202
            body = await request.json()
            if not body.get("stream"):
                # the choice among the evidence sentences: one token, "1", with its log-probability
                logprobs = {"content": [{"token": "1", "logprob": 0.0, "bytes": None, "top_logprobs": [{"token": "1", "logprob": 0.0, "bytes": None}]}]}
                choice = {"index": 0, "message": {"role": "assistant", "content": "1"}, "finish_reason": "length", "logprobs": logprobs}
                return JSONResponse({"id": "x", "object": "chat.completion", "created": 0, "model": "fake", "choices": [choice]})
            question = re.search(r"Question: (.*)", "\n".join(m["content"] for m in body["messages"])).group(1)  # type: ignore[union-attr]

            def chunk(content: str | None, finish: str | None) -> str:
                delta = {"content": content} if content is not None else {}
                choice = {"index": 0, "delta": delta, "finish_reason": finish}
                return "data: " + json.dumps({"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "fake", "choices": [choice]}) + "\n\n"

            async def events():  # noqa: ANN202
                self.inside += 1
                self.most_inside = max(self.most_inside, self.inside)
                try:
                    for word in f"Svar på: {question} [1].".split(" "):
                        await asyncio.sleep(0.05)
                        yield chunk(word + " ", None)
                    yield chunk(None, "stop")
                    yield "data: [DONE]\n\n"
                finally:
                    self.inside -= 1

            return StreamingResponse(events(), media_type="text/event-stream")

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        config = uvicorn.Config(Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])]), port=self.port, log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def test_four_users_at_once_through_a_model_server_each_get_their_own_answer_and_sources(seeds_index, seeds_settings: Settings, real_embedder) -> None:  # noqa: ANN001
    from gradio_client import Client

    fake = SlowOpenAIServer()
    settings = seeds_settings.model_copy(
        update={"llm_url": fake.url, "translate_questions": False, "min_score": 0.0, "verify_threshold": 0.0, "chat_concurrency": 0}
    )
    assert settings.answers_at_once == 4
    assistant = Assistant(settings, embedder=real_embedder, store=seeds_index)
    questions = [
        "bruger anna spørger hvornår vold skal anmeldes til politiet",
        "bruger bo spørger hvornår den nye MED-aftale træder i kraft",
        "bruger carl spørger hvem der er ny konstitueret centerchef",
        "bruger dorte spørger om høringssvaret fra LMU rådgivning og vejledning",
    ]
    try:
        with _served(settings, assistant) as url:

            def ask(question: str) -> tuple[str, str]:
                history, _, sources, *_ = Client(url, verbose=False).predict(question, [], [], [], "", "", api_name="/respond")
                content = history[-1]["content"]
                return _answer_line(content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)), sources

            with ThreadPoolExecutor(max_workers=4) as pool:
                answers = list(pool.map(ask, questions))
    finally:
        fake.stop()
    for question, (answer, sources) in zip(questions, answers):
        name = question.split()[1]
        assert re.findall(r"bruger (\w+)", answer) == [name], answer  # nobody got another user's answer
        # the passage of this question's best-ranked sentence, the one the answer is built on, and its alone
        query = assistant.rewriter.run(question, translate=False, bodies=assistant.bodies)
        best = assistant.context.run(query, assistant.retrieve(question, translate=False)).evidence[0]
        own = best.hit.chunk
        assert f"[{best.n}] {own.doc_title}" in sources.replace("&#x27;", "'") and own.location in sources, (question, sources[:300])
    assert fake.most_inside >= 2  # the answers were written at the same time, not one after another
