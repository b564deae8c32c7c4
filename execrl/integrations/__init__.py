"""Adapters that plug execrl's judges, credit mapping and sandbox into engines people already run.

Each submodule imports its engine lazily, so execrl works without any of them installed:
``trl`` (reward functions for GRPOTrainer / RLOOTrainer), ``verl_agent_loop`` (per-token rewards in
verl 0.9's V1 trainer), ``verl`` (verl 0.6's dense reward manager, and the scalar ``compute_score``),
``verl_data`` (tasks as verl parquet rows), ``ray_sandbox`` (a sandbox backend over a Ray cluster),
``judge_batcher`` (judging in batches for engines that generate with asyncio).
"""
