"""``python -m langgraph_checkpoint_s3.cli``: the ``s3-checkpoint`` script."""

from . import main

main()
