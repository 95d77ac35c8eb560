"""The real Gradio app in headless Chromium: ask, watch the answer stream, see the cited sources."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from assistant.index import FaissStore
from assistant.qa import Assistant
from assistant.records import Answer, Chunk, Citation, Hit
from assistant.settings import Settings
from assistant.ui import serve, sources_html
from bench._common import free_port
from tests.conftest import FakeGenerator, build

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_sources_html_escapes_document_text() -> None:
    hit = Hit(Chunk("a#1", "a.txt", "Doc <b>", "<script>alert(1)</script>", 0, 1, 3, 4, "Ad. 2"), 0.9, 1)
    html = sources_html([hit], Answer("q", "A [1].", [Citation(1, hit)], [hit], abstained=False))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "[1] Doc &lt;b&gt;" in html and "Ad. 2, lines 3-4" in html


@contextmanager
def _served(settings: Settings, assistant: Assistant) -> Iterator[str]:
    settings = settings.model_copy(update={"port": free_port()})
    app = serve(settings, assistant, block=False)
    try:
        yield f"http://127.0.0.1:{settings.port}/"
    finally:
        app.close()


@contextmanager
def _page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            yield browser.new_page(viewport={"width": 1300, "height": 1000})
        finally:
            browser.close()


def _ask(page: Any, url: str, question: str) -> None:
    page.goto(url)
    _ask_here(page, question)


def _ask_here(page: Any, question: str) -> None:
    """Type the question and submit it; on a busy machine the page may still be wiring its events when the first
    Enter comes, so submit again until the question shows in the chat."""
    box = page.locator("#question textarea")
    for _ in range(3):
        box.fill(question)
        box.press("Enter")
        try:
            page.locator("#chat").get_by_text(question[:40]).first.wait_for(timeout=15_000)
            return
        except Exception:  # noqa: BLE001 - not shown yet: submit once more
            continue
    raise AssertionError(f"the chat never took the question {question!r}")


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")


WATCH_STREAMING_SOURCES = """() => {
    window.streamingSources = "";
    window.earlyEvidence = "";
    new MutationObserver(() => {
        const shown = document.querySelector("#sources .sources-streaming");
        if (shown && shown.querySelector(".source") && !window.streamingSources) window.streamingSources = shown.innerText;
        const bots = document.querySelectorAll("#chat .bot, #chat [data-testid='bot']");
        const last = bots.length ? bots[bots.length - 1].innerText : "";
        // a quote in the chat while the answer is not finished: evidence shown before the model's line
        if (!document.querySelector("#sources .sources-final") && last.includes("“") && !window.earlyEvidence) window.earlyEvidence = last;
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


@needs_chromium
def test_chat_streams_a_real_answer_with_sources(seeds_index, seeds_settings: Settings, real_embedder, small_generator) -> None:  # noqa: ANN001
    """The real path: real index, embedder and GGUF (the 0.5B plumbing model), in the real Gradio app."""
    # The 0.5B plumbing model would translate badly, and may choose no sentence; both are measured in tests/eval and
    # bench/, not here: here the best sentence is always answered from.
    settings = seeds_settings.model_copy(update={"translate_questions": False, "evidence_strong_similarity": 0.0})
    assistant = Assistant(settings, embedder=real_embedder, generator=small_generator, store=seeds_index)
    with _served(settings, assistant) as url, _page() as page:
        page.goto(url)
        # While the model writes, the retrieved passages are already shown. A short answer streams for a moment only,
        # so the page itself records the passages shown while streaming, rather than the test polling for them.
        page.evaluate(WATCH_STREAMING_SOURCES)
        _ask_here(page, "What was decided about police reporting of violence?")
        page.wait_for_selector("#sources .sources-final", timeout=300_000)
        bot = page.locator("#chat .bot, #chat [data-testid='bot']").last.inner_text()
        streaming = page.evaluate("window.streamingSources")
        assert streaming, f"no passages were shown while the answer streamed; the answer: {bot!r}"
        assert "72 timer" in streaming and "koebenhavn-sof-hovedmed-2015-referat.txt" in streaming
        assert bot.strip() and bot.strip() != "…"
        # the sentence from the minutes first, with its citation and place, then the model's line under it
        early = page.evaluate("window.earlyEvidence")
        assert "“" in early and "72 timer" in early, f"no evidence was quoted before the answer was done: {early!r}"
        quote, _, line = bot.strip().partition("\n")
        assert quote.startswith("“") and "” [" in quote and "Referat" in quote, bot
        assert line.strip(), bot


@needs_chromium
def test_citation_opens_the_passage_highlighted_in_its_document(seeds_index, seeds_settings: Settings, real_embedder, tmp_path: Path) -> None:  # noqa: ANN001
    """Source review: a generator that always cites [1] makes the citation certain; all else is real."""
    generator = FakeGenerator("Politianmeldelse skal ske inden 72 timer [1].")
    settings = seeds_settings.model_copy(update={"translate_questions": False})
    assistant = Assistant(settings, embedder=real_embedder, generator=generator, store=seeds_index)  # type: ignore[arg-type]
    with _served(settings, assistant) as url, _page() as page:
        _ask(page, url, "Hvornår skal vold anmeldes til politiet?")
        page.wait_for_selector("#sources .sources-final", timeout=120_000)
        option = page.locator("#citation-picker label").first
        assert option.inner_text().startswith("[1] Referat, HovedMED")
        option.click()
        mark = page.locator("#document mark#cited-span")
        mark.wait_for(timeout=30_000)
        assert "72 timer" in mark.inner_text()
        # in it, the sentence that supports the answer, also quoted under the answer in the chat
        assert any("72 timer" in quote for quote in page.locator("#document mark.quote").all_inner_texts())
        bot = page.locator("#chat .bot, #chat [data-testid='bot']").last.inner_text()
        # the evidence quoted first, then the answer built on it
        assert bot.strip().startswith("“") and bot.index("72 timer") < bot.index("Politianmeldelse skal ske inden 72 timer [1].")
        where = page.locator("#document .where").inner_text()
        assert "koebenhavn-sof-hovedmed-2015-referat.txt" in where and "Ad. 2 Arbejdsmiljø" in where and "lines" in where
        # the highlighted passage sits inside the whole document, not alone
        assert "Ad. 1 Godkendelse af dagsorden" in page.locator("#document .doc-text").inner_text()
        page.screenshot(path=str(tmp_path / "source.png"))


@needs_chromium
def test_a_cited_item_s_case_timeline_shows_and_opens_each_meeting_s_item(tmp_path: Path, case_corpus: Path, real_embedder) -> None:  # noqa: ANN001
    """A matter at three meetings: under the answer its meetings, newest first; each opens that meeting's agenda item."""
    settings = Settings(index_dir=tmp_path / "index", translate_questions=False)
    build([case_corpus], settings.index_dir, real_embedder)
    generator = FakeGenerator("Anlægsbevillingen på 45 mio. kr. blev godkendt.")
    assistant = Assistant(settings, embedder=real_embedder, generator=generator, store=FaissStore.load(settings.index_dir))  # type: ignore[arg-type]
    with _served(settings, assistant) as url, _page() as page:
        _ask(page, url, "Hvad blev der besluttet om anlægsbevillingen til den nye daginstitution i Tune?")
        page.wait_for_selector("#sources .sources-final", timeout=120_000)
        page.locator("#chat").get_by_text("Case 24-000123, newest meeting first:").first.wait_for(timeout=30_000)
        bot = page.locator("#chat .bot, #chat [data-testid='bot']").last.inner_text()
        assert bot.index("2024-03-21 · Byrådet") < bot.index("2024-03-12 · Økonomiudvalget") < bot.index("2024-03-04 · Skole-")
        entries = page.locator("#case-picker label")
        entries.nth(2).wait_for(timeout=30_000)  # the picker is drawn just after the sources
        assert entries.count() == 3
        for n, (doc, body) in enumerate([("items.jsonl:3", "Byrådet"), ("items.jsonl:2", "Økonomiudvalget"), ("items.jsonl:1", "Skole-, Børne- og Ungeudvalget")]):
            entries.nth(n).click()
            page.locator(f"#document .meeting .where:has-text('{doc}')").wait_for(timeout=30_000)
            where = page.locator("#document .where").inner_text()
            assert body in where and "Ny daginstitution i Tune" in where
            # the item in full, its decision marked
            assert "45 mio. kr." in page.locator("#document .doc-text").inner_text()
            assert page.locator("#document mark.quote").count() == 1


def test_document_html_highlights_the_cited_span() -> None:
    from assistant.ui import document_html

    text = "Ad. 1 Dagsorden\nGodkendt.\nAd. 2 Vold\nAnmeldelse inden 72 timer.\n"
    start = text.index("Anmeldelse")
    hit = Hit(Chunk("d#2", "d.txt", "Referat <HovedMED>", text[start:-1], start, len(text) - 1, 4, 4, "Ad. 2 Vold", {"date": "2015"}), 0.9, 1)
    page = document_html(text, hit)
    assert '<mark id="cited-span">Anmeldelse inden 72 timer.</mark>' in page
    assert "Referat &lt;HovedMED&gt;" in page and "2015" in page and "Ad. 2 Vold, line 4" in page


def test_chat_text_flags_unsupported_sentences() -> None:
    from assistant.ui import chat_text

    answer = Answer("q", "A [1]. B.", [], [], abstained=False, unsupported=["B."])
    assert chat_text("partial", None) == "partial"
    assert chat_text("A [1]. B.", answer).endswith("⚠ Not supported by the documents:\n- B.")


def test_chat_text_quotes_what_supports_the_answer() -> None:
    from assistant.ui import chat_text

    hit = Hit(Chunk("d#2", "d.txt", "Referat", "Anmeldelse inden 72 timer.", 0, 1, 1, 1), 0.9, 1)
    answer = Answer("q", "Inden 72 timer [1].", [Citation(1, hit, quotes=("Anmeldelse inden 72 timer.",))], [hit], abstained=False)
    assert chat_text(answer.text, answer) == "Inden 72 timer [1].\n\n> [1] “Anmeldelse inden 72 timer.”"


@pytest.mark.parametrize(
    ("text", "quotes", "html"),
    [
        ("Ad. 2\nVold skal\nanmeldes <straks>. Andet.", ("Vold skal anmeldes <straks>.",), 'Ad. 2\n<mark class="quote">Vold skal\nanmeldes &lt;straks&gt;.</mark> Andet.'),
        ("Intet her.", ("Vold skal anmeldes.",), "Intet her."),  # a quote not found marks nothing
        ("A. B.", (), "A. B."),
    ],
)
def test_marked_quotes(text: str, quotes: tuple[str, ...], html: str) -> None:
    from assistant.ui import marked

    assert marked(text, quotes) == html


AARHUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "aarhus-byraad"


@needs_chromium
@pytest.mark.skipif(not AARHUS.is_dir(), reason=f"{AARHUS} is absent (real documents to upload)")
def test_uploaded_documents_become_searchable_without_restart(tmp_path: Path, tiny_corpus: Path, real_embedder) -> None:  # noqa: ANN001
    """Upload a real HTML minutes page and a DOCX in the browser; the next question finds them. Real index and embedder."""
    import docx

    settings = Settings(index_dir=tmp_path / "index", data_dir=tmp_path / "data", translate_questions=False)
    build([tiny_corpus], settings.index_dir, real_embedder)
    d = docx.Document()
    d.add_paragraph("Ad. 1 Kantine\nKantineordningen fortsætter med økologisk frokost fra 1. marts.")
    d.save(str(tmp_path / "kantine.docx"))
    generator = FakeGenerator("Der er kommet 1149 høringssvar [1].")
    assistant = Assistant(settings, embedder=real_embedder, generator=generator)  # type: ignore[arg-type]
    with _served(settings, assistant) as url, _page() as page:
        page.goto(url)
        page.get_by_text("Add documents").click()
        page.locator("#upload input[type=file]").set_input_files([str(AARHUS / "example_minutes.html"), str(tmp_path / "kantine.docx")])
        page.locator("#add-button").click()
        page.wait_for_function("document.querySelector('#upload-status')?.innerText.includes('Indexed')", timeout=180_000)
        status = page.locator("#upload-status").inner_text()
        assert "Indexed 4 documents" in status, status
        assert sorted(p.name for p in settings.data_dir.iterdir()) == ["example_minutes.html", "kantine.docx"]
        # the running chat searches the new documents: no restart
        _ask(page, url, "Hvor mange høringssvar kom der til udviklingsplanen for Aarhus Ø?")
        page.wait_for_selector("#sources .sources-final", timeout=120_000)
        assert "example_minutes.html" in page.locator("#sources").inner_text()
    top = assistant.retrieve("økologisk frokost i kantinen", 1, translate=False)[0]
    assert top.chunk.doc_id == "kantine.docx"


def test_gradio_serves_no_files_outside_its_own(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    """Neither system files nor the data folder can be fetched through Gradio's file routes."""
    import urllib.error
    import urllib.request

    settings = Settings(index_dir=tmp_path / "index", data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    (settings.data_dir / "private.txt").write_text("hemmeligt", "utf-8")
    build([tiny_corpus], settings.index_dir, fake_embedder)
    assistant = Assistant(settings, embedder=fake_embedder, generator=FakeGenerator("x"))  # type: ignore[arg-type]
    with _served(settings, assistant) as url:
        for target in ("/etc/passwd", str(settings.data_dir / "private.txt"), str(tiny_corpus / "a.txt")):
            for route in ("gradio_api/file=", "file="):
                try:
                    with urllib.request.urlopen(url + route + target, timeout=10) as resp:
                        body = resp.read().decode("utf-8", "replace")
                except urllib.error.HTTPError as exc:
                    assert exc.code in (403, 404), (route, target, exc.code)
                else:
                    assert "root:" not in body and "hemmeligt" not in body and "politianmeldes" not in body, (route, target)


def test_auth_setting_puts_the_chat_behind_a_log_in(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    settings = Settings(index_dir=tmp_path / "index", auth="mette:hemmelig-kode")
    build([tiny_corpus], settings.index_dir, fake_embedder)
    assistant = Assistant(settings, embedder=fake_embedder, generator=FakeGenerator("x"))  # type: ignore[arg-type]
    with _served(settings, assistant) as url:
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(url + "config", timeout=10)
        assert denied.value.code == 401
        form = urllib.parse.urlencode({"username": "mette", "password": "forkert"}).encode()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(url + "login", data=form, timeout=10)
        form = urllib.parse.urlencode({"username": "mette", "password": "hemmelig-kode"}).encode()
        with urllib.request.urlopen(url + "login", data=form, timeout=10) as resp:
            assert json.loads(resp.read())["success"] is True


@pytest.mark.parametrize(("auth", "pairs"), [("", []), ("a:b", [("a", "b")]), ("a:b, c:d:e", [("a", "b"), ("c", "d:e")])])
def test_auth_setting_parses(auth: str, pairs: list[tuple[str, str]]) -> None:
    assert Settings(auth=auth).credentials == pairs


@pytest.mark.parametrize("auth", ["nopassword", ":x", "user:"])
def test_bad_auth_setting_is_refused(auth: str) -> None:
    with pytest.raises(ValueError, match="user:password"):
        _ = Settings(auth=auth).credentials


@pytest.mark.parametrize(
    ("files", "bodies", "date_from", "date_to", "expected"),
    [
        (None, None, "", "", None),
        (["a.txt"], [], " ", "", "files=('a.txt',)"),
        ([], ["Økonomiudvalget"], "2023", "2023-06-30", "bodies=('Økonomiudvalget',), date_from='2023', date_to='2023-06-30'"),
    ],
)
def test_make_filter(files: list[str] | None, bodies: list[str] | None, date_from: str, date_to: str, expected: str | None) -> None:
    from assistant.ui import make_filter

    narrow = make_filter(files, bodies, date_from, date_to)
    assert (narrow is None) if expected is None else (narrow is not None and expected in repr(narrow))


@pytest.mark.parametrize("bad", ["23-11-2023", "2023/11", "last year"])
def test_make_filter_refuses_bad_dates(bad: str) -> None:
    from assistant.ui import make_filter

    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        make_filter(None, None, bad, "")


@needs_chromium
def test_date_filter_in_the_page_narrows_the_sources(seeds_index, seeds_settings: Settings, real_embedder) -> None:  # noqa: ANN001
    generator = FakeGenerator("Se kilden [1].")
    settings = seeds_settings.model_copy(update={"translate_questions": False})
    assistant = Assistant(settings, embedder=real_embedder, generator=generator, store=seeds_index)  # type: ignore[arg-type]
    with _served(settings, assistant) as url, _page() as page:
        page.goto(url)
        page.get_by_text("Narrow the search").click()
        page.locator("#filter-from textarea, #filter-from input").first.fill("2025")
        _ask_here(page, "Hvornår skal vold og trusler anmeldes til politiet?")
        page.wait_for_selector("#sources .sources-final", timeout=120_000)
        shown = page.locator("#sources").inner_text()
        assert "koebenhavn-sof-hovedmed-2015-referat.txt" not in shown
        assert "2025" in shown

