"""Reading a log file into a table of text cells, within limits.

CSV (``.csv``, ``.txt``, ``.tsv``), gzipped CSV (``.csv.gz``...), a zip holding one CSV, Parquet,
or XES (``.xes``, ``.xes.gz``: see :mod:`.xes`).
CSV files are streamed: only the mapped columns are kept, each record's first line in the file is
recorded (blank lines and line breaks inside quoted cells count), cells beyond the header's column
count are counted, and nothing is converted (no type guessing, no missing-value guessing: the
import decides what is missing). The decompressed size and the number of records are capped by
:class:`ReadLimits`; every failure is a named :class:`~.errors.LogFileError`.
"""

from __future__ import annotations

import csv
import gzip
import io
import lzma
import zipfile
import zlib
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from rl_environments.ticket_routing.traces.errors import LimitError, LogFileError

DEFAULT_MAX_ROWS = 5_000_000
"""Records read from one file at most (a larger log needs ``max_rows`` / ``--max-rows``)."""
DEFAULT_MAX_MB = 2_000
"""Decompressed megabytes (10^6 bytes) read from one file at most (``max_mb`` / ``--max-mb``)."""
BYTES_PER_CELL = 100
"""Peak memory per kept cell during an import, measured: the UCI log three times over (425,136 records,
7 mapped columns, 139 MB) took 304 MB above the interpreter's 176 MB (``fit-trace``, peak RSS)."""

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
_ZIP_METHODS = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "Deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "LZMA",
}
DECOMPRESS_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, lzma.LZMAError, gzip.BadGzipFile, OSError)
"""What reading a damaged compressed file can raise."""


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on what one import reads (so a small compressed file cannot take all the memory)."""

    max_rows: int = DEFAULT_MAX_ROWS
    max_mb: float = DEFAULT_MAX_MB

    def __post_init__(self) -> None:
        if isinstance(self.max_rows, bool) or not isinstance(self.max_rows, int) or self.max_rows < 1:
            raise ValueError(f"max_rows: invalid value {self.max_rows!r}; must be a whole number >= 1")
        if isinstance(self.max_mb, bool) or not isinstance(self.max_mb, int | float) or not self.max_mb > 0:
            raise ValueError(f"max_mb: invalid value {self.max_mb!r}; must be a number > 0")

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * 1e6)


def memory_needed(rows: int, columns: int) -> str:
    """How much memory importing ``rows`` records of ``columns`` mapped columns takes, as text."""
    return f"about {rows * max(columns, 1) * BYTES_PER_CELL / 1e9:.1f} GB"


@dataclass(frozen=True, eq=False)
class RawTable:
    """The mapped columns of a file as text (or as stored, for Parquet), one row per record."""

    frame: pd.DataFrame
    rows: np.ndarray
    """Where each record starts: a file line (``unit == "line"``) or a 1-based data row."""
    unit: str
    header: tuple[str, ...]
    extra_cells: int = 0
    """Cells beyond the header's column count (dropped)."""
    first_extra: int | None = None
    """The line of the first record with such cells."""
    short_rows: int = 0
    """Records with fewer cells than the header (the missing cells read as empty)."""


def file_kind(path: Path) -> str:
    """``csv``, ``csv.gz``, ``zip``, ``parquet``, ``xes`` or ``xes.gz`` (by the name's ending)."""
    name = path.name.lower()
    for kind in ("xes.gz", "xes", "parquet", "zip"):
        if name.endswith("." + kind):
            return kind
    if any(name.endswith(s + ".gz") for s in CSV_SUFFIXES):
        return "csv.gz"
    if any(name.endswith(s) for s in CSV_SUFFIXES):
        return "csv"
    raise LogFileError(
        f"unsupported file type {path.suffix.lower()!r}; expected .csv, .tsv, .csv.gz, .zip (one CSV), or .parquet",
        source=str(path),
    )


class _Budget(io.RawIOBase):
    """A byte stream that refuses to deliver more than ``limit`` bytes (decompression bombs)."""

    def __init__(self, raw: IO[bytes] | gzip.GzipFile, limit: int, source: str) -> None:
        self.raw, self.limit, self.source, self.count = raw, limit, source, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.raw.read(len(view))
        self.count += len(data)
        if self.count > self.limit:
            raise LimitError(
                f"the file decompresses to more than {self.limit / 1e6:,.0f} MB (the max_mb limit); "
                "raise it with --max-mb (max_mb= in Python) if this is a real log",
                source=self.source,
            )
        view[: len(data)] = data
        return len(data)


