"""Ticket-log import on bad, hostile or very large input: a named error (exit code 2 in the CLI, no
traceback) or a result whose report accounts for every cell, within bounded time and memory."""

from __future__ import annotations

import gzip
import io
import struct
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rl_environments.ticket_routing.cli import common as cli_common
from rl_environments.ticket_routing.cli import main
from rl_environments.ticket_routing.traces import (
    ColumnMapping,
    DateParseError,
    LogFileError,
    MappingError,
    TicketLog,
    TicketLogError,
    UnknownPriorityError,
    estimate_scenario,
)
from rl_environments.ticket_routing.traces.errors import FitError, LimitError
from rl_environments.ticket_routing.traces.fitting import MAX_AGENTS, MAX_SLA_HOURS
from rl_environments.ticket_routing.traces.reading import DEFAULT_MAX_MB, DEFAULT_MAX_ROWS

CSV = "opened_at,priority,category,resolved_at\n" + "".join(
    f"2024-01-{1 + d:02d} {9 + k:02d}:00,{('low', 'high')[k % 2]},billing,2024-01-{1 + d:02d} {10 + k:02d}:30\n"
    for d in range(14)
    for k in range(4)
)
MAPPING = ColumnMapping(category="category", resolved_at="resolved_at")


def zip_bytes(member: str, data: bytes, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as archive:
        archive.writestr(member, data)
    return buf.getvalue()


def patch_zip(raw: bytes, *, flags: int | None = None, method: int | None = None) -> bytes:
    """Rewrite the general-purpose flags or the compression method in the local and central headers."""
    out = bytearray(raw)
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = out.find(signature)
        if flags is not None:
            struct.pack_into("<H", out, at + flag_at, flags)
        if method is not None:
            struct.pack_into("<H", out, at + flag_at + 2, method)
    return bytes(out)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


# --------------------------------------------------------------------------- zips (issue: finding 4)
@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("encrypted.zip", patch_zip(zip_bytes("log.csv", CSV.encode()), flags=0x1), "encrypted"),
        ("deflate64.zip", patch_zip(zip_bytes("log.csv", CSV.encode()), method=9), "Deflate64"),
        ("method99.zip", patch_zip(zip_bytes("log.csv", CSV.encode()), method=99), "compression method 99"),
        ("truncated.zip", zip_bytes("log.csv", CSV.encode())[:60], "not a valid zip file"),
    ],
)
def test_unreadable_zips_are_named_errors_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, fragment: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LogFileError, match=fragment) as err:
        TicketLog.read(path)
    assert name in str(err.value)
    code, message = run_cli(["fit-trace", str(path)], capsys)
    assert code == 2
    assert fragment in message and name in message


def test_corrupt_zip_data_is_a_named_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = bytearray(zip_bytes("log.csv", CSV.encode() * 5))
    start = raw.find(b"PK\x03\x04") + 30 + len("log.csv")
    for k in range(start + 20, start + 60):
        raw[k] ^= 0x5A  # scramble compressed bytes: a bad Deflate stream or a bad CRC
    path = tmp_path / "corrupt.zip"
    path.write_bytes(bytes(raw))
    with pytest.raises(LogFileError, match=r"corrupt or truncated|cannot read"):
        TicketLog.read(path)
    code, message = run_cli(["fit-trace", str(path)], capsys)
    assert code == 2 and "corrupt.zip" in message


def test_corrupt_gzip_is_a_named_error(tmp_path: Path) -> None:
    path = tmp_path / "log.csv.gz"
    path.write_bytes(gzip.compress(CSV.encode())[:-30])
    with pytest.raises(LogFileError, match="corrupt or truncated"):
        TicketLog.read(path)


