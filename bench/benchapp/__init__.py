"""Bench-only Django app: the minimal endpoint intake.ratio compares the incident intake with.

Installed (governance/settings.py) and routed (governance/urls.py) only when the environment
sets GRIDGOV_BENCH_ENDPOINTS=1, which bench/run.sh does for the throwaway bench database. It is
never reachable in normal runs.
"""
