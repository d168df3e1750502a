"""Clinic-scale benchmark: `make bench` (default size) or `make bench SIZE=small`.

Builds synthetic data in its own database on the project's server, measures each operation next
to a baseline in the same run, prints one table and writes the same as JSON to bench/results/.
"""
