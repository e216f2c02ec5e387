"""The ``bopbtl-tone`` stage: a fresh global tone stage trained alone for a trained fusion head."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from oldphoto.models.bopbtl import configs
from oldphoto.models.bopbtl.fusion import FusionHead, channel_statistics
from oldphoto.models.bopbtl.parts import load_stage_weights
from oldphoto.models.training import CheckpointError, load_checkpoint, train
from oldphoto.models.training.families.bopbtl import BopbtlTrainConfig
from oldphoto.models.training.families.bopbtl_tone import TONE_SIDE, ReducedToneItems, StandardizedTone, capped_psnr

from .test_bopbtl_training import TINY, TRAIN, ScratchedStripes, tiny_size  # noqa: F401 (fixture)

CROP = 48


class FadedPrints(Dataset):
    """Smooth colour patterns (clean) and the same washed out toward a warm paper tone (degraded):
    ``clean * contrast + paper``, a different fade per item."""

    def __init__(self, count: int = 32) -> None:
        rng = np.random.default_rng(1)
        yy, xx = np.mgrid[0:CROP, 0:CROP] / CROP
        self.items = []
        for _ in range(count):
            clean = rng.uniform(0.1, 0.9, (3, 1, 1)) * (0.5 + 0.5 * np.sin(rng.uniform(3, 9) * xx + 4 * yy))
            contrast = rng.uniform(0.5, 0.8)
            paper = (1 - contrast) * np.array([0.95, 0.85, 0.7])[:, None, None]
            self.items.append({"degraded": torch.tensor(clean * contrast + paper, dtype=torch.float32),
                               "clean": torch.tensor(clean, dtype=torch.float32)})

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        return self.items[index]


TONE_TRAIN = {**TRAIN, "steps": 60, "batch_size": 8, "lr": 3e-3, "identity_fraction": 0.0}


@pytest.fixture()
def head_export(tmp_path, tiny_size):  # noqa: F811 (the fixture imported above)
    """A tiny fusion head export (2 steps of ``bopbtl-fusion`` on a tiny chain) and its model config (the
    chain's frozen parts too)."""
    from .test_bopbtl_training import train_tiny_chain

    config = train_tiny_chain(tmp_path, tiny_size)
    train("bopbtl-fusion", ScratchedStripes(), tmp_path / "fusion", model_config=config,
          train_config={**TRAIN, "steps": 2, "gan_weight": 0.0, "feature_matching_weight": 0.0},
          seed=0, device="cpu", progress=False)
    return {**config, "fusion_weights": str(tmp_path / "fusion" / "weights.pt")}


def loaded_head(path) -> FusionHead:
    head = FusionHead(TINY.fusion)
    load_stage_weights(head, "bopbtl-fusion", path, TINY, "fusion")
    return head.eval()


class TestReducedItems:
    def test_items_keep_the_statistics_and_the_area_means_of_both_photos(self):
        items = ReducedToneItems(FadedPrints(3), progress=False)
        assert len(items) == 3
        source = FadedPrints(3)[1]
        item = items[1]
        assert item["degraded"].shape == (3, TONE_SIDE, TONE_SIDE)
        assert torch.allclose(item["statistics"], channel_statistics(source["degraded"][None])[0])
        assert torch.allclose(item["clean_statistics"], channel_statistics(source["clean"][None])[0])
        assert torch.allclose(item["clean"].mean(), source["clean"].mean(), atol=1e-6)


class TestStandardizedTone:
    def test_the_folded_tone_computes_what_the_standardized_one_does_in_eval_mode(self):
        torch.manual_seed(0)
        tone = StandardizedTone(8)
        for layer in tone.tone.mlp:
            if isinstance(layer, torch.nn.Linear):
                torch.nn.init.normal_(layer.weight, std=0.3)
        items = ReducedToneItems(FadedPrints(16), progress=False)
        statistics = torch.stack([items[i]["statistics"] for i in range(16)])
        images = torch.stack([items[i]["degraded"] for i in range(16)])
        tone.train()
        tone(statistics, images)  # running mean and variance of these statistics
        tone.eval()
        with torch.no_grad():
            assert not torch.allclose(tone(statistics, images), images, atol=1e-3)
            folded = tone.folded()(images)  # statistics computed from the images themselves
        assert torch.allclose(folded, tone(channel_statistics(images), images), atol=1e-5)

    def test_a_fresh_tone_is_the_identity(self):
        images = torch.rand(2, 3, 8, 8)
        tone = StandardizedTone(8).train()
        assert torch.equal(tone(channel_statistics(images), images), images)


class TestCappedPsnr:
    def test_values(self):
        clean = torch.full((2, 3, 4, 4), 0.5)
        noisy = clean + 0.1 * torch.tensor([1.0, -1.0])[:, None, None, None]
        assert torch.allclose(capped_psnr(noisy, clean, 80.0), torch.full((2,), 20.0), atol=1e-4)
        assert torch.allclose(capped_psnr(clean, clean, 40.0), torch.full((2,), 40.0))
        assert float(capped_psnr(noisy, clean, 20.0)[0]) == pytest.approx(10 * np.log10(1 / 0.02), abs=1e-4)

    def test_the_cap_must_be_positive(self):
        with pytest.raises(ValueError, match="tone_psnr_cap"):
            BopbtlTrainConfig(tone_psnr_cap=0.0)


class TestToneStage:
    def test_it_needs_a_head_export_and_a_config_with_a_tone_stage(self, tmp_path, tiny_size):  # noqa: F811
        data = ReducedToneItems(FadedPrints(8), progress=False)
        with pytest.raises(CheckpointError, match="fusion_weights"):
            train("bopbtl-tone", data, tmp_path / "a", model_config={"size": tiny_size},
                  train_config=TONE_TRAIN, seed=0, device="cpu", progress=False)
        plain = dataclasses.replace(TINY, name="tiny-no-tone", fusion=configs.FusionConfig(tone=0))
        with pytest.MonkeyPatch.context() as patch:
            patch.setitem(configs.CONFIGS, "tiny-no-tone", plain)
            with pytest.raises(ValueError, match="no fusion tone stage"):
                train("bopbtl-tone", data, tmp_path / "b", model_config={"size": "tiny-no-tone", "fusion_weights": "x"},
                      train_config=TONE_TRAIN, seed=0, device="cpu", progress=False)

    def test_it_learns_to_undo_a_fade_and_exports_the_head_with_only_its_tone_changed(self, tmp_path, head_export):
        result = train("bopbtl-tone", ReducedToneItems(FadedPrints(), progress=False), tmp_path / "tone",
                       model_config=head_export, train_config=TONE_TRAIN, seed=0, device="cpu", progress=False)
        logs = [json.loads(line) for line in (result.out / "log.jsonl").read_text().splitlines()]
        assert np.mean([row["psnr"] for row in logs[-4:]]) > np.mean([row["psnr"] for row in logs[:4]]) + 3
        before, after = loaded_head(head_export["fusion_weights"]), loaded_head(result.weights)
        for name, value in before.body.state_dict().items():
            assert torch.equal(value, after.body.state_dict()[name])
        faded = FadedPrints(4)
        images = torch.stack([faded[i]["degraded"] for i in range(4)])
        clean = torch.stack([faded[i]["clean"] for i in range(4)])
        with torch.no_grad():
            gain = capped_psnr(after.toned(images), clean, 80) - capped_psnr(before.toned(images), clean, 80)
        assert float(gain.mean()) > 3

    def test_resume_gives_the_weights_of_an_uninterrupted_run(self, tmp_path, head_export):
        data = ReducedToneItems(FadedPrints(), progress=False)
        settings = {**TONE_TRAIN, "steps": 8, "identity_fraction": 0.5}
        train("bopbtl-tone", data, tmp_path / "whole", model_config=head_export, train_config=settings, seed=1,
              device="cpu", progress=False)
        train("bopbtl-tone", data, tmp_path / "part", model_config=head_export, train_config={**settings, "steps": 4},
              seed=1, device="cpu", progress=False)
        train("bopbtl-tone", data, tmp_path / "part", resume=True, steps=8, device="cpu", progress=False)
        a, b = (load_checkpoint(run / "checkpoint.pt")["state"]["modules"]["tone"] for run in
                (tmp_path / "whole", tmp_path / "part"))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        assert int(a["norm.num_batches_tracked"]) == 8


class TestFrozenToneInTheFusionStage:
    SETTINGS = {**TRAIN, "steps": 3, "gan_weight": 0.0, "feature_matching_weight": 0.0}

    def test_the_head_keeps_the_tone_stage_it_starts_from_and_trains_the_rest(self, tmp_path, head_export):
        start = loaded_head(head_export["fusion_weights"])
        heads = {}
        for frozen in (True, False):
            result = train("bopbtl-fusion", ScratchedStripes(), tmp_path / str(frozen), model_config=head_export,
                           train_config={**self.SETTINGS, "freeze_tone": frozen}, seed=0, device="cpu", progress=False)
            heads[frozen] = loaded_head(result.weights)
        for frozen, head in heads.items():
            tone_kept = all(torch.equal(value, head.tone.state_dict()[name])
                            for name, value in start.tone.state_dict().items())
            assert tone_kept == frozen
            assert not all(torch.equal(value, head.body.state_dict()[name])
                           for name, value in start.body.state_dict().items())

    def test_it_needs_the_head_to_start_from(self, tmp_path, tiny_size):  # noqa: F811
        from .test_bopbtl_training import train_tiny_chain

        config = train_tiny_chain(tmp_path, tiny_size)
        with pytest.raises(ValueError, match="freeze_tone"):
            train("bopbtl-fusion", ScratchedStripes(), tmp_path / "fusion", model_config=config,
                  train_config={**self.SETTINGS, "freeze_tone": True}, seed=0, device="cpu", progress=False)
