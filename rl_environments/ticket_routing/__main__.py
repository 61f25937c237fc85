"""``python -m rl_environments.ticket_routing``: the ``ticket-routing`` command line."""

from __future__ import annotations

from rl_environments.ticket_routing.cli import main

raise SystemExit(main())
