"""The learned decisions: the model file, pure-Python inference, the named features and the training script.

Articles here are made up for the test; the corpus tests read ../shared/eval in place and skip without it.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest

from cashwatch.models import Article
from cashwatch.processors import training
from cashwatch.processors.analyse import Analyser
from cashwatch.processors.features import KINDS
from cashwatch.processors.model import MODEL_FORMAT, LinearModel, Models, default_models

SHARED = Path(__file__).resolve().parents[2] / "shared"


def art(text, title="", published=dt.date(2026, 11, 18), aid="t1"):
    return Article(article_id=aid, url=f"https://news.example/{aid}", source="news.example", published=published,
                   title=title, text=text)


# -- inference ------------------------------------------------------------------------------------------

BINARY = {"classes": ["no", "yes"], "features": ["a", "b"], "mean": [1.0, 0.0], "scale": [2.0, 1.0],
          "coef": [[1.5, -0.5]], "intercept": [0.25]}
MULTI = {"classes": ["x", "y", "z"], "features": ["a"], "mean": [0.0], "scale": [1.0],
         "coef": [[1.0], [0.0], [-1.0]], "intercept": [0.0, 0.5, 0.0]}


def test_binary_model_is_the_logistic_of_the_standardised_features():
    m = LinearModel.from_dict("t", BINARY)
    p = m.proba({"a": 3.0, "b": 2.0, "unknown": 9.0})  # a feature the model does not know is ignored
    logit = 0.25 + 1.5 * (3.0 - 1.0) / 2.0 - 0.5 * 2.0
    assert p["yes"] == pytest.approx(1 / (1 + math.exp(-logit))) and p["no"] == pytest.approx(1 - p["yes"])
    assert m.proba({})["yes"] == pytest.approx(1 / (1 + math.exp(-(0.25 - 0.75))))  # missing features count as 0
    assert m.predict({"a": 3.0, "b": 2.0}) == ("yes", pytest.approx(p["yes"]))


def test_multiclass_model_is_a_softmax_and_explains_what_singled_its_class_out():
    m = LinearModel.from_dict("t", MULTI)
    p = m.proba({"a": 2.0})
    assert sum(p.values()) == pytest.approx(1.0) and max(p, key=p.get) == "x"
    why = m.explain({"a": 2.0}, "x")
    assert why == {"a": pytest.approx(2.0 * (1.0 - (0.0 - 1.0) / 2))}
    assert m.explain({"a": 2.0}, "z")["a"] < 0  # the same feature pushed away from z


@pytest.mark.parametrize("broken, message", [
    ({**BINARY, "mean": [1.0]}, "differ in length"),
    ({**BINARY, "coef": [[1.0, 2.0], [3.0, 4.0]]}, "coefficient rows"),
    ({**MULTI, "coef": [[1.0], [2.0]]}, "coefficient rows"),
])
def test_a_broken_model_file_says_what_is_wrong(broken, message):
    with pytest.raises(ValueError, match=message):
        LinearModel.from_dict("kind", broken)


def test_a_model_file_of_another_format_is_refused_with_its_name():
    with pytest.raises(ValueError, match=r"models.json: model format 99"):
        Models.from_dict({"format": 99, "models": {}}, "models.json")


def test_shipped_model_file_is_well_formed_and_says_what_it_was_trained_on():
    models = default_models()
    kind = models.get("kind")
    assert kind is not None and set(kind.classes) == set(KINDS)
    trained = models.trained
    assert len(trained["corpus_sha256"]) == 64 and trained["articles"] > 0
    assert {"scikit-learn", "numpy", "python"} <= set(trained["libraries"])
    assert {"relevance_f1", "alert_f1"} <= set(trained["cv"]) and {"relevance_f1", "alert_f1"} <= set(trained["plain"])


# -- the analyser keeps the evidence --------------------------------------------------------------------

def test_the_kind_decision_keeps_its_probability_and_the_signals_behind_it():
    a = Analyser().analyse(art("Thieves used a stolen digger to rip a cash machine from the wall of a village shop "
                               "in Ruskington early this morning. Lincolnshire Police are appealing for witnesses.",
                               title="Cash machine ripped from shop wall"))
    assert a.kind == "incident" and 0.5 < a.kind_confidence <= 1
    assert a.kind_signals and all(isinstance(v, float) for v in a.kind_signals.values())
    assert [i.town for i in a.incidents] == ["Ruskington"]


def test_without_models_the_rules_decide_and_say_nothing_about_confidence():
    a = Analyser(use_models=False).analyse(art("Thieves used a stolen digger to rip a cash machine from the wall "
                                               "of a village shop in Ruskington early this morning."))
    assert a.kind == "incident" and a.kind_confidence is None and a.kind_signals == {}


@pytest.mark.parametrize("text, title, kind", [
    ("Shoppers are being warned about card skimming devices found fitted to a cash machine in the town centre. "
     "Police said a thin plastic sleeve had been placed over the card slot to copy details.",
     "Warning after skimming device found on cash machine", "other"),
    ("Two men have been jailed for eight years each after admitting a string of raids in which they used gas to blow "
     "open cash machines at petrol stations. Judge Mary Lane told the court they had put lives at risk.",
     "Gas attack gang jailed", "court"),
    ("A new police operation aims to stop criminals stealing cash machines. Officers will visit shops to give advice on "
     "bollards and alarms, and the scheme is backed by the banks and the security industry.",
     "Operation launched to protect rural cash machines", "campaign"),
])
def test_kind_of_made_up_articles(text, title, kind):
    assert Analyser().analyse(art(text, title=title)).kind == kind


# -- training -------------------------------------------------------------------------------------------

def _corpus():
    path = SHARED / "eval" / "dev.jsonl"
    if not path.exists():
        pytest.skip(f"labelled corpus not found at {path} (the shared folder is a sibling of the repo)")
    return path, training.load_corpus(path)


def test_groups_join_every_report_of_one_incident_and_folds_keep_groups_whole():
    corpus = [{"id": "a", "label": {"incidents": [{"cluster": "x"}]}},
              {"id": "b", "label": {"incidents": [{"cluster": "y"}, {"cluster": "x"}]}},
              {"id": "c", "label": {"incidents": [{"cluster": "y"}]}},
              {"id": "d", "label": {"incidents": []}},
              {"id": "d", "label": {"incidents": []}},  # one id for two articles: kept together too
              {"id": "e", "label": {"incidents": [{"cluster": "z"}]}}]
    groups = training.groups_of(corpus)
    assert groups[0] == groups[1] == groups[2] and groups[3] == groups[4]
    assert len({groups[0], groups[3], groups[5]}) == 3
    folds = training.folds_of(groups, 2)
    assert folds[0] == folds[1] == folds[2] and folds[3] == folds[4] and set(folds) == {0, 1}



def test_other_fold_assignments_keep_groups_whole_and_balanced_but_differ():
    # 40 one-article groups and 5 two-article ones: a seed shuffles which groups of one size share a fold
    groups = list(range(40)) + [g for g in range(40, 45) for _ in range(2)]
    plain = training.folds_of(groups, 5)
    assert training.folds_of(groups, 5) == plain  # deterministic
    seen = {tuple(plain)}
    for seed in range(1, 5):
        folds = training.folds_of(groups, 5, seed)
        assert folds == training.folds_of(groups, 5, seed)
        assert all(folds[i] == folds[j] for i in range(len(groups)) for j in range(len(groups)) if groups[i] == groups[j])
        assert sorted(folds.count(f) for f in range(5)) == [10, 10, 10, 10, 10]
        seen.add(tuple(folds))
    assert len(seen) == 5


def test_mention_labels_follow_the_scorer_one_to_one():
    from cashwatch.models import IncidentMention

    def m(t, force):
        return IncidentMention(type=t, force=force, country="GB")
    gold = [{"type": "atm_theft", "force": "kent", "role": "primary"},
            {"type": "atm_explosive", "force": "essex", "role": "reference"}]
    cands = [m("atm_theft", "kent"), m("atm_theft", "kent"), m("atm_explosive", "essex"), m("cit_robbery", "kent")]
    assert training.mention_labels(cands, gold) == [1, 0, None, 0]


def test_training_is_deterministic_and_reproduces_the_shipped_weights():
    pytest.importorskip("sklearn", reason="training needs scikit-learn: pip install 'cashwatch[train]'")
    path, corpus = _corpus()
    shipped = json.loads(training.MODEL_FILE.read_text(encoding="utf-8"))
    import hashlib
    if hashlib.sha256(path.read_bytes()).hexdigest() != shipped["trained"]["corpus_sha256"]:
        pytest.skip("the corpus is not the one the shipped models were trained on")
    rows = training.Rows(corpus)
    first, second = training.train(rows), training.train(rows)
    assert first == second
    for name, model in first.items():
        ship = shipped["models"][name]
        assert model["features"] == ship["features"] and model["classes"] == ship["classes"]
        for row, ship_row in zip(model["coef"], ship["coef"]):
            assert row == pytest.approx(ship_row, abs=1e-4)
