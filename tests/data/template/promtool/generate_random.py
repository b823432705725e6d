#!/usr/bin/env python3
"""Differential oracle: random well-typed-ish templates (fixed seed) run through
promtool 2.42, recorded with what promtool printed (expansion, expansion error or
parse error). Same alert and series as generate.py.

Run from this directory: python3 generate_random.py [SEED COUNT] > ../promtool_random.json
(recorded: promtool_random.json seed 20261122 x 400; promtool_random2.json seed 7 x 600;
promtool_random3.json seed 99 x 600).
"""
import json
import os
import random
import re
import subprocess
import sys
import tempfile

from generate import go_unquote_map, rule_file

TERMS = ['$value', '$labels.instance', '$labels.job', '$labels.nope', '.Value', '1', '-2', '1.5',
         '0.25', '"abc"', '"1e3"', '""', 'true', 'false', 'nil', '(args 1 "a")', '(query "up")',
         '(query "up" | first)', '(query "nothing")', '$', '.Labels', '"host:9100"', '0', '1e6',
         '"2m30s"', '1234567.891', "'x'", '$labels', '(index (query "up") 0)']
# No query over several series: promtool's order for those varies from run to run.
FUNCS = {
    'humanize': [1], 'humanize1024': [1], 'humanizeDuration': [1], 'humanizePercentage': [1],
    'humanizeTimestamp': [1], 'toUpper': [1], 'toLower': [1], 'title': [1], 'len': [1],
    'not': [1], 'index': [2], 'eq': [2, 3], 'ne': [2], 'lt': [2], 'gt': [2], 'le': [2],
    'ge': [2], 'and': [2, 3], 'or': [2, 3], 'print': [1, 2, 3], 'println': [1, 2],
    'html': [1], 'js': [1], 'urlquery': [1, 2], 'stripPort': [1], 'reReplaceAll': [3],
    'match': [2], 'first': [1], 'value': [1], 'label': [2], 'slice': [1, 2, 3],
    'args': [0, 1, 2], 'parseDuration': [1], 'strvalue': [1], 'sortByLabel': [2],
}
FORMATS = ['"%v"', '"%d"', '"%s"', '"%.2f"', '"%5.1f"', '"%q"', '"%x"', '"%g"', '"%e"', '"%t"',
           '"%03d"', '"%-4s|"', '"%v %v"', '"%T"', '"%.3s"', '"%+d"', '"%8.3e"', '"%#x"', '"%o"',
           '"%c"', '"%U"', '"% d"', '"%6.2v"', '"%-8q|"', '"%X"', '"%#o"', '"%b"', '"%G"', '"%E"',
           '"%.0f%%"', '"%[2]v %[1]v"', '"%!"', '"%05.1f"', '"%+v"', '"%#v"', '"%10.3g|"']


def expr(rng, depth):
    roll = rng.random()
    if depth > 2 or roll < 0.35:
        return rng.choice(TERMS)
    if roll < 0.5:
        args = [expr(rng, depth + 1) for _ in range(rng.choice([1, 2]))]
        return f'(printf {rng.choice(FORMATS)} {" ".join(args)})'
    name = rng.choice(sorted(FUNCS))
    arity = rng.choice(FUNCS[name])
    if arity > 0 and rng.random() < 0.3:
        # Pipeline form: the last argument comes from the left.
        args = [expr(rng, depth + 1) for _ in range(arity - 1)]
        return f'({expr(rng, depth + 1)} | {name}{"".join(" " + a for a in args)})'
    args = [expr(rng, depth + 1) for _ in range(arity)]
    return f'({name}{"".join(" " + a for a in args)})'


