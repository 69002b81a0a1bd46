"""Train the analyser's models from the labelled corpus, and measure how well they generalise.

    python -m cashwatch.processors.training train [--corpus ../shared/eval/dev.jsonl]   # writes processors/data/models.json
    python -m cashwatch.processors.training eval  [--corpus ...] [--folds 5]            # plain and cross-validated scores

(``make train`` and ``make eval`` run these.) Needs the ``train`` extra (scikit-learn); the analyser itself
does not: it reads the weights from the JSON file (:mod:`cashwatch.processors.model`).

What is learned, from the rules' candidates described by named features (:mod:`cashwatch.processors.features`):

* ``kind`` — the article's kind (incident, court, campaign, other): multinomial logistic regression.
* ``mention`` — whether a candidate incident of an incident or court report is an attack the article
  reports (``primary``) or not (``reference``: an earlier attack named for context, or a town that is not a
  scene): binary logistic regression. A candidate is labelled primary when it matches a labelled primary
  incident on type and place (the scorer's rule); candidates that match only a labelled context attack
  are left out of training.

Cross-validation: the articles are split into folds grouped by incident cluster (every report of one
real incident, and every copy of one article, in the same fold), the models trained on the other folds
predict each fold, and then the linker runs over all the predictions in publication order, as
``cashwatch analyse`` does, and the shared scorer (``score.py`` beside the corpus) scores the result:
every metric, ``alert_f1`` included. A rule or feature that helps one fold and hurts another shows here.

Training is deterministic (lbfgs, fixed folds, weights rounded), so the same corpus gives the same file.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import random
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any, Sequence

from cashwatch.models import Analysis, Article
from cashwatch.processors.analyse import Analyser, about_a_target
from cashwatch.processors.features import ATM_TYPES, KINDS, split_by_kind
from cashwatch.processors.model import MODEL_FORMAT, Models
from cashwatch.processors.pipeline import AnalysisPipeline, analysis_to_result, final_ids

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "eval" / "dev.jsonl"
MODEL_FILE = Path(__file__).resolve().parent / "data" / "models.json"
# regularisation (inverse strength) of each model: strong, since the corpus is a few hundred articles. The
# kind model's C was chosen from 0.0005-1 (balanced classes or not) by grouped 5-fold cross-validation over
# 8 assignments of the groups to folds, averaged: 0.002-0.005 is a plateau (kind macro-F1 0.884-0.887, its
# spread over the assignments 0.88-0.90), 0.01 scores 0.883 but spreads 0.86-0.89, 0.1 and above overfit
# (0.860 and below); unbalanced classes lose at every C (0.874 at best)
PARAMS = {"kind": {"C": 0.005, "balanced": True}, "mention": {"C": 0.1, "balanced": False},
          "link": {"C": 0.3, "balanced": False}, "type": {"C": 0.3, "balanced": False}}
# the decisions a model is trained and shipped for. The mention (primary or context), type and link models
# are trained and cross-validated on request (--with mention|type|link) but not shipped: grouped
# cross-validation says each loses to the rules on the 326-article dev set (cross-validated alert F1 0.819,
# 0.821 and 0.842 with them, 0.853 with the kind model alone; `make eval` prints the comparison)
# other assignments of the groups to folds that `eval` also cross-validates over (see folds_of)
REPEATS = 4
SHIPPED = ("kind",)
METRICS = ("relevance_f1", "kind_macro_f1", "incident_f1", "date_accuracy", "link_f1", "link_precision",
           "alert_f1", "alert_precision", "alert_recall", "incident_precision", "incident_recall")


def _sklearn():
    try:
        import numpy as np
        import sklearn
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise SystemExit("training needs scikit-learn: pip install 'cashwatch[train]'") from exc
    return np, sklearn, LogisticRegression, StandardScaler


# -- the corpus ------------------------------------------------------------------------------------------
def load_corpus(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def streaming_order(corpus: Sequence[dict]) -> list[int]:
    """Indexes in the order a live monitor (and the scorer) feeds them: by published date, undated last."""
    return sorted(range(len(corpus)), key=lambda i: (corpus[i].get("published") is None, corpus[i].get("published") or ""))


def to_article(rec: dict) -> Article:
    """The article a labelled record holds (what ``cashwatch analyse`` reads from the same fields)."""
    published = rec.get("published")
    return Article(article_id=str(rec["id"]), url=rec.get("url") or "", source=rec.get("source") or "",
                   published=date.fromisoformat(published) if published else None, title=rec.get("title") or "",
                   text=rec["text"])


def groups_of(corpus: Sequence[dict]) -> list[int]:
    """A group number per article: articles that share an incident cluster (or an id) share a group."""
    parent = list(range(len(corpus)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[str, int] = {}
    for i, rec in enumerate(corpus):
        keys = [f"id:{rec['id']}"] + [f"cl:{x['cluster']}" for x in rec["label"].get("incidents", []) if x.get("cluster")]
        for key in keys:
            if key in seen:
                parent[root(i)] = root(seen[key])
            else:
                seen[key] = i
    return [root(i) for i in range(len(corpus))]


def folds_of(groups: Sequence[int], k: int, seed: int | None = None) -> list[int]:
    """A fold per article: whole groups, biggest first, each to the fold with fewest articles so far.
    ``seed``: another assignment of the same kind, the groups of one size taken in a shuffled order."""
    sizes: dict[int, int] = defaultdict(int)
    for g in groups:
        sizes[g] += 1
    tie = {g: g for g in sizes}
    if seed is not None:
        shuffled = sorted(sizes)
        random.Random(seed).shuffle(shuffled)
        tie = {g: n for n, g in enumerate(shuffled)}
    load = [0] * k
    fold_of_group: dict[int, int] = {}
    for g in sorted(sizes, key=lambda g: (-sizes[g], tie[g])):
        f = min(range(k), key=lambda j: (load[j], j))
        fold_of_group[g] = f
        load[f] += sizes[g]
    return [fold_of_group[g] for g in groups]


# -- labelled rows -------------------------------------------------------------------------------------
def _same_place(gold: dict, pred: Any) -> bool:
    if gold.get("force"):
        return pred.force == gold["force"]
    return not pred.force and (pred.country or "").upper() == (gold.get("country") or "").upper()


def mention_labels(candidates: Sequence, gold: Sequence[dict]) -> list[int | None]:
    """1: the candidate matches a labelled primary incident (type and place, one to one, greedy as the
    scorer); 0: it matches nothing; None: it matches only an attack the article names for context."""
    labels: list[int | None] = [0] * len(candidates)
    free = list(range(len(candidates)))
    for role in ("primary", "reference"):
        for g in gold:
            if (g.get("role") == "reference") != (role == "reference"):
                continue
            for j in free:
                m = candidates[j]
                if m.type == g.get("type") and _same_place(g, m):
                    labels[j] = 1 if role == "primary" else None
                    free.remove(j)
                    break
    return labels


def type_labels(candidates: Sequence, gold: Sequence[dict]) -> list[str | None]:
    """The labelled type of each ATM candidate that is placed where a labelled ATM attack is (one to one):
    what the type model learns from. None for the rest."""
    out: list[str | None] = [None] * len(candidates)
    free = [g for g in gold if g.get("type") in ATM_TYPES]
    for j, m in enumerate(candidates):
        if m.type not in ATM_TYPES:
            continue
        g = next((g for g in free if _same_place(g, m)), None)
        if g is not None:
            out[j] = g["type"]
            free.remove(g)
    return out


class Rows:
    """Feature rows of the corpus for each decision, read once by the rules (models off)."""

    def __init__(self, corpus: Sequence[dict], analyser: Analyser | None = None) -> None:
        analyser = analyser or Analyser(use_models=False)
        pipeline = AnalysisPipeline(analyser=analyser)
        self.kind: list[tuple[int, dict[str, float], str]] = []
        self.mention: list[tuple[int, dict[str, float], int]] = []
        self.type: list[tuple[int, dict[str, float], str]] = []
        analyses = []
        for i, rec in enumerate(corpus):
            article = to_article(rec)
            label = rec["label"]
            analyses.append(pipeline.analyse(article))
            reading = analyser.read(article)
            if about_a_target(reading.kind_features):  # (the kind model decides only these: the rest are other)
                self.kind.append((i, reading.kind_features, label["kind"]))
            if label["kind"] in ("incident", "court"):
                cands = analyser.read(article, kind=label["kind"]).candidates
                for (m, x), y in zip(cands, mention_labels([m for m, _ in cands], label.get("incidents", []))):
                    if y is not None:
                        self.mention.append((i, x, y))
                for (m, x), t in zip(cands, type_labels([m for m, _ in cands], label.get("incidents", []))):
                    if t is not None:
                        self.type.append((i, {k: v for k, v in x.items() if k.startswith("tx_")}, t))
        # (mention's article, the incident's articles, features, same attack): pairs among the analyser's
        # mentions, and among the labelled incidents themselves (clean mentions: twice the pairs to learn from)
        self.link = link_rows(corpus, analyses) + link_rows(corpus, [labelled_analysis(rec) for rec in corpus])


def labelled_analysis(rec: dict) -> Analysis:
    """The analysis a labelled article should get: its labelled kind and incidents (placed on the map
    through the gazetteer), with the text signature the linker compares."""
    from cashwatch.models import IncidentMention
    from cashwatch.places_table import region_of
    from cashwatch.processors.linking_text import text_signature
    from cashwatch.processors.places import default_gazetteer

    gazetteer = default_gazetteer()
    label = rec["label"]
    mentions = []
    for inc in label.get("incidents", []):
        place = next((p for p in gazetteer.lookup(inc.get("town") or "") if p.force == inc.get("force")), None)
        mentions.append(IncidentMention(
            type=inc["type"], attempted=bool(inc.get("attempted")), town=inc.get("town"), force=inc.get("force"),
            region=region_of(inc.get("force")), country=inc.get("country"), lat=place.lat if place else None,
            lon=place.lon if place else None, date=date.fromisoformat(inc["date"]) if inc.get("date") else None,
            role=inc.get("role") or "primary"))
    article = to_article(rec)
    return Analysis(article_id=article.article_id, url=article.url, source=article.source,
                    published=article.published, title=article.title, kind=label["kind"], incidents=mentions,
                    text_signature=text_signature(f"{article.title}\n{article.text}") if mentions else None)


def mention_clusters(incidents: Sequence, gold: Sequence[dict]) -> list[str | None]:
    """The labelled incident (cluster) each predicted mention reports: matched one to one on type family and
    place, labelled primaries first; a mention matching none takes the article's only labelled cluster."""
    from cashwatch.processors.linking_score import FAMILY
    out: list[str | None] = [None] * len(incidents)
    free = list(range(len(incidents)))
    for g in sorted(gold, key=lambda g: g.get("role") == "reference"):
        for j in free:
            m = incidents[j]
            if FAMILY.get(m.type) == FAMILY.get(g.get("type")) and _same_place(g, m):
                out[j] = g.get("cluster")
                free.remove(j)
                break
    clusters = {g.get("cluster") for g in gold if g.get("role") != "reference" and g.get("cluster")}
    if len(clusters) == 1:
        only = next(iter(clusters))
        out = [c if c is not None else only for c in out]
    return out