# --------------------------------------------------------------------------- bounded import (finding 5)
def test_decompressed_size_is_capped_for_zip_and_gzip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = CSV.encode() + b"2024-01-20 09:00,low,billing,\n" * 60_000  # ~1.8 MB, compresses ~100x
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(zip_bytes("log.csv", body))
    assert bomb.stat().st_size < 100_000
    with pytest.raises(LimitError, match=r"more than 1 MB \(the max_mb limit\).*--max-mb"):
        TicketLog.read(bomb, MAPPING, max_mb=1)
    assert len(TicketLog.read(bomb, MAPPING, max_mb=2)) == 56 + 60_000
    gz = tmp_path / "bomb.csv.gz"
    gz.write_bytes(gzip.compress(body))
    with pytest.raises(LimitError, match="max_mb"):
        TicketLog.read(gz, MAPPING, max_mb=1)
    code, message = run_cli(["fit-trace", str(bomb), "--max-mb", "1"], capsys)
    assert code == 2 and "--max-mb" in message


def test_row_limit_names_the_flag_and_the_memory_needed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "log.csv"
    path.write_text(CSV, encoding="utf-8")
    with pytest.raises(LimitError, match=r"more than 50 records.*GB.*--max-rows") as err:
        TicketLog.read(path, MAPPING, max_rows=50)
    assert isinstance(err.value, TicketLogError)
    assert len(TicketLog.read(path, MAPPING, max_rows=56)) == 56
    code, message = run_cli(["fit-trace", str(path), "--max-rows", "50"], capsys)
    assert code == 2 and "--max-rows" in message
    code, message = run_cli(["fit-trace", str(path), "--max-rows", "0"], capsys)
    assert code == 2 and "--max-rows: invalid value 0" in message
    with pytest.raises(ValueError, match="max_rows"):
        TicketLog.read(path, MAPPING, max_rows=0)


def test_parquet_row_limit_is_checked_before_reading(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "log.parquet"
    pd.read_csv(io.StringIO(CSV), dtype=str).to_parquet(path)
    with pytest.raises(LimitError, match="56 records, more than the max_rows limit 10"):
        TicketLog.read(path, MAPPING, max_rows=10)
    with pytest.raises(LimitError, match="max_mb"):
        TicketLog.read(path, MAPPING, max_mb=1e-6)


def test_cli_limit_defaults_match_the_reader() -> None:
    assert (cli_common.DEFAULT_MAX_ROWS, cli_common.DEFAULT_MAX_MB) == (DEFAULT_MAX_ROWS, DEFAULT_MAX_MB)


# --------------------------------------------------------------------------- large logs (finding 6)
def test_a_team_beyond_the_limit_names_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = TicketLog.from_frame(pd.read_csv(io.StringIO(CSV), dtype=str), MAPPING)
    load = estimate_scenario(log).offered_load
    with pytest.raises(FitError, match=f"more than the environment's {MAX_AGENTS:,}.*--num-agents {MAX_AGENTS}"):
        estimate_scenario(log, target_utilization=load / (MAX_AGENTS + 100))
    assert estimate_scenario(log, target_utilization=load / 900).config.num_agents <= MAX_AGENTS
    path = tmp_path / "log.csv"
    path.write_text(CSV, encoding="utf-8")
    code, message = run_cli(["fit-trace", str(path), "--target-utilization", f"{load / 5000:.6f}"], capsys)
    assert code == 2 and f"--num-agents {MAX_AGENTS}" in message


def test_two_century_resolution_times_cap_the_sla_with_a_note() -> None:
    frame = pd.read_csv(io.StringIO(CSV), dtype=str)
    frame.loc[frame["priority"] == "low", "resolved_at"] = "2224-01-01 00:00"
    fit = estimate_scenario(TicketLog.from_frame(frame, MAPPING))
    assert fit.config.sla.resolution_hours[3] == MAX_SLA_HOURS  # low
    assert "SLA target of low capped at 100,000 h" in fit.summary()
    assert fit.config.sla.resolution_hours[1] == pytest.approx(1.5)  # high: 90 minutes


# --------------------------------------------------------------------------- silent losses (finding 7)
def test_cells_beyond_the_header_are_counted_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "opened_at,priority\n2024-01-01 09:00,low\n2024-01-01 10:00,high,extra,more\n2024-01-01 11:00\n",
        encoding="utf-8",
    )
    with pytest.raises(TicketLogError, match="line 4, column 'priority': empty priority"):
        TicketLog.read(path)  # the short record's missing cell is empty, not invented
    path.write_text(
        "opened_at,priority\n2024-01-01 09:00,low\n2024-01-01 10:00,high,extra,more\n2024-01-01 11:00,low,x\n",
        encoding="utf-8",
    )
    report = TicketLog.read(path).report
    assert (report.extra_cells, report.first_extra) == (3, 3)
    assert "dropped: 3 cells beyond the header's columns (first on line 3)" in report.summary()


