#!/usr/bin/python3
"""ops_files_check.py - structure check of the Grafana dashboard and of the
metric names the alert rules use, against a running daemon's /metrics.

usage: ops_files_check.py METRICS_FILE DASHBOARD.json ALERTS.yml

Every metric name in a panel's, an annotation's or an alert's expression
must be a family the daemon exports (a "# TYPE" line of METRICS_FILE;
NAME_bucket / _sum / _count of a histogram).  The dashboard must be a
Grafana dashboard: a title and uid, panels with unique ids, a type and a
title, grid positions inside the 24 columns without overlaps, every
non-row panel with at least one target whose expr is not empty and whose
refIds are unique.  Prints one line per problem; exit 1 when any.
"""
import json
import re
import sys

import yaml

NAME = re.compile(r"\b((?:sessionbridge|process)_[a-z0-9_]+)")


def families(path):
    fam = {}
    with open(path) as f:
        for line in f:
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split()
                fam[name] = kind
    names = set(fam)
    for name, kind in fam.items():
        if kind == "histogram":
            names |= {name + "_bucket", name + "_sum", name + "_count"}
    return names


def check_expr(where, expr, known, problems):
    if not expr or not expr.strip():
        problems.append("%s: empty expr" % where)
        return 0
    used = NAME.findall(expr)
    if not used:
        problems.append("%s: names no sessionbridge_/process_ metric: %s" % (where, expr))
    for name in used:
        if name not in known:
            problems.append("%s: %s is not a family the daemon exports" % (where, name))
    return len(used)


def main():
    metrics, dash_path, alerts_path = sys.argv[1:4]
    known = families(metrics)
    problems = []
    with open(dash_path) as f:
        dash = json.load(f)
    for key in ("title", "uid", "panels"):
        if key not in dash:
            problems.append("dashboard: no %s" % key)
    ids, cells, checked = set(), {}, 0
    for p in dash.get("panels", []):
        where = "panel %r" % p.get("title")
        for key in ("id", "type", "title", "gridPos"):
            if key not in p:
                problems.append("%s: no %s" % (where, key))
        if p.get("id") in ids:
            problems.append("%s: duplicate id %s" % (where, p.get("id")))
        ids.add(p.get("id"))
        g = p.get("gridPos", {})
        if g.get("x", 0) < 0 or g.get("w", 0) <= 0 or g.get("x", 0) + g.get("w", 0) > 24 or g.get("h", 0) <= 0:
            problems.append("%s: gridPos outside the 24 columns: %s" % (where, g))
        for x in range(g.get("x", 0), g.get("x", 0) + g.get("w", 0)):
            for y in range(g.get("y", 0), g.get("y", 0) + g.get("h", 0)):
                if (x, y) in cells:
                    problems.append("%s: overlaps panel %r" % (where, cells[(x, y)]))
                    break
                cells[(x, y)] = p.get("title")
            else:
                continue
            break
        if p.get("type") == "row":
            continue
        targets = p.get("targets", [])
        if not targets:
            problems.append("%s: no targets" % where)
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs):
            problems.append("%s: duplicate refId" % where)
        for t in targets:
            checked += check_expr(where, t.get("expr"), known, problems)
    for a in dash.get("annotations", {}).get("list", []):
        checked += check_expr("annotation %r" % a.get("name"), a.get("expr"), known, problems)
    with open(alerts_path) as f:
        rules = yaml.safe_load(f)
    alerts = 0
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            alerts += 1
            checked += check_expr("alert %s" % rule.get("alert"), rule.get("expr"), known, problems)
    for p in problems:
        print(p)
    print("checked %d metric names in %d panels and %d alerts against %d families"
          % (checked, len(dash.get("panels", [])), alerts, len(known)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
