"""The tests' PDF reader (`tests/support/pdf.py`) reads every stream whole."""

from __future__ import annotations

import random
import zlib

from tests.support.pdf import _objects


def test_a_stream_whose_compressed_bytes_end_with_a_carriage_return_is_read_whole() -> None:
    """One report in a few hundred compresses to bytes ending with a carriage return, which
    looks like the end of the stream's line: the reader goes by the stream's length."""
    text = next(
        candidate
        for candidate in (random.Random(seed).randbytes(200) for seed in range(10_000))
        if zlib.compress(candidate).endswith(b"\r")
    )
    data = zlib.compress(text)
    pdf = (
        b"%PDF-1.7\n1 0 obj\n<</Filter /FlateDecode/Length "
        + str(len(data)).encode()
        + b">>\nstream\n"
        + data
        + b"\nendstream\nendobj\n"
    )
    assert _objects(pdf)[1][1] == text