def link_rows(corpus: Sequence[dict], analyses: Sequence[Analysis]) -> list[tuple[int, frozenset[int], dict[str, float], int]]:
    """Every (mention, incident) pair the linker weighs when run over ``analyses`` in publication order,
    described by :func:`linking_score.features`, labelled from the clusters. The linker is steered by the
    labels (it joins a mention to the incident of its own cluster), so the incidents it compares with are
    the ones a good linker would hold."""
    from cashwatch.processors.link import Linker
    from cashwatch.processors.linking_score import features

    ids = [rec["id"] for rec in corpus]
    unique = {a: i for i, a in enumerate(ids) if ids.count(a) == 1}  # (a repeated id names two articles)
    cluster: dict[tuple[str, int], str | None] = {}
    for i, analysis in enumerate(analyses):
        for j, c in enumerate(mention_clusters(analysis.incidents, corpus[i]["label"].get("incidents", []))):
            cluster[(str(ids[i]), j)] = c
    rows: list[tuple[int, frozenset[int], dict[str, float], int]] = []

    def oracle(m, inc, sigs):
        x = features(m, inc, sigs)
        if x is None:
            return None
        mine = cluster.get((m.article_id, m.index))
        theirs = {cluster.get((a, j)) for a, js in inc.articles.items() for j in js}
        same = int(mine is not None and mine in theirs)
        if m.article_id in unique and all(a in unique for a in inc.articles):
            rows.append((unique[m.article_id], frozenset(unique[a] for a in inc.articles), x, same))
        return 1.0 if same else -1.0

    linker = Linker(scorer=oracle)
    for i in streaming_order(corpus):
        linker.link(analyses[i])
    return rows




