"""environment.yml to pip requirements (pure): map conda names to PyPI, keep the pip section."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from hoist.builder.errors import BuildError

# Conda package names that differ from their PyPI names.
CONDA_TO_PYPI: dict[str, str] = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "py-opencv": "opencv-python",
    "opencv": "opencv-python",
    "libopencv": "opencv-python",
    "psycopg2": "psycopg2-binary",
    "matplotlib-base": "matplotlib",
    "pyyaml": "PyYAML",
    "yaml": "PyYAML",
    "scikit-learn": "scikit-learn",
    "sklearn": "scikit-learn",
    "tensorflow-gpu": "tensorflow",
    "pytables": "tables",
    "pillow": "pillow",
    "beautifulsoup4": "beautifulsoup4",
    "msgpack-python": "msgpack",
    "python-dateutil": "python-dateutil",
    "mysqlclient": "mysqlclient",
    "graphviz": "graphviz",
    "lightgbm": "lightgbm",
    "py-xgboost": "xgboost",
    "jupyterlab": "jupyterlab",
    "gunicorn": "gunicorn",
}

# Conda packages with no pip-installable equivalent (system libraries, toolchains,
# other languages); they are reported instead of installed.
CONDA_ONLY: set[str] = {
    "cudatoolkit", "cuda", "cudnn", "cuda-toolkit", "mkl", "mkl-service", "blas", "libblas",
    "openblas", "libopenblas", "libgcc-ng", "libstdcxx-ng", "libgfortran", "gcc", "gxx",
    "compilers", "make", "cmake", "nodejs", "openssl", "ca-certificates", "certifi-conda",
    "libffi", "zlib", "sqlite", "tk", "xz", "readline", "ncurses", "libpq", "postgresql",
    "gdal", "proj", "geos", "hdf5", "ffmpeg", "git", "r-base", "nomkl", "intel-openmp",
    "pytorch-cuda", "pytorch-mutex", "cpuonly", "_libgcc_mutex", "_openmp_mutex",
}

_SKIP = {"pip", "python", "setuptools", "wheel"}
_SPEC_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$")


@dataclass
class CondaEnvironment:
    """What hoist can use from an environment.yml."""

    python: str | None = None
    requirements: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


def parse_environment_yml(text: str) -> CondaEnvironment:
    """Turn environment.yml text into a Python version, pip requirement lines and unmappable names."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise BuildError(f"environment.yml is not valid YAML{where}; fix it or replace it with requirements.txt") from None
    if not isinstance(data, dict):
        raise BuildError("environment.yml must be a mapping with a `dependencies:` list; see conda's docs")
    env = CondaEnvironment()
    for dep in data.get("dependencies") or []:
        if isinstance(dep, dict):
            for line in dep.get("pip") or []:
                env.requirements.append(str(line).strip())
            continue
        _add_conda_spec(env, str(dep).strip())
    return env


def _add_conda_spec(env: CondaEnvironment, spec: str) -> None:
    spec = spec.split("::", 1)[-1]  # drop a channel prefix like conda-forge::
    m = _SPEC_RE.match(spec)
    if not m:
        env.unmapped.append(spec)
        return
    name, constraint = m.group(1), m.group(2).strip()
    lname = name.lower()
    if lname == "python":
        version = re.match(r"^=*\s*(\d+\.\d+(?:\.\d+)?)", constraint)
        if version:
            env.python = version.group(1)
        return
    if lname in _SKIP:
        return
    if lname in CONDA_ONLY or lname.startswith(("r-", "lib")) and lname not in CONDA_TO_PYPI:
        env.unmapped.append(spec)
        return
    env.requirements.append(CONDA_TO_PYPI.get(lname, name) + _pip_constraint(constraint))


def _pip_constraint(constraint: str) -> str:
    """Conda `=1.26` means 1.26.*, `=1.26.4=build` pins 1.26.4; comparisons pass through."""
    if not constraint:
        return ""
    if constraint.startswith("=="):
        return "==" + constraint[2:].split("=", 1)[0].strip()
    if constraint.startswith("=") or constraint[0].isdigit():
        version = constraint.lstrip("=").split("=", 1)[0].strip()
        return f"=={version}" if version.count(".") >= 2 or "*" in version else f"=={version}.*"
    return constraint
