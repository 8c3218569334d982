"""Rendering speed of contribution texts, typical and pathological.

    .venv/bin/python -m bench.markdown

Prints milliseconds per render for a typical contribution and for inputs of the maximum
length built to stress the Markdown parser and the sanitizer.
"""

from __future__ import annotations

import time

from consult.text import MAX_MARKDOWN_CHARS, plain_text, render_markdown

CASES = {
    "typical (400 chars)": "Je soutiens **cet article**, mais le délai de *21 jours* est court.\n\n"
    "- les associations ;\n- les collectivités.\n\n> Voir [le rapport](https://example.org/r).",
    "stars": "*a" * (MAX_MARKDOWN_CHARS // 2),
    "brackets": "[" * MAX_MARKDOWN_CHARS,
    "images": "![" * (MAX_MARKDOWN_CHARS // 2),
    "links": "[a](" * (MAX_MARKDOWN_CHARS // 4),
    "quotes": "> " * (MAX_MARKDOWN_CHARS // 2),
    "ticks": "`" * MAX_MARKDOWN_CHARS,
    "mix": "*_**_`[" * (MAX_MARKDOWN_CHARS // 7),
}


def main() -> None:
    print(f"{'input':<22}{'chars':>8}{'render ms':>12}{'plain ms':>11}")
    for name, source in CASES.items():
        repeats = 200 if len(source) < 1000 else 3
        started = time.perf_counter()
        for _ in range(repeats):
            render_markdown(source)
        render_ms = (time.perf_counter() - started) / repeats * 1000
        started = time.perf_counter()
        for _ in range(repeats):
            plain_text(source)
        plain_ms = (time.perf_counter() - started) / repeats * 1000
        print(f"{name:<22}{len(source):>8}{render_ms:>12.2f}{plain_ms:>11.2f}")


if __name__ == "__main__":
    main()
