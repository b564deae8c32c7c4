"""execrl: RL fine-tuning of code LLMs with execution-aware, dense, token-level rewards."""

__version__ = "0.1.0"
