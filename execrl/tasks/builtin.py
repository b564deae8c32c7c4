"""Built-in Python tasks: a seeded generator of small function-writing problems with unit tests.

Four families (string, list, arithmetic, dict), three difficulty levels. Each template draws its
parameters (a divisor, a threshold, a character, ...) and test inputs from the generator's random
state; the expected values in the asserts are computed by running the template's own canonical
solution in this process (trusted code), so the tests agree with it by construction.

Needs no data directory. A fixed share of task instances (by a hash of the template, its parameters
and test inputs, not of the seed) is held out: no seed's training split holds a held-out instance.
Held-out and training tasks share templates; what is held out is the instance (constants and tests).
"""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from execrl.errors import ExecrlError
from execrl.tasks.types import Task

FAMILIES = ("string", "list", "arithmetic", "dict")
LEVELS = (1, 2, 3)
SPLITS = ("train", "heldout")
HELDOUT_ONE_IN = 8  # about 12% of the task instances are held out
TESTS_PER_TASK = 5

_PHRASINGS = (
    "Write a Python function `{call}` that {desc}.",
    "Implement `{call}`, which {desc}.",
    "Define a function `{call}` that {desc}.",
    "Create a Python function named `{name}` with signature `{call}`; it {desc}.",
    "Write `{call}`: a function that {desc}.",
    "Your task: write a function `{call}` that {desc}.",
)

_WORDS = ["apple", "banana", "cherry", "delta", "echo", "river", "stone", "cloud", "tiger", "maple", "orbit", "pixel", "lemon", "night", "ocean", "radar", "level", "civic", "noon", "kayak", "python", "queue", "table", "chair", "music", "green", "rapid", "solar", "amber", "vivid"]


@dataclass(frozen=True)
class _Instance:
    """One parametrised problem: its canonical solution and the argument tuples its tests call it with."""

    params: tuple[Any, ...]  # the constants that make this instance's problem differ from others of its template
    name: str
    args: str  # the parameter list, e.g. "numbers, k"
    desc: str  # completes "a function that ..."
    code: str
    inputs: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class _Template:
    key: str
    family: str
    level: int
    build: Callable[[random.Random], _Instance]


_TEMPLATES: list[_Template] = []


def _template(family: str, level: int) -> Callable[[Callable[[random.Random], _Instance]], Any]:
    def register(build: Callable[[random.Random], _Instance]) -> Callable[[random.Random], _Instance]:
        _TEMPLATES.append(_Template(build.__name__.strip("_"), family, level, build))
        return build

    return register


# --- input helpers ------------------------------------------------------------------------------------


def _ints(rng: random.Random, lo: int = -20, hi: int = 50, max_len: int = 8) -> list[int]:
    return [rng.randint(lo, hi) for _ in range(rng.randint(1, max_len))]


def _word(rng: random.Random, lo: int = 2, hi: int = 8) -> str:
    return "".join(rng.choice("abcdeilmnorst") for _ in range(rng.randint(lo, hi)))


def _sentence(rng: random.Random, max_words: int = 6) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, max_words)))


def _cases(rng: random.Random, make: Callable[[], tuple[Any, ...]], edge: Sequence[tuple[Any, ...]] = ()) -> tuple:
    """``TESTS_PER_TASK`` argument tuples: the edge cases first, then random ones, without repeats."""
    cases: list[tuple[Any, ...]] = list(edge)
    for _ in range(50):
        if len(cases) >= TESTS_PER_TASK:
            break
        case = make()
        if case not in cases:
            cases.append(case)
    return tuple(cases)


# --- string family ------------------------------------------------------------------------------------


@_template("string", 1)
def _count_char(rng: random.Random) -> _Instance:
    c = rng.choice("aeiornst")
    return _Instance(
        (c,), f"count_{c}", "text", f"returns how many times the letter '{c}' occurs in `text` (case-sensitive)",
        f"def count_{c}(text):\n    return text.count({c!r})\n",
        _cases(rng, lambda: (_sentence(rng),), [("",)]),
    )


_CHAR_CLASSES = {
    "vowels": ("vowels (a, e, i, o, u, either case)", "c.lower() in 'aeiou'"),
    "digits": ("digits", "c.isdigit()"),
    "uppercase": ("uppercase letters", "c.isupper()"),
    "spaces": ("space characters", "c == ' '"),
}


