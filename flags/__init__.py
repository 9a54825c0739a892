"""absl flag definitions, one module per program (train, eval, prepare, render_synthetic, mask_rcnn).

Importing a module defines its flags; each module's `config_from_flags()` returns the library config.
"""
