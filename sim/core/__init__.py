"""Simulation primitives with no knowledge of the market: the clock and its call queue,
patience deadlines, random substreams, sample summaries, lifecycles and distributions."""
