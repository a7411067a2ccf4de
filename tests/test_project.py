# SPDX-License-Identifier: GPL-3.0-or-later
"""Project habits a reviewer checks: bindings in sync, formatting, lint, one
version, documented GRC blocks with examples."""

import hashlib
import re
import shutil
import subprocess

import pytest
import yaml
from gnuradio import amc


def git_files(root, *patterns):
    out = subprocess.run(["git", "ls-files", *patterns], cwd=root, capture_output=True, text=True, check=True)
    return [root / p for p in out.stdout.split()]


def test_binding_hashes_match_headers(root):
    bindings = sorted((root / "python/amc/bindings").glob("*_python.cc"))
    assert bindings, "no pybind11 bindings found"
    for cc in bindings:
        text = cc.read_text()
        header = re.search(r"BINDTOOL_HEADER_FILE\((\S+)\)", text).group(1)
        committed = re.search(r"BINDTOOL_HEADER_FILE_HASH\((\w+)\)", text).group(1)
        actual = hashlib.md5((root / "include/gnuradio/amc" / header).read_bytes()).hexdigest()
        assert committed == actual, f"{cc.name} is stale: run .ci/bind {header[:-2]}"


def test_cpp_is_clang_formatted(root):
    files = git_files(root, "lib/*.cc", "lib/*.h", "include/*.h")
    assert files
    run = subprocess.run(
        ["clang-format", "--dry-run", "-Werror", *map(str, files)], cwd=root, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-3000:]


@pytest.mark.parametrize("args", [["check"], ["format", "--check"]])
def test_python_passes_ruff(root, args):
    ruff = shutil.which("ruff") or str(root / ".venv/bin/ruff")
    run = subprocess.run(
        [ruff, *args, "python", "tests", "apps", "examples/zoo"], cwd=root, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-1000:]


def test_one_version_number(root):
    cmake = (root / "CMakeLists.txt").read_text()
    version = re.search(r"project\(gr-amc VERSION (\S+)", cmake).group(1)
    assert amc.__version__ == version
    changelog = (root / "CHANGELOG.md").read_text()
    released = re.findall(r"^## \[(\d[^\]]*)\]", changelog, re.M)
    assert released and released[0] == version, "CHANGELOG.md's newest release must be the CMake version"


def test_grc_blocks_are_documented_and_have_an_example(root):
    ymls = sorted((root / "grc").glob("*.block.yml"))
    assert ymls
    examples = "\n".join(p.read_text() for p in (root / "examples").rglob("*.grc"))
    for path in ymls:
        block = yaml.safe_load(path.read_text())
        assert block["category"].startswith("[AMC]"), path.name
        doc = block["documentation"]
        for section in ("Input", "Output", "Parameters"):
            assert re.search(rf"^{section}\b", doc, re.M), f"{path.name}: no {section} section"
        assert block.get("asserts"), f"{path.name}: no asserts"
        assert f"id: {block['id']}" in examples, f"{path.name}: no example under examples/"


def test_no_generated_flowgraphs_or_placeholders_committed(root):
    for grc in git_files(root, "*.grc"):
        assert not git_files(root, str(grc.with_suffix(".py").relative_to(root))), grc
    placeholder = subprocess.run(
        ["git", "grep", "-l", "<+description", "--", "include", "lib", "python"],
        cwd=root,
        capture_output=True,
    )
    assert placeholder.stdout == b""
