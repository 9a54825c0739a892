"""Orchestration: jobs that wire the libraries together (the demo). Imports the rest; imported by programs only."""
