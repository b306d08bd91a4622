"""The people and their decisions: demand, the fleet, the population of riders and drivers,
daily adoption, and dispatch (one matcher per file)."""