def _fit(rows: Sequence[tuple[int, dict[str, float], Any]], classes: Sequence, C: float, balanced: bool) -> dict:
    np, _, LogisticRegression, StandardScaler = _sklearn()
    names = sorted({k for _, x, _ in rows for k in x})
    X = np.array([[x.get(k, 0.0) for k in names] for _, x, _ in rows], dtype=float)
    y = np.array([classes.index(c) for _, _, c in rows])
    scaler = StandardScaler().fit(X)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    clf = LogisticRegression(C=C, max_iter=5000, class_weight="balanced" if balanced else None)
    clf.fit((X - scaler.mean_) / scale, y)
    present = [classes[k] for k in clf.classes_]
    return {"classes": [str(c) for c in present], "features": names,
            "mean": [round(float(v), 6) for v in scaler.mean_], "scale": [round(float(v), 6) for v in scale],
            "coef": [[round(float(v), 6) for v in row] for row in clf.coef_],
            "intercept": [round(float(v), 6) for v in clf.intercept_]}


def train(rows: Rows, articles: set[int] | None = None, decisions: Sequence[str] = SHIPPED) -> dict:
    """The models of ``decisions`` fitted on the rows of ``articles`` (default: all), as the model file's
    ``models``."""
    keep = (lambda i: True) if articles is None else articles.__contains__
    out = {}
    if "kind" in decisions:
        out["kind"] = _fit([r for r in rows.kind if keep(r[0])], list(KINDS), **PARAMS["kind"])
    if "type" in decisions:
        out["type"] = _fit([r for r in rows.type if keep(r[0])], list(ATM_TYPES), **PARAMS["type"])
    if "link" in decisions:
        link_rows_ = [(i, x, "same" if y else "other") for i, arts, x, y in rows.link
                      if keep(i) and all(keep(a) for a in arts)]
        out["link"] = _fit(link_rows_, ["other", "same"], **PARAMS["link"])
    if "mention" in decisions:
        mention_rows = [(i, split_by_kind(x), "primary" if y else "reference") for i, x, y in rows.mention if keep(i)]
        out["mention"] = _fit(mention_rows, ["reference", "primary"], **PARAMS["mention"])
    return out


