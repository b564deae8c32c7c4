"""Evaluation: pass@k, benchmark runners (MBPP, MBPP+, RoboEval), reports and plots."""
