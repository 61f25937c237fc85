"""Reading a log file (CSV, zipped CSV, Parquet) into a table of text cells."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from rl_environments.ticket_routing.traces.errors import LogFileError, TicketLogError


def _zip_member(archive: zipfile.ZipFile, source: str) -> str:
    """The single file of a zip archive (macOS ``__MACOSX`` resource files are ignored)."""
    names = [n for n in archive.namelist() if not n.startswith("__MACOSX/") and not n.endswith("/")]
    if len(names) != 1:
        raise LogFileError(f"expected exactly one file in the zip, found {len(names)}: {names}", source=source)
    return names[0]


def read_table(path: Path, usecols: Sequence[str] | None, na_values: Sequence[str], nrows: int | None) -> pd.DataFrame:
    """Read the selected columns; CSV cells as text (no type guessing), Parquet columns as stored."""
    suffix = path.suffix.lower()
    src = str(path)
    if not path.is_file():
        raise LogFileError("file not found", source=src)
    columns = list(usecols) if usecols is not None else None
    options: dict[str, Any] = {"usecols": columns, "dtype": str, "na_values": list(na_values), "nrows": nrows}
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path, columns=columns)
            return frame.head(nrows) if nrows is not None else frame
        if suffix == ".zip":
            try:
                archive = zipfile.ZipFile(path)
            except zipfile.BadZipFile:
                raise LogFileError("not a valid zip file", source=src) from None
            with archive, archive.open(_zip_member(archive, src)) as handle:
                zipped: pd.DataFrame = pd.read_csv(handle, skipinitialspace=True, **options)
            return zipped
        if suffix not in (".csv", ".txt", ".tsv"):
            raise LogFileError(
                f"unsupported file type {suffix!r}; expected .csv, .zip (one CSV) or .parquet", source=src
            )
        text: pd.DataFrame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", skipinitialspace=True, **options)
        return text
    except TicketLogError:
        raise
    except pd.errors.EmptyDataError:
        raise LogFileError("the file is empty (no header row)", source=src) from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise LogFileError(f"cannot read as a table: {exc}", source=src) from None
