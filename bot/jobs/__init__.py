"""Batch jobs: cleaning, segmentation, risk, channel, rules, strategies and reindex.

Each job is a small class (`bot.jobs.base.Job`) that reads through the CRM store, hands the
data to an estimator in `analytics/` and writes the result back through the store. The
runner records every run and keeps two runs of one job from overlapping, whichever process
(CLI, console API, scheduler) starts them.
"""