@_template("string", 1)
def _count_class(rng: random.Random) -> _Instance:
    kind = rng.choice(sorted(_CHAR_CLASSES))
    label, test = _CHAR_CLASSES[kind]
    alphabet = string.ascii_letters + string.digits + "  "
    return _Instance(
        (kind,), f"count_{kind}", "s", f"returns the number of {label} in the string `s`",
        f"def count_{kind}(s):\n    return sum(1 for c in s if {test})\n",
        _cases(rng, lambda: ("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))),), [("",)]),
    )


@_template("string", 1)
def _replace_char(rng: random.Random) -> _Instance:
    old, new = rng.sample("aeiost", 2)
    return _Instance(
        (old, new), f"swap_{old}_for_{new}", "text", f"returns `text` with every '{old}' replaced by '{new}'",
        f"def swap_{old}_for_{new}(text):\n    return text.replace({old!r}, {new!r})\n",
        _cases(rng, lambda: (_sentence(rng),), [("",)]),
    )


@_template("string", 1)
def _join_repeat(rng: random.Random) -> _Instance:
    sep = rng.choice(["-", ", ", "|", " ", "+"])
    return _Instance(
        (sep,), "repeat_joined", "word, k",
        f"returns `word` repeated `k` times, the copies separated by {sep!r} (an empty string when k is 0)",
        f"def repeat_joined(word, k):\n    return {sep!r}.join([word] * k)\n",
        _cases(rng, lambda: (_word(rng), rng.randint(1, 4)), [("ab", 0)]),
    )


@_template("string", 2)
def _long_words(rng: random.Random) -> _Instance:
    k = rng.randint(3, 6)
    return _Instance(
        (k,), f"words_longer_than_{k}", "sentence",
        f"returns the list of words of `sentence` (split on whitespace) that have more than {k} characters, "
        "in their original order",
        f"def words_longer_than_{k}(sentence):\n    return [w for w in sentence.split() if len(w) > {k}]\n",
        _cases(rng, lambda: (_sentence(rng),), [("",)]),
    )


@_template("string", 2)
def _caesar(rng: random.Random) -> _Instance:
    k = rng.randint(1, 25)
    return _Instance(
        (k,), "caesar_shift", "text",
        f"shifts every lowercase letter of `text` {k} places forward in the alphabet (wrapping from 'z' to 'a') "
        "and leaves every other character unchanged",
        "def caesar_shift(text):\n"
        "    out = []\n"
        "    for c in text:\n"
        "        if 'a' <= c <= 'z':\n"
        f"            c = chr((ord(c) - ord('a') + {k}) % 26 + ord('a'))\n"
        "        out.append(c)\n"
        "    return ''.join(out)\n",
        _cases(rng, lambda: (_sentence(rng, 3) + rng.choice(["", "!", " 42"]),), [("",)]),
    )


@_template("string", 2)
def _is_palindrome(rng: random.Random) -> _Instance:
    return _Instance(
        (), "is_clean_palindrome", "text",
        "returns True if `text` reads the same forwards and backwards when only its letters are kept and case "
        "is ignored, and False otherwise",
        "def is_clean_palindrome(text):\n"
        "    letters = [c.lower() for c in text if c.isalpha()]\n"
        "    return letters == letters[::-1]\n",
        _cases(
            rng,
            lambda: (rng.choice([rng.choice(_WORDS), _word(rng) + _word(rng)[::-1], "Never odd, or even"]),),
            [("",), ("A man, a plan, a canal: Panama",)],
        ),
    )


@_template("string", 2)
def _title_words(rng: random.Random) -> _Instance:
    sep = rng.choice([" ", "-", "_"])
    return _Instance(
        (sep,), "capitalize_parts", "text",
        f"splits `text` on {sep!r}, capitalizes the first letter of each part and lowercases the rest, "
        f"and joins the parts back with {sep!r}",
        f"def capitalize_parts(text):\n    return {sep!r}.join(p.capitalize() for p in text.split({sep!r}))\n",
        _cases(rng, lambda: (sep.join(rng.choice(_WORDS).upper() if rng.random() < 0.3 else rng.choice(_WORDS)
                                      for _ in range(rng.randint(1, 4))),)),
    )


@_template("string", 3)
def _run_length(rng: random.Random) -> _Instance:
    return _Instance(
        (), "run_length_encode", "text",
        "returns the run-length encoding of `text`: each maximal run of a repeated character becomes the "
        "character followed by the run's length (for example 'aaab' becomes 'a3b1')",
        "def run_length_encode(text):\n"
        "    out = []\n"
        "    i = 0\n"
        "    while i < len(text):\n"
        "        j = i\n"
        "        while j < len(text) and text[j] == text[i]:\n"
        "            j += 1\n"
        "        out.append(text[i] + str(j - i))\n"
        "        i = j\n"
        "    return ''.join(out)\n",
        _cases(rng, lambda: ("".join(rng.choice("ab") * rng.randint(1, 4) for _ in range(rng.randint(1, 4))),),
               [("",)]),
    )


@_template("string", 3)
def _most_common_char(rng: random.Random) -> _Instance:
    return _Instance(
        (), "most_common_letter", "text",
        "returns the letter that occurs most often in `text` (ignoring non-letters and case, answering in "
        "lowercase); ties go to the letter that comes first in the alphabet; returns None if there is no letter",
        "def most_common_letter(text):\n"
        "    counts = {}\n"
        "    for c in text.lower():\n"
        "        if c.isalpha():\n"
        "            counts[c] = counts.get(c, 0) + 1\n"
        "    if not counts:\n"
        "        return None\n"
        "    return min(counts, key=lambda c: (-counts[c], c))\n",
        _cases(rng, lambda: (_sentence(rng, 4),), [("123 !",)]),
    )


@_template("string", 3)
def _anagrams(rng: random.Random) -> _Instance:
    def pair() -> tuple[str, str]:
        a = rng.choice(_WORDS)
        b = "".join(rng.sample(a, len(a))) if rng.random() < 0.5 else rng.choice(_WORDS)
        return (a, b.upper() if rng.random() < 0.3 else b)

    return _Instance(
        (), "are_anagrams", "a, b",
        "returns True if the strings `a` and `b` are anagrams of each other when spaces are removed and case "
        "is ignored, and False otherwise",
        "def are_anagrams(a, b):\n"
        "    def norm(s):\n"
        "        return sorted(s.replace(' ', '').lower())\n"
        "    return norm(a) == norm(b)\n",
        _cases(rng, pair, [("Dormitory", "dirty room")]),
    )


@_template("string", 3)
def _common_prefix(rng: random.Random) -> _Instance:
    def words() -> tuple[list[str]]:
        stem = _word(rng, 0, 4)
        return ([stem + _word(rng, 0, 3) for _ in range(rng.randint(1, 4))],)

    return _Instance(
        (), "longest_common_prefix", "words",
        "returns the longest string that is a prefix of every string in the list `words` (an empty string "
        "for an empty list)",
        "def longest_common_prefix(words):\n"
        "    if not words:\n"
        "        return ''\n"
        "    prefix = words[0]\n"
        "    for w in words[1:]:\n"
        "        while not w.startswith(prefix):\n"
        "            prefix = prefix[:-1]\n"
        "    return prefix\n",
        _cases(rng, words, [([],)]),
    )


# --- list family --------------------------------------------------------------------------------------


@_template("list", 1)
def _sum_multiples(rng: random.Random) -> _Instance:
    k = rng.randint(2, 9)
    return _Instance(
        (k,), f"sum_multiples_of_{k}", "numbers", f"returns the sum of the elements of `numbers` divisible by {k}",
        f"def sum_multiples_of_{k}(numbers):\n    return sum(x for x in numbers if x % {k} == 0)\n",
        _cases(rng, lambda: (_ints(rng),), [([],)]),
    )


@_template("list", 1)
def _count_above(rng: random.Random) -> _Instance:
    t = rng.randint(-5, 30)
    return _Instance(
        (t,), "count_above", "numbers", f"returns how many elements of `numbers` are strictly greater than {t}",
        f"def count_above(numbers):\n    return sum(1 for x in numbers if x > {t})\n",
        _cases(rng, lambda: (_ints(rng),), [([],)]),
    )


@_template("list", 1)
def _spread(rng: random.Random) -> _Instance:
    return _Instance(
        (), "value_spread", "numbers",
        "returns the difference between the largest and the smallest element of the non-empty list `numbers`",
        "def value_spread(numbers):\n    return max(numbers) - min(numbers)\n",
        _cases(rng, lambda: (_ints(rng),), [([7],)]),
    )


@_template("list", 1)
def _every_nth(rng: random.Random) -> _Instance:
    k = rng.randint(2, 4)
    return _Instance(
        (k,), "every_nth", "items",
        f"returns every {k}th element of the list `items`, starting with the first one (index 0)",
        f"def every_nth(items):\n    return items[::{k}]\n",
        _cases(rng, lambda: (_ints(rng, 0, 9, 10),), [([],)]),
    )


@_template("list", 2)
def _dedupe(rng: random.Random) -> _Instance:
    return _Instance(
        (), "unique_in_order", "items",
        "returns the elements of the list `items` with repeats removed, keeping the first occurrence of "
        "each in its original order",
        "def unique_in_order(items):\n"
        "    seen = set()\n"
        "    out = []\n"
        "    for x in items:\n"
        "        if x not in seen:\n"
        "            seen.add(x)\n"
        "            out.append(x)\n"
        "    return out\n",
        _cases(rng, lambda: (_ints(rng, 0, 5, 10),), [([],)]),
    )


@_template("list", 2)
def _running_sum(rng: random.Random) -> _Instance:
    return _Instance(
        (), "running_totals", "numbers",
        "returns the list of running totals of `numbers`: element i is the sum of the first i + 1 elements",
        "def running_totals(numbers):\n"
        "    out = []\n"
        "    total = 0\n"
        "    for x in numbers:\n"
        "        total += x\n"
        "        out.append(total)\n"
        "    return out\n",
        _cases(rng, lambda: (_ints(rng),), [([],)]),
    )


@_template("list", 2)
def _chunks(rng: random.Random) -> _Instance:
    k = rng.randint(2, 4)
    return _Instance(
        (k,), f"chunks_of_{k}", "items",
        f"splits the list `items` into consecutive sublists of {k} elements (the last one may be shorter) and "
        "returns the list of sublists",
        f"def chunks_of_{k}(items):\n    return [items[i:i + {k}] for i in range(0, len(items), {k})]\n",
        _cases(rng, lambda: (_ints(rng, 0, 9, 9),), [([],)]),
    )


@_template("list", 2)
def _rotate(rng: random.Random) -> _Instance:
    direction = rng.choice(["left", "right"])
    body = "items[k:] + items[:k]" if direction == "left" else "items[-k:] + items[:-k]"
    return _Instance(
        (direction,), f"rotate_{direction}", "items, k",
        f"returns the list `items` rotated {direction} by `k` positions (k may exceed the length; an empty list "
        "stays empty)",
        f"def rotate_{direction}(items, k):\n"
        "    if not items:\n"
        "        return []\n"
        "    k %= len(items)\n"
        f"    return {body}\n",
        _cases(rng, lambda: (_ints(rng, 0, 9), rng.randint(0, 10)), [([], 3)]),
    )


@_template("list", 3)
def _longest_run(rng: random.Random) -> _Instance:
    kind = rng.choice(["increasing", "decreasing"])
    op = ">" if kind == "increasing" else "<"
    return _Instance(
        (kind,), f"longest_{kind}_run", "numbers",
        f"returns the length of the longest contiguous strictly {kind} run in `numbers` (0 for an empty list)",
        f"def longest_{kind}_run(numbers):\n"
        "    best = 0\n"
        "    current = 0\n"
        "    for i, x in enumerate(numbers):\n"
        f"        current = current + 1 if i > 0 and x {op} numbers[i - 1] else 1\n"
        "        best = max(best, current)\n"
        "    return best\n",
        _cases(rng, lambda: (_ints(rng, 0, 9, 10),), [([],)]),
    )


@_template("list", 3)
def _second_largest(rng: random.Random) -> _Instance:
    return _Instance(
        (), "second_largest", "numbers",
        "returns the second largest distinct value in `numbers`, or None when there are fewer than two "
        "distinct values",
        "def second_largest(numbers):\n"
        "    values = sorted(set(numbers))\n"
        "    return values[-2] if len(values) >= 2 else None\n",
        _cases(rng, lambda: (_ints(rng, 0, 9),), [([4, 4],)]),
    )


@_template("list", 3)
def _merge_sorted(rng: random.Random) -> _Instance:
    return _Instance(
        (), "merge_sorted", "a, b",
        "merges the two ascending lists `a` and `b` into one ascending list without calling sort or sorted",
        "def merge_sorted(a, b):\n"
        "    out = []\n"
        "    i = j = 0\n"
        "    while i < len(a) and j < len(b):\n"
        "        if a[i] <= b[j]:\n"
        "            out.append(a[i])\n"
        "            i += 1\n"
        "        else:\n"
        "            out.append(b[j])\n"
        "            j += 1\n"
        "    return out + a[i:] + b[j:]\n",
        _cases(rng, lambda: (sorted(_ints(rng)), sorted(_ints(rng))), [([], [1, 2])]),
    )


@_template("list", 3)
def _pair_sums(rng: random.Random) -> _Instance:
    target = rng.randint(5, 15)
    return _Instance(
        (target,), f"pairs_summing_to_{target}", "numbers",
        f"returns the sorted list of all pairs (i, j) of indices with i < j such that numbers[i] + numbers[j] "
        f"equals {target}, each pair as a tuple",
        f"def pairs_summing_to_{target}(numbers):\n"
        "    return [(i, j) for i in range(len(numbers)) for j in range(i + 1, len(numbers))\n"
        f"            if numbers[i] + numbers[j] == {target}]\n",
        _cases(rng, lambda: (_ints(rng, 0, target, 7),), [([],)]),
    )


# --- arithmetic family --------------------------------------------------------------------------------


@_template("arithmetic", 1)
def _digit_sum(rng: random.Random) -> _Instance:
    return _Instance(
        (), "digit_sum", "n", "returns the sum of the decimal digits of the non-negative integer `n`",
        "def digit_sum(n):\n    return sum(int(d) for d in str(n))\n",
        _cases(rng, lambda: (rng.randint(0, 10**6),), [(0,)]),
    )


@_template("arithmetic", 1)
def _sum_range_multiples(rng: random.Random) -> _Instance:
    k = rng.randint(2, 9)
    return _Instance(
        (k,), f"sum_of_multiples_{k}", "n", f"returns the sum of the integers from 1 to `n` inclusive that are "
        f"multiples of {k}",
        f"def sum_of_multiples_{k}(n):\n    return sum(i for i in range(1, n + 1) if i % {k} == 0)\n",
        _cases(rng, lambda: (rng.randint(1, 100),), [(0,)]),
    )


@_template("arithmetic", 1)
def _gcd(rng: random.Random) -> _Instance:
    return _Instance(
        (), "greatest_common_divisor", "a, b",
        "returns the greatest common divisor of the positive integers `a` and `b` without importing math",
        "def greatest_common_divisor(a, b):\n"
        "    while b:\n"
        "        a, b = b, a % b\n"
        "    return a\n",
        _cases(rng, lambda: (rng.randint(1, 200), rng.randint(1, 200))),
    )


@_template("arithmetic", 1)
def _clamp(rng: random.Random) -> _Instance:
    lo = rng.randint(-10, 10)
    hi = lo + rng.randint(1, 30)
    return _Instance(
        (lo, hi), "clamp", "x", f"returns `x` limited to the range {lo} to {hi}: values below {lo} become {lo} and "
        f"values above {hi} become {hi}",
        f"def clamp(x):\n    return max({lo}, min({hi}, x))\n",
        _cases(rng, lambda: (rng.randint(lo - 20, hi + 20),)),
    )


@_template("arithmetic", 2)
def _count_primes(rng: random.Random) -> _Instance:
    return _Instance(
        (), "count_primes_up_to", "n", "returns how many prime numbers are less than or equal to `n`",
        "def count_primes_up_to(n):\n"
        "    count = 0\n"
        "    for k in range(2, n + 1):\n"
        "        if all(k % d for d in range(2, int(k ** 0.5) + 1)):\n"
        "            count += 1\n"
        "    return count\n",
        _cases(rng, lambda: (rng.randint(2, 300),), [(0,), (1,)]),
    )


@_template("arithmetic", 2)
def _sequence(rng: random.Random) -> _Instance:
    a, b = rng.randint(0, 5), rng.randint(1, 5)
    return _Instance(
        (a, b), "nth_term", "n",
        f"returns term `n` (counting from 0) of the sequence that starts {a}, {b} and in which every later term "
        "is the sum of the two before it",
        "def nth_term(n):\n"
        f"    x, y = {a}, {b}\n"
        "    for _ in range(n):\n"
        "        x, y = y, x + y\n"
        "    return x\n",
        _cases(rng, lambda: (rng.randint(2, 30),), [(0,), (1,)]),
    )


@_template("arithmetic", 2)
def _digital_root(rng: random.Random) -> _Instance:
    return _Instance(
        (), "digital_root", "n",
        "repeatedly replaces the non-negative integer `n` by the sum of its digits until a single digit "
        "remains, and returns that digit",
        "def digital_root(n):\n"
        "    while n >= 10:\n"
        "        n = sum(int(d) for d in str(n))\n"
        "    return n\n",
        _cases(rng, lambda: (rng.randint(0, 10**7),), [(0,)]),
    )


@_template("arithmetic", 2)
def _divisor_count(rng: random.Random) -> _Instance:
    proper = rng.random() < 0.5
    return _Instance(
        (proper,), "sum_proper_divisors" if proper else "count_divisors", "n",
        "returns the sum of the divisors of the positive integer `n` that are smaller than `n`" if proper
        else "returns how many positive divisors the positive integer `n` has",
        ("def sum_proper_divisors(n):\n    return sum(d for d in range(1, n) if n % d == 0)\n" if proper
         else "def count_divisors(n):\n    return sum(1 for d in range(1, n + 1) if n % d == 0)\n"),
        _cases(rng, lambda: (rng.randint(1, 500),), [(1,)]),
    )


@_template("arithmetic", 3)
def _to_base(rng: random.Random) -> _Instance:
    base = rng.randint(2, 9)
    return _Instance(
        (base,), f"to_base_{base}", "n", f"returns the non-negative integer `n` written in base {base} as a string "
        "of digits, without calling bin, oct or format",
        f"def to_base_{base}(n):\n"
        "    if n == 0:\n"
        "        return '0'\n"
        "    digits = []\n"
        "    while n:\n"
        f"        digits.append(str(n % {base}))\n"
        f"        n //= {base}\n"
        "    return ''.join(reversed(digits))\n",
        _cases(rng, lambda: (rng.randint(1, 5000),), [(0,)]),
    )


@_template("arithmetic", 3)
def _collatz(rng: random.Random) -> _Instance:
    return _Instance(
        (), "collatz_steps", "n",
        "returns the number of steps the Collatz process needs to reach 1 from the positive integer `n` "
        "(halve an even number, replace an odd number x by 3 * x + 1)",
        "def collatz_steps(n):\n"
        "    steps = 0\n"
        "    while n != 1:\n"
        "        n = n // 2 if n % 2 == 0 else 3 * n + 1\n"
        "        steps += 1\n"
        "    return steps\n",
        _cases(rng, lambda: (rng.randint(2, 1000),), [(1,)]),
    )


@_template("arithmetic", 3)
def _isqrt(rng: random.Random) -> _Instance:
    return _Instance(
        (), "integer_sqrt", "n",
        "returns the largest integer r with r * r <= n for the non-negative integer `n`, using only integer "
        "arithmetic",
        "def integer_sqrt(n):\n"
        "    lo, hi = 0, n + 1\n"
        "    while hi - lo > 1:\n"
        "        mid = (lo + hi) // 2\n"
        "        if mid * mid <= n:\n"
        "            lo = mid\n"
        "        else:\n"
        "            hi = mid\n"
        "    return lo\n",
        _cases(rng, lambda: (rng.randint(0, 10**9),), [(0,), (15,)]),
    )


@_template("arithmetic", 3)
def _digit_filter_count(rng: random.Random) -> _Instance:
    d = rng.randint(1, 9)
    return _Instance(
        (d,), f"count_numbers_with_{d}", "n",
        f"returns how many integers from 1 to `n` inclusive contain the digit {d} at least once",
        f"def count_numbers_with_{d}(n):\n    return sum(1 for i in range(1, n + 1) if {str(d)!r} in str(i))\n",
        _cases(rng, lambda: (rng.randint(1, 2000),), [(0,)]),
    )


# --- dict family --------------------------------------------------------------------------------------


@_template("dict", 1)
def _word_counts(rng: random.Random) -> _Instance:
    return _Instance(
        (), "word_counts", "text",
        "returns a dictionary mapping each word of `text` (split on whitespace) to the number of times it occurs",
        "def word_counts(text):\n"
        "    counts = {}\n"
        "    for w in text.split():\n"
        "        counts[w] = counts.get(w, 0) + 1\n"
        "    return counts\n",
        _cases(rng, lambda: (_sentence(rng, 8),), [("",)]),
    )


@_template("dict", 1)
def _invert(rng: random.Random) -> _Instance:
    def mapping() -> tuple[dict[str, int]]:
        keys = rng.sample(_WORDS, rng.randint(1, 5))
        return ({k: i * rng.randint(1, 3) for i, k in enumerate(keys)},)

    return _Instance(
        (), "invert_dict", "d",
        "returns a new dictionary with the keys and values of `d` swapped (the values of `d` are distinct)",
        "def invert_dict(d):\n    return {v: k for k, v in d.items()}\n",
        _cases(rng, mapping, [({},)]),
    )


@_template("dict", 1)
def _lookup_default(rng: random.Random) -> _Instance:
    default = rng.choice([0, -1, "missing", None])
    return _Instance(
        (default,), "lookup", "d, key",
        f"returns the value stored under `key` in the dictionary `d`, or {default!r} when the key is absent",
        f"def lookup(d, key):\n    return d.get(key, {default!r})\n",
        _cases(rng, lambda: _lookup_case(rng, rng.random() < 0.5), [_lookup_case(rng, True), _lookup_case(rng, False)]),
    )


def _lookup_case(rng: random.Random, present: bool) -> tuple[dict[str, int], str]:
    words = rng.sample(_WORDS, 4)
    d = {w: len(w) for w in words[:3]}
    return d, rng.choice(words[:3]) if present else words[3]


@_template("dict", 2)
def _group_by_initial(rng: random.Random) -> _Instance:
    by_length = rng.random() < 0.5
    key = "len(w)" if by_length else "w[0]"
    what = "length" if by_length else "first letter"
    return _Instance(
        (by_length,), "group_by_length" if by_length else "group_by_initial", "words",
        f"returns a dictionary mapping each {what} to the list of words in `words` with that {what}, "
        "in their original order",
        f"def {'group_by_length' if by_length else 'group_by_initial'}(words):\n"
        "    groups = {}\n"
        "    for w in words:\n"
        f"        groups.setdefault({key}, []).append(w)\n"
        "    return groups\n",
        _cases(rng, lambda: (rng.sample(_WORDS, rng.randint(1, 6)),), [([],)]),
    )


@_template("dict", 2)
def _merge_sum(rng: random.Random) -> _Instance:
    def two() -> tuple[dict[str, int], dict[str, int]]:
        return (
            {w: rng.randint(1, 9) for w in rng.sample(_WORDS[:8], rng.randint(0, 4))},
            {w: rng.randint(1, 9) for w in rng.sample(_WORDS[:8], rng.randint(0, 4))},
        )

    return _Instance(
        (), "merge_counts", "a, b",
        "returns a new dictionary holding every key of the dictionaries `a` and `b`; a key in both gets the sum "
        "of its two values",
        "def merge_counts(a, b):\n"
        "    out = dict(a)\n"
        "    for k, v in b.items():\n"
        "        out[k] = out.get(k, 0) + v\n"
        "    return out\n",
        _cases(rng, two),
    )


@_template("dict", 2)
def _keys_above(rng: random.Random) -> _Instance:
    t = rng.randint(2, 8)
    return _Instance(
        (t,), "keys_above", "scores",
        f"returns the alphabetically sorted list of the keys of `scores` whose value is at least {t}",
        f"def keys_above(scores):\n    return sorted(k for k, v in scores.items() if v >= {t})\n",
        _cases(rng, lambda: ({w: rng.randint(0, 10) for w in rng.sample(_WORDS, rng.randint(1, 6))},), [({},)]),
    )


@_template("dict", 3)
def _top_k(rng: random.Random) -> _Instance:
    k = rng.randint(1, 3)
    return _Instance(
        (k,), f"top_{k}_words", "text",
        f"returns a list of the {k} most frequent words of `text` (split on whitespace), most frequent first, ties "
        "broken alphabetically; fewer if the text has fewer distinct words",
        f"def top_{k}_words(text):\n"
        "    counts = {}\n"
        "    for w in text.split():\n"
        "        counts[w] = counts.get(w, 0) + 1\n"
        f"    return sorted(counts, key=lambda w: (-counts[w], w))[:{k}]\n",
        _cases(rng, lambda: (" ".join(rng.choice(_WORDS[:6]) for _ in range(rng.randint(1, 10))),), [("",)]),
    )


@_template("dict", 3)
def _group_anagrams(rng: random.Random) -> _Instance:
    def words() -> tuple[list[str]]:
        base = rng.sample(["listen", "stone", "evil", "dusty", "night"], 2)
        pool = base + ["silent", "notes", "vile", "study", "thing", "onset", "live"]
        return (rng.sample(pool, rng.randint(1, 6)),)

    return _Instance(
        (), "anagram_groups", "words",
        "returns a dictionary mapping each word's letters in sorted order (as a string) to the list of words of "
        "`words` made of exactly those letters, in their original order",
        "def anagram_groups(words):\n"
        "    groups = {}\n"
        "    for w in words:\n"
        "        groups.setdefault(''.join(sorted(w)), []).append(w)\n"
        "    return groups\n",
        _cases(rng, words, [([],)]),
    )


@_template("dict", 3)
def _nested_depth(rng: random.Random) -> _Instance:
    def nested(depth: int) -> Any:
        if depth == 0 or rng.random() < 0.3:
            return rng.randint(0, 9)
        return {rng.choice("abc"): nested(depth - 1) for _ in range(rng.randint(1, 2))}

    return _Instance(
        (), "dict_depth", "value",
        "returns how deeply dictionaries are nested in `value`: 0 for a value that is not a dictionary, 1 for a "
        "dictionary with no dictionary values, and 1 plus the deepest value's depth otherwise",
        "def dict_depth(value):\n"
        "    if not isinstance(value, dict):\n"
        "        return 0\n"
        "    return 1 + max((dict_depth(v) for v in value.values()), default=0)\n",
        _cases(rng, lambda: (nested(4),), [({},), (5,)]),
    )


@_template("dict", 3)
def _letter_positions(rng: random.Random) -> _Instance:
    return _Instance(
        (), "letter_positions", "word",
        "returns a dictionary mapping each distinct character of `word` to the sorted list of indices where it "
        "occurs",
        "def letter_positions(word):\n"
        "    positions = {}\n"
        "    for i, c in enumerate(word):\n"
        "        positions.setdefault(c, []).append(i)\n"
        "    return positions\n",
        _cases(rng, lambda: (rng.choice(_WORDS),), [("",)]),
    )


# --- assembly -----------------------------------------------------------------------------------------


def _stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _split_of(template: _Template, instance: _Instance) -> str:
    key = f"{template.key}:{instance.params!r}:{instance.inputs!r}"
    return "heldout" if _stable_hash(key) % HELDOUT_ONE_IN == 0 else "train"


def _asserts(instance: _Instance) -> tuple[str, ...]:
    namespace: dict[str, Any] = {}
    exec(compile(instance.code, f"<builtin {instance.name}>", "exec"), namespace)  # noqa: S102 - our own templates
    function = namespace[instance.name]
    statements = []
    for args in instance.inputs:
        expected = function(*args)
        statements.append(f"assert {instance.name}({', '.join(map(repr, args))}) == {expected!r}")
    return tuple(statements)


def _task(template: _Template, instance: _Instance, rng: random.Random, split: str) -> Task:
    call = f"{instance.name}({instance.args})"
    prompt = rng.choice(_PHRASINGS).format(call=call, name=instance.name, desc=instance.desc)
    asserts = _asserts(instance)
    prompt += f" For example: `{asserts[-1].removeprefix('assert ')}`."
    digest = hashlib.sha256(prompt.encode()).hexdigest()[:10]
    return Task(
        task_id=f"builtin/{template.family}/{template.key}/{digest}",
        prompt=prompt,
        entry_point=instance.name,
        canonical_solution=instance.code,
        test_asserts=asserts,
        split=split,
    )


def template_keys(levels: Sequence[int] = LEVELS) -> list[tuple[str, str, int]]:
    """(key, family, level) of every template at ``levels``."""
    return [(t.key, t.family, t.level) for t in _TEMPLATES if t.level in levels]


def generate_python_tasks(
    n: int,
    seed: int = 0,
    levels: Sequence[int] = LEVELS,
    families: Sequence[str] = FAMILIES,
    split: str = "train",
) -> list[Task]:
    """``n`` distinct tasks (distinct prompts) of ``split`` ("train" or "heldout"), the same for the same
    arguments; families and levels are drawn in turn so that each is covered evenly."""
    if split not in SPLITS:
        raise ExecrlError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
    unknown = sorted(set(levels) - set(LEVELS)) + sorted(set(families) - set(FAMILIES))
    if unknown:
        raise ExecrlError(f"unknown levels or families {unknown}: levels are {LEVELS}, families {FAMILIES}")
    groups = [
        [t for t in _TEMPLATES if t.family == family and t.level == level]
        for family in families
        for level in levels
    ]
    groups = [g for g in groups if g]
    if n > 0 and not groups:
        raise ExecrlError("no task templates for these levels and families")
    rng = random.Random(seed)
    tasks: list[Task] = []
    prompts: set[str] = set()
    attempts = 0
    while len(tasks) < n:
        attempts += 1
        if attempts > 200 * n + 1000:
            raise ExecrlError(
                f"only {len(tasks)} distinct {split} tasks could be generated at levels {list(levels)}; ask for fewer"
            )
        template = rng.choice(groups[len(tasks) % len(groups)])
        instance = template.build(rng)
        if _split_of(template, instance) != split:
            continue
        task = _task(template, instance, rng, split)
        if task.prompt not in prompts:
            prompts.add(task.prompt)
            tasks.append(task)
    return tasks
