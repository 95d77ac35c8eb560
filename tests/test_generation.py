from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.generation import LlamaGenerator, MarkersWithin, ModelFileMissing, WordsBeforeEnd
from assistant.settings import Settings
from tests.conftest import small_model


def test_missing_model_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelFileMissing, match="assistant setup-models"):
        LlamaGenerator.from_settings(Settings(), model_path=tmp_path / "absent.gguf").warm_up()


def test_real_gguf_streams_through_the_chat_template(small_generator: LlamaGenerator) -> None:
    pieces = list(small_generator.stream([{"role": "user", "content": "Count from 1 to 10, separated by commas."}]))
    assert len(pieces) > 1 and "".join(pieces).strip()


VOCAB = {0: b"[", 1: b"1", 2: b"]", 3: b" Det", 4: b"<|im_end|>", 5: b" [", 6: b"][", 7: b" 72", 8: b".", 9: b", ", 10: b"2"}
END, MARKERS = [4], [0, 5, 6]


def _banned_after(written: list[int]) -> tuple[bool, bool]:
    """Feed a reply token by token as llama.cpp does; is ending, and is opening a marker, ruled out next?"""
    guard = WordsBeforeEnd(END, MARKERS, lambda tokens: b"".join(VOCAB[t] for t in tokens))
    prompt = [8, 8, 8]
    for i in range(len(written)):
        guard(np.array(prompt + written[:i]), np.zeros(len(VOCAB)))
    scores = guard(np.array(prompt + written), np.zeros(len(VOCAB)))
    return bool(np.isinf(scores[4])), bool(np.isinf(scores[5]))


@pytest.mark.parametrize(
    ("written", "end_banned", "marker_banned"),
    [
        ([], True, False),  # nothing yet: may open with a marker, may not stop
        ([0, 1], True, False),  # "[1": a marker being written
        ([0, 1, 2], True, True),  # "[1]": no stopping, no second marker: words now
        ([0, 1, 6, 1, 2], True, True),  # "[1][1]"
        ([0, 1, 2, 3], False, False),  # "[1] Det": an answer has begun
        ([3], False, False),
        ([8], True, False),  # punctuation is not a word
        ([7], False, False),  # a number outside a marker is
        ([0, 1, 9, 10, 2], True, True),  # "[1, 2]": a list of passages is a marker too
    ],
)
def test_a_reply_needs_a_word_before_it_may_end(written: list[int], end_banned: bool, marker_banned: bool) -> None:
    assert _banned_after(written) == (end_banned, marker_banned)


MARKER_VOCAB = {0: b"[", 1: b"1", 2: b"]", 3: b" Det", 5: b" [", 9: b"2", 10: b"5", 11: b"0", 12: b", ", 13: b"-"}
DIGITS = {1: "1", 9: "2", 10: "5", 11: "0"}


@pytest.mark.parametrize(
    ("count", "written", "allowed_digits"),
    [
        (4, [], {"1", "2", "5", "0"}),  # no marker open: digits are text
        (4, [3], {"1", "2", "5", "0"}),
        (4, [0], {"1", "2"}),  # "[": passages 1-4 only
        (4, [3, 5], {"1", "2"}),  # " Det [", the marker opened by a " [" token
        (4, [0, 1], set()),  # "[1": no "[10", "[12", "[15"
        (4, [0, 1, 2, 3], {"1", "2", "5", "0"}),  # "[1] Det": closed
        (12, [0, 1], {"1", "2", "0"}),  # 12 passages: "[10"-"[12" are numbers
        (1, [0], {"1"}),
        (4, [0, 1, 12], {"1", "2"}),  # "[1, ": the list's next number too
        (4, [0, 1, 13], {"1", "2"}),  # "[1-": and a range's end
        (4, [0, 1, 12, 9], set()),  # "[1, 2"
    ],
)
def test_markers_name_only_given_passages(count: int, written: list[int], allowed_digits: set[str]) -> None:
    guard = MarkersWithin(count, DIGITS, lambda tokens: b"".join(MARKER_VOCAB[t] for t in tokens))
    prompt = [3, 3]
    for i in range(len(written) + 1):
        scores = guard(np.array(prompt + written[:i]), np.zeros(14))
    assert {DIGITS[t] for t in DIGITS if not np.isinf(scores[t])} == allowed_digits
    assert not np.isinf(scores[3])  # words stay allowed


