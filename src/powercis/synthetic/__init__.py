"""A synthetic county utility: deterministic customers, grid, metering and load profiles for demos and benchmarks."""
