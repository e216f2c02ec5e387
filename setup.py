"""Package discovery for setuptools; everything else is in pyproject.toml.

The repository root is the package ``oldphoto`` (``package-dir`` in pyproject.toml), so every folder
with an ``__init__.py`` is installed as ``oldphoto.<folder>``, never under its own top-level name
(``packages.find`` in pyproject.toml cannot add that prefix). Tests and build or documentation
output are not packages of the wheel, and this file, which sits in the root package's folder, is
not one of its modules.
"""

from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

NOT_PACKAGED = ("tests", "tests.*", "build", "build.*", "dist", "dist.*", "docs", "docs.*", "site", "site.*")


class BuildPyWithoutSetup(build_py):
    """build_py that leaves this file out of the root package."""

    def find_package_modules(self, package: str, package_dir: str) -> list[tuple[str, str, str]]:
        this = Path(__file__).resolve()
        return [module for module in super().find_package_modules(package, package_dir)
                if Path(module[2]).resolve() != this]


setup(packages=["oldphoto", *(f"oldphoto.{name}" for name in find_packages(exclude=NOT_PACKAGED))],
      cmdclass={"build_py": BuildPyWithoutSetup})
