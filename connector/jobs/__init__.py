"""connector.jobs: one extraction job per kind of PI data, each writing its bronze tables."""
