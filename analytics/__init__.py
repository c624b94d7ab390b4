"""Customer analytics as scikit-learn-style estimators: no database, no Rasa, no console.

The batch jobs (`bot/jobs/`) feed them frames read through the CRM store and write their
results back; the benchmarks (`bench/`) feed them public data sets.
"""
