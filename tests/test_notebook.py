"""The tutorial notebook runs end to end (small budget) and shows what it promises."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("sb3_contrib")

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "tutorial.ipynb"


@pytest.mark.slow
def test_tutorial_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTORIAL_FAST", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel draws inline
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]
    assert not [out for out in outputs if out.get("output_type") == "error"]
    text = "\n".join(out.get("text", "") for out in outputs if out.get("output_type") == "stream")
    assert "valid agents:" in text and "trained on" in text
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(images) == 2  # the baseline chart and the chart with the trained agent
    tables = "\n".join(out.get("data", {}).get("text/plain", "") for out in outputs)
    assert "maskable_ppo" in tables and "priority_sed" in tables
    assert (tmp_path / "runs" / "tutorial" / "model.zip").is_file()
