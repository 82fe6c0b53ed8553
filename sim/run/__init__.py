"""Running a study: keyed random streams, the pipeline written once, the runner, integer tallies."""
