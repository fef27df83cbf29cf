"""Benchmarks: LoCoMo retrieval/QA quality against baselines, and storage/recall speed."""
