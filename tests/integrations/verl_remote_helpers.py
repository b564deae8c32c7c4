"""What tests/integrations/test_verl_dense.py runs inside Ray actors (shipped to them by value).

``CannedRolloutServer`` stands in for verl's vLLM server, the one piece of the reward path that needs a
GPU: verl's agent loop reaches its rollout servers through ``LLMServerClient`` and a load-balancer actor,
and this actor takes a server's place behind them, answering ``generate`` with a fixed completion per
prompt (found by a marker in the decoded prompt) that ends in eos, as a finished vLLM request does.
Everything around it (agent-loop workers, TransferQueue, replay buffer, trainer) is verl's own code.
``judging_state`` looks into an agent-loop worker: which sandbox its judges used, and how much they scored.
"""

from __future__ import annotations

from typing import Any

from verl.workers.rollout.replica import TokenOutput


class CannedRolloutServer:
    def __init__(self, tokenizer_dir: str, completions: dict[str, str], global_steps: int) -> None:
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
        self.completions = completions
        self.global_steps = global_steps
        self.prompts: list[str] = []

    async def generate(
        self, request_id: str, *, prompt_ids: list[int], sampling_params: dict[str, Any], **_: Any
    ):
        prompt = self.tokenizer.decode(prompt_ids)
        self.prompts.append(prompt)
        [completion] = [text for marker, text in self.completions.items() if marker in prompt]
        ids = self.tokenizer(completion, add_special_tokens=False)["input_ids"] + [
            self.tokenizer.eos_token_id
        ]
        return TokenOutput(
            token_ids=ids, stop_reason="completed", extra_fields={"global_steps": self.global_steps}
        )

    def seen_prompts(self) -> list[str]:
        return self.prompts


def judging_state(_worker: Any) -> dict[str, Any]:
    """Run in an agent-loop worker (``worker.__ray_call__``): its judges' sandbox and scoring count."""
    from execrl.integrations import verl_agent_loop
    from execrl.sandbox import default_sandbox

    sandbox = default_sandbox()
    return {
        "sandbox": type(sandbox).__name__,
        "actors": len(getattr(sandbox, "actors", [])),
        "scored": [sum(scorer.batch_sizes) for scorer in verl_agent_loop._scorers.values()],
    }
