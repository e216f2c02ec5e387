"""Pipeline files as untrusted input: size, nesting and alias limits, bounded messages, op maxima."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from oldphoto import degrade
from oldphoto.degrade import DegradeError, Op
from oldphoto.degrade.serialize import MAX_DEPTH, MAX_FILE_BYTES, MAX_OPS, MAX_VALUES

OPS = sorted((name, cls) for name, cls in degrade.REGISTRY.items() if issubclass(cls, Op))
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=False))


def load_error(tmp_path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(DegradeError) as info:
        degrade.load(path)
    message = str(info.value)
    assert message.startswith(str(path)) and len(message) < 600, message[:600]
    return message


def test_billion_laughs_is_refused_with_a_short_message(tmp_path):
    assert "more than" in load_error(tmp_path, "laughs.yaml", LAUGHS + "type: Pipeline\ntransforms: [*i]\n")
    assert f"{MAX_VALUES} values" in load_error(tmp_path, "laughs2.yaml", LAUGHS)


@pytest.mark.parametrize("name,text", [
    ("deep.json", "[" * 100_000 + "]" * 100_000),
    ("deep.yaml", "[" * 100_000 + "]" * 100_000),
    ("shallow-enough-to-parse.json", "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)),
    ("loop.yaml", "type: Pipeline\ntransforms: &t\n  - type: Compose\n    transforms: *t\n"),
])
def test_deep_or_recursive_nesting_is_refused(tmp_path, name, text):
    assert f"nested deeper than {MAX_DEPTH} levels" in load_error(tmp_path, name, text)


def test_big_binary_and_malformed_files_are_refused(tmp_path):
    assert "larger than" in load_error(tmp_path, "big.json", b" " * (MAX_FILE_BYTES + 1))
    assert "not UTF-8" in load_error(tmp_path, "bin.yaml", b"\xff\xfe\x00type")
    assert "must be a list" in load_error(tmp_path, "t.json", '{"type": "Pipeline", "transforms": 3}')
    assert "unknown transform type" in load_error(tmp_path, "u.json", '{"type": ["x"]}')
    assert "Pipeline:" in load_error(tmp_path, "s.json", '{"type": "Pipeline", "transforms": [], "seed": -1}')
    assert "Scratches:" in load_error(tmp_path, "k.json", '{"type": "Scratches", "colour": 1}')


def test_yaml_tags_run_no_code(tmp_path):
    marker = tmp_path / "ran"
    load_error(tmp_path, "evil.yaml", f"!!python/object/apply:os.system ['touch {marker}']\n")
    assert not marker.exists()


def test_echoed_values_are_cut_short(tmp_path):
    huge = list(range(10_000))
    text = json.dumps({"type": "Pipeline", "transforms": [{"type": "Sepia", "strength": huge}]})
    message = load_error(tmp_path, "long.json", text)
    assert "Sepia: argument 'strength'" in message and "..." in message


def range_fields(cls) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls) if isinstance(f.default, tuple) and len(f.default) == 2
            and all(isinstance(v, (int, float)) for v in f.default)]


@pytest.mark.parametrize("name,cls", OPS, ids=[name for name, _ in OPS])
def test_every_range_has_a_maximum_checked_at_build_time(name, cls):
    for field in range_fields(cls):
        big = 10**12 if all(isinstance(v, int) for v in field.default) else 1e12
        with pytest.raises(DegradeError, match=f"{name}: argument '{field.name}' must be <= "):
            degrade.Pipeline.from_dict({"type": "Pipeline", "transforms": [{"type": name, field.name: [big, big]}]})


def test_the_issue_scratch_count_is_refused():
    with pytest.raises(DegradeError, match="'count' must be <= 200"):
        degrade.Pipeline.from_dict({"type": "Pipeline", "transforms": [
            {"type": "Scratches", "count": [100000000, 100000000], "p": 1}]})


def documented_maxima() -> list[tuple[str, str, float]]:
    text = (Path(__file__).resolve().parents[2] / "docs" / "bad-input.md").read_text()
    rows = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("| ") and line.count("|") == 4]
    return [(op.strip(), arg.strip(), float(hi)) for op, arg, hi in rows if op.strip() in degrade.REGISTRY]


@pytest.mark.parametrize("name,argument,maximum", documented_maxima())
def test_documented_maxima_are_the_enforced_ones(name, argument, maximum):
    at = int(maximum) if isinstance(getattr(degrade.REGISTRY[name](), argument)[0], int) else maximum
    degrade.REGISTRY[name](**{argument: (at, at)})
    with pytest.raises(DegradeError, match=f"'{argument}' must be <= "):
        degrade.REGISTRY[name](**{argument: (at + 1, at + 1)})


def test_a_small_file_cannot_ask_for_hours_of_ops(tmp_path):
    """Op maxima alone leave the number of ops open: 200 Scratches at their maximum count (a 10 KB file)
    took 22 s on one 64 x 64 image, and a 1 MiB file holds 20,000 of them. Ops are counted through every
    nesting level when the pipeline is built."""
    op = {"type": "Scratches", "count": [200, 200], "p": 1}
    text = json.dumps({"type": "Pipeline", "transforms": [op] * (MAX_OPS + 1)})
    assert len(text) < 10_000
    assert f"more than {MAX_OPS} ops" in load_error(tmp_path, "many.json", text)
    nested = {"type": "Pipeline", "transforms": [{"type": "Compose", "transforms": [op] * (MAX_OPS // 2 + 1)}] * 2}
    assert f"more than {MAX_OPS} ops" in load_error(tmp_path, "nested.yaml", json.dumps(nested))
    degrade.Pipeline.from_dict({"type": "Pipeline", "transforms": [{"type": "OneOf", "transforms": [op] * MAX_OPS}]})
    for name in degrade.list_presets():  # the shipped presets hold 7-17 ops
        degrade.preset(name)
