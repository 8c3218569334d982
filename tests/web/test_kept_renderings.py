"""What a web process keeps of its renderings: bounded, most recently used kept, and a report's
PDF rendered once however many readers ask for it at the same moment."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from consult.web import pdf as pdf_module
from consult.web.lru import LRU
from consult.web.pdf import PdfRenderer
from consult.web.templating import create_environment
from tests.support.pdf import pdf_text


def test_the_least_recently_used_entry_is_forgotten_first() -> None:
    kept: LRU[str, int] = LRU(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # "a" is now the more recent
    kept.put("c", 3)
    assert "b" not in kept and kept.get("a") == 1 and kept.get("c") == 3
    assert (kept.hits, kept.misses) == (3, 0)
    assert kept.get("b") is None and kept.misses == 1


def test_a_size_bound_forgets_until_the_total_fits_and_keeps_nothing_larger_than_it() -> None:
    kept: LRU[str, bytes] = LRU(100, max_size=10, size_of=len)
    kept.put("four", b"1234")
    kept.put("five", b"12345")
    kept.put("three", b"123")  # 12 bytes: the oldest goes
    assert "four" not in kept and kept.size == 8 and len(kept) == 2
    kept.put("five", b"1")  # replaced, not counted twice
    assert kept.size == 4
    kept.put("huge", b"x" * 11)
    assert "huge" not in kept and kept.size == 4
    assert kept.pop("three") == b"123" and kept.size == 1


def test_a_bound_needs_something_to_hold_and_a_way_to_measure() -> None:
    with pytest.raises(ValueError):
        LRU(0)
    with pytest.raises(ValueError):
        LRU(5, max_size=100)


PAGE = "<html><body><h1>Synthèse</h1><p>{}</p></body></html>"


@pytest.mark.anyio
async def test_readers_asking_at_once_for_the_same_pdf_wait_for_one_rendering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    renderings: list[str] = []
    write = pdf_module._write_pdf

    def counted(html: str, base_url: str | None) -> bytes:
        renderings.append(html)
        return write(html, base_url)

    monkeypatch.setattr(pdf_module, "_write_pdf", counted)
    renderer = PdfRenderer()
    same = await asyncio.gather(*(renderer.render(PAGE.format("Article 1")) for _ in range(4)))
    assert len(renderings) == 1 and len(set(same)) == 1
    assert "Article 1" in pdf_text(same[0])
    other = await renderer.render(PAGE.format("Article 2"))
    assert len(renderings) == 2 and "Article 2" in pdf_text(other)
    # The same document from another address is another PDF (its links are made absolute).
    await renderer.render(PAGE.format("Article 1"), "https://consult.example/")
    assert len(renderings) == 3
    assert await renderer.render(PAGE.format("Article 1")) == same[0] and len(renderings) == 3


@pytest.mark.anyio
async def test_a_failed_rendering_reaches_every_waiting_reader_and_is_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write = pdf_module._write_pdf
    failures = [MemoryError("the renderer ran out of memory")]

    def failing_once(html: str, base_url: str | None) -> bytes:
        if failures:
            raise failures.pop()
        return write(html, base_url)

    monkeypatch.setattr(pdf_module, "_write_pdf", failing_once)
    renderer = PdfRenderer()
    outcomes = await asyncio.gather(
        *(renderer.render(PAGE.format("Article 3")) for _ in range(3)), return_exceptions=True
    )
    assert [type(outcome) for outcome in outcomes] == [MemoryError] * 3
    assert len(renderer.kept) == 0
    # The next reader gets it rendered.
    assert "Article 3" in pdf_text(await renderer.render(PAGE.format("Article 3")))


def test_templates_are_compiled_once_per_process_and_again_when_edited(tmp_path: Path) -> None:
    """Every application a process builds shares the compiled templates; an edited template
    is compiled from its new source."""
    (tmp_path / "page.html").write_text("<p>{{ _('Hello') }} {{ name }}</p>")
    first = create_environment(tmp_path).get_template("page.html")
    second = create_environment(tmp_path).get_template("page.html")
    assert second.root_render_func.__code__ is first.root_render_func.__code__
    assert second.render(name="<b>") == "<p>Hello &lt;b&gt;</p>"

    (tmp_path / "page.html").write_text("<p>{{ name }}, again</p>")
    edited = create_environment(tmp_path).get_template("page.html")
    assert edited.root_render_func.__code__ is not first.root_render_func.__code__
    assert edited.render(name="Léa") == "<p>Léa, again</p>"
