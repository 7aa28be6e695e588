"""How the bootstrap gets run inside the target.

- Python 3.14 and later: ``sys.remote_exec(pid, path)`` (PEP 768), called by the
  target's own interpreter; the target runs the file at its next safe point.
- Before: gdb attaches for a moment and queues the file with ``Py_AddPendingCall``,
  which the interpreter's main thread runs at its next safe point, holding the GIL,
  outside any signal handler. gdb detaches at once (``--batch``); a gdb that does not
  finish is killed, which detaches it too, and a target left stopped is continued.
  Where gdb cannot restore the vector registers after a call, the call waits for a
  thread at a safe point (:func:`gdb_script`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from typing import List

from ..errors import PTRACE_DENIED, InjectError
from .process import TargetProcess, ptrace_hint, stat_fields

#: The queued code: runs the bootstrap file, and does nothing (quietly) once it is gone.
_PENDING = 'try:\n    exec(open("{path}").read(), {{"__name__": "dbgrelay_inject"}})\nexcept BaseException:\n    pass\n'


def _c_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


#: gdb's Python: queue the call, where restoring the registers after it is exact.
_GDB_SCRIPT = """\
import os, signal, threading
import gdb

CALL = {call!r}
CODE = {code!r}
gdb.execute("set confirm off")
gdb.execute("set pagination off")


def vector_registers_writable():
    # rewrite one bit of xmm0 and put it back: fails, changing nothing, where the
    # kernel refuses gdb's write of the extended register state
    try:
        gdb.execute("set $xmm0.v4_int32[0] = $xmm0.v4_int32[0] ^ 1")
        gdb.execute("set $xmm0.v4_int32[0] = $xmm0.v4_int32[0] ^ 1")
        return True
    except gdb.error:
        return False


REGISTERS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags")


def value(expression):
    return int(gdb.parse_and_eval(expression)) & 0xFFFFFFFFFFFFFFFF


def run_until(arrived, seconds):
    # continue until arrived() holds, at most ``seconds`` (then a SIGSTOP, which is not
    # passed on, ends the wait); True when it held
    fired = []
    timer = threading.Timer(seconds, lambda: (fired.append(True), os.kill({pid}, signal.SIGSTOP)))
    timer.start()
    try:
        while True:
            gdb.execute("continue")
            if arrived():
                return True
            if fired:
                return False
    finally:
        timer.cancel()
        timer.join()


def call_at_entry(thread, entry, function, *args):
    # a call made with the general registers only, from the entry of a function where
    # ``thread`` stopped (so no vector register is live), returning to that entry;
    # other threads run meanwhile (a lock the call needs is never held by a stopped one)
    top = (value("$rsp") - 512) & ~0xF  # below the red zone; rsp + 8 aligned at entry
    gdb.selected_inferior().write_memory(top - 8, entry.to_bytes(8, "little"))
    gdb.execute("set $rsp = %d" % (top - 8))
    for register, argument in zip(("rdi", "rsi"), args):
        gdb.execute("set $%s = %d" % (register, argument))
    gdb.execute("set $rip = %d" % function)
    back = run_until(lambda: gdb.selected_thread().ptid == thread.ptid and value("$pc") == entry, {call_s!r})
    thread.switch()
    if not back:
        # rewound below while the call may hold a lock of malloc's or of the pending calls
        print("DBGRELAY_CALL_ABANDONED")
        raise gdb.GdbError("the call did not come back")
    return value("$rax")


if vector_registers_writable():
    gdb.execute(CALL)
elif {wait_s!r} <= 0:
    print("DBGRELAY_NO_SAFE_POINT")
else:
    print("DBGRELAY_VECTOR_STATE_READ_ONLY")
    # other signals go to the program as they come, without stopping gdb's waits
    gdb.execute("handle all nostop noprint pass")
    gdb.execute("handle SIGINT nostop noprint pass")
    gdb.execute("handle SIGSTOP stop print nopass")
    point = gdb.Breakpoint("*PyEval_RestoreThread", internal=True)
    try:
        entry = value("(long)&PyEval_RestoreThread")
        if not run_until(lambda: value("$pc") == entry, {wait_s!r}):
            print("DBGRELAY_NO_SAFE_POINT")
        else:
            thread = gdb.selected_thread()
            point.thread = thread.global_num  # the other threads pass the entry freely meanwhile
            saved = dict((register, value("$" + register)) for register in REGISTERS)
            try:
                text = CODE.encode("utf-8") + b"\\0"
                copy = call_at_entry(thread, entry, value("(long)&malloc"), len(text))
                if copy == 0:
                    raise gdb.GdbError("malloc failed")
                gdb.selected_inferior().write_memory(copy, text)
                queued = call_at_entry(thread, entry, value("(long)&Py_AddPendingCall"), value("(long)&PyRun_SimpleString"), copy)
                print("DBGRELAY_QUEUED_AT_SAFE_POINT %d" % (queued & 0xFFFFFFFF))
            finally:
                thread.switch()
                for register in REGISTERS:
                    gdb.execute("set $%s = %d" % (register, saved[register]))
    finally:
        point.delete()
