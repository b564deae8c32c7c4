"""The generation prompt and the clean-up of completions."""

from __future__ import annotations

from execrl.robot.prompting import (
    PROGRAM_HEADER,
    STOP_SEQUENCES,
    build_prompt,
    clean_completion,
    program_from_completion,
)


def test_the_prompt_ends_with_the_task_and_the_function_header(tasks):
    task = tasks["GrilledCheese"].prompts[0]
    prompt = build_prompt(task)
    assert prompt.endswith("\n\n# " + task + "\n" + PROGRAM_HEADER)
    for name in (
        "get_current_location",
        "get_all_rooms",
        "is_in_room",
        "go_to",
        "ask",
        "say",
        "pick",
        "place",
    ):
        assert f"def {name}(" in prompt
    assert prompt.count(PROGRAM_HEADER) == 6  # five examples and the task's


def test_the_examples_are_not_roboeval_or_robo_instruct_tasks(tasks, data_dir):
    prompt = build_prompt("")
    seeds = data_dir + "/roboeval/robo-instruct_seed_instructions.csv"
    with open(seeds, encoding="utf-8") as handle:
        seed_lines = [line.strip().strip('"') for line in handle if line.strip()]
    for text in [p for task in tasks.values() for p in task.prompts] + seed_lines:
        assert text not in prompt
    for room in ("Arjun's office", "Zarko", "printer room", "main entrance", "elevator"):
        assert room not in prompt.split("def place(")[1]


def test_the_examples_are_valid_programs():
    prompt = build_prompt("x")
    compile(prompt.rsplit("\n\n# ", 1)[0], "<prompt>", "exec")


def test_clean_completion_cuts_at_stops_and_where_the_body_ends():
    completion = '\n    go_to("lobby")\n\n    say("hi")\ntask_program()\nprint(1)'
    assert clean_completion(completion) == '\n    go_to("lobby")\n\n    say("hi")'
    assert clean_completion('\n    say("a")\n# next task') == '\n    say("a")'
    assert clean_completion('\n    say("a")```') == '\n    say("a")'
    assert "\n#" in STOP_SEQUENCES and "\ndef" in STOP_SEQUENCES


def test_program_from_completion():
    program = program_from_completion('\n    say("a")\n\ndef other():\n    pass')
    assert program == 'def task_program():\n    say("a")\n'
    compile(program, "<p>", "exec")
