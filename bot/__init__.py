"""Northwind CRM conversation assistant: CRM store, console, jobs, CLI and process runner."""
