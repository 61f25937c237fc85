"""The scored task suite: registered ids, reference returns, the normalized score and ``ticket-routing score``."""

from __future__ import annotations

import doctest
import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env

import rl_environments
from rl_environments.ticket_routing import EnvironmentConfig, TicketRoutingEnv, TicketRoutingVectorEnv
from rl_environments.ticket_routing.cli import main
from rl_environments.ticket_routing.core.config import resolve_config
from rl_environments.ticket_routing.policies import POLICY_NAMES, make_policy
from rl_environments.ticket_routing.tasks import (
    RECOMPUTE_COMMAND,
    TASK_IDS,
    Reference,
    StaleReferencesError,
    UnknownTaskError,
    compute_references,
    get_task,
    iqm,
    iqm_interval,
    load_references,
    make_env,
    normalize,
    score,
    write_references,
)

BALANCED = "TicketRouting-Balanced-v0"
SERVICE_DESK = "TicketRouting-ServiceDesk-v0"


# --------------------------------------------------------------------- ids and environments
@pytest.mark.parametrize("task_id", TASK_IDS)
def test_every_task_id_makes_the_task_environment(task_id: str) -> None:
    task = get_task(task_id)
    config = task.config()
    assert config == EnvironmentConfig.preset(task.scenario).with_objective(task.objective).replace(
        episode_length=task.episode_length
    )
    assert config == resolve_config(task.config_name)  # what training scripts take as --config
    env = gym.make(task_id)
    assert isinstance(env, TicketRoutingEnv)
    assert env.config == config
    assert env.spec is not None and env.spec.id == task_id and env.spec.max_episode_steps == task.episode_length
    check_env(env, skip_render_check=True)
    vec = gym.make_vec(task_id, num_envs=2, vectorization_mode="vector_entry_point")
    assert isinstance(vec, TicketRoutingVectorEnv) and vec.num_envs == 2 and vec.config == config


def test_the_package_registers_exactly_the_defined_tasks() -> None:
    assert rl_environments.TASK_IDS == TASK_IDS
    assert [get_task(t).objective for t in TASK_IDS] == ["resolution_sla"] * 3
    assert [get_task(t).scenario for t in TASK_IDS] == ["balanced", "hard", "service_desk"]
    assert all(list(get_task(t).seeds) == list(range(100_000, 100_020)) for t in TASK_IDS)


def test_a_task_environment_takes_env_arguments_but_no_config_changes() -> None:
    env = gym.make(BALANCED, render_mode="ansi", max_episode_steps=1500)
    assert env.render_mode == "ansi"
    with pytest.raises(ValueError, match=r"num_agents: TicketRouting-Balanced-v0 fixes the scenario"):
        gym.make(BALANCED, num_agents=3)
    with pytest.raises(ValueError, match="config"):
        gym.make(BALANCED, config="hard")
    with pytest.raises(ValueError, match="max_episode_steps: invalid value 10"):
        make_env(BALANCED, max_episode_steps=10)  # gym.make applies its own TimeLimit instead
    with pytest.raises(TypeError, match="colour"):
        gym.make(BALANCED, colour="red")


def test_unknown_task_ids_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UnknownTaskError, match=r"'TicketRouting-Nope-v0'; known tasks: TicketRouting-Balanced-v0"):
        get_task("TicketRouting-Nope-v0")
    with pytest.raises(UnknownTaskError, match="Nope"):
        score("random", ["TicketRouting-Nope-v0"])
    with pytest.raises(UnknownTaskError, match="Nope"):
        score({"TicketRouting-Nope-v0": "random"})
    assert main(["score", "--policy", "random", "--task", "TicketRouting-Nope-v0"]) == 2
    assert "--task: task: unknown task id 'TicketRouting-Nope-v0'" in capsys.readouterr().err
    assert main(["score", "--model", "TicketRouting-Nope-v0=model.zip"]) == 2
    assert "unknown task id 'TicketRouting-Nope-v0'" in capsys.readouterr().err


