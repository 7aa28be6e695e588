"""The command line of ``python -m dbgrelay``, split as ``python -m debugpy`` splits it:
the agent's options come first; ``-m MODULE``, ``-c CODE`` or the first word that is
not an option starts the program, and everything after it is the program's, untouched
(``-m gunicorn -w 2 -b 127.0.0.1:8000 app:app``). :func:`run_program` then runs it
as ``python`` itself would."""

from __future__ import annotations

import argparse
import os
import runpy
import sys
import types
from dataclasses import dataclass, field
from typing import List, Optional, Tuple


@dataclass(frozen=True)
class Program:
    """What to run: ``kind`` is ``script``, ``module`` or ``code``; ``target`` the path,
    module name or code; ``args`` the program's own arguments."""

    kind: str
    target: str
    args: Tuple[str, ...] = field(default=())

    def argv(self) -> List[str]:
        """``sys.argv`` as Python itself would set it (runpy fills in a module's path)."""
        first = {"script": self.target, "module": self.target, "code": "-c"}[self.kind]
        return [first, *self.args]


#: Options that start the program, and its kind.
PROGRAM_OPTIONS = {"-m": "module", "-c": "code"}


def _takes_value(parser: argparse.ArgumentParser, option: str) -> bool:
    """True when ``option`` (a separate word, no ``=``) consumes the next word."""
    action = parser._option_string_actions.get(option)  # noqa: SLF001 - argparse has no public lookup
    if action is None:
        return False  # unknown: argparse reports it
    # nargs "?" options take a value only as --opt=VALUE, so a script name after them stays the script
    return action.nargs not in (0, "?")


def split_command_line(argv: List[str], parser: argparse.ArgumentParser) -> Tuple[List[str], Optional[Program]]:
    """The agent's option words, and the program (None when none was given)."""
    i = 0
    while i < len(argv):
        word = argv[i]
        for option, kind in PROGRAM_OPTIONS.items():
            if word == option:
                if i + 1 >= len(argv):
                    return argv[: i + 1], None  # argparse says the value is missing
                return argv[:i], Program(kind, argv[i + 1], tuple(argv[i + 2 :]))
            if word.startswith(option) and not word.startswith("--"):
                return argv[:i], Program(kind, word[len(option) :], tuple(argv[i + 1 :]))
        if word == "--":
            rest = argv[i + 1 :]
            return argv[:i], (Program("script", rest[0], tuple(rest[1:])) if rest else None)
        if not word.startswith("-") or word == "-":
            return argv[:i], Program("script", word, tuple(argv[i + 1 :]))
        i += 2 if "=" not in word and _takes_value(parser, word) else 1
    return argv, None


def run_program(program: Program) -> None:
    """Run ``program`` here, as ``python`` itself would run it."""
    sys.argv = program.argv()
    if program.kind == "module":
        runpy.run_module(program.target, run_name="__main__", alter_sys=True)
    elif program.kind == "code":
        main_module = types.ModuleType("__main__")
        sys.modules["__main__"] = main_module
        exec(compile(program.target, "<string>", "exec"), main_module.__dict__)  # noqa: S102 - what -c means
    else:
        sys.path[0] = os.path.dirname(os.path.abspath(program.target))
        runpy.run_path(program.target, run_name="__main__")
