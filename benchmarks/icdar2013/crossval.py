"""`python -m benchmarks.icdar2013.crossval`: a cross-validated figure for `extract-region` on the
ICDAR 2013 EU subset, beside the development figure (the reader was tuned on these documents).

The reader's thresholds (`RegionSettings` and the ruling/whitespace settings it holds) are chosen
on part of the documents and scored on the rest:

* 2-fold by document (PDF): the documents sorted by name, alternately in half A and half B;
  thresholds chosen on A, scored on B, and the reverse; then the same over 10 random splits;
* leave-one-document-out: chosen on 26 documents, scored on the 27th, the held-out scores pooled.

Candidates: the shipped defaults, every threshold moved alone to each of its other grid values,
and random combinations of grid values (seeded). Every candidate is run once on every region
(pages read once); a fold only chooses among the stored results. Where several candidates tie for
the best training micro F1, the held-out score is the mean over the tied ones (the choice among
them is arbitrary), with the range.

Also: camelot stream on the same folds (it has no thresholds to choose), and per table how often
`auto` picks a reader that another one (`ruled`, `whitespace`, `fused`) beats by more than 0.05 F1,
with the shipped settings and with the thresholds chosen without the table's document (LOO).

Writes crossval.json next to this file and the cross-validation section of results.md.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path

from benchmarks.icdar2013.__main__ import DATA, TOOLS, run_scorer
from statlift.extractors.pdfdoc import Document
from statlift.extractors.readers import read_region
from statlift.extractors.region import ENGINES, RegionSettings, with_curve_rules

HERE = Path(__file__).resolve().parent
MARK = "<!-- crossval -->"

# The reader's tunable thresholds and the values searched (the default is one of each).
GRID: dict[str, list] = {
    "min_v_cover": [0.25, 0.5, 1.0, 2.0, 4.0],
    "min_h_cover": [0.5, 1.0, 2.0, 4.0, 8.0],
    "max_cut_share": [0.0, 0.02, 0.05, 0.15, 0.3],
    "columns_drawn": [0.25, 0.5, 1.0, 2.0],
    "layout_keep": [0.0, 0.3, 0.5, 0.7, 0.9],
    "ruling.pad": [2.0, 5.0, 10.0],
    "ruling.snap": [0.5, 1.0, 2.0, 4.0],
    "ruling.join": [1.0, 3.0, 6.0, 10.0],
    "ruling.min_length": [3.0, 6.0, 12.0, 24.0],
    "ruling.min_cell": [1.0, 2.0, 4.0, 8.0],
    "ruling.cover": [0.3, 0.45, 0.6, 0.8, 1.0],
    "whitespace.run_gap": [0.3, 0.4, 0.55, 0.8, 1.2],
    "whitespace.body_share": [0.5, 0.6, 0.75, 0.9, 1.0],
    "whitespace.min_gap": [0.0, 1.0, 3.0],
    "whitespace.span_allow": [0.0, 0.05, 0.1, 0.2, 0.3],
    "whitespace.span_overlap": [0.5, 2.0, 5.0, 10.0],
    "whitespace.centred_span": [1.0, 1.3, 1.6, 2.2],
    "whitespace.stacked_gap": [0.2, 0.35, 0.5, 0.8, 1.2],
}


def default_values() -> dict:
    s = RegionSettings()
    out = {}
    for name in GRID:
        obj = s
        for part in name.split("."):
            obj = getattr(obj, part)
        out[name] = obj
    return out


def settings_for(values: dict, engine: str = "auto") -> RegionSettings:
    top = {k: v for k, v in values.items() if "." not in k}
    ruling = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith("ruling.")}
    ws = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith("whitespace.")}
    base = RegionSettings()
    return RegionSettings(engine=engine, **top, ruling=replace(base.ruling, **ruling),
                          whitespace=replace(base.whitespace, **ws))


def candidates(n_random: int, seed: int) -> list[dict]:
    """Defaults first, then one threshold moved at a time, then random combinations."""
    d = default_values()
    for name, vals in GRID.items():
        assert d[name] in vals, f"the default of {name} ({d[name]}) must be in the grid"
    out = [dict(d)]
    for name, vals in GRID.items():
        out += [{**d, name: v} for v in vals if v != d[name]]
    rng = random.Random(seed)
    seen = {tuple(sorted(c.items())) for c in out}
    while len(out) < 1 + sum(len(v) - 1 for v in GRID.values()) + n_random:
        c = {name: rng.choice(vals) for name, vals in GRID.items()}
        key = tuple(sorted(c.items()))
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


# ------------------------------------------------------------------ running the reader

_UNITS: list = []
_PAGES: dict = {}


def load(data: str, tools: str) -> None:
    """Regions and their pages, read once as extract_region reads them."""
    sys.path.insert(0, tools)
    import dataset

    _UNITS[:] = dataset.load(data)
    for u in _UNITS:
        key = (u.pdf, u.page)
        if key not in _PAGES:
            with Document.open(u.pdf) as doc:
                _PAGES[key] = with_curve_rules(doc.page(u.page), doc.plumber_page(u.page))


def score_config(args: tuple[dict, str]) -> list[dict]:
    """One candidate on every region -> the scorer's per-region records (+ engine chosen)."""
    import metric

    values, engine = args
    s = settings_for(values, engine)
    recs = []
    for u in _UNITS:
        try:
            table = read_region(_PAGES[(u.pdf, u.page)], u.bbox, s)
            cells, chosen, err = table.to_json()["cells"], table.reader, None
        except Exception as e:  # noqa: BLE001 - a failure scores as nothing found
            cells, chosen, err = [], None, f"{type(e).__name__}: {e}"[:200]
        sc = metric.compare(u.gt_cells, metric.cells_from_dicts(cells))
        recs.append({"key": u.key, "doc": u.doc, "group": u.group, "gt": sc.gt,
                     "found": sc.found, "correct": sc.correct, "seconds": 0.0,
                     "error": err, "engine": chosen})
    return recs


