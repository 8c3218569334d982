"""The text of a PDF as WeasyPrint writes it (compressed streams, object streams, Identity-H
fonts with a ToUnicode map), read with the standard library only: enough for a test to find
what a reader would see on its pages."""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_STREAM_START = re.compile(rb"stream\r?\n")
_LENGTH = re.compile(rb"/Length (\d+)")
_REF = rb"(\d+) 0 R"


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes]]:
    """Object number -> (its dictionary, its stream decompressed), objects inside object
    streams included."""
    found: dict[int, tuple[bytes, bytes]] = {}
    for number, body in _OBJECT.findall(pdf):
        stream = _STREAM_START.search(body)
        head = body[: stream.start()] if stream else body
        data = b""
        if stream:
            # The stream's own length, not the search for "endstream": compressed data may end
            # with a carriage return, which a pattern would take for the line's end.
            length = int(_LENGTH.search(head).group(1))  # type: ignore[union-attr]
            data = body[stream.end() : stream.end() + length]
            if b"/FlateDecode" in head:
                data = zlib.decompress(data)
        found[int(number)] = (head, data)
    for head, data in list(found.values()):
        if b"/ObjStm" not in head:
            continue
        first = int(re.search(rb"/First (\d+)", head).group(1))  # type: ignore[union-attr]
        numbers = [int(n) for n in data[:first].split()]
        pairs = list(zip(numbers[::2], numbers[1::2], strict=True))
        for index, (number, offset) in enumerate(pairs):
            end = first + pairs[index + 1][1] if index + 1 < len(pairs) else len(data)
            found.setdefault(number, (data[first + offset : end], b""))
    return found


def _cmap(data: bytes) -> dict[int, str]:
    """Glyph code -> text, from a ToUnicode CMap."""
    mapping: dict[int, str] = {}

    def text(hexa: bytes) -> str:
        return bytes.fromhex(hexa.decode()).decode("utf-16-be")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, value in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>", block):
            mapping[int(code, 16)] = text(value)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for low, high, value in re.findall(
            rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block
        ):
            start = int(value, 16)
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                mapping[code] = chr(start + offset)
    return mapping


def _dictionary(objects: dict[int, tuple[bytes, bytes]], head: bytes, key: bytes) -> bytes:
    """The dictionary under `key` in `head`, inline or referenced."""
    ref = re.search(rb"/" + key + rb"\s*" + _REF, head)
    if ref:
        return objects.get(int(ref.group(1)), (b"", b""))[0]
    inline = re.search(rb"/" + key + rb"\s*<<(.*?)>>", head, re.S)
    return inline.group(1) if inline else b""


def pdf_text(pdf: bytes) -> str:
    """Every page's text, runs joined without separators."""
    objects = _objects(pdf)
    runs: list[str] = []
    for head, _ in objects.values():
        if not re.search(rb"/Type\s*/Page\b", head):
            continue
        resources = _dictionary(objects, head, b"Resources") or head
        fonts: dict[bytes, dict[int, str]] = {}
        for name, ref in re.findall(
            rb"/([\w.+-]+)\s*" + _REF, _dictionary(objects, resources, b"Font")
        ):
            font = objects.get(int(ref), (b"", b""))[0]
            unicode_ref = re.search(rb"/ToUnicode\s*" + _REF, font)
            if unicode_ref:
                fonts[name] = _cmap(objects.get(int(unicode_ref.group(1)), (b"", b""))[1])
        contents = re.search(rb"/Contents\s*(\[[^\]]*\]|" + _REF + rb")", head)
        refs = re.findall(_REF, contents.group(1)) if contents else []
        for ref in refs:
            current: dict[int, str] = {}
            stream = objects.get(int(ref), (b"", b""))[1]
            for font, strings in re.findall(
                rb"/([\w.+-]+)\s+[\d.]+\s+Tf|(\[[^\]]*\]\s*TJ|<[0-9a-fA-F]*>\s*Tj)", stream
            ):
                if font:
                    current = fonts.get(font, {})
                    continue
                for hexa in re.findall(rb"<([0-9a-fA-F]*)>", strings):
                    width = 4 if len(hexa) % 4 == 0 else 2
                    runs.append(
                        "".join(
                            current.get(int(hexa[i : i + width], 16), "")
                            for i in range(0, len(hexa), width)
                        )
                    )
    return "".join(runs)
