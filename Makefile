# Two commands for a fresh clone:
#   make demo   - create .venv, install the package, run the main job
#   make test   - create .venv with every extra, run the whole test suite, ruff and mypy
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
# A CPU build of torch that lies on this machine's disk; asked for first so no CUDA build is pulled.
TORCH_SPEC ?= torch==2.13.0

.PHONY: demo test lint typecheck pytest browser dashboard bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(PIP) install "$(TORCH_SPEC)"
	$(PIP) install -e ".[dev,train,rllib,dashboard,ecosystem]"
	touch $@ $(VENV)/.core

demo: $(VENV)/.core
	$(BIN)/ticket-routing compare --episodes 20 --seed 0 --out artifacts/demo

# The dashboard's browser test drives Debian's Chromium through Playwright (never `playwright install`).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser:
	@test -x $(CHROMIUM) || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

# Core test modules, also run (1) with the kernels interpreted, so coverage sees inside the
# compiled functions and any difference between Numba and Python semantics shows, and (2) on the
# newest Gymnasium (the main venv has the 1.2 series that Ray pins).
CORE_TESTS := tests/core/test_dynamics.py tests/core/test_environment.py tests/core/test_vector_env.py \
	tests/core/test_service.py tests/core/test_rng.py tests/core/test_reward.py tests/core/test_kpis.py \
	tests/core/test_correctness.py tests/core/test_simulation.py tests/test_golden_trajectories.py
VENV_LATEST := .venv-gymnasium-latest

$(VENV_LATEST)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV_LATEST)
	$(VENV_LATEST)/bin/python -m pip --disable-pip-version-check -q install -e . "gymnasium>=1.4" pytest hypothesis
	touch $@

pytest: $(VENV)/.dev browser $(VENV_LATEST)/.installed
	$(BIN)/python -m pytest --cov=rl_environments --cov-report=
	NUMBA_DISABLE_JIT=1 $(BIN)/python -m pytest -q $(CORE_TESTS) -k "not sb3" \
		--cov=rl_environments --cov-append --cov-report=term-missing:skip-covered --cov-fail-under=95
	$(VENV_LATEST)/bin/python -c "import gymnasium; print('gymnasium', gymnasium.__version__)"
	$(VENV_LATEST)/bin/python -m pytest -q -p no:cacheprovider $(CORE_TESTS) tests/core/test_queueing_theory.py -k "not sb3"

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy

test: pytest lint typecheck

$(VENV)/.dashboard: pyproject.toml | $(BIN)/python
	$(PIP) install -e ".[dashboard]"
	touch $@ $(VENV)/.core

dashboard: $(VENV)/.dashboard
	$(BIN)/streamlit run streamlit_app.py --server.address 127.0.0.1

bench: $(VENV)/.core
	$(BIN)/python benchmarks/bench_env.py

clean:
	rm -rf $(VENV) $(VENV_LATEST) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