def run_all(configs: list[tuple[dict, str]], jobs: int) -> list[list[dict]]:
    if jobs <= 1:
        return [score_config(c) for c in configs]
    # fork: the workers share the pages read once above
    with ProcessPoolExecutor(jobs, mp_context=get_context("fork")) as pool:
        return list(pool.map(score_config, configs, chunksize=2))


# ------------------------------------------------------------------ folds


def summary(records: list[dict]) -> dict:
    import run as scorer

    s = scorer.summary(records)
    return {k: s[k] for k in ("tables", "docs", "micro_p", "micro_r", "micro_f1", "macro_p",
                              "macro_r", "macro_f1")}


def choose(results: list[list[dict]], train: set[str]) -> list[int]:
    """Indices of the candidates with the best training micro F1 (ties: all of them)."""
    scores = [round(summary([r for r in recs if r["group"] in train])["micro_f1"], 9)
              for recs in results]
    best = max(scores)
    return [i for i, s in enumerate(scores) if s == best]


def held_out(results: list[list[dict]], chosen: list[int], test: set[str]) -> dict:
    """Mean (and range) over the tied candidates of their scores on the test documents."""
    per = [summary([r for r in results[i] if r["group"] in test]) for i in chosen]
    out = {k: sum(p[k] for p in per) / len(per) for k in ("micro_f1", "macro_f1", "micro_p",
                                                            "micro_r")}
    out.update(tables=per[0]["tables"], docs=per[0]["docs"], tied=len(chosen),
               micro_f1_range=[min(p["micro_f1"] for p in per), max(p["micro_f1"] for p in per)])
    return out


def f1_of(r: dict) -> float:
    return 2 * r["correct"] / (r["gt"] + r["found"]) if r["found"] else 0.0


def auto_losses(auto: list[dict], alone: dict[str, list[dict]]) -> list[dict]:
    """Regions where a reader other than the one `auto` chose beats auto by > 0.05 F1."""
    out = []
    for i, a in enumerate(auto):
        best = max(alone, key=lambda e: f1_of(alone[e][i]))
        if a["engine"] != best and f1_of(alone[best][i]) - f1_of(a) > 0.05:
            out.append({"key": a["key"], "auto": a["engine"], "auto_f1": round(f1_of(a), 4),
                        "better": best, "better_f1": round(f1_of(alone[best][i]), 4)})
    return out


