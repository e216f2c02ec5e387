"""Training infrastructure: loss falls for each trainable baseline, exact resume, checkpoints,
sampler, losses, run configs and the `oldphoto train` command."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from torch.utils.data import Dataset

from oldphoto.cli import main
from oldphoto.models.training import (
    CheckpointError,
    list_trainers,
    load_checkpoint,
    load_run_config,
    register_trainer,
    save_checkpoint,
    train,
)
from oldphoto.models.training.losses import (
    VGGPerceptualLoss,
    feature_matching_loss,
    l1_loss,
    lsgan_loss,
    vgg16_feature_layers,
    vgg16_features,
)
from oldphoto.models.training.sampling import StepBatchSampler

TINY = {
    "sequential": {"width": 16, "depth": 4},
    "pix2pix": {"width": 8, "max_width": 16, "levels": 3, "disc_width": 8, "disc_layers": 2},
}


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class NoisyBlobs(Dataset):
    """Smooth random colour fields (clean) and the same plus Gaussian noise (degraded), 3x24x24."""

    def __init__(self, n: int = 12, size: int = 24, sigma: float = 0.15) -> None:
        self.n, self.size, self.sigma = n, size, sigma

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> dict:
        gen = torch.Generator().manual_seed(1000 + index)
        coarse = torch.rand(1, 3, 3, 3, generator=gen)
        clean = F.interpolate(coarse, size=self.size, mode="bicubic", align_corners=False)[0].clamp(0, 1)
        noisy = (clean + self.sigma * torch.randn(clean.shape, generator=gen)).clamp(0, 1)
        return {"degraded": noisy, "clean": clean}


def run(tmp_path, name, steps, **kw):
    train_config = {"steps": steps, "batch_size": 4, "lr": 2e-3, "log_every": 1, "checkpoint_every": 0,
                    "sample_every": 0, "samples": 2, **kw.pop("train", {})}
    return train(name, NoisyBlobs(), tmp_path, model_config=TINY[name], train_config=train_config,
                 seed=kw.pop("seed", 5), progress=False, **kw)


def logged(path, key):
    return [json.loads(line)[key] for line in (path / "log.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("name", ["sequential", "pix2pix"])
def test_tiny_training_makes_the_l1_loss_fall(tmp_path, name):
    result = run(tmp_path, name, steps=40)
    l1 = logged(tmp_path, "l1")
    assert len(l1) == 40
    assert np.mean(l1[-5:]) < 0.8 * np.mean(l1[:5])
    assert result.step == 40 and result.weights == tmp_path / "weights.pt"
    assert (tmp_path / "samples" / "step-0000040.png").is_file()
    assert set(load_checkpoint(result.weights)["state_dict"])  # inference weights written


@pytest.mark.parametrize("name", ["sequential", "pix2pix"])
def test_resume_equals_an_uninterrupted_run(tmp_path, name):
    whole = run(tmp_path / "whole", name, steps=8)
    run(tmp_path / "split", name, steps=3)
    resumed = run(tmp_path / "split", name, steps=8, resume=True)
    a = load_checkpoint(tmp_path / "whole" / "checkpoint.pt")["state"]
    b = load_checkpoint(tmp_path / "split" / "checkpoint.pt")["state"]
    for net in a["modules"]:
        for key, value in a["modules"][net].items():
            assert torch.equal(value, b["modules"][net][key]), (net, key)
    assert resumed.losses == whole.losses
    assert logged(tmp_path / "split", "l1") == logged(tmp_path / "whole", "l1")


def test_training_seconds_add_up_over_a_resumed_run(tmp_path):
    first = run(tmp_path, "sequential", steps=3)
    saved = load_checkpoint(tmp_path / "checkpoint.pt")["seconds"]
    assert 0 < saved <= first.seconds
    resumed = run(tmp_path, "sequential", steps=6, resume=True)
    seconds = logged(tmp_path, "seconds")
    assert len(seconds) == 6 and seconds == sorted(seconds) and seconds[3] >= saved
    assert resumed.seconds >= seconds[-1] > saved
    assert load_checkpoint(resumed.weights)["meta"]["train_seconds"] == resumed.seconds


class Interrupted(NoisyBlobs):
    """NoisyBlobs whose loading fails after ``limit`` items: a run killed part way."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit, self.calls = limit, 0

    def __getitem__(self, index: int) -> dict:
        self.calls += 1
        if self.calls > self.limit:
            raise RuntimeError("interrupted")
        return super().__getitem__(index)


