"""What a run records while it runs and checks at its end: ride rows, running statistics, the
day book, self-checks and the summary."""