# -- predicting and scoring ------------------------------------------------------------------------------
def predict(corpus: Sequence[dict], models_for: Sequence[Models | None], order: Sequence[int] | None = None) -> list[dict]:
    """``cashwatch analyse`` results for the corpus in streaming order, article ``i`` analysed with
    ``models_for[i]`` (None: the rules alone) and linked by one linker, as the command does."""
    from cashwatch.processors.link import Linker, model_scorer, points_scorer

    analysers: dict[int, AnalysisPipeline] = {}
    scorers = {}
    for i, models in enumerate(models_for):
        link = models.get("link") if models is not None else None
        scorers[str(corpus[i]["id"])] = model_scorer(link) if link is not None else points_scorer()
    linker = Linker(scorer=lambda m, inc, sigs: scorers[m.article_id](m, inc, sigs))
    out = []
    for i in (streaming_order(corpus) if order is None else order):
        models = models_for[i]
        key = id(models)
        if key not in analysers:
            analysers[key] = AnalysisPipeline(
                analyser=Analyser(models=models) if models is not None else Analyser(use_models=False))
        article = to_article(corpus[i])
        analysis, _ = linker.link(analysers[key].analyse(article))
        out.append(analysis_to_result(analysis.article_id, analysis))
    return [final_ids(r, linker.resolve) for r in out]



