"""Adapters that plug execrl's judges, credit mapping and sandbox into engines people already run.

Each submodule imports its engine lazily, so execrl works without any of them installed:
``trl`` (reward functions for GRPOTrainer / RLOOTrainer), ``verl`` (a dense reward manager),
``ray_sandbox`` (a sandbox backend over a Ray cluster).
"""
