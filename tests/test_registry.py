"""The shared Registry and UnknownNameError (oldphoto.infra.registry)."""

import pickle
import sys

import pytest

from oldphoto.infra.registry import Registry, UnknownNameError, importing


def make_shapes() -> Registry:
    shapes = Registry("shape")

    @shapes.register("square", unit="px")
    def square(side: int = 1) -> int:
        """Area of a square."""
        return side * side

    shapes.register("line", lambda length=1: 0, description="no area")
    return shapes


class TestSmoke:
    def test_register_create_list_describe(self):
        shapes = make_shapes()
        assert shapes.create("square", side=3) == 9
        assert shapes.list() == ["line", "square"]
        assert shapes.describe("square") == {"name": "square", "description": "Area of a square.", "unit": "px"}
        assert shapes.describe("line") == {"name": "line", "description": "no area"}

    def test_is_a_read_only_mapping(self):
        shapes = make_shapes()
        assert "square" in shapes and "circle" not in shapes and ["square"] not in shapes
        assert list(shapes) == ["line", "square"] and len(shapes) == 2
        assert shapes["square"](side=2) == 4 and shapes.get("circle") is None
        assert "line, square" in repr(shapes)

    def test_decorator_returns_the_object(self):
        shapes = Registry("shape")

        @shapes.register("unit")
        def unit() -> int:
            return 1

        assert unit() == 1 and shapes["unit"] is unit


class TestExceptions:
    def test_unknown_name_names_the_kind_and_choices(self):
        shapes = make_shapes()
        for lookup in (lambda: shapes.create("circle"), lambda: shapes["circle"], lambda: shapes.describe("circle")):
            with pytest.raises(UnknownNameError, match=r"^unknown shape 'circle'; choose one of: line, square$"):
                lookup()

    def test_unknown_name_is_a_key_and_value_error(self):
        with pytest.raises(KeyError):
            make_shapes().create("circle")
        with pytest.raises(ValueError):
            make_shapes().create("circle")

    def test_empty_registry_and_unhashable_or_huge_names(self):
        with pytest.raises(UnknownNameError, match=r"unknown thing 'x'; choose one of: \(none registered\)"):
            Registry("thing")["x"]
        with pytest.raises(UnknownNameError, match=r"unknown shape \['a'\]"):
            make_shapes()[["a"]]
        with pytest.raises(UnknownNameError) as caught:
            make_shapes()["x" * 10_000]
        assert len(str(caught.value)) < 200

    def test_registering_a_name_twice(self):
        shapes = make_shapes()
        shapes.register("line", shapes["line"])  # the same object again is fine
        with pytest.raises(ValueError, match="shape 'line' is registered twice"):
            shapes.register("line", lambda: 1)

    def test_subclass_error_and_pickling(self):
        class UnknownShape(UnknownNameError, ArithmeticError):
            pass

        shapes = Registry("shape", error=UnknownShape)
        with pytest.raises(ArithmeticError, match="unknown shape 'x'"):
            shapes["x"]
        error = UnknownNameError("shape", "x", ["a", "b"])
        copy = pickle.loads(pickle.dumps(error))
        assert str(copy) == str(error) and copy.choices == ("a", "b") and copy.kind == "shape"


class TestValues:
    def test_load_runs_once_before_the_first_lookup(self):
        calls = []
        shapes = Registry("shape", load=lambda: (calls.append(1), shapes.register("dot", lambda: 0)))
        assert calls == []
        assert shapes.list() == ["dot"] and shapes.create("dot") == 0 and "dot" in shapes
        assert calls == [1]

    def test_a_failed_load_runs_again(self):
        attempts = []

        def load():
            attempts.append(1)
            if len(attempts) == 1:
                raise ImportError("first try fails")

        shapes = Registry("shape", load=load)
        with pytest.raises(ImportError):
            shapes.list()
        assert shapes.list() == [] and len(attempts) == 2
        shapes.list()
        assert len(attempts) == 2


def test_importing_loads_the_registering_modules_at_the_first_lookup(tmp_path, monkeypatch):
    (tmp_path / "shape_plugin.py").write_text("REGISTERED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "shape_plugin", raising=False)
    shapes = Registry("shape", load=importing(["shape_plugin"]))
    assert "shape_plugin" not in sys.modules
    assert shapes.list() == [] and sys.modules["shape_plugin"].REGISTERED
    with pytest.raises(ModuleNotFoundError, match="no_such_plugin"):
        Registry("shape", load=importing(["no_such_plugin"])).list()