# --------------------------------------------------------------------- the score's arithmetic
def test_normalization_anchors_random_at_0_and_the_best_rule_at_100() -> None:
    scores = normalize([-130.0, -30.0, -80.0, 20.0, -180.0], random_return=-130.0, best_return=-30.0)
    np.testing.assert_allclose(scores, [0.0, 100.0, 50.0, 150.0, -50.0])
    ref = Reference(BALANCED, {"random": 2.0, "least_loaded": 6.0, "priority_sed": 10.0}, 100_000, 20, "x")
    assert ref.best_rule == "priority_sed" and ref.random_return == 2.0 and ref.best_return == 10.0
    np.testing.assert_allclose(ref.normalize([2.0, 6.0, 10.0]), [0.0, 50.0, 100.0])
    with pytest.raises(ValueError, match=r"best_return: invalid value 5\.0"):
        normalize([1.0], random_return=5.0, best_return=5.0)
    with pytest.raises(ValueError, match="best_return"):
        normalize([1.0], random_return=math.nan, best_return=5.0)


def test_iqm_and_its_stratified_bootstrap_interval() -> None:
    assert iqm([1, 2, 3, 4, 5, 6, 7, 100]) == pytest.approx(4.5)  # mean of 3, 4, 5, 6
    with pytest.raises(ValueError, match="scores"):
        iqm([])
    rng = np.random.default_rng(0)
    a, b = rng.normal(50, 10, 20), rng.normal(80, 5, 20)
    point, low, high = iqm_interval([a, b], n_resamples=500)
    assert point == pytest.approx(iqm(np.concatenate([a, b])))
    assert low < point < high
    assert iqm_interval([a, b], n_resamples=500) == (point, low, high)  # seeded
    # Stratified: each task keeps its number of runs, so constant tasks give a constant IQM
    # (resampling all runs together would mix the two tasks in varying proportions).
    point, low, high = iqm_interval([np.zeros(4), np.full(4, 100.0)], n_resamples=200)
    assert point == low == high == pytest.approx(50.0)
    point, low, high = iqm_interval([[70.0], [90.0]])
    assert point == 80.0 and math.isnan(low) and math.isnan(high)
    with pytest.raises(ValueError, match="scores_by_task"):
        iqm_interval([[1.0], []])


def test_iqm_is_rliables_aggregate_iqm() -> None:
    metrics = pytest.importorskip("rliable.metrics")  # the ecosystem extra
    scores = np.random.default_rng(1).normal(size=(20, 3))
    assert iqm(scores) == pytest.approx(float(metrics.aggregate_iqm(scores)))


# --------------------------------------------------------------------- the stored references
def test_stored_references_cover_every_task_and_belong_to_it() -> None:
    references = load_references()
    assert set(references) == set(TASK_IDS)
    for task_id, ref in references.items():
        ref.check(get_task(task_id))  # seeds and configuration digest match the task as defined now
        assert set(ref.returns) == set(POLICY_NAMES)
        assert ref.best_return == max(ref.returns.values()) > ref.random_return


def test_random_scores_0_and_the_best_rule_100_on_the_full_seeds() -> None:
    """Also checks that the stored anchors match a recomputation (a full one takes a minute)."""
    best = load_references()[BALANCED].best_rule
    assert score("random", BALANCED).task(BALANCED).mean == pytest.approx(0.0, abs=1e-6)
    report = score(best, BALANCED)
    assert report.task(BALANCED).mean == pytest.approx(100.0, abs=1e-6)
    assert report.task(BALANCED).n == 20 and report.iqm_low <= report.iqm <= report.iqm_high