def _zip_member(archive: zipfile.ZipFile, source: str) -> zipfile.ZipInfo:
    """The single file of a zip archive (macOS ``__MACOSX`` resource files are ignored), if readable."""
    infos = [i for i in archive.infolist() if not i.filename.startswith("__MACOSX/") and not i.is_dir()]
    if len(infos) != 1:
        names = [i.filename for i in infos][:10]
        raise LogFileError(f"expected exactly one file in the zip, found {len(infos)}: {names}", source=source)
    info = infos[0]
    if info.flag_bits & 0x1:
        raise LogFileError(
            f"{info.filename!r} in the zip is encrypted (password-protected); extract it and pass the CSV",
            source=source,
        )
    if info.compress_type not in _ZIP_METHODS:
        method = "Deflate64" if info.compress_type == 9 else f"compression method {info.compress_type}"
        raise LogFileError(
            f"{info.filename!r} in the zip is compressed with {method}, which cannot be read here (Windows "
            "uses Deflate64 for large files); extract it and pass the CSV, or zip it again with standard Deflate",
            source=source,
        )
    return info


@contextmanager
def open_bytes(path: Path, kind: str, limits: ReadLimits) -> Iterator[IO[bytes]]:
    """The decompressed bytes of ``path``, capped at ``limits.max_bytes``."""
    src = str(path)
    if kind == "zip":
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            raise LogFileError("not a valid zip file", source=src) from None
        with archive:
            info = _zip_member(archive, src)
            with archive.open(info) as handle:
                yield io.BufferedReader(_Budget(handle, limits.max_bytes, src))
    elif kind.endswith(".gz"):
        with gzip.open(path, "rb") as handle:
            yield io.BufferedReader(_Budget(handle, limits.max_bytes, src))
    else:
        with path.open("rb") as handle:
            yield io.BufferedReader(_Budget(handle, limits.max_bytes, src))


def _reader(stream: IO[bytes], encoding: str, separator: str) -> tuple[io.TextIOWrapper, Any]:
    codec = "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding
    text = io.TextIOWrapper(stream, encoding=codec, newline="")
    return text, csv.reader(text, delimiter=separator, skipinitialspace=True, strict=True)


def _header(records: Any, source: str) -> tuple[str, ...]:
    for record in records:
        if record and record != [""]:
            names = tuple(str(name).strip() for name in record)
            if len(set(names)) != len(names):
                dupes = sorted({n for n in names if names.count(n) > 1})
                raise LogFileError(f"the header names these columns more than once: {dupes}", source=source)
            return names
    raise LogFileError("the file is empty (no header row)", source=source)


def _fail_read(exc: BaseException, source: str, line: int | None) -> LogFileError:
    if isinstance(exc, UnicodeDecodeError):
        detail = f"not valid {exc.encoding} text ({exc.reason}); set encoding in the mapping (for example latin-1)"
    elif isinstance(exc, csv.Error):
        detail = f"cannot read as a table: {exc}"
    else:
        detail = f"cannot read the file (corrupt or truncated?): {exc}"
    return LogFileError(detail, source=source, row=line, unit="line")


