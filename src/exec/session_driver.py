"""python-mcp session driver: one long-lived interpreter in the sandbox.

Requests arrive on the descriptor that was stdin, one JSON object a line:
{"seq": n, "code": "..."} runs code in the session's persistent __main__
namespace, REPL-style (the value of a final expression is returned as its
repr); {"interrupt": n} raises KeyboardInterrupt in run n.  The code's own
stdin is /dev/null.  After each run the driver writes a frame, MARKER +
JSON + newline, on stdout ({"seq", "exit_code", "value", "interrupted"})
and on stderr ({"seq"}), so the server knows where the run's output ends.

Everything here is untrusted by the server: code the session runs can
read the marker and forge frames, which can only confuse its own session.
"""
import ast
import builtins
import json
import linecache
import os
import queue
import sys
import threading
import traceback
import types
import _thread

MARKER = b"\x1e" + os.environ.pop("PYMCP_SESSION_TOKEN", "").encode() + b":"
VALUE_MAX = 65536

requests = queue.Queue()
lock = threading.Lock()
current = None  # the seq of the run under way
last_done = 0  # the seq of the last run that ended
early = set()  # runs interrupted before the main thread started them


def frame(fd, obj):
    data = MARKER + json.dumps(obj).encode() + b"\n"
    while data:
        data = data[os.write(fd, data):]


def flush():
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:
            pass


def settle(fn, *args):
    """fn(*args), again if a late interrupt (issued as the run ended) lands in it."""
    while True:
        try:
            return fn(*args)
        except KeyboardInterrupt:
            pass


def read_requests(fd):
    global current
    with os.fdopen(fd, "rb") as f:
        for line in f:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if not isinstance(msg, dict):
                continue
            if "interrupt" in msg:
                n = msg["interrupt"]
                with lock:
                    if current is not None and current == n:
                        _thread.interrupt_main()
                    elif isinstance(n, int) and n > last_done and len(early) < 64:
                        # Sent as the run was handed over, before the main
                        # thread took it up: it must not start at all.
                        early.add(n)
            else:
                requests.put(msg)
    requests.put(None)


def print_traceback(e):
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    traceback.print_exception(type(e), e, tb)


def execute(seq, code, ns):
    name = f"<run {seq}>"
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    tree = ast.parse(code, name, "exec")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, name, "exec"), ns)
    if last is None:
        return None
    value = eval(compile(last, name, "eval"), ns)
    if value is None:
        return None
    ns["_"] = value
    text = repr(value)
    if len(text) > VALUE_MAX:
        text = text[:VALUE_MAX] + f"... [{len(text) - VALUE_MAX} more characters]"
    return text


def run_one(msg, ns):
    global current
    seq, code = msg.get("seq"), msg.get("code")
    if not isinstance(seq, int) or not isinstance(code, str):
        return
    value, exit_code, interrupted = None, 0, False
    try:
        # Inside the try: an interrupt that lands as soon as `current` is
        # set still ends this run.
        with lock:
            current = seq
            stopped = seq in early
            early.discard(seq)
        if stopped:
            raise KeyboardInterrupt
        value = execute(seq, code, ns)
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            exit_code = e.code or 0
        else:
            print(e.code, file=sys.stderr)
            exit_code = 1
    except KeyboardInterrupt as e:
        interrupted, exit_code = True, 1
        print_traceback(e)
    except BaseException as e:
        exit_code = 1
        print_traceback(e)
    settle(_finish, seq, exit_code, value, interrupted)


def _finish(seq, exit_code, value, interrupted):
    global current, last_done
    with lock:
        current = None
        last_done = seq
        early.difference_update([n for n in early if n <= seq])
    flush()
    frame(1, {"seq": seq, "exit_code": exit_code, "value": value, "interrupted": interrupted})
    frame(2, {"seq": seq})


def main():
    # The requests' descriptor is the driver's alone: the code reads
    # /dev/null as its stdin, and subprocesses do not inherit it.
    fd = os.dup(0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    threading.Thread(target=read_requests, args=(fd,), daemon=True).start()
    main_module = types.ModuleType("__main__")
    main_module.__builtins__ = builtins
    sys.modules["__main__"] = main_module
    sys.argv = [""]
    sys.path[0] = ""  # as the REPL: the working directory first
    frame(1, {"ready": True, "python": sys.version.split()[0]})
    while True:
        try:
            msg = requests.get()
            if msg is None:
                break
            run_one(msg, main_module.__dict__)
        except KeyboardInterrupt:
            continue  # a late interrupt, between runs


main()
