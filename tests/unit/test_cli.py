"""The CLI contract that scripts and benchmarks rely on, checked through a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lstmae_demo.__main__ import main
from lstmae_demo.archs import build_model, count_params
from lstmae_demo.spec import ARCHS, ModelSpec

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "lstmae_demo", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow  # a real subprocess: the CLI contract end to end
def test_archs_json_lists_the_four_presets() -> None:
    out = cli("archs", "--json")
    assert out.returncode == 0, out.stderr
    assert [a["name"] for a in json.loads(out.stdout)] == list(ARCHS)


@pytest.mark.slow  # a real subprocess: the CLI contract end to end
@pytest.mark.parametrize(
    "flags",
    [
        ["--arch", "repeatvector", "--batch", "3", "--seq-len", "9", "--units", "100",
         "--activation", "relu"],
        ["--arch", "hidden_n", "--batch", "2", "--features", "3", "--units", "8"],
        ["--arch", "embedding", "--seq-len", "7", "--units", "5", "--bins", "11"],
        ["--arch", "encdec_ad", "--batch", "4", "--features", "2", "--decoder",
         "unconditioned"],
        ["--arch", "encdec_ad", "--batch", "2", "--handoff", "hc"],
        ["--arch", "embedding", "--seq-len", "6", "--units", "4", "--reads", "attention"],
        ["--arch", "embedding", "--seq-len", "6", "--units", "4", "--reads", "state"],
        ["--arch", "repeatvector", "--batch", "2", "--seq-len", "1"],
    ],
)
def test_shapes_json_matches_a_real_forward_pass(flags: list[str]) -> None:
    out = cli("shapes", *flags, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    for key in ("arch", "input_shape", "layers", "output_shape", "latent_shape",
                "params_torch", "params_keras"):
        assert key in data
    for layer in data["layers"]:
        assert {"name", "kind", "output_shape", "axes", "params_torch",
                "params_keras"} <= set(layer)
    spec = ModelSpec.from_dict(data["spec"])
    model = build_model(spec)
    x = torch.rand(*data["input_shape"]) * 2 - 1
    assert list(model(x).shape) == data["output_shape"]
    assert count_params(model) == data["params_torch"]
    assert list(model.encode(x).shape) == [data["input_shape"][0], data["latent_per_example"]]


@pytest.mark.slow  # a real subprocess: the CLI contract end to end
def test_shapes_without_json_prints_a_table() -> None:
    out = cli("shapes", "--arch", "hidden_n", "--seq-len", "140", "--units", "128")
    assert out.returncode == 0
    assert "990,465" in out.stdout and "<- code" in out.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["shapes", "--arch", "transformer"], "invalid choice"),
        (["shapes", "--arch", "repeatvector", "--units", "0"], "units must be between"),
        (["shapes", "--arch", "embedding", "--features", "2"], "n_features = 1"),
        (["shapes", "--arch", "repeatvector", "--batch", "0"], "batch must be between 1 and"),
        (["shapes", "--arch", "repeatvector", "--batch", "9" * 23], "batch must be between"),
        (["train", "--arch", "repeatvector", "--seed", str(2**64)], "seed must be between"),
        (["shapes", "--arch", "encdec_ad", "--seq-len", "1"], "encdec_ad needs seq_len >= 2"),
        (["shapes", "--arch", "embedding", "--reads", "all"], "reads must be one of"),
        (["train", "--arch", "repeatvector", "--epochs", "0"], "epochs"),
        (["train", "--arch", "repeatvector", "--n-series", "0"], "n_series"),
        (["train", "--arch", "repeatvector", "--noise", "-0.1"], "noise"),
        (["code", "--arch", "repeatvector", "--framework", "jax"], "invalid choice"),
        (["shapes", "--arch", "repeatvector", "--units", "ten"], "units must be a whole number"),
    ],
)
def test_invalid_arguments_exit_2_with_one_line(args: list[str], says: str, capsys) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err


@pytest.mark.slow  # a real subprocess: the CLI contract end to end
def test_train_json_reports_the_contracted_fields() -> None:
    out = cli("train", "--arch", "encdec_ad", "--n-series", "32", "--epochs", "2",
              "--batch", "16", "--seq-len", "12", "--units", "8", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    for key in ("epochs", "seconds", "train_loss", "val_mse", "sequences_per_second"):
        assert key in result
    assert result["epochs"] == 2 and result["sequences_per_second"] > 0
    assert "epoch 2/2" in out.stderr  # the progress bar goes to stderr, not stdout


@pytest.mark.slow  # a real subprocess: the CLI contract end to end
def test_train_trains_on_the_apps_data_with_the_apps_settings() -> None:
    """Same defaults as the web app: the CLI's run equals the app's run, loss for loss."""
    from dataclasses import replace

    from lstmae_demo.config import AppConfig, defaults
    from lstmae_demo.data import make_sine
    from lstmae_demo.training import fit

    out = cli("train", "--arch", "hidden_n", "--units", "8", "--epochs", "2", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    app = AppConfig(defaults() | {"arch": "hidden_n", "units": 8, "epochs": 2})
    data = make_sine(app.sine)
    done = fit(build_model(app.spec, seed=0), data.train, data.val,
               replace(app.train, n_show=0, threads=1))
    assert (result["n_series"], result["noise"]) == (app.sine.n_series, app.sine.noise)
    assert result["train_loss"] == pytest.approx(done.train_loss, rel=1e-6)
    assert result["val_mse"] == pytest.approx(done.val_mse, rel=1e-6)


@pytest.mark.slow  # a real subprocess: the CLI contract end to end
@pytest.mark.parametrize("framework", ["pytorch", "keras"])
def test_code_prints_source_that_compiles(framework: str) -> None:
    out = cli("code", "--arch", "hidden_n", "--framework", framework)
    assert out.returncode == 0
    compile(out.stdout, f"<{framework}>", "exec")
    assert "def build(" in out.stdout


@pytest.mark.slow  # a real subprocess: the CLI contract end to end
def test_train_saves_a_model_that_load_continues_from(tmp_path: Path) -> None:
    """--save writes the trained weights; --load starts from exactly them."""
    from lstmae_demo.weights import load

    saved = tmp_path / "model.safetensors"
    out = cli("train", "--arch", "encdec_ad", "--units", "6", "--epochs", "2",
              "--data", "nab_jumpsup", "--save", str(saved), "--json")
    assert out.returncode == 0, out.stderr
    first = load(saved)
    assert first.spec == ModelSpec(arch="encdec_ad", units=6)
    assert len(first.metadata["losses"]["train"]) == 2
    assert first.metadata["data"]["source"] == "nab_jumpsup"
    again = tmp_path / "again.safetensors"
    out = cli("train", "--load", str(saved), "--epochs", "1", "--data", "nab_jumpsup",
              "--save", str(again), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["spec"] == first.spec.to_dict()
    # One more epoch from the saved weights, not from a fresh model: compare with doing it here.
    from lstmae_demo.data import BundledConfig, make_bundled
    from lstmae_demo.training import TrainConfig, fit
    from lstmae_demo.weights import build_loaded

    model = build_loaded(first)
    data = make_bundled(BundledConfig(name="nab_jumpsup", seq_len=50))
    fit(model, data.train, data.val, TrainConfig(epochs=1, n_show=0, threads=1))
    for name, tensor in load(again).state_dict.items():
        assert torch.equal(tensor, model.state_dict()[name]), name


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--units", "9"], "units is 6 in the file, 9 on the command line"),
        (["--data", "/no/such/file.csv"], "no file at '/no/such/file.csv'"),
    ],
)
def test_train_refuses_what_does_not_fit_a_saved_model(tmp_path: Path, extra, says,
                                                       capsys) -> None:
    from lstmae_demo.archs import build_model as build
    from lstmae_demo.weights import save

    saved = tmp_path / "m.safetensors"
    save(build(ModelSpec(arch="repeatvector", units=6)), saved)
    assert main(["train", "--load", str(saved), "--epochs", "1", *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err


def test_train_refuses_a_pickle_as_weights(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, bad)
    assert main(["train", "--load", str(bad), "--epochs", "1"]) == 2
    assert "--load" in capsys.readouterr().err


@pytest.mark.slow  # a real subprocess: the CLI contract end to end
def test_train_on_a_csv_file_checks_its_columns(tmp_path: Path, capsys) -> None:
    csv = tmp_path / "two.csv"
    csv.write_text("time,a,b\n" + "".join(f"t{i},{i},{-i}\n" for i in range(30)))
    assert main(["train", "--arch", "repeatvector", "--seq-len", "4", "--data", str(csv),
                 "--epochs", "1"]) == 2
    assert "has 2 column(s)" in capsys.readouterr().err
    out = cli("train", "--arch", "repeatvector", "--seq-len", "4", "--features", "2",
              "--data", str(csv), "--epochs", "1", "--json")
    assert out.returncode == 0, out.stderr
    described = json.loads(out.stdout)["data"]
    assert described["columns"] == ["a", "b"] and described["skipped"] == ["time"]
    assert described["rows"] == 30 and described["source"] == "csv"


def test_train_without_arch_or_load_says_what_it_needs(capsys) -> None:
    assert main(["train", "--epochs", "1"]) == 2
    assert "train needs --arch, or --load FILE" in capsys.readouterr().err
