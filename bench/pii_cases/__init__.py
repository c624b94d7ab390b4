"""The pieces of the labelled PII set that `bench.make_pii_cases` renders."""
