"""The pitfalls' snippets are real Python files in the package, shown exactly as they are."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lstmae_demo import pitfalls
from lstmae_demo.pitfalls import PITFALLS, RecordedPitfall
from lstmae_demo.pitfalls.keras_record import source_hash
from lstmae_demo.pitfalls.runner import recorded

PACKAGE = Path(pitfalls.__file__).parent
SNIPPETS = PACKAGE / "snippets"
ROOT = PACKAGE.parent.parent


def test_every_shown_snippet_is_a_file_of_the_package_verbatim():
    files = {p.read_text(encoding="utf-8") for p in SNIPPETS.glob("*.py")}
    for key, pitfall in PITFALLS.items():
        assert (SNIPPETS / f"{key}.py").read_text(encoding="utf-8") == pitfall.code, key
        assert pitfall.fix_code in files, key


def test_every_snippet_file_is_used():
    used = {f"{key}.py" for key in PITFALLS}
    texts = {p.name: p.read_text(encoding="utf-8") for p in SNIPPETS.glob("*.py")}
    used |= {name for name, text in texts.items()
             if any(text == p.fix_code for p in PITFALLS.values())}
    for pitfall in PITFALLS.values():
        if isinstance(pitfall, RecordedPitfall):
            record = recorded(pitfall.record)
            used |= {f"{case['snippet']}.py" for case in record.values() if isinstance(case, dict)}
    assert used == set(texts)


def test_snippets_are_complete_programs_with_their_own_imports():
    """Each file runs as it stands (no hidden prelude): every name it uses is bound in it."""
    for path in SNIPPETS.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {a.asname or a.name.split(".")[0] for n in ast.walk(tree)
                    if isinstance(n, ast.Import | ast.ImportFrom) for a in n.names}
        for module in ("torch", "nn", "math", "keras", "np"):
            uses = any(isinstance(n, ast.Name) and n.id == module for n in ast.walk(tree))
            assert not uses or module in imported, (path.name, module)


@pytest.mark.slow
def test_snippets_are_found_from_any_working_directory(tmp_path):
    """Snippets and records are read relative to the package, not to the current directory."""
    code = ("from lstmae_demo.pitfalls import run_pitfall\n"
            "r = run_pitfall('ecg_decoder_repeat'); k = run_pitfall('missing_return_sequences')\n"
            "print(r.outcome, k.message_source)")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    version = recorded(PITFALLS["missing_return_sequences"].record)["keras_version"]
    assert done.stdout.strip() == f"silent Keras {version} (recorded)"


def test_no_streamlit_in_the_package_or_its_snippets():
    for path in [*PACKAGE.glob("*.py"), *SNIPPETS.glob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(name.split(".")[0] == "streamlit" for name in imported), path.name


def test_the_app_package_never_imports_keras():
    """Keras is a development dependency: only the recorder (and Keras snippets) import it."""
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        names = {a.name for n in top if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in top if isinstance(n, ast.ImportFrom)}
        assert "keras" not in {name.split(".")[0] for name in names}, path.name


def test_the_keras_record_is_of_the_snippets_as_they_are_now():
    """Editing a Keras snippet without re-recording fails here, without needing Keras."""
    for pitfall in PITFALLS.values():
        if isinstance(pitfall, RecordedPitfall):
            for case in recorded(pitfall.record).values():
                if isinstance(case, dict):
                    text = (SNIPPETS / f"{case['snippet']}.py").read_text(encoding="utf-8")
                    assert case["sha256"] == source_hash(text), case["snippet"]
