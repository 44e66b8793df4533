"""The top floor: the CLI, the pipeline that runs the stages in order, the demo, and what the
CLI shows people. Nothing below imports from here."""
