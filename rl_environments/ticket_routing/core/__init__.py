"""The simulation: configuration, generators, dynamics, reward, KPIs and the environments."""