def read_csv_table(
    path: Path,
    columns: Sequence[str] | None,
    *,
    separator: str = ",",
    encoding: str = "utf-8",
    limits: ReadLimits | None = None,
) -> RawTable:
    """The ``columns`` of a CSV (plain, gzipped or zipped) as text cells; ``None`` reads only the header."""
    limits = limits or ReadLimits()
    src = str(path)
    kind = file_kind(path)
    previous = 0
    try:
        with open_bytes(path, kind, limits) as stream:
            _text, records = _reader(stream, encoding, separator)
            header = _header(records, src)
            if columns is None:
                return RawTable(pd.DataFrame(columns=list(header)), np.zeros(0, np.int64), "line", header)
            index = [header.index(c) for c in columns]
            width = len(header)
            pick = itemgetter(*index, 0)  # a tuple even for one column (the extra cell is dropped below)
            kept: list[tuple[str, ...]] = []
            pool = {"": ""}.setdefault  # one copy of each distinct text (logs repeat most of their cells)
            starts = array("q")
            extra = short = 0
            first_extra: int | None = None
            previous = records.line_num
            for record in records:
                line, previous = previous + 1, records.line_num
                if len(record) != width:
                    n = len(record)
                    if n == 0 or record == [""]:
                        continue  # a blank line
                    if n > width:
                        extra += n - width
                        first_extra = first_extra or line
                    else:
                        short += 1
                        record = record + [""] * (width - n)
                if len(kept) >= limits.max_rows:
                    raise LimitError(
                        f"more than {limits.max_rows:,} records (the max_rows limit); importing a log this size "
                        f"needs {memory_needed(limits.max_rows, len(index))} per {limits.max_rows:,} records: "
                        "raise the limit with --max-rows (max_rows= in Python)",
                        source=src,
                    )
                kept.append(tuple([pool(v, v) for v in pick(record)]))
                starts.append(line)
    except LogFileError:
        raise
    except (csv.Error, UnicodeDecodeError, *DECOMPRESS_ERRORS) as exc:
        raise _fail_read(exc, src, previous + 1) from None
    values = np.array(kept, dtype=object).reshape(len(kept), len(index) + 1)[:, :-1]
    frame = pd.DataFrame(values, columns=list(columns), dtype=object)
    del kept, values
    return RawTable(frame, np.frombuffer(starts, dtype=np.int64), "line", header, extra, first_extra, short)


def read_parquet_table(path: Path, columns: Sequence[str] | None, limits: ReadLimits | None = None) -> RawTable:
    """The ``columns`` of a Parquet file as stored; its row count and size are checked before reading."""
    limits = limits or ReadLimits()
    src = str(path)
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        meta = pq.ParquetFile(path)
        header = tuple(meta.schema_arrow.names)
        if columns is None:
            return RawTable(pd.DataFrame(columns=list(header)), np.zeros(0, np.int64), "row", header)
        rows = int(meta.metadata.num_rows)
        size = sum(meta.metadata.row_group(k).total_byte_size for k in range(meta.metadata.num_row_groups))
        if rows > limits.max_rows:
            raise LimitError(
                f"{rows:,} records, more than the max_rows limit {limits.max_rows:,}; importing them needs "
                f"{memory_needed(rows, len(columns))}: raise the limit with --max-rows (max_rows= in Python)",
                source=src,
            )
        if size > limits.max_bytes:
            raise LimitError(
                f"{size / 1e6:,.0f} MB uncompressed, more than the max_mb limit {limits.max_mb:,.0f} MB; "
                "raise it with --max-mb (max_mb= in Python)",
                source=src,
            )
        frame = meta.read(columns=list(columns)).to_pandas()
    except LogFileError:
        raise
    except ImportError:
        raise LogFileError("reading Parquet needs pyarrow (pip install pyarrow)", source=src) from None
    except Exception as exc:  # pyarrow raises its own error types (ArrowInvalid, ArrowException, OSError)
        raise LogFileError(f"not a readable Parquet file: {str(exc)[:300]}", source=src) from None
    return RawTable(frame.reset_index(drop=True), np.arange(1, len(frame) + 1), "row", header)


def read_table(
    path: Path,
    columns: Sequence[str] | None,
    *,
    separator: str | None = None,
    encoding: str = "utf-8",
    limits: ReadLimits | None = None,
) -> RawTable:
    """The ``columns`` of a log file (``None``: only the header); see the module docstring."""
    if not path.is_file():
        raise LogFileError("a folder, not a file" if path.is_dir() else "file not found", source=str(path))
    kind = file_kind(path)
    if kind == "parquet":
        return read_parquet_table(path, columns, limits)
    if kind.startswith("xes"):  # every column at once: the header is known only at the end
        from rl_environments.ticket_routing.traces.xes import read_xes_table

        return read_xes_table(path, columns, limits)
    if separator is None:
        separator = "\t" if ".tsv" in path.name.lower() else ","
    return read_csv_table(path, columns, separator=separator, encoding=encoding, limits=limits)
