"""PPO with invalid-action masking on the native TicketRouting vector env, in one file (CleanRL style).

Reads top to bottom: ``Args`` (every field documented, parsed by tyro), ``make_env``, the agent
network, then the PPO loop of CleanRL's ``ppo.py`` (GAE, clipped surrogate, value clipping,
entropy bonus, TensorBoard scalars), with two changes for this environment:

* invalid agents (offline or full) get a logit of -1e8, in rollouts and in updates;
* the network scores every agent with the *same* small MLP over that agent's features (its
  expertise for the ticket's type, its load, its availability) plus the ticket's features, so it
  does not have to learn ten copies of one rule. The critic pools the agent embeddings.

    python examples/cleanrl_ppo.py --total-timesteps 500000
    python examples/cleanrl_ppo.py --tiny
    tensorboard --logdir runs/cleanrl_ppo

The trained weights are saved as ``<out-dir>/agent.pt`` (a plain state dict) and compared with the
baselines on held-out seeds through the project's evaluation harness.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import tyro
from torch import nn
from torch.distributions.categorical import Categorical
from torch.utils.tensorboard import SummaryWriter

from rl_environments.ticket_routing import PRIORITIES, TICKET_TYPES, EnvironmentConfig, TicketRoutingVectorEnv
from rl_environments.ticket_routing.core.config import resolve_config


@dataclass
class Args:
    exp_name: str = "cleanrl_ppo"
    """the name of this experiment (the run folder under runs/)"""
    seed: int = 1
    """seed of the experiment: torch, NumPy and sub-environment i (seed + i)"""
    torch_deterministic: bool = True
    """if toggled, ``torch.backends.cudnn.deterministic=True`` and one CPU thread"""
    config: str | None = None
    """preset name or YAML path of the scenario (default: the default scenario)"""
    total_timesteps: int = 500_000
    """routing decisions to train on (over all sub-environments)"""
    learning_rate: float = 3e-4
    """the learning rate of the optimizer"""
    num_envs: int = 16
    """sub-environments of the native vector env"""
    num_steps: int = 256
    """steps per sub-environment per rollout"""
    anneal_lr: bool = True
    """toggle learning rate annealing"""
    gamma: float = 0.99
    """the discount factor gamma"""
    gae_lambda: float = 0.95
    """the lambda for the general advantage estimation"""
    num_minibatches: int = 8
    """the number of mini-batches"""
    update_epochs: int = 4
    """the K epochs to update the policy"""
    norm_adv: bool = True
    """toggles advantages normalization"""
    clip_coef: float = 0.2
    """the surrogate clipping coefficient"""
    clip_vloss: bool = True
    """toggles whether or not to use a clipped loss for the value function"""
    ent_coef: float = 0.01
    """coefficient of the entropy"""
    vf_coef: float = 0.5
    """coefficient of the value function"""
    max_grad_norm: float = 0.5
    """the maximum norm for the gradient clipping"""
    target_kl: float | None = None
    """the target KL divergence threshold"""
    hidden: int = 64
    """width of the per-agent and critic MLPs"""
    out_dir: Path | None = None
    """where TensorBoard logs, agent.pt and the comparison go (default runs/<exp_name>)"""
    compare_episodes: int = 20
    """held-out episodes per policy in the final comparison (0: skip)"""
    eval_seed: int = 100_000
    """first seed of the held-out comparison (training uses seed .. seed + num_envs - 1)"""
    tiny: bool = False
    """smoke run for CI: 50-decision episodes, two small updates, two comparison episodes"""

    # filled in at runtime
    batch_size: int = 0
    """the batch size (computed in runtime)"""
    minibatch_size: int = 0
    """the mini-batch size (computed in runtime)"""
    num_iterations: int = 0
    """the number of iterations (computed in runtime)"""


def make_env(args: Args) -> TicketRoutingVectorEnv:
    """The native vector env: ``num_envs`` sub-environments stepped together, NEXT_STEP auto-reset."""
    overrides = {"episode_length": 50} if args.tiny else {}
    return TicketRoutingVectorEnv(args.num_envs, resolve_config(args.config, **overrides))


class Features:
    """Observation dict -> (per-agent features (N, A, F), ticket features (N, G)) as float32 tensors."""

    def __init__(self, config: EnvironmentConfig) -> None:
        self.num_agents = config.num_agents
        self.max_workload = float(config.max_workload)
        self.max_queue = float(config.max_queue_size)
        self.episode_length = float(config.episode_length)
        self.sla = np.asarray(config.sla.resolution_hours, dtype=np.float32)
        self.agent_dim = 4 + len(TICKET_TYPES)
        self.ticket_dim = len(TICKET_TYPES) + len(PRIORITIES) + 3

    def __call__(self, obs: dict[str, Any], masks: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        n, a, k = len(masks), self.num_agents, len(TICKET_TYPES)
        kind = np.asarray(obs["ticket_type"], dtype=np.int64)
        prio = np.asarray(obs["ticket_priority"], dtype=np.int64)
        expertise = np.asarray(obs["agent_expertise"], dtype=np.float32).reshape(n, a, k)
        agent = np.concatenate(
            [
                expertise[np.arange(n), :, kind][:, :, None],  # expertise for this ticket's type
                (np.asarray(obs["agent_workload"], dtype=np.float32) / self.max_workload)[:, :, None],
                np.asarray(obs["agent_availability"], dtype=np.float32)[:, :, None],
                masks.astype(np.float32)[:, :, None],
                expertise,
            ],
            axis=2,
        )
        ticket = np.concatenate(
            [
                np.eye(k, dtype=np.float32)[kind],
                np.eye(len(PRIORITIES), dtype=np.float32)[prio],
                (np.asarray(obs["ticket_age"], dtype=np.float32).reshape(n) / self.sla[prio])[:, None],
                (np.asarray(obs["queue_size"], dtype=np.float32) / self.max_queue)[:, None],
                (np.asarray(obs["time_step"], dtype=np.float32) / self.episode_length)[:, None],
            ],
            axis=1,
        )
        return torch.from_numpy(agent), torch.from_numpy(ticket)


def layer_init(layer: nn.Linear, std: float = np.sqrt(2), bias_const: float = 0.0) -> nn.Linear:
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    """Shared per-agent scorer (actor) and a pooled critic."""

    def __init__(self, agent_dim: int, ticket_dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.embed = nn.Sequential(
            layer_init(nn.Linear(agent_dim + ticket_dim, hidden)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden, hidden)),
            nn.Tanh(),
        )
        self.score = layer_init(nn.Linear(hidden, 1), std=0.01)
        self.critic = nn.Sequential(
            layer_init(nn.Linear(hidden + ticket_dim, hidden)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden, 1), std=1.0),
        )

    def _embed(self, agents: torch.Tensor, ticket: torch.Tensor) -> torch.Tensor:
        tiled = ticket[:, None, :].expand(-1, agents.shape[1], -1)
        return self.embed(torch.cat([agents, tiled], dim=2))  # (N, A, H)

    def get_value(self, agents: torch.Tensor, ticket: torch.Tensor) -> torch.Tensor:
        pooled = self._embed(agents, ticket).mean(dim=1)
        return self.critic(torch.cat([pooled, ticket], dim=1))

    def get_action_and_value(
        self,
        agents: torch.Tensor,
        ticket: torch.Tensor,
        mask: torch.Tensor,
        action: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self._embed(agents, ticket)
        logits = self.score(h).squeeze(-1)
        logits = torch.where(mask, logits, torch.full_like(logits, -1e8))
        probs = Categorical(logits=logits)
        if action is None:
            action = probs.sample()
        value = self.critic(torch.cat([h.mean(dim=1), ticket], dim=1))
        return action, probs.log_prob(action), probs.entropy(), value


class ReturnScaler:
    """Divides rewards by a running std of the discounted return (as Gymnasium's NormalizeReward)."""

    def __init__(self, num_envs: int, gamma: float) -> None:
        self.gamma, self.ret = gamma, np.zeros(num_envs)
        self.count, self.mean, self.var = 1e-4, 0.0, 1.0

    def __call__(self, reward: np.ndarray, done: np.ndarray) -> np.ndarray:
        self.ret = self.ret * self.gamma * (1.0 - done) + reward
        batch_mean, batch_var, n = float(self.ret.mean()), float(self.ret.var()), len(self.ret)
        delta, total = batch_mean - self.mean, self.count + n
        self.mean += delta * n / total
        self.var = (self.var * self.count + batch_var * n + delta**2 * self.count * n / total) / total
        self.count = total
        return reward / np.sqrt(self.var + 1e-8)


class TrainedPolicy:
    """The trained agent behind the project's policy interface (greedy over valid agents)."""

    def __init__(self, agent: Agent, features: Features, name: str = "cleanrl_ppo") -> None:
        self.agent, self.features, self.name = agent, features, name

    def reset(self, seed: int | None = None) -> None:
        """Stateless and greedy: nothing to reset."""

    def act(self, obs: dict[str, Any], mask: np.ndarray) -> int:
        batch = {key: np.asarray(value)[None, ...] for key, value in obs.items()}
        return int(self.act_batch(batch, np.asarray(mask)[None, :])[0])

    def act_batch(self, obs: dict[str, Any], masks: np.ndarray) -> np.ndarray:
        agents, ticket = self.features(obs, np.asarray(masks, dtype=bool))
        with torch.no_grad():
            logits = self.agent.score(self.agent._embed(agents, ticket)).squeeze(-1)
            logits = torch.where(torch.from_numpy(np.asarray(masks, dtype=bool)), logits, torch.full_like(logits, -1e8))
        return logits.argmax(dim=1).numpy().astype(np.int64)


def main(args: Args) -> Path:
    if args.tiny:
        args.total_timesteps, args.num_envs, args.num_steps, args.compare_episodes = 256, 4, 32, 2
    args.batch_size = int(args.num_envs * args.num_steps)
    args.minibatch_size = int(args.batch_size // args.num_minibatches)
    args.num_iterations = max(1, args.total_timesteps // args.batch_size)
    out_dir = args.out_dir or Path("runs") / args.exp_name
    writer = SummaryWriter(str(out_dir / "tb"))
    writer.add_text(
        "hyperparameters",
        "|param|value|\n|-|-|\n" + "\n".join(f"|{key}|{value}|" for key, value in vars(args).items()),
    )

    # seeding
    random.seed(args.seed)
    rng = np.random.default_rng(args.seed)  # minibatch shuffling
    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = args.torch_deterministic
    torch.set_num_threads(1)
    device = torch.device("cpu")

    envs = make_env(args)
    features = Features(envs.config)
    agent = Agent(features.agent_dim, features.ticket_dim, args.hidden).to(device)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    scaler = ReturnScaler(args.num_envs, args.gamma)

    # storage
    n, a = args.num_envs, envs.config.num_agents
    obs_agents = torch.zeros((args.num_steps, n, a, features.agent_dim))
    obs_ticket = torch.zeros((args.num_steps, n, features.ticket_dim))
    masks = torch.zeros((args.num_steps, n, a), dtype=torch.bool)
    actions = torch.zeros((args.num_steps, n), dtype=torch.long)
    logprobs = torch.zeros((args.num_steps, n))
    rewards = torch.zeros((args.num_steps, n))
    dones = torch.zeros((args.num_steps, n))
    values = torch.zeros((args.num_steps, n))
    # NEXT_STEP auto-reset: the step after an episode ends only resets; it is not a decision.
    valid = torch.zeros((args.num_steps, n))

    global_step = 0
    start_time = time.time()
    next_obs, info = envs.reset(seed=args.seed)
    next_mask = info["action_mask"]
    next_done = np.zeros(n, dtype=bool)
    episode_return = np.zeros(n)

    for iteration in range(1, args.num_iterations + 1):
        if args.anneal_lr:
            frac = 1.0 - (iteration - 1.0) / args.num_iterations
            optimizer.param_groups[0]["lr"] = frac * args.learning_rate

        for step in range(args.num_steps):
            global_step += n
            agents_t, ticket_t = features(next_obs, next_mask)
            obs_agents[step], obs_ticket[step] = agents_t, ticket_t
            masks[step] = torch.from_numpy(next_mask)
            valid[step] = torch.from_numpy((~next_done).astype(np.float32))
            with torch.no_grad():
                action, logprob, _, value = agent.get_action_and_value(agents_t, ticket_t, masks[step])
                values[step] = value.flatten()
            actions[step], logprobs[step] = action, logprob

            next_obs, reward, terminated, truncated, info = envs.step(action.numpy())
            next_mask = info["action_mask"]
            reward = np.where(next_done, 0.0, reward)
            episode_return += reward
            ended = (terminated | truncated) & ~next_done
            rewards[step] = torch.from_numpy(scaler(reward, ended.astype(np.float64)).astype(np.float32))
            next_done = terminated | truncated
            dones[step] = torch.from_numpy(next_done.astype(np.float32))
            for i in np.flatnonzero(ended):
                kpis = info["episode_kpis"]
                print(f"global_step={global_step}, episodic_return={episode_return[i]:.0f}")
                writer.add_scalar("charts/episodic_return", episode_return[i], global_step)
                writer.add_scalar("kpi/mean_resolution_hours", kpis["mean_resolution_hours"][i], global_step)
                writer.add_scalar("kpi/sla_compliance_pct", kpis["sla_compliance_pct"][i], global_step)
                writer.add_scalar("kpi/csat_pct", kpis["csat_pct"][i], global_step)
                episode_return[i] = 0.0

        # bootstrap value if not done (a done step's successor is a reset step, never bootstrapped)
        with torch.no_grad():
            next_value = agent.get_value(*features(next_obs, next_mask)).reshape(1, -1)
            advantages = torch.zeros_like(rewards)
            lastgaelam = torch.zeros(n)
            for t in reversed(range(args.num_steps)):
                nextvalues = next_value if t == args.num_steps - 1 else values[t + 1]
                nextnonterminal = 1.0 - dones[t]
                delta = rewards[t] + args.gamma * nextvalues * nextnonterminal - values[t]
                lastgaelam = delta + args.gamma * args.gae_lambda * nextnonterminal * lastgaelam
                lastgaelam = lastgaelam * valid[t]
                advantages[t] = lastgaelam
            returns = advantages + values

        # flatten the batch, keeping only real decisions
        keep = valid.reshape(-1).bool()
        b_agents = obs_agents.reshape(-1, a, features.agent_dim)[keep]
        b_ticket = obs_ticket.reshape(-1, features.ticket_dim)[keep]
        b_masks = masks.reshape(-1, a)[keep]
        b_actions = actions.reshape(-1)[keep]
        b_logprobs = logprobs.reshape(-1)[keep]
        b_advantages = advantages.reshape(-1)[keep]
        b_returns = returns.reshape(-1)[keep]
        b_values = values.reshape(-1)[keep]
        size = int(keep.sum())

        # optimizing the policy and value network
        b_inds = np.arange(size)
        clipfracs = []
        for _epoch in range(args.update_epochs):
            rng.shuffle(b_inds)
            for start in range(0, size, args.minibatch_size):
                mb_inds = b_inds[start : start + args.minibatch_size]
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(
                    b_agents[mb_inds], b_ticket[mb_inds], b_masks[mb_inds], b_actions[mb_inds]
                )
                logratio = newlogprob - b_logprobs[mb_inds]
                ratio = logratio.exp()
                with torch.no_grad():
                    old_approx_kl = (-logratio).mean()
                    approx_kl = ((ratio - 1) - logratio).mean()
                    clipfracs += [((ratio - 1.0).abs() > args.clip_coef).float().mean().item()]
                mb_advantages = b_advantages[mb_inds]
                if args.norm_adv and len(mb_inds) > 1:
                    mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
                pg_loss1 = -mb_advantages * ratio
                pg_loss2 = -mb_advantages * torch.clamp(ratio, 1 - args.clip_coef, 1 + args.clip_coef)
                pg_loss = torch.max(pg_loss1, pg_loss2).mean()
                newvalue = newvalue.view(-1)
                if args.clip_vloss:
                    v_loss_unclipped = (newvalue - b_returns[mb_inds]) ** 2
                    v_clipped = b_values[mb_inds] + torch.clamp(
                        newvalue - b_values[mb_inds], -args.clip_coef, args.clip_coef
                    )
                    v_loss_clipped = (v_clipped - b_returns[mb_inds]) ** 2
                    v_loss = 0.5 * torch.max(v_loss_unclipped, v_loss_clipped).mean()
                else:
                    v_loss = 0.5 * ((newvalue - b_returns[mb_inds]) ** 2).mean()
                entropy_loss = entropy.mean()
                loss = pg_loss - args.ent_coef * entropy_loss + v_loss * args.vf_coef
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()
            if args.target_kl is not None and approx_kl > args.target_kl:
                break

        y_pred, y_true = b_values.numpy(), b_returns.numpy()
        var_y = np.var(y_true)
        explained_var = np.nan if var_y == 0 else 1 - np.var(y_true - y_pred) / var_y
        writer.add_scalar("charts/learning_rate", optimizer.param_groups[0]["lr"], global_step)
        writer.add_scalar("losses/value_loss", v_loss.item(), global_step)
        writer.add_scalar("losses/policy_loss", pg_loss.item(), global_step)
        writer.add_scalar("losses/entropy", entropy_loss.item(), global_step)
        writer.add_scalar("losses/old_approx_kl", old_approx_kl.item(), global_step)
        writer.add_scalar("losses/approx_kl", approx_kl.item(), global_step)
        writer.add_scalar("losses/clipfrac", np.mean(clipfracs), global_step)
        writer.add_scalar("losses/explained_variance", explained_var, global_step)
        sps = int(global_step / (time.time() - start_time))
        print("SPS:", sps)
        writer.add_scalar("charts/SPS", sps, global_step)

    envs.close()
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / "agent.pt"
    torch.save(agent.state_dict(), model_path)
    print(f"saved {model_path}")

    if args.compare_episodes > 0:
        from rl_environments.ticket_routing.evaluation import compare, summary_table
        from rl_environments.ticket_routing.policies import POLICY_NAMES

        policy = TrainedPolicy(agent, features, args.exp_name)
        summary = compare([*POLICY_NAMES, policy], envs.config, args.compare_episodes, args.eval_seed, out_dir=out_dir)
        print(summary_table(summary).round(2).to_string())
    writer.close()
    return model_path


if __name__ == "__main__":
    main(tyro.cli(Args))
