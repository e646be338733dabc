"""What the tests share: S3 servers, the in-memory buckets, graphs, histories
and the helpers of each kind of test. Nothing here is a test."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository's root."""
