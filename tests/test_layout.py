# SPDX-License-Identifier: GPL-3.0-or-later
"""The package's layers: blocks and the runtime never pull in TensorFlow, every
subpackage says what it holds, and every module is installed."""

import ast
import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "python" / "amc"
SUBPACKAGES = ("blocks", "cli", "datasets", "ml", "runtime", "tools")
# The layers a flowgraph runs on: TensorFlow and Keras must not be imported by them.
NO_TENSORFLOW = ("blocks", "runtime", "datasets")

# Every block of `from gnuradio import amc`, constructed as GRC would, then a flowgraph run.
CONSTRUCT_EVERY_BLOCK = """
import sys
from gnuradio import amc, blocks, gr
from gnuradio.amc.runtime import recordings, waveforms  # noqa: F401
from gnuradio.amc.datasets import generate, readers  # noqa: F401
b = amc.bundle.load("default")
tb = gr.top_block()
src = amc.modulation_source("QPSK", 8)
head = blocks.head(gr.sizeof_gr_complex, 128 * 64)
vec = amc.vectorizer(128, 128, "iq", "channels_last", "rms")
cls = amc.classifier("default", 128, "iq", "channels_last", "rms")
dec = amc.decision(b.classes)
sink = amc.json_sink(sys.argv[1])
tb.connect(src, head, vec, cls, dec, blocks.null_sink(gr.sizeof_float * len(b.classes)))
tb.msg_connect(dec, "decision", sink, "in")
amc.burst_channel(1000, 0.1, 0.0, 0.0, False, 4.0, 0.0, [0.0], [1.0], True, True, 1)
amc.labelled_vector_sink(sys.argv[1] + ".h5", 128, "QPSK", "rml2016.10a", 10.0, 8, 10, True)
tb.run()
assert cls.classified() == 64, cls.classified()
heavy = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
print("heavy:", ",".join(heavy) or "none")
"""


def test_blocks_and_runtime_run_a_flowgraph_without_tensorflow(tmp_path):
    r = subprocess.run([sys.executable, "-c", CONSTRUCT_EVERY_BLOCK, str(tmp_path / "log.jsonl")],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip().splitlines()[-1] == "heavy: none"


def module_imports(path: pathlib.Path) -> set[str]:
    """Top-level names a module imports when it is imported (not inside functions)."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


@pytest.mark.parametrize("layer", NO_TENSORFLOW)
def test_no_module_of_the_flowgraph_layers_imports_tensorflow_or_the_ml_layer(layer):
    for path in sorted((PACKAGE / layer).glob("*.py")):
        imports = module_imports(path)
        assert not imports & {"tensorflow", "keras", "ai_edge_litert"}, f"{path.name}: {imports}"
        upward = [i.lstrip(".") for i in imports if i.startswith("..")]
        assert not any(i.startswith(("ml", "cli", "tools")) for i in upward), f"{path.name}: {upward}"


def test_runtime_imports_no_other_layer():
    for path in sorted((PACKAGE / "runtime").glob("*.py")):
        relative = {i for i in module_imports(path) if i.startswith("..")}
        # the compiled C++ module is below every layer (runtime.estimate runs its estimator)
        assert relative <= {"..", ".._version", "..amc_python"}, f"{path.name} imports {relative}"


@pytest.mark.parametrize("sub", SUBPACKAGES)
def test_every_subpackage_states_its_role_and_what_it_may_import(sub):
    doc = ast.get_docstring(ast.parse((PACKAGE / sub / "__init__.py").read_text()))
    assert doc and len(doc.splitlines()) >= 3, sub
    assert "import" in doc, f"{sub}/__init__.py does not say what it may import"
    for path in (PACKAGE / sub).glob("*.py"):
        if path.name != "__init__.py":
            assert ast.get_docstring(ast.parse(path.read_text())), f"{sub}/{path.name} has no docstring"


@pytest.mark.installed
def test_every_module_is_installed(installed_env):
    code = "import gnuradio.amc, os; print(os.path.dirname(gnuradio.amc.__file__))"
    r = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True, env=installed_env)
    assert r.returncode == 0, r.stderr
    installed = pathlib.Path(r.stdout.strip())
    sources = {p.relative_to(PACKAGE) for p in PACKAGE.rglob("*.py")}
    sources = {p for p in sources if p.parts[0] != "bindings" and not p.name.startswith("qa_")}
    missing = sorted(str(p) for p in sources if not (installed / p).is_file())
    assert not missing, f"not installed: {missing}"
