"""Build step that pyproject.toml cannot express: ship the top-level ``resources/`` inside the package.

``resources/`` (icons, styles) is the source of truth; wheels get a copy at ``gdstudio/_resources``,
where :mod:`gdstudio.resources` looks first. All other metadata lives in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithResources(build_py):
    def run(self):
        super().run()
        src = HERE / "resources"
        dst = Path(self.build_lib) / "gdstudio" / "_resources"
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))

    def get_outputs(self, include_bytecode=True):
        outputs = list(super().get_outputs(include_bytecode))
        dst = Path(self.build_lib) / "gdstudio" / "_resources"
        outputs += [str(dst / p.relative_to(HERE / "resources"))
                    for p in sorted((HERE / "resources").rglob("*")) if p.is_file()]
        return outputs


setup(cmdclass={"build_py": BuildPyWithResources})
