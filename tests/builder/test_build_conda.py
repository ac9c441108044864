from __future__ import annotations

import pytest

from hoist.builder.conda import parse_environment_yml
from hoist.builder.errors import BuildError

ENV = """
name: science
channels: [conda-forge, defaults]
dependencies:
  - python=3.11
  - pip
  - numpy=1.26
  - pandas>=2.0
  - conda-forge::scikit-learn
  - pytorch=2.1.0=py3.11_cpu_0
  - py-opencv
  - psycopg2==2.9.9
  - matplotlib-base
  - pyyaml
  - cudatoolkit=11.8
  - mkl
  - pip:
    - flask==3.0.0
    - -r extra.txt
"""


def test_maps_conda_names_and_keeps_pip_section() -> None:
    env = parse_environment_yml(ENV)
    assert env.python == "3.11"
    assert env.requirements == [
        "numpy==1.26.*",
        "pandas>=2.0",
        "scikit-learn",
        "torch==2.1.0",
        "opencv-python",
        "psycopg2-binary==2.9.9",
        "matplotlib",
        "PyYAML",
        "flask==3.0.0",
        "-r extra.txt",
    ]
    assert env.unmapped == ["cudatoolkit=11.8", "mkl"]


def test_no_python() -> None:
    assert parse_environment_yml("dependencies: [six]").python is None


def test_invalid_yaml_names_line() -> None:
    with pytest.raises(BuildError, match=r"environment.yml is not valid YAML \(line 3\)"):
        parse_environment_yml("dependencies:\n  - six\n - : [\n")
