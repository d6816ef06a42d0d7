"""The model bundle, prediction on new texts and the seed ensemble (hpotext/predict/)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from hpotext import models
from hpotext.data.info import CleanReport, DatasetInfo
from hpotext.data.text import Vocab
from hpotext.errors import DataError, StaleFileError
from hpotext.final.steps import evaluate
from hpotext.predict import bundle as bundle_mod
from hpotext.predict.__main__ import main
from hpotext.predict.bundle import Bundle, BundleError
from hpotext.predict.ensemble import cross_fitted, greedy_selection, seed_ensemble, top_k_ensemble
from hpotext.predict.steps import bundle, choose, predict_file, study_bundle, top_k
from hpotext.predict.table import InputSpec, read_input
from tests.tiny_encoder import write_tiny_encoder

ROOT = Path(__file__).resolve().parent.parent
WORDS = ["good", "bad", "great", "awful", "fun", "boring", "movie", "plot", "not", "very"]
CLASSES = ["neg", "pos"]


def texts(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [" ".join(rng.choice(WORDS, size=rng.integers(1, 9))) for _ in range(n)]
    return pd.DataFrame({"text": rows, "label": [CLASSES[i % 2] for i in range(n)]})


def checkpoint(path: Path, family: str, vocab_size: int, seed: int, **hp: object) -> str:
    """A checkpoint like the retrain rule's model.pt (random weights: only the plumbing counts)."""
    torch.manual_seed(seed)
    model = models.build_model(family, vocab_size, 2, 16, **hp)
    hparams = {k: v for k, v in hp.items() if k != "pretrained"}
    payload = {"model_name": family, "model_hparams": hparams, "model": model.state_dict(),
               "epoch": 2 + seed}  # fmt: skip
    torch.save(payload, path)
    return str(path)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The files a study's final stage has: splits, vocabulary, dataset summary, two seeds'
    checkpoints and their evaluate outputs; for boe and for the encoder family."""
    root = tmp_path_factory.mktemp("study")
    for split, seed in (("train", 0), ("val", 1), ("test", 2)):
        texts(40, seed).to_parquet(root / f"{split}.parquet")
    vocab = Vocab.build(texts(40, 0)["text"])
    vocab.save(root / "vocab.json")
    DatasetInfo("tiny", 120, CLASSES, {"train": 40, "val": 40, "test": 40}, {"neg": 60, "pos": 60},
                CleanReport(120, 120, 0, 0)).to_json(root / "dataset.json")  # fmt: skip
    encoder = str(write_tiny_encoder(root / "encoder"))
    (root / "config.json").write_text(json.dumps({"config": {"model": "boe", "lr": 0.01}}))
    out: dict[str, object] = {"root": root, "folder": encoder}
    tiny_encoder = {"pretrained": encoder, "train_layers": 1, "max_len": 12}
    for family, hp in (("boe", {"embed_dim": 8}), ("encoder", tiny_encoder)):
        size = len(vocab) if family == "boe" else 40
        runs = []
        for seed in (0, 1):
            run = root / family / f"seed{seed}"
            run.mkdir(parents=True)
            model = checkpoint(run / "model.pt", family, size, seed, **hp)
            evaluate(model, str(root / "test.parquet"), str(root / "vocab.json"),
                     str(root / "dataset.json"), 16, str(run / "test_metrics.json"),
                     encoder if family == "encoder" else None, str(root / "val.parquet"),
                     str(run / "predictions.parquet"))  # fmt: skip
            runs.append(run)
        out[family] = runs
    return out


def make_bundle(study: dict, family: str, out: Path, variant: str = "") -> Path:
    root, runs = study["root"], study[family]
    bundle(variant or family, str(root / "config.json"), [str(r / "model.pt") for r in runs],
           [str(r / "predictions.parquet") for r in runs], [0, 1], str(root / "vocab.json"),
           str(root / "dataset.json"), 16, str(out / "bundle"), str(out / "ensemble.json"),
           study["folder"] if family == "encoder" else None)  # fmt: skip
    return out / "bundle"


@pytest.mark.parametrize("family", ["boe", "encoder"])
def test_a_bundle_predicts_what_the_study_evaluated_from_anywhere(study, family, tmp_path):
    made = make_bundle(study, family, tmp_path / "made")
    moved = tmp_path / "elsewhere" / "bundle"  # without the study's files
    moved.parent.mkdir()
    made.rename(moved)
    manifest = json.loads((moved / "bundle.json").read_text())
    assert manifest["classes"] == CLASSES and manifest["models"][0]["family"] == family
    assert manifest["models"][0]["weight"] == 1.0 and manifest["format"] == 2
    assert [m["file"] for m in manifest["members"]] == [f"{family}_seed0.pt", f"{family}_seed1.pt"]
    assert [m["weight"] for m in manifest["members"]] == [0.5, 0.5]
    assert [m["epoch"] for m in manifest["members"]] == [2, 3]
    assert (moved / ("vocab.json" if family == "boe" else "encoder/model.safetensors")).is_file()
    loaded = Bundle(moved, "cpu")
    test = pd.read_parquet(study["root"] / "test.parquet")
    members = loaded.member_probabilities(list(test["text"]))
    for k, run in enumerate(study[family]):
        saved = pd.read_parquet(run / "predictions.parquet")
        saved = saved[saved["split"] == "test"].sort_values("row")
        np.testing.assert_allclose(members[k], saved[["prob_neg", "prob_pos"]], atol=1e-5)
    np.testing.assert_allclose(loaded.predict_proba(list(test["text"])), members.mean(0))
    assert loaded.predict(["good fun", ""]) in (["neg", "neg"], ["neg", "pos"], ["pos", "neg"],
                                                 ["pos", "pos"])  # fmt: skip
    assert loaded.predict_proba([]).shape == (0, 2)
    ensemble = json.loads((tmp_path / "made/ensemble.json").read_text())
    assert ensemble["variant"] == family and ensemble["test"]["members"] == 2
    assert manifest["metrics"]["test"]["ensemble"] == ensemble["test"]["ensemble"]


def test_evaluate_keeps_val_and_test_probabilities(study):
    run = study["boe"][0]
    saved = pd.read_parquet(run / "predictions.parquet")
    assert list(saved.columns) == ["split", "row", "label", "prob_neg", "prob_pos"]
    assert saved.groupby("split").size().to_dict() == {"test": 40, "val": 40}
    np.testing.assert_allclose(saved[["prob_neg", "prob_pos"]].sum(axis=1), 1.0, rtol=1e-5)
    metrics = json.loads((run / "test_metrics.json").read_text())
    test = saved[saved["split"] == "test"]
    right = test[["prob_neg", "prob_pos"]].to_numpy().argmax(1) == test["label"]
    assert metrics["accuracy"] == pytest.approx(right.mean())


def test_seed_ensemble_scores_and_its_paired_gain():
    labels = np.array([0, 1, 0, 1])
    # member 0 misses row 1, member 1 misses row 2; their mean gets every row right
    probs = np.array([[[0.9, 0.1], [0.6, 0.4], [0.8, 0.2], [0.1, 0.9]],
                      [[0.8, 0.2], [0.1, 0.9], [0.45, 0.55], [0.2, 0.8]]])  # fmt: skip
    out = seed_ensemble(labels, probs, [0, 1], boots=300)
    assert out["ensemble"]["accuracy"] == 1.0 and out["members"] == 2
    assert out["single"]["accuracy"]["per_seed"] == {"0": 0.75, "1": 0.75}
    assert out["single"]["accuracy"]["mean"] == 0.75 and out["single"]["accuracy"]["std"] == 0.0
    gain = out["gain"]["accuracy"]
    assert gain["mean_difference"] == 0.25 and 0.0 <= gain["ci95"][0] <= 0.25 <= gain["ci95"][1]
    same = seed_ensemble(labels, probs[:1], [0], boots=50)
    assert same["gain"]["accuracy"] == {"mean_difference": 0.0, "ci95": [0.0, 0.0]}


def test_greedy_selection_picks_with_replacement_what_helps_on_these_rows():
    labels = np.array([0, 0, 1, 1, 0, 1])
    right = np.eye(2)[labels] * 0.7 + 0.15  # every row right, confident
    noisy = right.copy()
    noisy[[0, 3]] = noisy[[0, 3]][:, ::-1]  # two rows wrong
    wrong = np.eye(2)[1 - labels] * 0.98 + 0.01
    probs = np.stack([noisy, right, wrong])
    counts = greedy_selection(labels, probs, rounds=5)
    assert counts.tolist() == [0, 5, 0]  # the right model each round; with replacement
    # complementary models: their mean is right everywhere, each alone is not
    a, b = right.copy(), right.copy()
    a[[0, 1]] = [[0.45, 0.55]] * 2
    b[[2, 3]] = [[0.52, 0.48]] * 2
    counts = greedy_selection(labels, np.stack([a, b]), rounds=4)
    assert counts.sum() == 4 and counts.min() >= 1
    found = top_k_ensemble(["tuned", "runner1"], (labels, np.stack([a, b])),
                           (labels, np.stack([a, b])), "tuned", rounds=4)  # fmt: skip
    assert set(found["weights"]) == {"tuned", "runner1"}
    assert sum(found["weights"].values()) == pytest.approx(1.0)
    assert found["val"]["as_selected"]["accuracy"] == 1.0
    assert found["test"]["ensemble"]["accuracy"] == 1.0 and found["test"]["reference"] == "tuned"
    assert found["test"]["gain"]["accuracy"]["mean_difference"] == pytest.approx(2 / 6)


def test_cross_fitted_scores_are_not_flattered_by_the_selection():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    noise = rng.dirichlet([1, 1], size=(20, 400))  # 20 models that know nothing
    held = cross_fitted(labels, noise, rounds=10).argmax(1)
    counts = greedy_selection(labels, noise, rounds=10)
    fitted = np.tensordot(counts / counts.sum(), noise, axes=1).argmax(1)
    assert (fitted == labels).mean() > (held == labels).mean()  # selection overfits its rows
    assert abs((held == labels).mean() - 0.5) < 0.08  # held-out rows see chance


def test_the_top_k_ensemble_bundles_the_selected_variants_weighted(study, tmp_path):
    pairs = (("tuned", "boe"), ("runner1", "encoder"))
    made = {v: make_bundle(study, f, tmp_path / v, v) for v, f in pairs}
    predictions = {v: [str(r / "predictions.parquet") for r in study[f]] for v, f in pairs}
    result = top_k({v: str(p) for v, p in made.items()}, predictions, str(tmp_path / "ens"),
                   str(tmp_path / "ensemble.json"), rounds=6)  # fmt: skip
    assert result["variant"] == "ensemble" and json.loads((tmp_path / "ensemble.json").read_text())
    manifest = json.loads((tmp_path / "ens/bundle.json").read_text())
    weights = result["weights"]
    assert sum(m["weight"] for m in manifest["members"]) == pytest.approx(1.0)
    assert {m["variant"] for m in manifest["models"]} == set(weights)
    texts_ = list(pd.read_parquet(study["root"] / "test.parquet")["text"])
    mixed = sum(w * Bundle(made[v], "cpu").predict_proba(texts_) for v, w in weights.items())
    np.testing.assert_allclose(Bundle(tmp_path / "ens", "cpu").predict_proba(texts_), mixed,
                               atol=1e-5)  # fmt: skip
    test = result["test"]["ensemble"]
    assert manifest["metrics"]["test"]["ensemble"] == test
    other = pd.read_parquet(predictions["runner1"][0])
    other["label"] = 1 - other["label"]  # predictions of other rows (a stale file)
    other.to_parquet(tmp_path / "other.parquet")
    with pytest.raises(StaleFileError, match="the val predictions of runner1 score other rows"):
        top_k({v: str(p) for v, p in made.items()},
              {**predictions, "runner1": [str(tmp_path / "other.parquet")]},
              str(tmp_path / "stale"), str(tmp_path / "stale.json"))  # fmt: skip
    assert not (tmp_path / "stale").exists() and not (tmp_path / "stale.json").exists()
    scored = json.loads((tmp_path / "ensemble.json").read_text())
    scored["val"]["ensemble"]["accuracy"] = 1.0
    (tmp_path / "best.json").write_text(json.dumps(scored))
    picked = choose({"tuned": str(tmp_path / "tuned/ensemble.json"),
                     "ensemble": str(tmp_path / "best.json")})  # fmt: skip
    assert picked["variant"] == "ensemble"
    assert picked["reason"].startswith("the top-k ensemble has the best validation accuracy "
                                       "(1.0000 cross-fitted; the tuned config ")  # fmt: skip


def test_the_study_bundle_is_the_variant_best_on_validation(study, tmp_path):
    made = {v: make_bundle(study, "boe", tmp_path / v) for v in ("tuned", "default")}
    ensembles = {v: str(tmp_path / v / "ensemble.json") for v in made}
    better = json.loads(Path(ensembles["default"]).read_text())
    better["val"]["ensemble"]["accuracy"] = 1.0
    Path(ensembles["default"]).write_text(json.dumps(better))
    (made["default"] / ".snakemake_timestamp").touch()  # Snakemake's marker: never linked along
    chosen = study_bundle({v: str(p) for v, p in made.items()}, ensembles,
                          str(tmp_path / "study"), str(tmp_path / "chosen.json"),
                          str(study["root"] / "val.parquet"))  # fmt: skip
    speed = chosen.pop("speed")
    assert speed["texts"] == 40 and speed["members"] == 2 and speed["device"] == "cpu"
    assert speed["batch_texts_per_second"] > 0 and speed["single_text_ms"] > 0
    assert chosen["variant"] == "default" and "best validation accuracy (1.0000" in chosen["reason"]
    assert json.loads((tmp_path / "chosen.json").read_text())["speed"] == speed
    manifest = json.loads((tmp_path / "study/bundle.json").read_text())
    assert manifest["chosen"] == chosen and Bundle(tmp_path / "study", "cpu").classes == CLASSES
    # the copy is its own: the variant's manifest is untouched, its hidden files left behind
    assert not (tmp_path / "study/.snakemake_timestamp").exists()
    assert "chosen" not in json.loads((made["default"] / "bundle.json").read_text())
    tie = {v: str(tmp_path / "tuned" / "ensemble.json") for v in ("tuned", "default")}
    assert choose(tie)["variant"] == "tuned"


@pytest.fixture(scope="module")
def boe_bundle(study, tmp_path_factory) -> Path:
    return make_bundle(study, "boe", tmp_path_factory.mktemp("b"))


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet", ".csv.gz"])
def test_predict_keeps_every_input_row_and_column(boe_bundle, tmp_path, suffix):
    frame = pd.DataFrame({"id": ["a", "b", "c"], "body": ["good fun", "", "awful boring plot"]})
    source = tmp_path / f"new{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(source)
    elif suffix == ".jsonl":
        frame.to_json(source, orient="records", lines=True)
    else:
        frame.to_csv(source, sep="\t" if suffix == ".tsv" else ",", index=False)
    out = tmp_path / f"out{suffix}"
    assert main([str(boe_bundle), str(source), "-o", str(out), "--text-column", "body"]) == 0
    got, _ = read_input(InputSpec(str(out), "body"))
    assert list(got.columns) == ["id", "body", "label", "prob_neg", "prob_pos"]
    assert list(got["id"]) == ["a", "b", "c"]
    probs = Bundle(boe_bundle, "cpu").predict_proba(["good fun", "", "awful boring plot"])
    np.testing.assert_allclose(got[["prob_neg", "prob_pos"]].astype(float), probs, rtol=1e-5)
    assert list(got["label"]) == [CLASSES[i] for i in probs.argmax(1)]


def test_bad_prediction_inputs_are_one_sentence_and_write_nothing(boe_bundle, tmp_path, capsys):
    good = tmp_path / "new.csv"
    pd.DataFrame({"review": ["good"]}).to_csv(good, index=False)
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("text\n")
    (tmp_path / "notes.txt").write_text("text\ngood\n")
    pd.DataFrame({"text": ["good"], "label": ["x"]}).to_csv(tmp_path / "labelled.csv", index=False)
    old = tmp_path / "old"
    old.mkdir()
    manifest = json.loads((boe_bundle / "bundle.json").read_text())
    for name in ("boe_seed0.pt", "boe_seed1.pt", "vocab.json"):
        (old / name).write_bytes((boe_bundle / name).read_bytes())
    (old / "bundle.json").write_text(json.dumps({**manifest, "hpotext": "0.0.3", "format": 0}))
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "bundle.json").write_text(json.dumps(manifest))
    (partial / "vocab.json").write_bytes((boe_bundle / "vocab.json").read_bytes())
    invalid = tmp_path / "invalid"
    invalid.mkdir()
    (invalid / "bundle.json").write_text(json.dumps({**manifest, "models": "boe"}))
    cases = [
        (good, boe_bundle, "input file '{}' has no column 'text' (its columns: review); name the "
         "column that holds the texts with --text-column"),
        (tmp_path / "empty.csv", boe_bundle, "input file '{}' has no rows"),
        (tmp_path / "header.csv", boe_bundle, "input file '{}' has no rows"),
        (tmp_path / "notes.txt", boe_bundle, "input file '{}' has suffix '.txt', which does not "
         "tell its format; name it .csv, .tsv, .jsonl or .parquet, or pass --format"),
        (tmp_path / "missing.csv", boe_bundle, "input file '{}' does not exist"),
        (tmp_path / "labelled.csv", boe_bundle, "already has column(s) label, which the "
         "predictions add; rename them in the input"),
        (tmp_path / "labelled.csv", tmp_path, f"{tmp_path} is not a model bundle (it has no "
         "bundle.json); pass the folder a study wrote (results/<exp>/bundle)"),
        (tmp_path / "labelled.csv", tmp_path / "nowhere", "is not a folder"),
        (tmp_path / "labelled.csv", old, f"model bundle {old} was written by hpotext 0.0.3 (bundle "
         "format 0), which this hpotext 0.1.0 (format 2) does not read; rebuild it"),
        (tmp_path / "labelled.csv", partial, f"model bundle {partial} lacks boe_seed0.pt, "
         "boe_seed1.pt; copy the whole bundle folder again or rebuild it"),
        (tmp_path / "labelled.csv", invalid, f"{invalid}/bundle.json is not a valid bundle "
         "manifest; copy the bundle again or rebuild it"),
    ]  # fmt: skip
    for source, folder, message in cases:
        out = tmp_path / "out.csv"
        assert main([str(folder), str(source), "-o", str(out)]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("error: ") and message.format(source) in err[-1], err
        assert not out.exists() and not list(tmp_path.glob(".out.csv*"))
    with pytest.raises(DataError, match="output file 'x.txt' has suffix '.txt'"):
        predict_file(str(boe_bundle), str(tmp_path / "labelled.csv"), "x.txt")


def test_the_command_line_exits_non_zero_with_one_line(boe_bundle, tmp_path):
    (tmp_path / "new.csv").write_text("review\ngood\n")
    cmd = [sys.executable, "-m", "hpotext.predict", str(boe_bundle), str(tmp_path / "new.csv"),
           "-o", str(tmp_path / "out.csv")]  # fmt: skip
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: input file")
    ok = subprocess.run([*cmd, "--text-column", "review"], cwd=ROOT, capture_output=True,
                        text=True, timeout=120)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "1 texts in" in ok.stderr and (tmp_path / "out.csv").is_file()


def test_a_member_that_does_not_fit_is_one_sentence(boe_bundle, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for p in boe_bundle.iterdir():
        (broken / p.name).write_bytes(p.read_bytes())
    torch.save({"nothing": torch.zeros(1)}, broken / "boe_seed1.pt")
    with pytest.raises(BundleError, match="member boe_seed1.pt of model bundle .* does not fit"):
        Bundle(broken, "cpu")
    assert bundle_mod.FORMAT == 2