gdb.execute("detach")
"""


def gdb_script(pid: int, bootstrap: str, safe_point_wait_s: float) -> str:
    """gdb's Python script that queues ``bootstrap`` in ``pid`` and detaches.

    The call normally runs wherever the threads were stopped: gdb restores every
    register after it, a system call it interrupted included. Where the kernel refuses
    gdb's write of the extended (vector) register state (gdb 13 on a CPU with AMX: the
    kernel wants the whole XSAVE area, larger than gdb's buffer), a gdb ``call`` cannot
    run at all, and the registers it half wrote make an interrupted system call of the
    program fail (errno 514) instead of restarting. The script then calls by hand, with
    the general registers only, at a safe point: the first instruction of
    ``PyEval_RestoreThread``, reached by a thread coming back from a blocking call,
    outside any system call and where the calling convention keeps no vector register
    live. The string is copied to ``malloc``'d memory; the other threads run meanwhile
    (so no lock the calls need stays held by a stopped thread), and signals reach the
    program as usual; every general register is put back. Each wait (for a safe point,
    for each call) ends after ``safe_point_wait_s``: a process in which no thread gets
    there is left as it was. ``0`` skips that path.
    """
    pending = _PENDING.format(path=bootstrap)
    call = f'call (int)Py_AddPendingCall((int(*)(void*))PyRun_SimpleString, (void*)strdup("{_c_string(pending)}"))'
    return _GDB_SCRIPT.format(call=call, code=pending, wait_s=float(safe_point_wait_s), call_s=float(safe_point_wait_s), pid=int(pid))


def gdb_command(pid: int, script_path: str) -> List[str]:
    """The gdb command line that runs ``script_path`` (:func:`gdb_script`) on ``pid``."""
    return ["gdb", "-nx", "-nh", "--batch", "-p", str(pid), "-x", script_path]


def _stop_gdb(process: "subprocess.Popen[str]") -> None:
    """Ends a gdb that ran out of time: SIGTERM first (gdb then detaches, taking its
    breakpoints out of the program), SIGKILL only if it does not end within 2 s."""
    process.terminate()
    try:
        process.communicate(timeout=2)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


def _continue_if_stopped(pid: int) -> None:
    """A tracer that died may leave its tracee stopped: continue it."""
    try:
        state = stat_fields(pid)[0]
    except (OSError, IndexError):
        return
    if state in ("T", "t"):
        try:
            os.kill(pid, signal.SIGCONT)
        except OSError:
            pass


def run_with_gdb(target: TargetProcess, bootstrap: str, timeout: float) -> None:
    """Queue the bootstrap through gdb; raises :class:`InjectError` when gdb could not."""
    gdb = shutil.which("gdb")
    if gdb is None:
        raise InjectError("gdb is needed to start the agent in a process before Python 3.14: install it (Debian/Ubuntu: apt-get install gdb)")
    # gdb's own waits (for a safe point, then for each call) end well inside the time it
    # is given: a gdb killed while its breakpoint is in the program would leave it there
    wait_s = min(5.0, 0.25 * timeout) if timeout >= 2.0 else 0.0
    with tempfile.TemporaryDirectory(prefix="dbgrelay-gdb-") as directory:
        script = os.path.join(directory, "queue.py")
        with open(os.open(script, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as handle:
            handle.write(gdb_script(target.pid, bootstrap, wait_s))
        gdb_process = subprocess.Popen(gdb_command(target.pid, script), stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        try:
            stdout, stderr = gdb_process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop_gdb(gdb_process)
            raise InjectError(f"gdb did not finish within {timeout:g} s; it was stopped, and process {target.pid} runs on unchanged") from None
        finally:
            _continue_if_stopped(target.pid)
            # a stop gdb asked for just before it detached may land a moment later
            time.sleep(0.05)
            _continue_if_stopped(target.pid)
    text = stdout + stderr
    if "DBGRELAY_CALL_ABANDONED" in text:
        raise InjectError(
            f"a call gdb made in process {target.pid} did not come back in time and was abandoned: the program may hold a lock it took; "
            "watch it, and restart it if it stops answering"
        )
    if "Operation not permitted" in text or "ptrace:" in text:
        raise InjectError(f"this user may not trace process {target.pid}: {ptrace_hint()}", code=PTRACE_DENIED)
    if "No symbol" in text:
        raise InjectError(f"gdb cannot find the interpreter's functions in process {target.pid} (a stripped or static build?); it runs on unchanged")
    if "DBGRELAY_NO_SAFE_POINT" in text:
        waited = f"no thread of process {target.pid} came back from a blocking call within {wait_s:g} s" if wait_s > 0 else "too little time was left to wait for one"
        raise InjectError(
            f"this kernel does not let gdb restore the vector registers after a call, so the agent's start is queued only at a safe point, and {waited}; "
            "nothing was changed: try again while the program is busy"
        )
    if "$1 = 0" not in text and "DBGRELAY_QUEUED_AT_SAFE_POINT 0" not in text:
        last = " ".join(text.strip().splitlines()[-3:])[:300]
        raise InjectError(f"gdb could not queue the agent's start in process {target.pid}: {last}")


def run_with_remote_exec(target: TargetProcess, bootstrap: str, timeout: float) -> None:
    """Queue the bootstrap with the target interpreter's ``sys.remote_exec`` (PEP 768)."""
    try:
        out = subprocess.run(
            [f"/proc/{target.pid}/exe", "-S", "-c", "import sys; sys.remote_exec(int(sys.argv[1]), sys.argv[2])", str(target.pid), bootstrap],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise InjectError(f"sys.remote_exec did not finish within {timeout:g} s; process {target.pid} runs on unchanged") from None
    if out.returncode != 0:
        text = out.stderr.strip().splitlines()[-1:] or ["no message"]
        code = PTRACE_DENIED if "ermission" in text[0] or "not permitted" in text[0] else None
        hint = f" ({ptrace_hint()})" if code else ""
        raise InjectError(f"sys.remote_exec into process {target.pid} failed: {text[0][:300]}{hint}", code=code)
