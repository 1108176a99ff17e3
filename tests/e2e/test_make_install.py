"""`make`'s installs: Python 3.13 found or asked for, a venv of another Python made anew, run and test locks apart."""

import glob
import os
import shutil
import subprocess
import sys

import pytest

from chalicelib.local import PROJECT_DIR

# No pyenv shims and no virtualenv on this PATH: what a fresh login shell of this machine kind has.
BARE_PATH = "/usr/bin:/bin"
SYSTEM_PYTHON_313 = [path for path in ("/usr/bin/python3.13", "/usr/local/bin/python3.13") if os.path.exists(path)]
PYENV_PYTHON_313 = glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13"))


def make(*arguments, **environment):
    """`make ARGUMENTS` in the project, with the environment changed as given."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("MAKE", "VIRTUAL_ENV"))}
    env.update(environment)
    return subprocess.run(
        ["make", "--no-print-directory", *arguments],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def python_version(executable):
    """`major.minor` of an interpreter."""
    return subprocess.run(
        [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.mark.skipif(not (SYSTEM_PYTHON_313 or PYENV_PYTHON_313), reason="python3.13 only elsewhere on this machine")
def test_make_finds_python_3_13_without_it_on_the_path():
    result = make("-s", "--eval", "which-python: ; @echo $(PYTHON)", "which-python", PATH=BARE_PATH)
    found = result.stdout.strip()
    assert result.returncode == 0 and found, result.stderr
    assert python_version(found) == "3.13"


@pytest.mark.skipif(bool(SYSTEM_PYTHON_313), reason="this machine has a system python3.13")
def test_make_without_python_3_13_says_in_one_line_what_to_install_and_stops(tmp_path):
    venv = tmp_path / "venv"
    result = make(f"VENV={venv}", f"{venv}/.python-3.13", PATH=BARE_PATH, HOME=str(tmp_path))
    assert result.returncode != 0
    [line] = [line for line in result.stderr.splitlines() if not line.startswith("make: ***")]
    assert "Python 3.13 not found" in line and "pyenv install 3.13" in line
    assert not venv.exists()


def test_make_remakes_a_venv_that_another_python_made(tmp_path):
    other = shutil.which("python3.11", path=BARE_PATH) or shutil.which("python3", path=BARE_PATH)
    if not other or python_version(other) == "3.13":
        pytest.skip("no Python other than 3.13 on this machine")
    venv = tmp_path / "venv"
    subprocess.run([other, "-m", "venv", "--without-pip", str(venv)], check=True)
    result = make(f"VENV={venv}", f"{venv}/.python-3.13")
    assert result.returncode == 0, result.stdout + result.stderr
    assert python_version(str(venv / "bin" / "python")) == "3.13"
    assert (venv / ".python-3.13").exists()


def test_make_run_installs_the_runtime_and_chalice_locks_and_make_test_adds_the_dev_lock(tmp_path):
    venv = tmp_path / "venv"

    def installs(stamp):
        printed = make("-n", "-B", f"VENV={venv}", f"{venv}/{stamp}").stdout.splitlines()
        return [line.split() for line in printed if "pip install" in line]

    [run] = installs(".run")
    assert "--require-hashes" in run
    assert [run[i + 1] for i, word in enumerate(run) if word == "-r"] == [
        "requirements.txt",
        "requirements-chalice.txt",
    ]
    test = installs(".test")[-1]
    assert "--require-hashes" in test
    assert [test[i + 1] for i, word in enumerate(test) if word == "-r"] == [
        "requirements.txt",
        "requirements-chalice.txt",
        "requirements-dev.txt",
    ]


def test_the_venv_runs_python_3_13():
    assert sys.version_info[:2] == (3, 13)