def _scorer(corpus_path: Path):
    path = corpus_path.resolve().parent / "score.py"
    spec = importlib.util.spec_from_file_location("cashwatch_eval_score", path)
    if spec is None or spec.loader is None or not path.exists():
        raise SystemExit(f"the scorer is not at {path} (score.py beside the corpus)")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def score(corpus_path: Path, corpus: Sequence[dict], results: Sequence[dict]) -> dict[str, float]:
    metrics, _, _ = _scorer(corpus_path).score(list(corpus), list(results))
    return metrics


def cross_validate(corpus: Sequence[dict], rows: Rows, k: int,
                   decisions: Sequence[str] = SHIPPED, seed: int | None = None) -> tuple[list[dict], list[int]]:
    """Out-of-fold results: each article analysed by models trained on the folds without it (``seed``:
    another assignment of the articles to folds, see :func:`folds_of`)."""
    folds = folds_of(groups_of(corpus), k, seed)
    models = []
    for f in range(k):
        fitted = train(rows, {i for i, g in enumerate(folds) if g != f}, decisions)
        models.append(Models.from_dict({"format": MODEL_FORMAT, "models": fitted}))
    return predict(corpus, [models[folds[i]] for i in range(len(corpus))]), folds


def _table(rows: dict[str, dict[str, float]]) -> str:
    heads = list(rows)
    widths = [max(16, len(h) + 2) for h in heads]
    lines = ["metric".ljust(20) + "".join(h.rjust(w) for h, w in zip(heads, widths))]
    for m in METRICS:
        lines.append(m.ljust(20) + "".join(f"{rows[h].get(m, float('nan')):{w}.3f}" for h, w in zip(heads, widths)))
    return "\n".join(lines)