def test_lr_decay_falls_linearly_over_the_last_fraction_and_resumes_exactly(tmp_path):
    decay = {"lr_decay": 0.5, "checkpoint_every": 2}
    run(tmp_path / "whole", "pix2pix", steps=8, train=decay)
    assert logged(tmp_path / "whole", "lr") == pytest.approx([2e-3 * f for f in (1, 1, 1, 1, 1, 0.75, 0.5, 0.25)])
    config = {"steps": 8, "batch_size": 4, "lr": 2e-3, "log_every": 1, "sample_every": 0, "samples": 2, **decay}
    with pytest.raises(RuntimeError, match="interrupted"):  # killed in step 7, after the checkpoint of step 6
        train("pix2pix", Interrupted(limit=2 + 4 * 6), tmp_path / "split", model_config=TINY["pix2pix"],
              train_config=config, seed=5, progress=False)
    assert load_checkpoint(tmp_path / "split" / "checkpoint.pt")["step"] == 6
    run(tmp_path / "split", "pix2pix", steps=8, resume=True, train=decay)
    a = load_checkpoint(tmp_path / "whole" / "checkpoint.pt")["state"]["modules"]
    b = load_checkpoint(tmp_path / "split" / "checkpoint.pt")["state"]["modules"]
    assert all(torch.equal(a[net][key], b[net][key]) for net in a for key in a[net])
    assert logged(tmp_path / "split", "lr")[-2:] == logged(tmp_path / "whole", "lr")[-2:]


def test_constant_lr_without_decay_and_bad_decay_refused(tmp_path):
    run(tmp_path, "sequential", steps=3)
    assert logged(tmp_path, "lr") == [2e-3] * 3
    with pytest.raises(ValueError, match=r"lr_decay must be a fraction in \[0, 1\], got 1.5"):
        run(tmp_path / "bad", "sequential", steps=3, train={"lr_decay": 1.5})


def test_grey_fraction_turns_that_share_of_the_photos_grey_before_degrading():
    from oldphoto.models.training.data import build_dataset
    from oldphoto.models.training.stage import TrainConfig

    def grey_targets(fraction: float) -> int:
        config = TrainConfig(preset="bopbtl-code", crop=32, per_image=1, grey_fraction=fraction)
        data = build_dataset(config, seed=0, source="builtin")
        return sum(bool((data[i]["clean"] == data[i]["clean"][:1]).all()) for i in range(len(data)))

    none, half, every = grey_targets(0.0), grey_targets(0.5), grey_targets(1.0)
    assert every == 14 and none < half < every  # 14 builtin photos, some grey already
    with pytest.raises(ValueError, match=r"grey_fraction must be a fraction in \[0, 1\], got 2"):
        TrainConfig(grey_fraction=2)


def test_photo_tone_changes_that_share_of_the_clean_photos_and_keeps_the_grey_pipeline():
    from oldphoto.models.training.data import build_dataset, training_pipeline
    from oldphoto.models.training.stage import TrainConfig

    def changed_targets(share: float) -> int:
        config = TrainConfig(preset="bopbtl-code", crop=32, per_image=1, photo_tone=share)
        plain = build_dataset(TrainConfig(preset="bopbtl-code", crop=32, per_image=1), seed=0, source="builtin")
        data = build_dataset(config, seed=0, source="builtin")
        return sum(bool((data[i]["clean"] != plain[i]["clean"]).any()) for i in range(len(data)))

    assert changed_targets(0.0) == 0 and 0 < changed_targets(0.5) < changed_targets(1.0)
    both = training_pipeline(TrainConfig(preset="bopbtl-code", grey_fraction=0.3, photo_tone=0.5))
    assert [type(op).__name__ for op in both.transforms[:2]] == ["PhotoTone", "Grayscale"]
    assert both.name == "tone-0.5+grey-0.3+bopbtl-code"
    with pytest.raises(ValueError, match=r"photo_tone must be a fraction in \[0, 1\], got -1"):
        TrainConfig(photo_tone=-1)


