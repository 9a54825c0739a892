"""absl flag definitions, one module per program (train, eval, prepare, render_synthetic, mask_rcnn, ...).

One convention: importing a module defines nothing; `define_flags(flag_values)` defines the program's flags and
start-up validators, and `config_from_flags(flag_values)` (or `..._and_notes_from_flags`) returns what the
program runs. `sfmlearner_tf.apps.run_program` calls define_flags on absl's FLAGS, parses, and hands FLAGS on.
"""
