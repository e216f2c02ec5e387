"""Registry: every registered model creates, restores small odd-sized images, keeps size and dtype."""

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from oldphoto import models
from oldphoto.cli import main

BASELINES = {"input", "classical", "sequential", "dip", "pix2pix"}


def test_baselines_are_registered():
    assert BASELINES <= set(models.list_models())


@pytest.mark.parametrize("name", models.list_models())
def test_every_model_restores_odd_sizes(name):
    restorer = models.create(name, pretrained=False, device="cpu")
    assert isinstance(restorer, models.Restorer)
    assert restorer.device == "cpu"
    assert isinstance(restorer.num_parameters, int) and restorer.num_parameters >= 0
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (37, 29, 3), dtype=np.uint8)
    mask = np.zeros(image.shape[:2], bool)
    mask[10:14, 3:25] = True
    out = restorer.restore(image, mask)
    assert out.shape == image.shape and out.dtype == np.uint8
    if not restorer.needs_mask:
        out = restorer.restore(image)
        assert out.shape == image.shape and out.dtype == np.uint8


@pytest.mark.parametrize("name", ["sequential", "pix2pix"])
def test_shipped_checkpoints_load_and_run(name):
    restorer = models.create(name, device="cpu")
    assert restorer.needs_training
    assert restorer.weights_meta["steps"] > 0
    image = np.random.default_rng(1).integers(0, 256, (23, 41, 3), dtype=np.uint8)
    out = restorer.restore([image, image[:17]])
    assert [o.shape for o in out] == [image.shape, image[:17].shape]


def test_flags_and_parameter_counts():
    info = {name: models.model_info(name) for name in BASELINES}
    assert info["input"]["parameters"] == info["classical"]["parameters"] == 0
    assert all(info[n]["parameters"] > 1000 for n in ("sequential", "dip", "pix2pix"))
    assert {n for n in BASELINES if info[n]["needs_training"]} == {"sequential", "pix2pix"}
    assert all(info[n]["description"] for n in BASELINES)


def test_models_command_lists_every_model():
    result = CliRunner().invoke(main, ["models"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for name in models.list_models():
        row = next(line for line in lines if line.split()[0] == name)
        assert f"{models.model_info(name)['parameters']:,}" in row


def test_unknown_model_and_bad_config():
    with pytest.raises(KeyError, match="unknown model 'nope'"):
        models.create("nope")
    with pytest.raises(ValueError, match=r"dip: unknown config field\(s\) \['iters'\]"):
        models.create("dip", {"iters": 3})
    with pytest.raises(ValueError, match="template"):
        models.create("classical", {"template": 4})
    with pytest.raises(TypeError, match="config must be None, a dict"):
        models.create("input", config=3)


def test_bad_inputs_are_named():
    restorer = models.create("input")
    with pytest.raises(ValueError, match="expected a uint8 HxWx3"):
        restorer.restore(np.zeros((8, 8), np.uint8))
    with pytest.raises(ValueError, match="mask shape"):
        restorer.restore(np.zeros((8, 8, 3), np.uint8), np.zeros((4, 4), bool))


def test_unavailable_cuda_is_an_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here, so asking for it is not an error")
    with pytest.raises(ValueError, match="device 'cuda': CUDA is not available"):
        models.create("sequential", pretrained=False, device="cuda")
