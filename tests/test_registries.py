"""Every registry (models, trainers, ops, presets, metrics, sources) names the kind and the choices in its
UnknownNameError, and the CLI shows that message for an unknown name."""

import pytest
from click.testing import CliRunner

from oldphoto import degrade, models
from oldphoto.benchmark import metrics
from oldphoto.cli import main
from oldphoto.datasets.sources import SOURCES, SourceError, make_source
from oldphoto.degrade.presets import PRESETS
from oldphoto.infra.registry import Registry, UnknownNameError
from oldphoto.models.registry import MODELS
from oldphoto.models.training.registry import TRAINERS, get_trainer

# (kind, registry, a call with the unknown name "nope", the package's own error type)
CASES = [
    ("model", MODELS, lambda: models.create("nope"), KeyError),
    ("trainer", TRAINERS, lambda: get_trainer("nope"), KeyError),
    ("transform type", degrade.REGISTRY, lambda: degrade.from_dict({"type": "nope"}), degrade.DegradeError),
    ("preset", PRESETS, lambda: degrade.preset("nope"), degrade.DegradeError),
    ("metric", metrics.METRICS, lambda: metrics.create("nope"), metrics.MetricError),
    ("source", SOURCES, lambda: make_source("nope"), SourceError),
]
IDS = [case[0] for case in CASES]


class TestSmoke:
    @pytest.mark.parametrize("kind, registry, call, error", CASES, ids=IDS)
    def test_each_is_a_registry_of_its_kind(self, kind, registry, call, error):
        assert isinstance(registry, Registry) and registry.kind == kind
        names = registry.list()
        assert names and names == sorted(names) and list(registry) == names
        assert all(registry.describe(name)["name"] == name for name in names)

    def test_public_lists_are_the_registries(self):
        assert models.list_models() == MODELS.list() and metrics.list_metrics() == metrics.METRICS.list()
        assert degrade.list_presets() == PRESETS.list()
        assert {"builtin", "folder", "real", "voc", "div2k", "ffhq"} == set(SOURCES)

    @pytest.mark.parametrize("registry", [MODELS, PRESETS, metrics.METRICS, SOURCES], ids=lambda r: r.kind)
    def test_entries_are_described(self, registry):
        assert all(registry.describe(name)["description"] for name in registry)


class TestExceptions:
    @pytest.mark.parametrize("kind, registry, call, error", CASES, ids=IDS)
    def test_unknown_names_list_the_choices(self, kind, registry, call, error):
        with pytest.raises(UnknownNameError) as caught:
            call()
        assert str(caught.value) == f"unknown {kind} 'nope'; choose one of: {', '.join(registry.list())}"
        assert isinstance(caught.value, KeyError) and isinstance(caught.value, ValueError)
        assert isinstance(caught.value, error) and caught.value.choices == tuple(registry.list())

    @pytest.mark.parametrize("args, shown", [
        (["train", "nope"], "unknown trainer 'nope'; choose one of: bopbtl-detector, "),
        (["synthesize", "--source", "builtin", "--preset", "nope", "--out", "{out}"],
         "unknown preset 'nope'; choose one of: bopbtl-code, "),
        (["synthesize", "--source", "flickr", "--out", "{out}"], "unknown source 'flickr'; choose one of: builtin, "),
        (["presets", "--show", "nope"], "unknown preset 'nope'; choose one of: "),
    ])
    def test_the_cli_shows_the_choices(self, tmp_path, args, shown):
        result = CliRunner().invoke(main, [a.format(out=tmp_path / "out") for a in args])
        assert result.exit_code in (1, 2) and shown in result.output, result.output
        assert "Traceback" not in result.output


class TestValues:
    def test_models_describe_their_weight_files(self):
        files = MODELS.describe("sequential")["weights"]()
        assert [p.name for p in files] == ["sequential-small.pt"]
        assert "weights" not in MODELS.describe("input")

    def test_presets_describe_their_file(self):
        assert PRESETS.describe("bopbtl-code")["path"].name == "bopbtl-code.yaml"
        assert PRESETS.create("bopbtl-code", seed=1).to_dict() == degrade.preset("bopbtl-code", seed=1).to_dict()