def test_na_strings_are_text_unless_the_mapping_lists_them(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "opened_at,priority,category\n"
        "2024-01-01 09:00,low,NA\n2024-01-01 10:00,low,None\n2024-01-01 11:00,low,null\n"
        "2024-01-01 12:00,low,n/a\n2024-01-01 13:00,low,\n2024-01-01 14:00,low,?\n",
        encoding="utf-8",
    )
    plain = TicketLog.read(path, ColumnMapping(category="category", default_type="billing"))
    assert plain.tickets["category"].tolist()[:4] == ["NA", "None", "null", "n/a"]
    assert plain.report.missing == {"category": {"empty": 1}}
    assert plain.report.defaulted == {"empty category": 1, "category not in the types table": 5}
    listed = TicketLog.read(path, ColumnMapping(category="category", default_type="billing", na_values=["n/a", "?"]))
    assert listed.report.missing == {"category": {"empty": 1, "'n/a'": 1, "'?'": 1}}
    assert "read as missing in 'category': 3 cells (empty 1, 'n/a' 1, '?' 1)" in listed.report.summary()
    prio = tmp_path / "prio.csv"
    prio.write_text("opened_at,priority\n2024-01-01 09:00,NA\n", encoding="utf-8")
    with pytest.raises(UnknownPriorityError, match="unknown priority label 'NA'"):
        TicketLog.read(prio)


def test_rows_are_file_lines_counting_blank_lines_and_multiline_cells(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        'opened_at,priority,note\n\n2024-01-01 09:00,low,"two\nlines"\n\n\n2024-01-01 10:00,low,x\nsoon,low,y\n',
        encoding="utf-8",
    )
    with pytest.raises(DateParseError) as err:
        TicketLog.read(path)
    assert err.value.row == 8
    assert "log.csv, line 8, column 'opened_at'" in str(err.value)
    path.write_text(path.read_text(encoding="utf-8").replace("soon", "2024-01-02 08:00"), encoding="utf-8")
    assert TicketLog.read(path).tickets["row"].tolist() == [3, 7, 8]


def test_sla_quantile_zero_is_refused_not_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "log.csv"
    path.write_text(CSV, encoding="utf-8")
    for value in ("0", "1.5", "nan"):
        code, message = run_cli(["fit-trace", str(path), "--sla-quantile", value], capsys)
        assert code == 2 and f"--sla-quantile: invalid value {float(value)}" in message
    code, _ = run_cli(["fit-trace", str(path), "--sla-quantile", "1"], capsys)
    assert code == 0


def test_output_paths_are_checked_before_the_fit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "log.csv"
    path.write_text(CSV, encoding="utf-8")
    code, message = run_cli(["fit-trace", str(path), "-o", str(tmp_path)], capsys)
    assert code == 2 and "is a folder" in message
    code, message = run_cli(["fit-trace", str(path), "-o", str(tmp_path / "no" / "s.yaml")], capsys)
    assert code == 2 and "does not exist" in message
    code, message = run_cli(["fit-trace", str(tmp_path)], capsys)
    assert code == 2 and "a folder, not a file" in message
    code, message = run_cli(["compare", "--trace", str(tmp_path), "--episodes", "1"], capsys)
    assert code == 2 and "a folder, not a file" in message
    code, message = run_cli(["compare", "--max-rows", "5", "--episodes", "1"], capsys)
    assert code == 2 and "--max-rows needs --trace FILE" in message


