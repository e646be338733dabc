"""S3 request counts, round trips, timings, stored bytes, dollars and graph
throughput of the LangGraph checkpoint savers, in one run.

From the repository root::

    python -m benchmarks --quick
    python -m benchmarks --sizes 10,100,1000 --repeat 5 --json bench.json
    python -m benchmarks --other-python /tmp/benchvenv/bin/python
    python -m benchmarks.stored_bytes

A measurement tool, not a test: it never fails on a figure. The request
budgets are asserted by the tests; the benchmark reports counts. See
benchmarks/README.md for what each figure means and how it is measured.

The modules that ``python -m benchmarks`` loads import this repository's
package (``langgraph_checkpoint_s3``) only inside functions: a worker under
another interpreter (``--other-python``) has the PyPI package of that name,
whose savers it measures.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository's root: the working directory of the bench's child
processes, which run ``python -m benchmarks``."""
