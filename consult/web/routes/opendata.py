"""The open-data export of a consultation: a zip of CSV and JSON files, streamed."""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from collections.abc import AsyncIterator

from starlette.responses import Response, StreamingResponse

from consult.opendata.tables import TABLES, Export, Table, export_of
from consult.web.context import RequestContext
from consult.web.permissions import PUBLIC
from consult.web.routing import route


class _Sink:
    """Where the zip writes; the response takes what has been written after each batch."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        return len(data)

    def flush(self) -> None:
        """Nothing to do: the bytes are taken by :meth:`take`."""

    def close(self) -> None:
        """Nothing to release."""

    def take(self) -> bytes:
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


def _member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=time.gmtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def readme(export: Export) -> str:
    """The description of every file and field, written into the export."""
    lines = [
        export.title,
        "",
        "Open data of the consultation: each table as CSV (UTF-8, comma-separated, a header",
        "line) and as JSON (an array of objects with the same fields).",
        "Authors are pseudonymised: the same person has the same pseudonym in every file.",
        "",
    ]
    for table in TABLES:
        lines.append(f"{table.name}.csv / {table.name}.json")
        lines.extend(f"  {name}: {meaning}" for name, meaning in table.fields)
        lines.append("")
    return "\n".join(lines)


async def zip_stream(export: Export) -> AsyncIterator[bytes]:
    """The export as zip bytes, produced batch by batch (never the whole file in memory)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_member("README.txt"), readme(export))
        yield sink.take()
        for table in TABLES:
            async for chunk in _csv(archive, sink, table, export):
                yield chunk
            async for chunk in _json(archive, sink, table, export):
                yield chunk
    yield sink.take()


async def _csv(
    archive: zipfile.ZipFile, sink: _Sink, table: Table, export: Export
) -> AsyncIterator[bytes]:
    with archive.open(_member(f"{table.name}.csv"), mode="w", force_zip64=True) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text)
        writer.writerow(table.columns)
        async for rows in table.rows(export):
            writer.writerows(rows)
            if chunk := sink.take():
                yield chunk
        text.flush()
        text.detach()  # the member's own close writes its sizes
    yield sink.take()


async def _json(
    archive: zipfile.ZipFile, sink: _Sink, table: Table, export: Export
) -> AsyncIterator[bytes]:
    columns = table.columns
    with archive.open(_member(f"{table.name}.json"), mode="w", force_zip64=True) as raw:
        raw.write(b"[")
        first = True
        async for rows in table.rows(export):
            parts = []
            for row in rows:
                record = json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False)
                parts.append(("\n" if first else ",\n") + record)
                first = False
            raw.write("".join(parts).encode())
            if chunk := sink.take():
                yield chunk
        raw.write(b"\n]\n")
    yield sink.take()


async def export_zip(ctx: RequestContext) -> Response:
    """Download the consultation's open data."""
    consultation = await ctx.consultation()
    # The rows are read while the zip is sent, after this request's session has closed: the
    # export opens sessions of its own, one per batch.
    export = await export_of(ctx.services.session_factory, consultation, ctx.settings.secret_key)
    stamp = ctx.now.strftime("%Y%m%d")
    return StreamingResponse(
        zip_stream(export),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{consultation.slug}-{stamp}.zip"',
        },
    )


routes = [
    route(
        "/consultations/{slug}/export.zip",
        export_zip,
        PUBLIC,
        name="open_data",
        rate_limit="post",
    ),
]