def _versions() -> dict[str, str]:
    np, sklearn, _, _ = _sklearn()
    return {"python": sys.version.split()[0], "scikit-learn": sklearn.__version__, "numpy": np.__version__}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cashwatch.processors.training", description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=("train", "eval"))
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="labelled JSONL (default: %(default)s)")
    ap.add_argument("--folds", type=int, default=5, help="cross-validation folds (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=MODEL_FILE, help="model file to write (train; default: %(default)s)")
    ap.add_argument("--rules", action="store_true", help="also score the hand-written rules alone")
    ap.add_argument("--with", dest="extra", action="append", default=[], choices=("mention", "link", "type"),
                    help="also cross-validate a decision that is not shipped (eval only)")
    args = ap.parse_args(argv)
    if args.extra and args.command == "train":
        ap.error("--with is for eval: the model file holds the shipped decisions only")
    if not args.corpus.exists():
        print(f"error: labelled corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    corpus = load_corpus(args.corpus)
    rows = Rows(corpus)
    oof, folds = cross_validate(corpus, rows, args.folds)
    cv = score(args.corpus, corpus, oof)
    fitted = train(rows)
    full = Models.from_dict({"format": MODEL_FORMAT, "models": fitted})
    plain = score(args.corpus, corpus, predict(corpus, [full] * len(corpus)))
    table = {"plain (all data)": plain, f"cross-validated ({args.folds} folds)": cv}
    for extra in args.extra:
        oof_x, _ = cross_validate(corpus, rows, args.folds, (*SHIPPED, extra))
        table[f"cv, with {extra}"] = score(args.corpus, corpus, oof_x)
    if args.rules:
        table["rules alone"] = score(args.corpus, corpus, predict(corpus, [None] * len(corpus)))
    # which articles share a fold moves a borderline decision or two: the same cross-validation over other
    # assignments of the groups to folds, averaged, is the steadier estimate of unseen news
    repeats = [score(args.corpus, corpus, cross_validate(corpus, rows, args.folds, seed=seed)[0])
               for seed in range(1, REPEATS + 1)]
    table[f"cv, mean of {REPEATS + 1} assignments"] = {
        m: sum(r[m] for r in [cv, *repeats]) / (REPEATS + 1) for m in METRICS}
    # the scorer keys results by article id: articles sharing an id with another are scored against one
    # result, so the same out-of-fold results are also scored without them
    unique = [i for i, rec in enumerate(corpus) if [r["id"] for r in corpus].count(rec["id"]) == 1]
    by_id = {r["id"]: r for r in oof}
    if len(unique) < len(corpus):
        # what the labels themselves score as results, fed in the scorer's order: the ceiling an id two
        # articles share leaves any analyser (the scorer keeps the last result of an id, and its label
        # the last line of it in the file)
        table["the labels as results"] = score(args.corpus, corpus, [
            {"id": corpus[i]["id"], "kind": corpus[i]["label"]["kind"],
             "incidents": [dict(x, incident_id=x.get("cluster")) for x in corpus[i]["label"].get("incidents", [])]}
            for i in streaming_order(corpus)])
        table["cv, unique ids"] = score(args.corpus, [corpus[i] for i in unique],
                                        [by_id[str(corpus[i]["id"])] for i in unique])
    models_for = [None] * len(corpus)
    fold_models = {}
    for i, f in enumerate(folds):
        if f not in fold_models:
            fold_models[f] = Models.from_dict({"format": MODEL_FORMAT, "models": train(
                rows, {j for j, g in enumerate(folds) if g != f})})
        models_for[i] = fold_models[f]
    shuffled, shuffled_unique = [], []
    for seed in (1, 2, 3):  # the same out-of-fold analysis, the articles arriving in another order
        order = streaming_order(corpus)
        random.Random(seed).shuffle(order)
        results = predict(corpus, models_for, order)
        shuffled.append(score(args.corpus, corpus, results))
        by_id_s = {r["id"]: r for r in results}
        shuffled_unique.append(score(args.corpus, [corpus[i] for i in unique],
                                     [by_id_s[str(corpus[i]["id"])] for i in unique]))
    print(f"{len(corpus)} articles ({len(unique)} with an id of their own), {len(set(groups_of(corpus)))} incident "
          f"groups, {args.folds} folds of {sorted(folds.count(f) for f in range(args.folds))} articles")
    print(f"rows: kind {len(rows.kind)}, mention {len(rows.mention)} "
          f"({sum(y for _, _, y in rows.mention)} primary), type {len(rows.type)}, "
          f"link {len(rows.link)} ({sum(r[3] for r in rows.link)} same)")
    print(_table(table))
    # the same out-of-fold results, fold by fold: a change that helps one fold and hurts another is tuning
    per_fold = {}
    for f in range(args.folds):
        held = [i for i, g in enumerate(folds) if g == f]
        per_fold[f"fold {f + 1} ({len(held)})"] = score(args.corpus, [corpus[i] for i in held],
                                                      [by_id[str(corpus[i]["id"])] for i in held])
    print("cross-validated, fold by fold (each fold's articles scored on their own):")
    print(_table(per_fold))
    print(f"cross-validated over {REPEATS + 1} assignments of the groups to folds (the first is the table's): "
          + ", ".join(f"{m} " + " ".join(f"{r[m]:.3f}" for r in [cv, *repeats])
                      for m in ("relevance_f1", "kind_macro_f1", "incident_f1", "alert_f1")))
    for name, runs in (("all", shuffled), ("unique ids", shuffled_unique)):
        print(f"cross-validated, {name}, articles in 3 shuffled orders (not publication order): link_f1 "
              + " ".join(f"{m['link_f1']:.3f}" for m in runs) + ", alert_f1 "
              + " ".join(f"{m['alert_f1']:.3f}" for m in runs))
    if args.command == "train":
        doc = {"format": MODEL_FORMAT,
               "trained": {"corpus": args.corpus.name, "decisions": list(SHIPPED),
                           "corpus_sha256": hashlib.sha256(args.corpus.read_bytes()).hexdigest(),
                           "articles": len(corpus), "libraries": _versions(), "params": PARAMS,
                           "folds": args.folds,
                           "plain": {m: round(plain[m], 4) for m in METRICS},
                           "cv": {m: round(cv[m], 4) for m in METRICS},
                           "cv_mean_of_assignments": {m: round(table[f"cv, mean of {REPEATS + 1} assignments"][m], 4)
                                                      for m in METRICS},
                           "cv_shuffled_link_f1": [round(m["link_f1"], 4) for m in shuffled],
                           "cv_unique_ids": {m: round(table["cv, unique ids"][m], 4) for m in METRICS}
                           if "cv, unique ids" in table else None,
                           "cv_unique_ids_shuffled_link_f1": [round(m["link_f1"], 4) for m in shuffled_unique]},
               "models": fitted}
        args.out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