def test_checkpoint_holds_config_seed_step_and_state(tmp_path):
    run(tmp_path, "pix2pix", steps=2, seed=11)
    ckpt = load_checkpoint(tmp_path / "checkpoint.pt")
    assert (ckpt["stage"], ckpt["seed"], ckpt["step"]) == ("pix2pix", 11, 2)
    assert ckpt["model_config"]["width"] == 8 and ckpt["train_config"]["l1_weight"] == 100.0
    assert set(ckpt["state"]["optimizers"]) == {"generator", "discriminator"}
    assert len(ckpt["rng"]) == 1 and {"torch", "generator"} <= set(ckpt["rng"][0])


def test_existing_run_refused_without_resume_and_mismatches_on_resume(tmp_path):
    run(tmp_path, "sequential", steps=2)
    with pytest.raises(CheckpointError, match="a run already exists here; pass --resume"):
        run(tmp_path, "sequential", steps=4)
    with pytest.raises(CheckpointError, match="seeded 5, resume asked for seed 6"):
        run(tmp_path, "sequential", steps=4, resume=True, seed=6)
    with pytest.raises(CheckpointError, match=r"different train config \(\['lr'\]\)"):
        run(tmp_path, "sequential", steps=4, resume=True, train={"lr": 1e-4})
    with pytest.raises(CheckpointError, match="checkpoint is for stage 'sequential', not 'pix2pix'"):
        run(tmp_path, "pix2pix", steps=4, resume=True)
    with pytest.raises(CheckpointError, match="checkpoint.pt: checkpoint file not found"):
        run(tmp_path / "empty", "sequential", steps=4, resume=True)


def test_checkpoint_save_load_and_errors(tmp_path):
    path = save_checkpoint(tmp_path / "a" / "c.pt", {"x": torch.arange(3), "step": 4})
    loaded = load_checkpoint(path, required=("x", "step"))
    assert torch.equal(loaded["x"], torch.arange(3)) and loaded["step"] == 4
    assert [p.name for p in path.parent.iterdir()] == ["c.pt"]  # no temp file left behind
    with pytest.raises(CheckpointError, match=r"c.pt: checkpoint lacks \['seed'\]"):
        load_checkpoint(path, required=("seed",))
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(CheckpointError, match=f"{path}: cannot read checkpoint"):
        load_checkpoint(path)
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="expected a checkpoint dict, found list"):
        load_checkpoint(tmp_path / "list.pt")


def test_step_sampler_is_a_pure_function_of_step_and_splits_ranks():
    full = StepBatchSampler(10, 4, seed=3, steps=6)
    assert list(StepBatchSampler(10, 4, seed=3, steps=6, start_step=2)) == list(full)[2:]
    ranks = [StepBatchSampler(10, 2, seed=3, steps=6, rank=r, world_size=2) for r in range(2)]
    for step in range(6):
        assert ranks[0].indices(step) + ranks[1].indices(step) == full.indices(step)
    first_epoch = [i for step in range(5) for i in StepBatchSampler(10, 2, seed=3, steps=5).indices(step)]
    assert sorted(first_epoch) == list(range(10))


def test_gan_and_l1_losses_values():
    ones, zeros = torch.ones(2, 1, 3, 3), torch.zeros(2, 1, 3, 3)
    assert lsgan_loss(ones, True).item() == 0 and lsgan_loss(ones, False).item() == 1
    assert lsgan_loss([zeros, ones], True).item() == pytest.approx(0.5)
    a, b = torch.zeros(1, 3, 2, 2), torch.ones(1, 3, 2, 2)
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    assert l1_loss(a, b).item() == 1 and l1_loss(a, b * mask).item() == pytest.approx(0.25)
    assert l1_loss(a, b * mask, mask).item() == 1
    assert feature_matching_loss([a, a], [b, a]).item() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="equal, non-empty"):
        feature_matching_loss([a], [])


def test_perceptual_loss_with_weights_from_a_file(tmp_path):
    from torchvision.models.vgg import cfgs, make_layers

    # Layer indices and keys must be those of torchvision's VGG16 features (configuration "D").
    assert str(vgg16_feature_layers(30)) == str(make_layers(cfgs["D"]))
    gen_state = {k: torch.randn(v.shape, generator=torch.Generator().manual_seed(0)) * 0.05
                 for k, v in vgg16_feature_layers(8).state_dict().items()}
    torch.save(gen_state, tmp_path / "vgg.pt")
    loss = VGGPerceptualLoss(vgg16_features(tmp_path / "vgg.pt", last_layer=8), layers=(3, 8))
    x = torch.rand(1, 3, 20, 20)
    y = x.clone().requires_grad_(True)
    assert loss(y, x).item() == 0
    value = loss(x.flip(-1).requires_grad_(True), x)
    assert value.item() > 0
    assert not any(p.requires_grad for p in loss.parameters())
    with pytest.raises(CheckpointError, match=r"VGG16 features lack \['10.bias'"):
        vgg16_features(tmp_path / "vgg.pt", last_layer=10)