def test_references_that_do_not_fit_the_task_are_refused(tmp_path: Path) -> None:
    good = load_references()
    digest = dict(good)
    ref = good[BALANCED]
    digest[BALANCED] = Reference(BALANCED, ref.returns, ref.first_seed, ref.num_seeds, "0" * 16)
    with pytest.raises(StaleReferencesError, match=rf"different configuration.*'{RECOMPUTE_COMMAND}'"):
        score("random", BALANCED, 1, references=digest)
    seeds = {BALANCED: Reference(BALANCED, ref.returns, ref.first_seed, 2, ref.config_digest)}
    with pytest.raises(StaleReferencesError, match=r"seeds 100000..100001 instead of 100000..100019"):
        score("random", BALANCED, 1, references=seeds)
    with pytest.raises(StaleReferencesError, match="no entry for TicketRouting-Hard-v0"):
        score("random", "TicketRouting-Hard-v0", 1, references=seeds)
    partial = {BALANCED: Reference(BALANCED, {"random": 0.0, "priority_sed": 1.0}, 100_000, 20, ref.config_digest)}
    with pytest.raises(StaleReferencesError, match=r"no return for baseline\(s\) round_robin"):
        score("random", BALANCED, 1, references=partial)
    with pytest.raises(ValueError, match="num_seeds: invalid value 0"):
        compute_references(BALANCED, num_seeds=0)
    with pytest.raises(ValueError, match="references: file not found"):
        load_references(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    cases = {
        "tasks: []": "expected a 'tasks' mapping",
        "tasks: {TicketRouting-Balanced-v0: 3}": r"tasks\.TicketRouting-Balanced-v0: expected a mapping",
        "tasks:\n  TicketRouting-Balanced-v0: {returns: {random: 1.0}}": "missing key 'first_seed'",
        "tasks: {X: {returns: {random: a}, first_seed: 1, num_seeds: 1, config_digest: d}}": r"tasks\.X: invalid value",
        "tasks: {X: {returns: {priority_sed: 1}, first_seed: 1, num_seeds: 1, config_digest: d}}": "including 'random'",
    }
    for text, message in cases.items():
        bad.write_text(text + "\n")
        with pytest.raises(ValueError, match=message):
            load_references(bad)


# --------------------------------------------------------------------- scoring
def test_score_on_a_tiny_budget_pools_several_policies_per_task() -> None:
    report = score({BALANCED: ["least_loaded", "skill_load"]}, episodes=2, name="two rules")
    (task,) = report.tasks
    assert report.name == "two rules" and task.task_id == BALANCED and task.n == 4
    assert list(report.episodes["seed"]) == [100_000, 100_001, 100_000, 100_001]
    ref = load_references()[BALANCED]
    np.testing.assert_allclose(report.episodes["score"], ref.normalize(report.episodes["episode_return"]))
    frame = report.to_frame()
    assert list(frame["task"]) == [BALANCED, "IQM"] and frame["score"].iloc[0] == pytest.approx(task.mean)
    assert "two rules" in str(report) and "IQM" in str(report)
    with pytest.raises(UnknownTaskError, match="was not scored"):
        report.task(SERVICE_DESK)
    with pytest.raises(ValueError, match="episodes: invalid value 21"):
        score("random", BALANCED, 21)
    with pytest.raises(ValueError, match="no policy or model for task TicketRouting-Hard-v0"):
        score({BALANCED: "random"}, [BALANCED, "TicketRouting-Hard-v0"])
    with pytest.raises(ValueError, match="neither a baseline"):
        score("not_a_rule", BALANCED, 1)
    with pytest.raises(ValueError, match="policy: invalid value 42"):
        score(42, BALANCED, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one policy or model per task"):
        score({BALANCED: []})
    with pytest.raises(UnknownTaskError, match="expected at least one task id"):
        score("random", [])
    policy = make_policy("least_loaded", get_task(BALANCED).config(), seed=0)  # a policy object
    assert score(policy, BALANCED, 1).name == "least_loaded"


def test_cli_scores_baselines_and_writes_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["score", "--policy", "least_loaded", "round_robin", "--task", BALANCED, "--episodes", "2"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "least_loaded" in out and "round_robin" in out and BALANCED in out and "IQM" in out
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert list(scores["name"]) == ["least_loaded", "least_loaded", "round_robin", "round_robin"]
    assert len(pd.read_csv(tmp_path / "episodes.csv")) == 4
    assert main(["score", "--policy", "least_loaded", "--task", BALANCED, "--episodes", "2", "--markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["| policy | Balanced | IQM [95% CI] |", "|---|---|---|"]
    assert lines[2].startswith("| least_loaded | ") and " ± " in lines[2] and lines[2].endswith(" |")
    assert main(["score"]) == 2
    assert "give --model PATH or --policy NAME" in capsys.readouterr().err
    assert main(["score", "--policy", "fastest"]) == 2
    assert "unknown policy 'fastest'" in capsys.readouterr().err
    assert main(["score", "--policy", "random", "--episodes", "0"]) == 2
    assert "--episodes: invalid value 0" in capsys.readouterr().err


def test_cli_recomputes_references_into_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "refs.yaml"
    args = ["score", "--recompute-references", "--references", str(path), "--task", BALANCED, "--episodes", "1"]
    assert main(args) == 0
    assert "best rule" in capsys.readouterr().out
    refs = load_references(path)
    assert set(refs) == {BALANCED} and refs[BALANCED].num_seeds == 1
    assert set(refs[BALANCED].returns) == set(POLICY_NAMES)
    write_references({"x": refs[BALANCED]}, path)  # merges with what is stored
    assert set(load_references(path)) == {BALANCED, "x"}
    assert main(["score", "--policy", "random", "--task", BALANCED, "--references", str(path)]) == 2
    assert "seeds 100000..100000 instead of 100000..100019" in capsys.readouterr().err
    assert main(["score", "--recompute-references", "--policy", "random"]) == 2
    assert "takes no --model or --policy" in capsys.readouterr().err
    assert main(["score", "--recompute-references", "--references", str(tmp_path / "no" / "refs.yaml")]) == 2
    assert "--references: the folder" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["score", "--policy", "random", "--out", str(tmp_path / "file")]) == 2
    assert "--out" in capsys.readouterr().err


# --------------------------------------------------------------------- trained models
@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PPO model trained for a few decisions on the Balanced task."""
    pytest.importorskip("stable_baselines3")
    import torch
    from stable_baselines3 import PPO

    from rl_environments.ticket_routing.sb3 import TicketRoutingSB3VecEnv

    torch.set_num_threads(1)
    env = TicketRoutingSB3VecEnv(2, get_task(BALANCED).config())
    model = PPO("MultiInputPolicy", env, n_steps=8, batch_size=16, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=16)
    path = tmp_path_factory.mktemp("tiny") / "tiny_ppo.zip"
    model.save(path)
    return path


def test_cli_scores_a_trained_model(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pooled = [f"--model={BALANCED}={tiny_model}"] * 2  # two training seeds of one method: their runs pool
    args = ["score", "--episodes", "1", *pooled, "--name", "ppo-seeds", "--policy", "random", "--out", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "ppo-seeds" in out and BALANCED in out and "IQM" in out
    scores = pd.read_csv(tmp_path / "scores.csv").set_index(["name", "task"])["n"]
    assert scores[("ppo-seeds", BALANCED)] == 2 and scores[("random", BALANCED)] == 1
    assert ("ppo-seeds", SERVICE_DESK) not in scores  # only the tasks of the TASK=PATH models


def test_model_errors_are_named(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", "--model", str(tmp_path / "missing.zip"), "--task", BALANCED]) == 2
    assert "error: model: '" in (err := capsys.readouterr().err) and "missing.zip': file not found" in err
    assert main(["score", "--model", str(tmp_path / "missing.txt"), "--task", BALANCED]) == 2
    assert "neither a baseline" in capsys.readouterr().err
    # Trained on 14 agents: the service desk has 100.
    assert main(["score", "--model", str(tiny_model), "--task", SERVICE_DESK, "--episodes", "1"]) == 2
    err = capsys.readouterr().err
    assert "TicketRouting-ServiceDesk-v0: model: trained for action space Discrete(14)" in err and "--task" in err
    assert main(["score", "--model", f"{BALANCED}={tiny_model}", "--task", SERVICE_DESK]) == 2
    assert f"--task {SERVICE_DESK}: no --model {SERVICE_DESK}=PATH given" in capsys.readouterr().err


def test_tasks_package_doctest_and_module_layout() -> None:
    from rl_environments.ticket_routing import tasks

    assert doctest.testmod(tasks).failed == 0
    # The package re-exports what its modules hold, so imports from ``tasks`` keep working.
    assert tasks.score.__module__ == "rl_environments.ticket_routing.tasks.scoring"
    assert tasks.Task.__module__ == "rl_environments.ticket_routing.tasks.registry"
    assert tasks.REFERENCES_PATH.is_file()
