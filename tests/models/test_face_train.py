"""Face training data (FFHQ / CelebA-HQ layouts, auto-aligned folders, determinism) and a tiny
training run of the bopbtl-face stage whose perceptual loss falls; the exported weights load."""

import json
import shutil

import cv2
import numpy as np
import pytest
import torch

from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.imageio import read_rgb, write_image
from oldphoto.models import create
from oldphoto.models.training import train
from oldphoto.models.training.families.face import FaceStage, FaceTrainConfig
from oldphoto.models.training.families.face_data import FaceDataset, aligned_layout, face_sources

# Square windows around the two builtin faces (x, y, side): stand-ins for aligned dataset crops.
FACE_WINDOWS = {"astronaut": (150, 40, 150), "grace_hopper": (140, 90, 250)}


def face_crop(name, size):
    x, y, side = FACE_WINDOWS[name]
    return cv2.resize(read_rgb(builtin_paths()[name])[y:y + side, x:x + side], (size, size),
                      interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def ffhq_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("ffhq")
    for index, name in enumerate(sorted(FACE_WINDOWS)):
        write_image(root / "images1024x1024" / "00000" / f"{index:05d}.png", face_crop(name, 128))
    return root


@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory):
    """Random VGG16 features (seeded): the tiny run tests the loop, not ImageNet features."""
    from torchvision.models import vgg16

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("vgg") / "vgg16-random.pt"
    torch.save({"state_dict": vgg16(weights=None).features[:23].state_dict()}, path)
    return path


def test_aligned_layouts_are_recognised(ffhq_root, tmp_path):
    assert aligned_layout(ffhq_root) == "ffhq"
    records, notes = face_sources(str(ffhq_root))
    assert [r.id for r in records] == ["00000", "00001"] and notes == [] and records[0].landmarks is None
    celeba = tmp_path / "CelebA-HQ-img"
    write_image(celeba / "0.jpg", face_crop("astronaut", 64))
    assert aligned_layout(tmp_path) == "celeba-hq"
    assert [r.id for r in face_sources(str(tmp_path))[0]] == ["0"]


def test_any_folder_is_auto_aligned_with_the_detector(tmp_path):
    shutil.copy(builtin_paths()["astronaut"], tmp_path / "portrait.png")
    write_image(tmp_path / "cup.png", cv2.resize(read_rgb(builtin_paths()["coffee"]), (300, 200)))
    records, notes = face_sources(str(tmp_path))
    assert [r.id for r in records] == ["portrait-face0"] and records[0].landmarks.shape == (5, 2)
    assert len(notes) == 1 and notes[0].startswith("cup: no face")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no training face"):
        face_sources(str(empty))


def test_face_dataset_is_deterministic_and_varied(ffhq_root):
    records, _ = face_sources(str(ffhq_root))
    dataset = FaceDataset(records, 64, "bopbtl-code", seed=3, per_image=4)
    assert len(dataset) == 8
    first, again = dataset[1], FaceDataset(records, 64, "bopbtl-code", seed=3, per_image=4)[1]
    assert first["clean"].shape == first["degraded"].shape == (3, 64, 64)
    assert torch.equal(first["clean"], again["clean"]) and torch.equal(first["degraded"], again["degraded"])
    assert not torch.equal(dataset[0]["clean"], dataset[1]["clean"])  # different jitter / flip
    assert 0.0 <= float(first["degraded"].min()) and float(first["degraded"].max()) <= 1.0


def test_stage_options_are_checked():
    with pytest.raises(ValueError, match="--source"):
        FaceStage.make_dataset(FaceTrainConfig(), 0, data_dir="somewhere")
    with pytest.raises(ValueError, match="multiple of 32"):
        FaceTrainConfig(crop=100)


def test_tiny_training_run_lowers_the_loss_and_exports_loadable_weights(ffhq_root, vgg_file, tmp_path):
    records, _ = face_sources(str(ffhq_root))
    dataset = FaceDataset(records, 64, "bopbtl-code", seed=0, per_image=1)
    generator = {"size": 64, "ngf": 4, "spade_hidden": 8}
    result = train("bopbtl-face", dataset, tmp_path / "run", model_config=generator,
                   train_config={"steps": 40, "batch_size": 2, "crop": 64, "lr": 1e-3, "per_image": 1,
                                 "disc_channels": 8, "disc_layers": 2, "disc_scales": 1, "vgg_weights": str(vgg_file),
                                 "log_every": 1, "checkpoint_every": 0, "sample_every": 0, "samples": 1, "amp": False},
                   seed=0, device="cpu", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert len(rows) == 40 and {"d", "g_gan", "feat", "vgg", "g"} <= set(rows[0])
    start, end = np.mean([r["vgg"] for r in rows[:3]]), np.mean([r["vgg"] for r in rows[-3:]])
    assert end < 0.8 * start
    restorer = create("bopbtl-face", config={"generator": generator}, pretrained=result.weights, device="cpu")
    assert restorer.weights_meta["steps"] == 40
    with pytest.raises(ValueError, match="shipped checkpoint"):
        create("bopbtl-face", config={"generator": generator}, device="cpu")


def test_shipped_demonstration_checkpoint_loads_and_runs():
    restorer = create("bopbtl-face", device="cpu")
    assert restorer.weights_meta["stage"] == "bopbtl-face" and restorer.weights_meta["steps"] == 100
    image = read_rgb(builtin_paths()["grace_hopper"])
    out = restorer.restore(image)
    assert out.shape == image.shape and len(restorer.last_faces) == 1 and restorer.last_faces[0]["blended"]
    assert (out != image).any()