def sensitivity(cands: list[dict], results: list[list[dict]]) -> dict:
    """Each threshold moved alone (the others at their defaults): micro F1 on all documents."""
    d = cands[0]
    out: dict[str, dict] = {}
    for c, recs in zip(cands, results):
        moved = [k for k in GRID if c[k] != d[k]]
        if len(moved) <= 1:
            for name in moved or list(GRID):
                out.setdefault(name, {})[str(c[name])] = round(summary(recs)["micro_f1"], 4)
    return {k: dict(sorted(v.items(), key=lambda kv: float(kv[0]))) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.icdar2013.crossval",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default=DATA)
    ap.add_argument("--tools", default=TOOLS)
    ap.add_argument("--random", type=int, default=400, help="random combinations searched")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--splits", type=int, default=10, help="random 2-fold splits")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    load(args.dataset, args.tools)
    cands = candidates(args.random, args.seed)
    d = default_values()
    engines = sorted(ENGINES)
    configs = [(c, "auto") for c in cands] + [(d, e) for e in engines]
    print(f"{len(_UNITS)} regions, {len(_PAGES)} pages read in {time.perf_counter() - t0:.0f} s;"
          f" {len(configs)} runs ...", file=sys.stderr, flush=True)
    everything = run_all(configs, args.jobs)
    results, alone = everything[:len(cands)], dict(zip(engines, everything[len(cands):]))
    groups = sorted({u.group for u in _UNITS})
    all_groups = set(groups)

    dev = summary(results[0])
    # 2-fold, documents alternately in A and B
    halves = [set(groups[0::2]), set(groups[1::2])]
    folds = []
    for k, (train, test) in enumerate([(halves[0], halves[1]), (halves[1], halves[0])]):
        chosen = choose(results, train)
        folds.append({"fold": "AB"[k] + "->" + "BA"[k], "train_docs": sorted(train),
                      "test_docs": sorted(test),
                      "train_micro_f1": summary([r for r in results[chosen[0]]
                                                 if r["group"] in train])["micro_f1"],
                      "chosen": [cands[i] for i in chosen[:5]],
                      "chosen_is_default": 0 in chosen, **held_out(results, chosen, test)})
    camelot = run_scorer(args.tools, args.dataset, ["--method", "camelot-stream"], None)
    cam = camelot["records"]
    for f in folds:
        test = set(f["test_docs"])
        f["camelot_stream"] = summary([r for r in cam if r["group"] in test])
        f["development_on_test"] = summary([r for r in results[0] if r["group"] in test])
    # repeated random 2-fold splits
    rng = random.Random(args.seed)
    repeated = []
    for _ in range(args.splits):
        g = list(groups)
        rng.shuffle(g)
        a, b = set(g[: len(g) // 2]), set(g[len(g) // 2:])
        for train, test in ((a, b), (b, a)):
            h = held_out(results, choose(results, train), test)
            repeated.append({"micro_f1": h["micro_f1"], "macro_f1": h["macro_f1"],
                             "camelot_micro_f1": summary([r for r in cam
                                                          if r["group"] in test])["micro_f1"]})
    # leave one document out: pool the held-out records (ties: the first tied candidate,
    # and the mean over tied candidates of the per-document counts)
    loo_records, loo_chosen = [], {}
    for g in groups:
        chosen = choose(results, all_groups - {g})
        loo_chosen[g] = {"tied": len(chosen), "default_among": 0 in chosen}
        first = chosen[0]
        loo_records += [r for r in results[first] if r["group"] == g]
    loo = summary(loo_records)
    # auto vs the readers alone, shipped settings
    losses = auto_losses(results[0], alone)
    per_engine = {e: summary(alone[e]) for e in engines}
    chosen_counts: dict[str, int] = {}
    for r in results[0]:
        chosen_counts[r["engine"]] = chosen_counts.get(r["engine"], 0) + 1
    # the same with each document's LOO thresholds (auto only; the readers alone at defaults)
    loo_auto = list(loo_records)
    order = {r["key"]: i for i, r in enumerate(results[0])}
    loo_auto.sort(key=lambda r: order[r["key"]])
    loo_losses = auto_losses(loo_auto, alone)
    out = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"nproc": os.cpu_count()},
        "seconds": round(time.perf_counter() - t0, 1),
        "candidates": len(cands), "grid": GRID, "defaults": d, "seed": args.seed,
        "development": dev,
        "camelot_stream": summary(cam),
        "two_fold": folds,
        "two_fold_mean": {k: sum(f[k] for f in folds) / 2 for k in ("micro_f1", "macro_f1")},
        "repeated_two_fold": {
            "splits": args.splits,
            "micro_f1_mean": sum(r["micro_f1"] for r in repeated) / len(repeated),
            "macro_f1_mean": sum(r["macro_f1"] for r in repeated) / len(repeated),
            "micro_f1_min": min(r["micro_f1"] for r in repeated),
            "camelot_micro_f1_mean": sum(r["camelot_micro_f1"] for r in repeated)
            / len(repeated),
            "folds": repeated},
        "leave_one_document_out": {**loo, "per_document": loo_chosen},
        "readers_alone": per_engine,
        "auto_chose": chosen_counts,
        "auto_beaten_by_more_than_0.05": {"shipped_settings": losses,
                                          "loo_settings": loo_losses,
                                          "regions": len(results[0])},
        "candidate_micro_f1": [round(summary(r)["micro_f1"], 4) for r in results],
        "sensitivity": sensitivity(cands, results),
    }
    (HERE / "crossval.json").write_text(json.dumps(out, indent=1) + "\n")
    write_section(out)
    print(render(out))
    return 0


def render(o: dict) -> str:
    def row(name: str, s: dict, note: str = "") -> str:
        return (f"| {name} | {s['micro_f1']:.4f} | {s['macro_f1']:.4f} | {note} |")

    f = o["two_fold"]
    rep = o["repeated_two_fold"]
    loo = o["leave_one_document_out"]
    lo = o["auto_beaten_by_more_than_0.05"]
    lines = [
        MARK,
        "## Cross-validated figure (thresholds chosen without the scored documents)",
        "",
        (f"`python -m benchmarks.icdar2013.crossval` on {o['date']} ({o['machine']['nproc']} "
        f"cores, {o['seconds']:.0f} s): {o['candidates']} candidate settings of the reader's "
        f"{len(o['grid'])} thresholds (`RegionSettings`, its `ruling` and `whitespace` "
        "settings; the shipped defaults, each threshold moved alone over its grid, and seeded "
        "random combinations), each run once on every region; a fold chooses the candidate "
        "with the best micro F1 on its training documents and is scored on the others. Where "
        "candidates tie on the training documents, the held-out score is their mean."),
        "",
        "| figure | micro F1 | macro F1 | note |",
        "| --- | --- | --- | --- |",
        row("statlift, development (shipped thresholds, all 27 documents)", o["development"],
            "tuned on these documents: an upper bound"),
        row(f"statlift, 2-fold {f[0]['fold']} (held out: {f[0]['docs']} docs)", f[0],
            f"{f[0]['tied']} tied; shipped defaults among them: {f[0]['chosen_is_default']}; "
            f"camelot stream on the same documents {f[0]['camelot_stream']['micro_f1']:.4f} / "
            f"{f[0]['camelot_stream']['macro_f1']:.4f}"),
        row(f"statlift, 2-fold {f[1]['fold']} (held out: {f[1]['docs']} docs)", f[1],
            f"{f[1]['tied']} tied; shipped defaults among them: {f[1]['chosen_is_default']}; "
            f"camelot stream on the same documents {f[1]['camelot_stream']['micro_f1']:.4f} / "
            f"{f[1]['camelot_stream']['macro_f1']:.4f}"),
        row("**statlift, 2-fold mean (cross-validated)**", o["two_fold_mean"],
            "the figure to quote"),
        (f"| statlift, {rep['splits']} random 2-fold splits (mean of {2 * rep['splits']} folds) "
        f"| {rep['micro_f1_mean']:.4f} | {rep['macro_f1_mean']:.4f} | worst fold micro F1 "
        f"{rep['micro_f1_min']:.4f}; camelot stream on the same folds "
        f"{rep['camelot_micro_f1_mean']:.4f} |"),
        row("statlift, leave one document out (held-out regions pooled)", loo,
            "ties go to the first candidate, i.e. the shipped defaults whenever they tie: "
            "closer to the development figure than the 2-fold rows"),
        row("camelot stream (no thresholds chosen)", o["camelot_stream"], "all 27 documents"),
        "",
        "Readers alone, shipped settings (all documents, development): "
        + ", ".join(f"`{e}` {s['micro_f1']:.4f} / {s['macro_f1']:.4f}"
                    for e, s in o["readers_alone"].items())
        + f"; `auto` chose {o['auto_chose']}.",
        "",
        f"Per table, `auto` picked a reader that another reader beats by more than 0.05 F1 on "
        f"{len(lo['shipped_settings'])} of {lo['regions']} regions with the shipped settings, "
        f"and on {len(lo['loo_settings'])} of {lo['regions']} with the thresholds chosen "
        "without the region's document (leave one document out)"
        + (": " + "; ".join(f"{x['key']} ({x['auto']} {x['auto_f1']:.3f} < {x['better']} "
                            f"{x['better_f1']:.3f})"
                            for x in lo["shipped_settings"] + [
                                y for y in lo["loo_settings"]
                                if y not in lo["shipped_settings"]])
           if lo["shipped_settings"] or lo["loo_settings"] else "")
        + ".",
        "",
        ("Each threshold moved alone over its grid (the others at the shipped defaults), micro "
        "F1 on all 27 documents (development; the default in bold):"),
        "",
        "| threshold | micro F1 by value |",
        "| --- | --- |",
        *[f"| `{name}` | " + ", ".join(
            (f"**{v}: {f1:.4f}**" if float(v) == float(o["defaults"][name]) else
             f"{v}: {f1:.4f}") for v, f1 in vals.items()) + " |"
          for name, vals in o["sensitivity"].items()],
        "",
        (f"Over all {o['candidates']} candidates, micro F1 on all documents ranges from "
        f"{min(o['candidate_micro_f1']):.4f} to {max(o['candidate_micro_f1']):.4f}."),
        "",
        ("What this does and does not show: it cross-validates the choice of the reader's "
        "thresholds. The reader's rules themselves (which features, which steps) were written "
        "while looking at all 27 documents, so even the cross-validated figure is optimistic "
        "for documents never seen. The held-out figure is benchmarks/results/heldout.md "
        "(re-typeset copies of the shipped reports' tables, where the layout reader that "
        "`auto` takes for undrawn columns was developed on the content)."),
        "",
    ]
    return "\n".join(lines)


def write_section(o: dict) -> None:
    """Replace (or append) the cross-validation section of results.md."""
    md = HERE / "results.md"
    text = md.read_text() if md.exists() else ""
    head = text.split(MARK)[0].rstrip("\n")
    md.write_text(head + "\n\n" + render(o))
    js = HERE / "results.json"
    if js.exists():  # the headline figures beside the development ones
        results = json.loads(js.read_text())
        results["cross_validated"] = {
            "date": o["date"], "details": "crossval.json",
            "development": o["development"], "two_fold": [
                {k: f[k] for k in ("fold", "docs", "tables", "micro_f1", "macro_f1", "tied",
                                   "chosen_is_default")} for f in o["two_fold"]],
            "two_fold_mean": o["two_fold_mean"],
            "repeated_two_fold": {k: v for k, v in o["repeated_two_fold"].items()
                                  if k != "folds"},
            "leave_one_document_out": {k: v for k, v in o["leave_one_document_out"].items()
                                       if k != "per_document"},
            "camelot_stream": o["camelot_stream"],
            "auto_beaten_by_more_than_0.05": {
                k: (len(v) if isinstance(v, list) else v)
                for k, v in o["auto_beaten_by_more_than_0.05"].items()}}
        js.write_text(json.dumps(results, indent=1))


def refresh() -> None:
    """Put the last computed section back after `python -m benchmarks.icdar2013` rewrote
    results.md and results.json (nothing if crossval has not run)."""
    js = HERE / "crossval.json"
    if js.exists():
        write_section(json.loads(js.read_text()))


if __name__ == "__main__":
    sys.exit(main())
