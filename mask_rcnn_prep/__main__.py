"""`python -m mask_rcnn_prep` runs the boundary program."""

from mask_rcnn_prep.app import main

main()
