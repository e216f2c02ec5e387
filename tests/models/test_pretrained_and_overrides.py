"""``list_models(pretrained=True)`` follows the weight files, and every model family takes a dict of config
overrides (what ``oldphoto benchmark --set MODEL.FIELD=VALUE`` builds), bopbtl included."""

import pytest

from oldphoto import models
from oldphoto.benchmark.runner import parse_overrides
from oldphoto.models import weights as model_weights
from oldphoto.models.bopbtl.configs import SMALL

SHIPPED = model_weights.CHECKPOINT_DIR
WITHOUT_WEIGHTS = ["classical", "dip", "input"]


@pytest.fixture()
def checkpoints(tmp_path, monkeypatch):
    """An empty stand-in for models/checkpoints/, where the shipped weight files are looked up."""
    monkeypatch.setattr(model_weights, "CHECKPOINT_DIR", tmp_path)
    return tmp_path


def link_shipped(checkpoints, *names):
    """Link the shipped files ``names`` (paths under models/checkpoints/) into ``checkpoints``."""
    for name in names:
        (checkpoints / name).parent.mkdir(parents=True, exist_ok=True)
        (checkpoints / name).symlink_to(SHIPPED / name)


class TestSmoke:
    def test_pretrained_lists_every_shipped_model_and_the_weightless_ones(self):
        listed = models.list_models(pretrained=True)
        assert set(listed) <= set(models.list_models()) and listed == sorted(listed)
        assert set(WITHOUT_WEIGHTS) | {"sequential", "pix2pix", "bopbtl", "bopbtl-ae", "bopbtl-face"} <= set(listed)
        assert models.list_models(pretrained=False) == models.list_models()

    def test_set_reaches_nested_bopbtl_fields(self):
        configs = parse_overrides(["bopbtl.mapping.res_blocks=2", "bopbtl.fusion.depth=4"])
        assert configs == {"bopbtl": {"mapping.res_blocks": 2, "fusion.depth": 4}}
        config = models.create("bopbtl", configs["bopbtl"], pretrained=False, device="cpu").net.config
        assert (config.mapping.res_blocks, config.fusion.depth, config.name) == (2, 4, "small")
        assert config.vae == SMALL.vae and config.mapping.widths == SMALL.mapping.widths


class TestExceptions:
    @pytest.mark.parametrize("name", models.list_models())
    def test_every_family_names_an_unknown_field(self, name):
        with pytest.raises(ValueError, match=r"unknown config field\(s\) \['no_such_field'\]; known: \["):
            models.create(name, {"no_such_field": 1}, pretrained=False, device="cpu")

    def test_bopbtl_names_the_part_and_its_fields(self):
        with pytest.raises(ValueError, match=r"bopbtl config mapping: unknown config field\(s\) \['x'\]; "
                                             r"known: \['attention_chunk_elements'"):
            models.create("bopbtl", {"mapping.x": 1}, pretrained=False, device="cpu")
        with pytest.raises(ValueError, match=r"bopbtl config 'huge': expected one of \['full', 'small'\]"):
            models.create("bopbtl", {"name": "huge"}, pretrained=False, device="cpu")
        with pytest.raises(TypeError, match="bopbtl config fusion: config must be None, a dict or FusionConfig"):
            models.create("bopbtl", {"fusion": 3}, pretrained=False, device="cpu")
        with pytest.raises(ValueError, match="fusion needs width >= 1"):
            models.create("bopbtl", {"fusion.width": 0}, pretrained=False, device="cpu")

    def test_overridden_sizes_have_no_shipped_weights(self):
        with pytest.raises(models.CheckpointError, match="mapping-bopbtl.pt: mapping was trained as"):
            models.create("bopbtl", {"mapping.res_blocks": 2}, device="cpu")

    def test_inference_only_fields_keep_the_shipped_weights(self):
        overrides = {"detector.threshold": 0.6, "mapping.attention_chunk_elements": 4096, "monochrome": 0.0}
        config = models.create("bopbtl", overrides, device="cpu").net.config
        assert (config.detector.threshold, config.mapping.attention_chunk_elements, config.monochrome) == (0.6, 4096, 0)

    def test_unknown_model_lists_the_registered_ones(self):
        with pytest.raises(KeyError, match=r"unknown model 'nope'; choose one of: bopbtl, .*, sequential"):
            models.create("nope")
        with pytest.raises(ValueError, match="unknown model 'nope'"):
            models.missing_weights("nope")


class TestValues:
    def test_without_weight_files_only_weightless_models_are_listed(self, checkpoints):
        assert models.list_models(pretrained=True) == WITHOUT_WEIGHTS
        assert models.missing_weights("sequential") == [checkpoints / "sequential-small.pt"]
        assert models.missing_weights("bopbtl-face") == [checkpoints / "bopbtl-face-small.pt"]
        assert models.missing_weights("dip") == []

    def test_a_present_weight_file_lists_its_model(self, checkpoints):
        link_shipped(checkpoints, "sequential-small.pt")
        assert models.list_models(pretrained=True) == sorted([*WITHOUT_WEIGHTS, "sequential"])
        assert models.create("sequential", device="cpu").weights_meta["steps"] > 0

    def test_bopbtl_needs_every_part(self, checkpoints):
        shared = ["vae-old.pt", "vae-clean.pt", "detector.pt"]
        link_shipped(checkpoints, *(f"bopbtl-small/{name}" for name in [*shared, "mapping-bopbtl-local.pt",
                                                                           "fusion-bopbtl-local.pt",
                                                                           "mapping-bopbtl.pt"]))
        assert models.list_models(pretrained=True) == sorted([*WITHOUT_WEIGHTS, "bopbtl-local"])
        assert models.missing_weights("bopbtl") == [checkpoints / "bopbtl-small" / "fusion-bopbtl.pt"]
        folder = checkpoints / "bopbtl-small"  # the autoencoder ablation shares only the detector
        assert models.missing_weights("bopbtl-ae") == [folder / "mapping-bopbtl-ae.pt", folder / "vae-old-ae.pt",
                                                       folder / "vae-clean-ae.pt", folder / "fusion-bopbtl-ae.pt"]

    @pytest.mark.parametrize("name, overrides, field, value", [
        ("classical", {"h": 3}, "h", 3),
        ("dip", {"iterations": 5}, "iterations", 5),
        ("sequential", {"depth": 5}, "depth", 5),
        ("pix2pix", {"levels": 3}, "levels", 3),
        ("bopbtl-face", {"detector.threshold": 0.9}, "detector", None),
    ])
    def test_every_family_applies_overrides_over_its_defaults(self, name, overrides, field, value):
        config = models.create(name, overrides, pretrained=False, device="cpu").config
        default = models.create(name, pretrained=False, device="cpu").config
        if value is None:
            assert config.detector.threshold == 0.9 and config.blend == default.blend
        else:
            assert getattr(config, field) == value
        untouched = {k: v for k, v in vars(config).items() if k != field}
        assert untouched == {k: v for k, v in vars(default).items() if k != field}

    def test_bopbtl_name_picks_the_base_and_lists_become_tuples(self):
        config = models.create("bopbtl", {"name": "full", "mapping": {"widths": [64, 64, 64, 64]}},
                               pretrained=False, device="cpu").net.config
        assert config.name == "full" and config.mapping.widths == (64, 64, 64, 64)
        assert config.vae.norm == "instance" and config.mapping.res_blocks == 6  # the full config's
