"""The one safe reader for YAML and JSON (core/safe_yaml.py): data only, bounded size, depth and time."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from rl_environments.ticket_routing import EnvironmentConfig
from rl_environments.ticket_routing.core import safe_yaml
from rl_environments.ticket_routing.core.safe_yaml import DataFileError, load_json, load_yaml, preview

# The classic "billion laughs": 9 levels of 9 aliases expand 490 bytes into 9**9 strings.
BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{c}: &{c} [{','.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
)


def _bounded_call(func: object, *args: object) -> tuple[BaseException | None, float, float]:
    """Run ``func(*args)``; return the exception (or None), the seconds and the peak MB."""
    tracemalloc.start()
    start = time.perf_counter()
    error: BaseException | None = None
    try:
        func(*args)  # type: ignore[operator]
    except Exception as exc:
        error = exc
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return error, seconds, peak


@pytest.mark.parametrize("key", ["num_agents", "arrivals", "no_such_key"])
def test_billion_laughs_under_any_key_is_refused_fast_and_small(key: str) -> None:
    text = BILLION_LAUGHS.replace("i: &i", f"{key}: &i") + f"\n{key}_2: *i\n"
    error, seconds, peak = _bounded_call(EnvironmentConfig.from_yaml_text, text)
    assert isinstance(error, DataFileError)
    assert "anchors" in str(error)
    assert len(str(error)) < 1000
    assert seconds < 2.0
    assert peak < 20.0


def test_aliases_are_refused_with_the_line() -> None:
    with pytest.raises(DataFileError, match=r"line 2: YAML aliases \(\*x\) are not allowed"):
        safe_yaml._LOADER("a: 1\nb: *x\n", "<t>", 32).get_single_data()
    with pytest.raises(DataFileError, match=r"line 2: YAML anchors \(&x\)"):
        load_yaml("a: 1\nb: &x 2\n")


@pytest.mark.parametrize("loader", ["fast", "pure"])
def test_deep_nesting_is_a_named_error_not_a_recursion_error(loader: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if loader == "pure":
        monkeypatch.setattr(safe_yaml, "_LOADER", safe_yaml._SafeLoader)
    for text in ("[" * 100 + "]" * 100, "a:\n" + "".join("  " * i + "- \n" for i in range(1, 40)) + "  " * 40 + "1"):
        with pytest.raises(DataFileError, match="nested deeper than 32 levels"):
            load_yaml(text)
    with pytest.raises(DataFileError, match="nest"):  # libyaml's own limit (1000 levels) or ours
        load_yaml("[" * 100_000 + "]" * 100_000)
    with pytest.raises(DataFileError, match="nested deeper than 32 levels"):
        load_json("[" * 100_000 + "]" * 100_000)
    assert load_yaml("[" * 32 + "]" * 32) == load_json("[" * 32 + "]" * 32)
    with pytest.raises(DataFileError, match=r"line 3: duplicate key 'a' \(first given on line 1\)"):
        load_yaml("a: 1\nb: 2\na: 3\n")
    with pytest.raises(DataFileError, match="anchors"):
        load_yaml("a: &x 1\n")


def test_duplicate_keys_are_refused_in_yaml_and_json() -> None:
    with pytest.raises(DataFileError, match=r"<text>: line 3: duplicate key 'a' \(first given on line 1\)"):
        load_yaml("a: 1\nb: 2\na: 3\n")
    with pytest.raises(DataFileError, match=r"cfg.yaml: line 4: duplicate key 'rate_per_day'"):
        load_yaml(
            "arrivals:\n  rate_per_day: 1\nnum_agents: 3\n  rate_per_day: 2\n".replace("num", "  num"), "cfg.yaml"
        )
    with pytest.raises(DataFileError, match=r"line 3: duplicate key 'a' \(first given on line 2\)"):
        load_json('{\n"a": 1, "b": {"a": 2},\n"a": 3}')
    with pytest.raises(DataFileError, match=r"duplicate key 'x\"y'"):
        load_json('{"x\\"y": 1, "x\\"y": 2}')
    # the same key in different objects is fine
    assert load_json('{"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]}') == {"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]}
    with pytest.raises(DataFileError, match=r"a mapping key must be a plain value"):
        load_yaml("? [a]\n: 1\n")
    assert load_yaml("a: {<<: {b: 1}, c: 2}") == {"a": {"b": 1, "c": 2}}


def test_no_code_and_no_python_tags() -> None:
    with pytest.raises(DataFileError, match="not valid YAML/JSON"):
        load_yaml("x: !!python/object/apply:os.system ['echo hacked']\n", "evil.yaml")
    with pytest.raises(DataFileError, match="NaN is not a JSON number"):
        load_json('{"a": NaN}')


def test_size_limit_and_file_problems(tmp_path: Path) -> None:
    big = "a: [" + "1, " * 100_000 + "1]"
    with pytest.raises(DataFileError, match=r"larger than the 262,144-byte limit"):
        load_yaml(big)
    with pytest.raises(DataFileError, match=r"larger than the 262,144-byte limit"):
        load_json(big.encode())
    assert load_yaml(big, max_bytes=len(big))["a"][0] == 1
    path = tmp_path / "big.yaml"
    path.write_text(big)
    with pytest.raises(DataFileError, match=r"big.yaml: larger than the 262,144-byte limit"):
        load_yaml(path)
    with pytest.raises(DataFileError, match=r"is a directory, not a file"):
        load_yaml(tmp_path)
    with pytest.raises(DataFileError, match=r"missing.json: file not found"):
        load_json(tmp_path / "missing.json")
    (tmp_path / "latin1.yaml").write_bytes("a: caf\xe9".encode("latin-1"))
    with pytest.raises(DataFileError, match=r"not UTF-8 text \(byte 6\)"):
        load_yaml(tmp_path / "latin1.yaml")
    (tmp_path / "ok.json").write_text('{"a": [1, 2.5, "x", null, true]}')
    assert load_json(tmp_path / "ok.json") == {"a": [1, 2.5, "x", None, True]}
    assert load_yaml("a: 1") == {"a": 1}
    with pytest.raises(DataFileError, match=r"4300 digits"):
        load_yaml("a: " + "9" * 5000)
    with pytest.raises(DataFileError, match=r"4300 digits"):
        load_json("9" * 5000)
    with pytest.raises(DataFileError, match=r"not valid JSON: Expecting ',' delimiter \(line 1, column 8\)"):
        load_json('{"a": 1')
    with pytest.raises(DataFileError, match=r"ok.json/x.yaml: cannot read file: Not a directory"):
        load_yaml(tmp_path / "ok.json" / "x.yaml")
    with pytest.raises(DataFileError, match=r"not valid JSON: Invalid \\escape"):
        load_json('{"\\q": 1}')
    with pytest.raises(DataFileError, match="expected text, bytes or a path"):
        load_yaml(3)  # type: ignore[arg-type]


def test_preview_is_bounded_for_any_value() -> None:
    huge = {f"k{i}": ["x" * 10_000] * 1000 for i in range(1000)}
    text = preview(huge)
    assert len(text) <= safe_yaml.PREVIEW_CHARS
    assert preview("y" * 10_000, 50).endswith("...")
    assert len(preview("y" * 10_000, 50)) == 50

    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert preview(Broken()).startswith("<Broken")
