"""hpotext.workflow.plan: what rules/common.smk computes when Snakemake reads the workflow."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from hpotext.errors import ConfigError
from hpotext.workflow.plan import REPORT_FIGURES, plan

ROOT = Path(__file__).resolve().parent.parent


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` over ``base`` as Snakemake merges config files (nested keys update)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A raw config like Snakemake's: config/config.yaml, then config/test.yaml, then ``extra``;
    read in a folder of its own (no results/ of an earlier run)."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    monkeypatch.chdir(tmp_path)

    def make(*files: str, **extra: Any) -> dict[str, Any]:
        cfg = yaml.safe_load(Path("config/config.yaml").read_text())
        for name in files:
            cfg = merged(cfg, yaml.safe_load(Path(name).read_text()))
        return merged(cfg, extra)

    return make


def test_base_study(config) -> None:
    p = plan(config("config/test.yaml"), gpu=False)
    assert p.exp == "test" and p.studies() == ["test"] and p.gpu == 0
    assert p.base_space == "config/spaces/test.yaml" == p.space_path("test")
    assert p.targets() == [
        "results/test/summary.json",
        "results/test/bundle",
        "results/test/priors/derived.yaml",
        *[f"results/test/report/{name}.png" for name in REPORT_FIGURES],
    ]
    # --config predict=FILE: its predictions by the study's bundle, named after the file
    Path("new texts.jsonl").write_text('{"text": "good"}\n')
    asked = plan(config("config/test.yaml", predict="new texts.jsonl"), gpu=False)
    assert asked.targets()[2] == "results/test/predictions/new texts.jsonl"
    seeds = p.config["final"]["seeds"]
    assert p.seeds("test") == seeds and len(seeds) >= 2
    # every variant's seeds, tuned first: the summary reads them in this order
    assert p.per_seed("test", "final/{variant}/seed{seed}/m.json") == [
        *(f"results/test/final/{v}/seed{s}/m.json" for v in ("tuned", "default") for s in seeds),
        f"results/test/final/runner1/seed{seeds[0]}/m.json",  # final.ensemble_top_k: 2
    ]
    assert p.candidates("test") == ["tuned", "default", "runner1", "ensemble"]
    assert (
        p.per_variant("test", "final/{variant}/e.json", True)[-1]
        == "results/test/final/ensemble/e.json"
    )
    assert p.top_k("test") == ["results/test/final/ensemble/ensemble.json"]
    one = plan(config("config/test.yaml", final={"ensemble_top_k": 1}), gpu=False)
    assert one.variants("test") == ["tuned", "default"] and one.top_k("test") == []
    assert plan(config(), gpu=False).variants("vader") == ["tuned", "default", "runner1", "runner2"]
    assert p.per_seed("test", "x{seed}", ("tuned",)) == [f"results/test/x{s}" for s in seeds]
    assert p.workers("test") == [f"w{i}" for i in range(p.config["search"]["workers"])]
    assert p.search_markers("test")[0] == "results/test/search/workers/w0.json"
    assert p.dataset_source("test") == f"resources/data/{p.config['dataset']}.parquet"
    Path("reviews.csv").write_text("text,label\ngood,pos\nbad,neg\n")
    own = plan(config("config/test.yaml", dataset="reviews.csv"), gpu=False)
    assert own.dataset_source("test") == "reviews.csv"  # a user's file is read where it is
    assert "resources/benchmarks" not in " ".join(own.benchmarks("test"))
    assert p.hurdles("test") == [] and p.arm_metrics("test") == {}
    assert plan(config("config/test.yaml"), gpu=True).gpu == 1
    assert p.portfolio("test") == []  # off by default: the search rule reads no file
    on = plan(config("config/test.yaml", search={"portfolio": {"size": 3}}), gpu=False)
    assert on.portfolio("test") == ["config/portfolio.yaml"]
    scratch = plan(config("config/scratch.yaml"), gpu=False)  # the from-scratch study
    assert scratch.portfolio("vader_scratch") == ["config/portfolio.yaml"]
    assert plan(config(), gpu=False).portfolio("vader") == []  # the default study: off


def test_proxy_stage_and_benchmarks(config) -> None:
    cfg = config("config/test.yaml", search={"optimizer": "auto"}, proxy={"shards": 2})
    p = plan(cfg, gpu=False)
    assert p.auto and p.selection("test") == ["results/test/selection/optimizer.json"]
    assert p.proxy_shards == 2 and len(p.proxy_files("test", "table")) == 2
    parts = p.proxy_parts
    assert sorted(o for part in parts for o in part) == sorted(p.config["proxy"]["optimizers"])
    assert p.proxy_files("test", "runs") == [
        f"results/test/proxy/runs/part{i}.parquet" for i in range(len(parts))
    ]
    assert p.proxy_cost == "epochs" and set(p.proxy_table) >= {"rows", "configs", "seed"}
    files = p.benchmarks("test")
    assert "results/test/benchmarks/proxy_table_shard1.tsv" in files
    assert "results/test/benchmarks/select_optimizer.tsv" in files
    assert "results/test/benchmarks/retrain_default_seed0.tsv" in files
    assert len(files) == len(set(files))
    # a named optimizer: no proxy stage at all
    named = plan(config("config/test.yaml", search={"optimizer": "random"}), gpu=False)
    assert named.selection("test") == [] and not named.auto
    assert not any("proxy" in f for f in named.benchmarks("test"))


def test_playbook_arms(config) -> None:
    cfg = config("config/test.yaml", study={"scientific": {"model": ["boe", "cnn"]}})
    p = plan(cfg, gpu=False)
    assert len(p.arm_names) == 2 and all("boe" in n or "cnn" in n for n in p.arm_names)
    arm = p.arm_names[0]
    exp = f"test/study/{arm}"
    assert p.studies() == [f"test/study/{name}" for name in p.arm_names]
    assert p.targets()[0] == "results/test/study/comparison.json"
    assert p.space_path(exp) == f"results/{exp}/space.yaml"
    assert p.space_meaning(exp) != p.space_meaning("test")  # the arm's model is fixed
    assert p.config_of(exp) is p.arm_configs[arm]
    # arms share the base study's data, reference and selection: their jobs only
    assert not any("prepare" in f or "tfidf" in f for f in p.benchmarks(exp))
    constraint = p.wildcard_constraints()["exp"]
    assert re.fullmatch(constraint, exp) and re.fullmatch(constraint, "test")
    assert not re.fullmatch(constraint, "test/study/other")
    assert list(p.arm_metrics("test")) == p.arm_names
    assert len(p.arm_metric_files("test")) == 2 * len(p.config["final"]["seeds"])


def test_sequence_tasks_and_hurdles(config) -> None:
    p = plan(config("config/test.yaml", "config/sequence.yaml"), gpu=False)
    names = p.task_names
    assert len(names) >= 2 and p.studies() == [f"{p.exp}/task/{n}" for n in names]
    assert p.targets()[0] == f"results/{p.exp}/sequence.md"
    last = f"{p.exp}/task/{names[-1]}"
    expected = [f"results/{p.exp}/task/{n}/search/incumbent.json" for n in names[:-1]]
    if p.setting(last, "search", "optimizer") == "rush":
        assert p.hurdles(last) == expected
    else:
        assert p.hurdles(last) == []
    assert p.task_files(p.exp, "summary.json")[0] == f"results/{p.exp}/task/{names[0]}/summary.json"


def test_priors_search_a_copy_of_the_space(config, tmp_path: Path) -> None:
    priors = tmp_path / "priors.yaml"
    priors.write_text("priors:\n  lr: {prior: 0.02, confidence: high}\n")
    p = plan(config("config/test.yaml", search={"priors": str(priors)}), gpu=False)
    assert p.base_space == "results/test/priors/space.yaml"
    lr = next(hp for hp in p.space.hyperparameters if hp.name == "lr")
    assert lr.prior == pytest.approx(0.02) and lr.confidence == "high"


def test_bad_plans_stop_with_one_sentence(config) -> None:
    with pytest.raises(ConfigError, match="study.fixed needs study.scientific"):
        plan(config("config/test.yaml", study={"fixed": {"lr": 0.01}}), gpu=False)
    with pytest.raises(ConfigError, match="unknown config key 'search.workerz'"):
        plan(config("config/test.yaml", search={"workerz": 1}), gpu=False)


def test_config_key_order_changes_nothing(config) -> None:
    """Params are compared by repr: the plan's config is in canonical key order."""
    cfg = config("config/test.yaml")
    backwards = {key: cfg[key] for key in reversed(list(cfg))}
    assert repr(plan(backwards, gpu=False).config) == repr(plan(cfg, gpu=False).config)