@pytest.mark.real
def test_markers_alone_are_not_a_reply(small_generator: LlamaGenerator) -> None:
    """Asked for nothing but markers, the real model still has to write a word."""
    text = "".join(small_generator.stream([{"role": "user", "content": "Reply with exactly this and nothing else: [1] [2][3]"}]))
    assert any(ch.isalnum() for ch in re.sub(r"\[\d+\]", "", text)), text


@pytest.mark.real
def test_the_real_model_cites_only_passages_it_was_given(small_generator: LlamaGenerator) -> None:
    """Asked to copy a marker naming a passage that does not exist, the real model cannot write it."""
    ask = [{"role": "user", "content": "Copy this sentence exactly, with its citation marker: The deadline is 72 hours [7]."}]
    assert "[7]" in "".join(small_generator.stream(ask))  # free to, it copies the marker
    text = "".join(small_generator.stream(ask, passages=2))
    assert re.findall(r"\[(\d+)\]", text) and set(re.findall(r"\[(\d+)\]", text)) <= {"1", "2"}, text


SYSTEM = {"role": "system", "content": "You answer questions about Danish municipal minutes. " * 8}


def _answers(generator: LlamaGenerator) -> tuple[str, list[int]]:
    """An answer, an unrelated call (like a question's translation), then a second answer sharing the system prompt;
    returns that answer and the sizes of the token batches llama.cpp evaluated for it."""
    list(generator.stream([SYSTEM, {"role": "user", "content": "Name the capital of Denmark."}]))
    list(generator.stream([{"role": "user", "content": "Translate into Danish: When does the agreement take effect?"}]))
    llm, evaluated = generator._llm, []  # noqa: SLF001 - the test counts what llama.cpp evaluates
    original = llm.eval
    llm.eval = lambda tokens: (evaluated.append(len(tokens)), original(tokens))[1]
    try:
        return "".join(generator.stream([SYSTEM, {"role": "user", "content": "Count from 1 to 5."}])), evaluated
    finally:
        llm.eval = original


@pytest.mark.real
def test_system_state_is_resumed_and_changes_no_answer() -> None:
    """After another call, the answer resumes after the kept system part and is the one a fresh evaluation gives."""
    kept = small_model(max_tokens=24, keep_system_state=True)
    plain = small_model(max_tokens=24, keep_system_state=False)
    (kept_answer, kept_evaluated), (plain_answer, plain_evaluated) = _answers(kept), _answers(plain)
    assert kept_answer == plain_answer
    system = len(kept._prefix(SYSTEM["content"]))  # noqa: SLF001
    prompt = kept._formatter(messages=[SYSTEM, {"role": "user", "content": "Count from 1 to 5."}])  # noqa: SLF001
    whole = len(kept._llm.tokenize(prompt.prompt.encode(), add_bos=not prompt.added_special, special=True))  # noqa: SLF001
    assert system > 50
    assert kept_evaluated[0] == whole - system  # only the user's part was evaluated
    assert plain_evaluated[0] > whole - system  # (the plain model shares at most the template's first tokens)


def test_a_reply_that_loops_is_stopped_where_it_repeats(tmp_path: Path) -> None:
    """llama.cpp is asked for no more once the reply repeats a run of words (a list copied again and again)."""

    class LoopingLlama:
        sent = 0

        def detokenize(self, tokens: list[int]) -> bytes:
            return b""

        def create_chat_completion(self, **_: object) -> Iterator[dict[str, object]]:
            for _ in range(300):  # a reply as long as the token limit allows
                for word in "projekter som direktionen vurderer nødvendige af hensyn til sikker drift, ".split(" "):
                    LoopingLlama.sent += 1
                    yield {"choices": [{"delta": {"content": word + " "}}]}

    generator = LlamaGenerator(tmp_path / "unused.gguf", threads=1, context=512, max_tokens=999, temperature=0, repeat_penalty=1, keep_system_state=False)
    generator._llm, generator._special = LoopingLlama(), ([], [], {})  # a stand-in for the loaded model
    reply = "".join(generator.stream([{"role": "user", "content": "?"}]))
    assert LoopingLlama.sent < 40 and reply.count("direktionen") == 2
