"""The robot world of RoboEval: API simulator, trace check language, the benchmark's tasks and prompts."""
