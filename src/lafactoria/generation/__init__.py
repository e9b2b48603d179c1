"""Generation jobs: prompts, the pipeline and the job lifecycle."""
