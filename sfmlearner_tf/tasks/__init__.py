"""Orchestration: jobs that wire the libraries together (the demo, sfm-eval's evaluation, preparation with
Mask R-CNN, sfm-export's export). Imports the rest; imported by programs and flags only."""
