#!/usr/bin/env python3
"""Checks that every #include "..." in agent/ and k8s/ runs down the stage graph.

The graph is the one the build enforces: the vigil_stage(NAME DEPS ...) calls
in CMakeLists.txt (docs/layout.md draws it).  A file in agent/NAME/ may
include headers of its own folder and of the stages NAME depends on, directly
or through other stages; k8s/ (the client library) includes only itself.
The compiler already refuses most upward includes (each stage's include path
holds only its own folder and the stages below); this check also catches the
ones a build would let through by accident (a header found through a test's
or a tool's wider include path, a folder that no stage builds, two headers
of the same name) and says which rule was broken.

    tests/unit/check_layout.py [SOURCE_DIR]         check, exit 1 on a violation
    tests/unit/check_layout.py --dot [SOURCE_DIR]   print the graph (Graphviz)
"""
import os
import re
import sys

# pseudo-stages: libraries outside agent/ that stages may depend on
EXTERNAL = {"k8s": "k8s", "bpf": "bpf"}
# headers generated into the build tree, and the stage that owns each
GENERATED = {"version.h": "base", "vmlinux.h": "capture"}
GENERATED_SUFFIX = {".skel.h": "capture"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
STAGE_CALL = re.compile(r"^\s*vigil_stage\(([^)]*)\)", re.M)


def read_stages(src):
    """Returns [(name, [deps])] in declaration order from CMakeLists.txt."""
    with open(os.path.join(src, "CMakeLists.txt")) as f:
        text = f.read()
    stages = []
    for m in STAGE_CALL.finditer(text):
        words = m.group(1).split()
        if not words or words[0] == "name":  # the function's own definition
            continue
        deps, mode = [], None
        for w in words[1:]:
            if w in ("DEPS", "LIBS", "SOURCES"):
                mode = w
            elif mode == "DEPS":
                deps.append(w)
        stages.append((words[0], deps))
    return stages


def closure(stages):
    """Stage -> the set of stages it may include from, itself included.
    Fails on a dependency that is unknown or declared later (a cycle, or an
    edge that only works by accident of order)."""
    below, errors = {}, []
    for name, deps in stages:
        allowed = {name}
        for d in deps:
            if d in EXTERNAL:
                allowed.add(d)
            elif d in below:
                allowed |= below[d]
            else:
                errors.append(f"CMakeLists.txt: stage {name} depends on {d}, "
                              "which is not a stage declared before it")
        below[name] = allowed
    return below, errors


def header_index(src, stage_names):
    """Header basename -> stage, for every header in agent/*/, k8s/, bpf/."""
    index, errors = {}, []
    dirs = [(os.path.join("agent", s), s) for s in stage_names]
    dirs += [(d, d) for d in EXTERNAL.values()]
    for rel, stage in dirs:
        full = os.path.join(src, rel)
        if not os.path.isdir(full):
            continue
        for fn in sorted(os.listdir(full)):
            if not fn.endswith(".h"):
                continue
            if fn in index:
                errors.append(f"{rel}/{fn}: a header of the same name is in "
                              f"{index[fn][1]}/ (bare #includes would be ambiguous)")
            index[fn] = (stage, rel)
    return index, errors


def owner(name, index):
    base = os.path.basename(name)
    if base in index and "/" not in name:
        return index[base][0]
    if base in GENERATED and "/" not in name:
        return GENERATED[base]
    for suffix, stage in GENERATED_SUFFIX.items():
        if base.endswith(suffix) and "/" not in name:
            return stage
    return None


def check(src):
    stages = read_stages(src)
    if not stages:
        return ["CMakeLists.txt: no vigil_stage() calls found"]
    names = [n for n, _ in stages]
    below, errors = closure(stages)
    index, errs = header_index(src, names)
    errors += errs

    agent = os.path.join(src, "agent")
    for d in sorted(os.listdir(agent)):
        if os.path.isdir(os.path.join(agent, d)) and d not in names:
            errors.append(f"agent/{d}/: a folder no vigil_stage() builds")
    for fn in sorted(os.listdir(agent)):
        if fn.endswith((".c", ".cc", ".h")):
            errors.append(f"agent/{fn}: outside every stage folder")

    files = [(os.path.join("agent", s), s) for s in names] + [("k8s", "k8s")]
    allowed_of = dict(below)
    allowed_of["k8s"] = {"k8s"}
    for rel, stage in files:
        full = os.path.join(src, rel)
        if not os.path.isdir(full):
            continue
        for fn in sorted(os.listdir(full)):
            if not fn.endswith((".c", ".cc", ".h")):
                continue
            with open(os.path.join(full, fn), errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    inc = m.group(1)
                    where = f"{rel}/{fn}:{lineno}"
                    target = owner(inc, index)
                    if target is None:
                        errors.append(f'{where}: #include "{inc}": not a header of '
                                      "any stage (include headers by bare name)")
                    elif target not in allowed_of[stage]:
                        ok = " ".join(sorted(allowed_of[stage] - {stage}))
                        errors.append(f'{where}: #include "{inc}" reaches up or across '
                                      f"to stage {target}; {stage} may include only its "
                                      f"own headers and: {ok or 'nothing else'}")
    return errors


def dot(src):
    """The graph without the edges implied by others (its transitive
    reduction): what docs/layout.md draws."""
    stages = read_stages(src)
    below, _ = closure(stages)
    below.update({e: {e} for e in EXTERNAL})
    lines = ["digraph vigil_stages {", "  rankdir=BT; node [shape=box];"]
    for name, deps in stages:
        for d in deps:
            implied = any(d != o and d in below.get(o, ()) for o in deps)
            if not implied:
                lines.append(f"  {name} -> {d};")
    lines.append("}")
    return "\n".join(lines)


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    src = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                            "..", "..")
    if "--dot" in argv:
        print(dot(src))
        return 0
    errors = check(src)
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"check_layout: {len(errors)} include(s) against the stage graph "
              "(CMakeLists.txt vigil_stage, docs/layout.md)", file=sys.stderr)
        return 1
    print("check_layout: every #include in agent/ and k8s/ runs down the stage graph")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
