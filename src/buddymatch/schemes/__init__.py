"""One module per scheme: orchestrates scoring, rules, a solver, check and explain."""