# --------------------------------------------------------------------------- hostile mappings (finding 2)
def test_alias_bomb_and_deep_nesting_in_a_mapping_are_bounded(tmp_path: Path) -> None:
    items = ["&a0 [" + ", ".join(['"lol"'] * 9) + "]"]
    items += [f"&a{k} [{', '.join([f'*a{k - 1}'] * 9)}]" for k in range(1, 10)]  # 9^10 leaves if expanded
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("na_values: [" + ", ".join(items) + "]\n", encoding="utf-8")
    assert bomb.stat().st_size < 1000
    tracemalloc.start()
    with pytest.raises(MappingError) as err:
        ColumnMapping.from_yaml(bomb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(str(err.value)) < 1000
    assert peak < 50_000_000
    deep = tmp_path / "deep.yaml"
    deep.write_text("na_values: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"nested too deeply|cannot read the mapping|na_values"):
        ColumnMapping.from_yaml(deep)
    with pytest.raises(MappingError, match="cannot read the mapping"):
        ColumnMapping.from_yaml(tmp_path)
    twice = tmp_path / "twice.yaml"
    twice.write_text("keep: first\nkeep: last\n", encoding="utf-8")
    with pytest.raises(MappingError, match="keep"):
        ColumnMapping.from_yaml(twice)


def test_separator_and_encoding_options_are_validated() -> None:
    with pytest.raises(MappingError, match="separator: invalid value"):
        ColumnMapping.from_dict({"separator": ";;"})
    with pytest.raises(MappingError, match="encoding: unknown text encoding 'klingon'"):
        ColumnMapping.from_dict({"encoding": "klingon"})
    with pytest.raises(MappingError, match="na_values: invalid value"):
        ColumnMapping.from_dict({"na_values": [["nested"]]})


# --------------------------------------------------------------------------- fuzzing the readers
def _bounded(call: Any) -> None:
    """``call()`` returns or raises a named error, within 30 MB of Python allocations."""
    tracemalloc.start()
    try:
        call()
    except TicketLogError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 30_000_000


# Each example must finish within 10 s (a hang or an expansion would not) and 30 MB of allocations.
FUZZ = settings(max_examples=40, deadline=10_000, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=2000), kind=st.sampled_from(["csv", "csv.gz", "zip", "parquet", "tsv", "xes", "xes.gz"]))
def test_random_bytes_give_a_named_error_or_a_log(tmp_path: Path, data: bytes, kind: str) -> None:
    path = tmp_path / f"fuzz.{kind}"
    path.write_bytes(data)
    _bounded(lambda: TicketLog.read(path, max_rows=10_000, max_mb=5))


@FUZZ
@given(
    body=st.lists(
        st.lists(st.sampled_from(["2024-01-01 09:00", "low", "", '"', "\n", "x,y", "NA", "\x00", "é"]), max_size=5),
        max_size=30,
    ),
    wrap=st.sampled_from(["csv", "csv.gz", "zip"]),
)
def test_random_csv_cells_give_a_named_error_or_a_log(tmp_path: Path, body: list[list[str]], wrap: str) -> None:
    text = "opened_at,priority\n" + "\n".join(",".join(row) for row in body)
    raw = text.encode("utf-8")
    path = tmp_path / f"cells.{wrap}"
    if wrap == "csv.gz":
        raw = gzip.compress(raw)
    elif wrap == "zip":
        raw = zip_bytes("cells.csv", raw)
    path.write_bytes(raw)
    _bounded(lambda: TicketLog.read(path))


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=30,
)


@FUZZ
@given(
    data=st.dictionaries(
        st.sampled_from(["columns", "na_values", "keep", "priorities", "types", "separator", "encoding", "junk"]),
        yaml_values,
        max_size=5,
    )
)
def test_random_nested_mappings_give_a_named_error_or_a_mapping(tmp_path: Path, data: dict[str, Any]) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    message = ""
    try:
        ColumnMapping.from_yaml(path)
    except MappingError as exc:
        message = str(exc)
    assert len(message) < 2000


def test_a_logged_team_beyond_the_limit_names_the_flag() -> None:
    times = pd.date_range("2024-01-01", periods=1200, freq="min").astype(str)
    frame = pd.DataFrame({"opened_at": times, "priority": "low", "who": [f"p{k}" for k in range(1200)]})
    log = TicketLog.from_frame(frame, ColumnMapping(assignee="who"))
    with pytest.raises(FitError, match=f"the log shows 1,200 people active.*--num-agents {MAX_AGENTS}"):
        estimate_scenario(log)
    assert estimate_scenario(log, num_agents=MAX_AGENTS).config.num_agents == MAX_AGENTS
