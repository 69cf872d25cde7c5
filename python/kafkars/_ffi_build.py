"""Generate kafkars/_ffi.py (cffi, out-of-line ABI mode) from capi/kafkars.h.

The header is the only source of the bindings: this script evaluates its
few preprocessor conditionals, keeps integer ``#define`` constants, drops
``#include`` lines and the C++ guards, and hands the rest to cffi. Run by
build.sh::

    python3 python/kafkars/_ffi_build.py capi/kafkars.h python/kafkars/_ffi.py
"""

from __future__ import annotations

import re
import sys

_DEFINE = re.compile(r"#\s*define\s+(\w+)(?:\s+(.*?))?\s*$")
_IFDEF = re.compile(r"#\s*(ifdef|ifndef)\s+(\w+)\s*$")
_IF = re.compile(r"#\s*if\s+(.*)$")


def _eval(cond: str, defined: set[str]) -> bool:
    expr = re.sub(r"defined\s*\(\s*(\w+)\s*\)", lambda m: str(m.group(1) in defined), cond)
    expr = expr.replace("&&", " and ").replace("||", " or ")
    expr = re.sub(r"!(?!=)", " not ", expr)
    if not re.fullmatch(r"[\sA-Za-z()]*", expr) or set(re.findall(r"\w+", expr)) - {"True", "False", "and", "or", "not"}:
        raise ValueError(f"unsupported #if in header: {cond!r}")
    return bool(eval(expr, {"__builtins__": {}}))  # noqa: S307 - checked above


def header_to_cdef(text: str, predefined: set[str] | None = None) -> str:
    """Return the cdef text for a header, evaluating its conditionals."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    defined = set(predefined or ())
    stack: list[tuple[bool, bool]] = []  # (parent active, this branch active)
    out: list[str] = []
    # join continuation lines
    lines = text.replace("\\\n", " ").splitlines()
    for raw in lines:
        line = raw.strip()
        active = all(a for _, a in stack)
        if line.startswith("#"):
            if m := _IFDEF.match(line):
                val = (m.group(2) in defined) == (m.group(1) == "ifdef")
                stack.append((active, val))
            elif m := _IF.match(line):
                stack.append((active, _eval(m.group(1), defined)))
            elif re.match(r"#\s*else", line):
                parent, val = stack.pop()
                stack.append((parent, not val))
            elif re.match(r"#\s*endif", line):
                stack.pop()
            elif active and (m := _DEFINE.match(line)):
                name, value = m.group(1), m.group(2)
                defined.add(name)
                if value is not None and re.fullmatch(r"-?\d+", value):
                    out.append(f"#define {name} {value}")
            # #include and anything else: dropped
            continue
        if active:
            out.append(raw)
    if stack:
        raise ValueError("unbalanced #if/#endif in header")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    header, target = argv[1], argv[2]
    from cffi import FFI

    with open(header, encoding="utf-8") as f:
        cdef = header_to_cdef(f.read())
    ffi = FFI()
    ffi.cdef(cdef)
    ffi.set_source("kafkars._ffi", None)
    ffi.emit_python_code(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
