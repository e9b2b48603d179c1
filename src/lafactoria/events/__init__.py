"""Per-job event logs: replay what happened, then stream what happens."""