def test_perceptual_loss_on_the_cached_lpips_backbone():
    from oldphoto.infra.weights import WeightsError

    try:
        features = vgg16_features()
    except WeightsError as exc:
        pytest.skip(f"converted VGG16 weights not in the cache ({exc})")
    loss = VGGPerceptualLoss(features)
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    # ImageNet features respond more to structure changes than to a small brightness shift.
    assert loss(x.flip(-1), x).item() > loss((x + 0.02).clamp(0, 1), x).item() > 0


def test_run_config_files(tmp_path):
    good = tmp_path / "run.yaml"
    good.write_text("model: {width: 8}\ntrain: {steps: 3}\n")
    assert load_run_config(good) == {"model": {"width": 8}, "train": {"steps": 3}}
    bad = tmp_path / "bad.yaml"
    bad.write_text("modle: {}\n")
    with pytest.raises(ValueError, match=r"bad.yaml: unknown section\(s\) \['modle'\]"):
        load_run_config(bad)
    bad.write_text("model: 3\n")
    with pytest.raises(ValueError, match="section 'model' must be a mapping"):
        load_run_config(bad)


def test_trainer_registry_rejects_duplicates():
    assert {"sequential", "pix2pix"} <= set(list_trainers())
    from oldphoto.models.training import get_trainer

    with pytest.raises(ValueError, match="registered twice"):
        register_trainer("sequential")(type("Other", (get_trainer("sequential"),), {}))
    with pytest.raises(KeyError, match="unknown trainer 'nope'"):
        get_trainer("nope")


def test_train_command_on_builtin_photos_and_resume(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("model: {width: 8, depth: 3}\n"
                      "train: {batch_size: 2, crop: 32, per_image: 1, log_every: 1, samples: 2}\n")
    out = tmp_path / "run"
    args = ["train", "sequential", "--source", "builtin", "--config", str(config), "--out", str(out), "--device", "cpu"]
    result = CliRunner().invoke(main, [*args, "--steps", "2"])
    assert result.exit_code == 0, result.output
    assert "trained sequential to step 2" in result.output and (out / "weights.pt").is_file()
    again = CliRunner().invoke(main, [*args, "--steps", "2"])
    assert again.exit_code != 0 and "pass --resume" in again.output
    resumed = CliRunner().invoke(main, [*args, "--steps", "3", "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 3
    export = (out / "weights.pt").read_bytes()
    finished = CliRunner().invoke(main, [*args, "--steps", "3", "--resume"])  # nothing left to train
    assert finished.exit_code == 0, finished.output
    assert (out / "weights.pt").read_bytes() == export  # not re-exported without its final losses
    both = CliRunner().invoke(main, ["train", "sequential", "--source", "builtin", "--data", str(tmp_path),
                                     "--out", str(tmp_path / "x")])
    assert both.exit_code != 0 and "exactly one of --data DIR" in both.output


def test_train_set_overrides_the_config_sections_and_is_checked_on_resume(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("model: {width: 8, depth: 3}\ntrain: {batch_size: 2, crop: 32, per_image: 1, samples: 2}\n")
    out = tmp_path / "run"
    args = ["train", "sequential", "--source", "builtin", "--config", str(config), "--out", str(out),
            "--device", "cpu", "--steps", "1"]
    result = CliRunner().invoke(main, [*args, "--set", "model.width=6", "--set", "train.crop=24"])
    assert result.exit_code == 0, result.output
    stored = load_checkpoint(out / "checkpoint.pt")
    assert stored["model_config"]["width"] == 6 and stored["model_config"]["depth"] == 3
    assert stored["train_config"]["crop"] == 24
    changed = CliRunner().invoke(main, [*args, "--resume", "--steps", "2", "--set", "model.width=6"])
    assert changed.exit_code != 0 and "different" in changed.output  # train.crop=24 not given again
    for bad, message in (("width=6", "expected SECTION.FIELD=VALUE, e.g. train.steps=500"),
                         ("data.x=1", "unknown section(s) ['data']")):
        refused = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "bad"), "--set", bad])
        assert refused.exit_code != 0 and message in refused.output
