"""The package's shape: short modules, kernel functions with few parameters, tests that mirror it."""

from __future__ import annotations

import ast
from pathlib import Path

import rl_environments.ticket_routing as package

PACKAGE = Path(package.__file__).resolve().parent
TESTS = Path(__file__).resolve().parent
SOURCES = sorted(PACKAGE.rglob("*.py"))


def _kernel_functions(path: Path) -> list[ast.FunctionDef]:
    """Functions decorated with ``njit(...)``: the compiled kernels and what they inline."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Name) and target.id == "njit":
                    found.append(node)
    return found


def test_no_source_file_over_500_lines() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in SOURCES if (n := len(p.read_text("utf-8").splitlines())) > 500}
    assert not long


def test_kernel_functions_take_at_most_8_parameters() -> None:
    kernels = [(path, fn) for path in SOURCES for fn in _kernel_functions(path)]
    assert len(kernels) > 30  # the scan finds them
    wide = [f"{path.name}:{fn.name}({len(fn.args.args)})" for path, fn in kernels if len(fn.args.args) > 8]
    assert not wide


def test_tests_mirror_the_package() -> None:
    """Each subpackage has a test folder of the same name; each top-level module its test module."""
    for sub in sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").exists()):
        assert (TESTS / sub.name).is_dir(), f"tests/{sub.name}/ is missing"
    for module in sorted(PACKAGE.glob("*.py")):
        if module.stem.startswith("_"):
            continue
        assert (TESTS / f"test_{module.stem}.py").exists(), f"tests/test_{module.stem}.py is missing"
