"""The generation prompt for robot programs, and the clean-up of what a model writes after it.

The prompt has the benchmark's shape (shared/specs/roboeval.md, section 2): a description of the robot
API as a docstring and stubs, few-shot examples, then ``# <task>`` and ``def task_program():`` for the
model to complete. The examples are our own; RoboEval's are not reused.
"""

from __future__ import annotations

import re

# The benchmark's stop sequences for completion models.
STOP_SEQUENCES: tuple[str, ...] = ("\n#", "\ndef", "\nclass", "```")
PROGRAM_HEADER = "def task_program():"

_API = '''"""Robot task programs.

Robot task programs may use the following functions:
get_current_location()
get_all_rooms()
is_in_room(object)
go_to(location)
ask(person, question, options)
say(message)
pick(obj)
place(obj)

Robot tasks are defined in named functions, with docstrings describing the task.
"""

# Get the current location of the robot.
def get_current_location() -> str:
    ...

# Get a list of all rooms.
def get_all_rooms() -> list[str]:
    ...

# Check if an object is in the current room.
def is_in_room(object: str) -> bool:
    ...

# Go to a specific named location, e.g. go_to("kitchen"), go_to("Arjun's office"), go_to("Jill's study").
def go_to(location: str) -> None:
    ...

# Ask a person a question, and offer a set of specific options for the person to respond. Returns the response selected by the person.
def ask(person: str, question: str, options: list[str]) -> str:
    ...

# Say the message out loud.
def say(message: str) -> None:
    ...

# Pick up an object if you are not already holding one. You can only hold one object at a time.
def pick(obj: str) -> None:
    ...

# Place an object down if you are holding one.
def place(obj: str) -> None:
    ...
'''

_EXAMPLES: tuple[tuple[str, str], ...] = (
    (
        (
            "Find out whether Priya in the design studio wants to join the team dinner tonight, then come back "
            "and let me know."
        ),
        """    start_loc = get_current_location()
    go_to("design studio")
    answer = ask("Priya", "Would you like to join the team dinner tonight?", ["Yes", "No"])
    go_to(start_loc)
    if answer == "Yes":
        say("Priya will join the team dinner tonight")
    else:
        say("Priya will not join the team dinner tonight")
""",
    ),
    (
        "Look for a flashlight in every storage room and bring the first one you find to the workshop.",
        """    for room in get_all_rooms():
        if "storage room" not in room:
            continue
        go_to(room)
        if is_in_room("flashlight"):
            pick("flashlight")
            go_to("workshop")
            place("flashlight")
            return
    say("I could not find a flashlight in any storage room")
""",
    ),
    (
        (
            "Wait at the reception desk until a guest arrives. Ask them whether they are here for the "
            "interview or for a delivery, and tell Omar in the front office what they said."
        ),
        """    go_to("reception desk")
    while not is_in_room("person"):
        time.sleep(1)
    reason = ask("", "Are you here for the interview or for a delivery?", ["interview", "delivery"])
    go_to("Omar's front office")
    say("A guest at the reception desk is here for the " + reason)
""",
    ),
    (
        (
            "Tell everyone in the meeting rooms that the fire drill starts at 3 pm, and report back how many "
            "rooms had people in them."
        ),
        """    start_loc = get_current_location()
    occupied = 0
    for room in get_all_rooms():
        if "meeting room" not in room:
            continue
        go_to(room)
        if is_in_room("person"):
            say("The fire drill starts at 3 pm")
            occupied += 1
    go_to(start_loc)
    say(str(occupied) + " meeting rooms had people in them")
""",
    ),
    (
        (
            "Ask Lena in the lab whether she wants a notebook or a pen from the supply closet, and bring her "
            "what she chooses."
        ),
        """    go_to("lab")
    choice = ask("Lena", "Would you like a notebook or a pen?", ["notebook", "pen"])
    go_to("supply closet")
    pick(choice)
    go_to("lab")
    place(choice)
    say("Here is your " + choice)
""",
    ),
)


def _example(task: str, body: str) -> str:
    return f"# {task}\n{PROGRAM_HEADER}\n{body}"


PROMPT_PREFIX = _API + "\n\n" + "\n\n".join(_example(task, body) for task, body in _EXAMPLES) + "\n\n# "


def build_prompt(task_prompt: str) -> str:
    """The text a completion model continues: API, examples, ``# <task>`` and ``def task_program():``."""
    return PROMPT_PREFIX + task_prompt.strip() + "\n" + PROGRAM_HEADER


# The first line that starts at column 0 is no longer part of the function's body.
_LEAVES_BODY = re.compile(r"\n[^\s\n]+")


def clean_completion(completion: str) -> str:
    """The function body from a completion: cut at the first stop sequence and at the first line that
    leaves the body (Robo-Instruct's post-processing), trailing whitespace removed."""
    for stop in STOP_SEQUENCES:
        at = completion.find(stop)
        if at >= 0:
            completion = completion[:at]
    leaves = _LEAVES_BODY.search(completion)
    if leaves is not None:
        completion = completion[: leaves.start()]
    return completion.rstrip()


def program_from_completion(completion: str) -> str:
    """The program to evaluate: ``def task_program():`` followed by the cleaned completion."""
    return PROGRAM_HEADER + clean_completion(completion) + "\n"