def structural(rng):
    """Control flow, variables, definitions and trimming around simple expressions."""
    e = expr(rng, 1)[1:-1] if rng.random() < 0.5 else rng.choice(TERMS)
    f = rng.choice(TERMS)
    shapes = [
        f'{{{{ $x := {e} }}}}{{{{ if $x }}}}[{{{{ $x }}}}]{{{{ end }}}}',
        f'{{{{ $x := {f} }}}}{{{{ $x = {e} }}}}{{{{ $x }}}}',
        f'{{{{ range $i, $e := args {f} {e} 3 }}}}{{{{ if eq $i "arg1" }}}}{{{{ continue }}}}{{{{ end }}}}{{{{ $i }}}}={{{{ $e }}}};{{{{ end }}}}',
        f'{{{{ range $k, $v := $labels }}}}{{{{ if eq $k "job" }}}}{{{{ break }}}}{{{{ end }}}}{{{{ $k }}}}{{{{ end }}}}|{{{{ {e} }}}}',
        f'{{{{ define "d" }}}}<{{{{ . }}}}|{{{{ $ }}}}>{{{{ end }}}}{{{{ template "d" {e} }}}}',
        f'{{{{ block "b" {f} }}}}({{{{ . }}}}){{{{ end }}}}|{{{{ with {e} }}}}{{{{ . }}}}{{{{ end }}}}',
        f'a  {{{{- {e} -}}}}  b\n{{{{- /* c */ -}}}}\n c',
        f'{{{{ if and {f} {e} }}}}A{{{{ else if or {e} {f} }}}}B{{{{ else }}}}C{{{{ end }}}}',
        f'{{{{ with $y := {e} }}}}{{{{ $y }}}}{{{{ else }}}}none:{{{{ $ | len }}}}{{{{ end }}}}',
        f'line1\n{{{{ {e} }}}}\nline3 {{{{ {f} }}}}',
        f'{{{{ ({e}) }}}}|{{{{ print ({f}) ({e}) }}}}',
        f'{{{{ not {e} }}}}|{{{{ len (print {e}) }}}}|{{{{ printf "%T" {e} }}}}',
    ]
    return rng.choice(shapes)


def template(rng):
    if rng.random() < 0.4:
        return structural(rng)
    e = expr(rng, 0)
    inner = e[1:-1] if e.startswith('(') and e.endswith(')') else e
    shape = rng.random()
    if shape < 0.55:
        return f'{{{{ {inner} }}}}'
    if shape < 0.7:
        return f'{{{{ if {inner} }}}}yes{{{{ else }}}}no{{{{ end }}}}'
    if shape < 0.85:
        return f'{{{{ range $k, $v := {inner} }}}}[{{{{ $k }}}}={{{{ $v }}}}]{{{{ else }}}}empty{{{{ end }}}}'
    return f'{{{{ with {inner} }}}}<{{{{ . }}}}>{{{{ else }}}}none{{{{ end }}}}'


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 20261122
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    rng = random.Random(seed)
    templates = []
    seen = set()
    while len(templates) < count:
        t = template(rng)
        if t not in seen:
            seen.add(t)
            templates.append(t)
    results = []
    valid = []
    with tempfile.TemporaryDirectory() as tmp:
        for text in templates:
            path = os.path.join(tmp, "one.yml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(rule_file([("t", text)]))
            res = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
            if res.returncode == 0:
                valid.append(text)
            else:
                marker = 'annotation "t": '
                line = next(l for l in (res.stdout + res.stderr).splitlines() if marker in l)
                results.append({"text": text, "parse_error": line.split(marker, 1)[1]})
        keys = [(f"t{i:03}", text) for i, text in enumerate(valid)]
        with open(os.path.join(tmp, "rules.yml"), "w", encoding="utf-8") as f:
            f.write(rule_file(keys))
        with open(os.path.join(tmp, "test.yml"), "w", encoding="utf-8") as f:
            f.write("rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n- interval: 1m\n"
                    "  input_series:\n  - series: 'up{instance=\"host:9100\", job=\"node\"}'\n    values: '1234567.5'\n"
                    "  - series: 'm{k=\"b\"}'\n    values: '2'\n"
                    "  - series: 'm{k=\"a\"}'\n    values: '1'\n"
                    "  - series: 'm{k=\"c\", x=\"1\"}'\n    values: '3'\n"
                    "  alert_rule_test:\n  - eval_time: 0m\n    alertname: A\n    exp_alerts: []\n")
        runs = []
        for _ in range(2):
            res = subprocess.run(["promtool", "test", "rules", "test.yml"], capture_output=True, text=True, cwd=tmp)
            out = res.stdout + res.stderr
            start = out.index("Annotations:{") + len("Annotations:{")
            end = out.rindex("}")
            runs.append(go_unquote_map(out[start:end]))
    for key, text in keys:
        # Pointer addresses (in any base) differ from run to run; such cases say nothing.
        if runs[0][key] != runs[1][key] or re.search(r"0xc[0-9a-f]{9}", runs[0][key]):
            continue
        results.append({"text": text, "output": runs[0][key]})
    json.dump({"source": f"promtool 2.42; {count} random templates (seed {seed}) from promtool/generate_random.py",
               "cases": results}, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