def test_encoder_inputs_and_feature_grid(config) -> None:
    p = plan(config("config/test_encoder.yaml"), gpu=False)
    source = p.encoder("test_encoder")
    assert source is not None and source.shipped and source.folder == "resources/models/minilm"
    assert p.feature_grid("test_encoder") == {"max_len": [24], "train_layers": [0, 1]}
    vectors = "results/test_encoder/data/vectors.npy"  # boe may start from word vectors
    assert p.encoder_inputs("test_encoder", "search_subset") == {
        "encoder": "resources/models/minilm",
        "vectors": vectors,
        "features_train": "results/test_encoder/features/search_subset",
        "features_val": "results/test_encoder/features/val",
    }
    assert p.encoder_inputs("test_encoder") == {
        "encoder": "resources/models/minilm",
        "vectors": vectors,
    }
    off = plan(config("config/test_encoder.yaml", encoder={"cache_features": False}), gpu=False)
    assert off.feature_grid("test_encoder") == {}
    assert set(off.encoder_inputs("test_encoder", "train")) == {"encoder", "vectors"}
    plain = plan(config("config/test.yaml"), gpu=False)  # no encoder family: nothing to fetch
    assert plain.encoder("test") is None and plain.encoder_inputs("test", "train") == {}


def test_a_local_encoder_folder_and_its_errors(config, tmp_path: Path) -> None:
    from tests.tiny_encoder import write_tiny_encoder

    folder = write_tiny_encoder(tmp_path / "tiny", max_positions=40)
    p = plan(config("config/test_encoder.yaml", encoder={"name": str(folder)}), gpu=False)
    source = p.encoder("test_encoder")
    assert source is not None and not source.shipped and source.positions == 40
    assert p.encoder_inputs("test_encoder")["encoder"] == str(folder)
    cases = {
        "bert-huge-nowhere": "neither a shipped encoder (minilm), a model folder, nor a hub",
        str(tmp_path / "missing" / "x"): "is not a folder",
    }
    (folder / "model.safetensors").rename(tmp_path / "weights.bak")
    cases[str(folder)] = "has no weights"
    for name, message in cases.items():
        with pytest.raises(ConfigError, match=re.escape(message)) as err:
            plan(config("config/test_encoder.yaml", encoder={"name": name}), gpu=False)
        assert "\n" not in str(err.value) and "encoder.name" in str(err.value)
    (tmp_path / "weights.bak").rename(folder / "model.safetensors")
    mixed = shutil.copytree(folder, tmp_path / "mixed")  # a tokenizer of other weights
    (mixed / "tokenizer.json").unlink()
    words = (mixed / "vocab.txt").read_text().splitlines()
    (mixed / "vocab.txt").write_text("\n".join(words + [f"w{i}" for i in range(9)]) + "\n")
    with pytest.raises(ConfigError, match="does not belong to these weights") as err:
        plan(config("config/test_encoder.yaml", encoder={"name": str(mixed)}), gpu=False)
    assert f"{len(words) + 9} tokens but config.json's vocab_size is {len(words)}" in str(err.value)
    space = yaml.safe_load(Path("config/spaces/test_encoder.yaml").read_text())
    space["fixed"]["encoder__max_len"] = 64  # + [CLS] and [SEP] > 40 positions
    Path("long.yaml").write_text(yaml.safe_dump(space))
    long = config("config/test_encoder.yaml", encoder={"name": str(folder)})
    long["search"]["space"] = "long.yaml"
    with pytest.raises(ConfigError, match="max_len reach 64, but encoder .* has 40 positions"):
        plan(long, gpu=False)


def test_pretrained_word_vectors_alone_need_the_encoder(config) -> None:
    space = yaml.safe_load(Path("config/spaces/test.yaml").read_text())
    space["families"]["boe"] = {"embed_init": {"type": "categorical",
                                               "choices": ["random", "pretrained"]}}  # fmt: skip
    Path("vectors.yaml").write_text(yaml.safe_dump(space))
    cfg = config("config/test.yaml")
    cfg["search"]["space"] = "vectors.yaml"
    p = plan(cfg, gpu=False)
    assert p.feature_grid("test") == {}  # no encoder family: nothing to cache
    assert p.encoder_inputs("test", "train") == {
        "encoder": "resources/models/minilm",
        "vectors": "results/test/data/vectors.npy",
    }
    cfg["encoder"] = {"name": "no-such-encoder"}
    with pytest.raises(ConfigError, match="encoder.name 'no-such-encoder' is neither"):
        plan(cfg, gpu=False)
