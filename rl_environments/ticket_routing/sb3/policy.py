"""The agent-set policy network: every agent embedded by one shared MLP and scored by one shared head."""

from __future__ import annotations

from typing import Any

import torch as th
from gymnasium import spaces
from sb3_contrib.common.maskable.policies import MaskableMultiInputActorCriticPolicy
from stable_baselines3.common.policies import ActorCriticPolicy, MultiInputActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from rl_environments.ticket_routing.core.config import TICKET_TYPES
from rl_environments.ticket_routing.sb3.observations import DELAY_KEY, TICKET_EXPERTISE_KEY

DISPATCHER_AGENT_KEYS = ("agent_next_change_hours", "agent_change_goes_offline", "agent_remaining_work", DELAY_KEY)
"""Per-agent observation keys about shifts and remaining work, fed to :class:`AgentSetExtractor`."""


class AgentSetExtractor(BaseFeaturesExtractor):
    """Features for engineered observations: every agent embedded by the same small MLP.

    Agent ``a``'s row (its expertise for the ticket's type, workload, availability, expertise
    vector, and, when the observation has them, hours to its next shift change, whether that change
    takes it offline and its remaining work) is joined with the ticket's features (type and priority
    one-hot, age, queue size, step, hour of week) and embedded by one shared network, so what is
    learned about one agent applies to all. The features are the agents' embeddings side by side,
    then their mean (for the critic). Use with ``TicketRoutingSB3VecEnv(..., engineered=True)``
    and, for a per-agent read-out,
    ``net_arch={"pi": [], "vf": [64]}``.
    """

    def __init__(self, observation_space: spaces.Dict, embed_dim: int = 16, hidden: int = 64) -> None:
        if TICKET_EXPERTISE_KEY not in observation_space.spaces:
            raise ValueError("observation_space: AgentSetExtractor needs engineered observations (engineered=True)")
        self.num_agents = int(observation_space["agent_workload"].shape[0])  # type: ignore[index]
        self.embed_dim = embed_dim
        types = int(observation_space["ticket_type"].n)  # type: ignore[attr-defined]
        priorities = int(observation_space["ticket_priority"].n)  # type: ignore[attr-defined]
        self.agent_keys = tuple(k for k in DISPATCHER_AGENT_KEYS if k in observation_space.spaces)
        clock = ("hour_of_week",) if "hour_of_week" in observation_space.spaces else ()
        self.ticket_keys = ("ticket_type", "ticket_priority", "ticket_age", "queue_size", "time_step", *clock)
        agent_in = 3 + len(TICKET_TYPES) + len(self.agent_keys)
        ticket_in = types + priorities + 3 + (2 if "hour_of_week" in self.ticket_keys else 0)
        self.uses_delay = DELAY_KEY in self.agent_keys
        extra = self.num_agents if self.uses_delay else 0  # the delay itself, for the score head's prior
        super().__init__(observation_space, features_dim=(self.num_agents + 1) * embed_dim + extra)
        self.mlp = nn.Sequential(
            nn.Linear(agent_in + ticket_in, hidden), nn.Tanh(), nn.Linear(hidden, embed_dim), nn.Tanh()
        )

    def forward(self, observations: dict[str, th.Tensor]) -> th.Tensor:
        torch, obs, a = th, observations, self.num_agents
        n = obs["agent_workload"].shape[0]
        columns = [obs[TICKET_EXPERTISE_KEY], obs["agent_workload"], obs["agent_availability"]]
        per_agent = torch.stack(columns + [obs[key] for key in self.agent_keys], dim=2)
        per_agent = torch.cat([per_agent, obs["agent_expertise"].reshape(n, a, len(TICKET_TYPES))], dim=2)
        ticket = torch.cat([obs[key].reshape(n, -1) for key in self.ticket_keys], dim=1)
        h = self.mlp(torch.cat([per_agent, ticket[:, None, :].expand(-1, a, -1)], dim=2))
        parts = [h.reshape(n, -1), h.mean(dim=1)]
        if self.uses_delay:
            parts.append(obs[DELAY_KEY].reshape(n, a))
        return torch.cat(parts, dim=1)


DELAY_PRIOR = 4.0
"""Initial weight of the rule prior: with :data:`DELAY_KEY` in the observation, agent ``a``'s logit
starts as ``-DELAY_PRIOR * delay[a]`` (a soft version of the ``shift_sed`` rule); the weight is learned."""


class _AgentScoreHead(nn.Module):
    """Logit of agent ``a`` = one shared linear score of agent ``a``'s embedding (permutation-equivariant),
    minus a learned multiple of its expected delay when the observation has it (the rule prior)."""

    def __init__(self, num_agents: int, embed_dim: int, delay_prior: bool = False) -> None:
        super().__init__()
        self.num_agents, self.embed_dim = num_agents, embed_dim
        self.score = nn.Linear(embed_dim, 1)
        nn.init.orthogonal_(self.score.weight, gain=0.01)
        nn.init.zeros_(self.score.bias)
        self.delay_weight = nn.Parameter(th.tensor(DELAY_PRIOR)) if delay_prior else None

    def forward(self, latent: th.Tensor) -> th.Tensor:
        n = latent.shape[0]
        blocks = latent[:, : self.num_agents * self.embed_dim].reshape(n, self.num_agents, self.embed_dim)
        scores: th.Tensor = self.score(blocks).squeeze(-1)
        if self.delay_weight is not None:
            scores = scores - self.delay_weight * latent[:, -self.num_agents :]
        return scores


def _agent_score_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    kwargs.setdefault("features_extractor_class", AgentSetExtractor)
    kwargs.setdefault("net_arch", {"pi": [], "vf": [64]})
    return kwargs


def _use_agent_scores(policy: ActorCriticPolicy, lr_schedule: Any) -> None:
    extractor = policy.pi_features_extractor
    if not isinstance(extractor, AgentSetExtractor) or policy.mlp_extractor.latent_dim_pi != extractor.features_dim:
        raise ValueError("net_arch: the agent-score policy needs AgentSetExtractor and no policy layers (pi=[])")
    policy.action_net = _AgentScoreHead(extractor.num_agents, extractor.embed_dim, extractor.uses_delay)
    policy.optimizer = policy.optimizer_class(  # type: ignore[call-arg]
        policy.parameters(), lr=lr_schedule(1), **policy.optimizer_kwargs
    )


class AgentScorePolicy(MultiInputActorCriticPolicy):
    """PPO policy that scores every agent with the same network (:class:`AgentSetExtractor` + shared head)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **_agent_score_kwargs(kwargs))

    def _build(self, lr_schedule: Any) -> None:
        super()._build(lr_schedule)
        _use_agent_scores(self, lr_schedule)


class MaskableAgentScorePolicy(MaskableMultiInputActorCriticPolicy):
    """MaskablePPO policy that scores every agent with the same network (see :class:`AgentScorePolicy`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **_agent_score_kwargs(kwargs))

    def _build(self, lr_schedule: Any) -> None:
        super()._build(lr_schedule)
        _use_agent_scores(self, lr_schedule)  # type: ignore[arg-type]
