"""The package as a deployer installs it: the wheel, built from this checkout, installed
(not editable) in a fresh virtualenv outside the repository, finds its own flows and texts.

To stay fast the new virtualenv borrows this one's installed libraries (a ``.pth`` file)
and the wheel is built without a network round for its build backend; ``bot`` itself
comes from the wheel only (asserted).
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-long-enough-pseudonym-secret-for-these-tests-0123456789"


def sh(*args: str | Path, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "FLOWS_DIR", "LOCALES_DIR", "VIRTUAL_ENV")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{cwd / 'relais.sqlite3'}",
        TELEGRAM_BOT_TOKEN="",
        PSEUDONYM_SECRET=SECRET,
    )
    return subprocess.run(
        [str(a) for a in args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=cwd,
        check=False,
    )


def test_the_wheel_installed_elsewhere_checks_and_chats(tmp_path: Path) -> None:
    built = sh(
        sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
        "-w", tmp_path / "dist", ROOT, cwd=tmp_path,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("relais-*.whl")

    venv = tmp_path / "venv"
    assert sh(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path).returncode == 0
    python = venv / "bin" / "python"
    purelib = Path(
        sh(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
        ).stdout.strip()
    )
    # The libraries bot needs, from this virtualenv (its .pth files, such as the editable
    # install's pointer to this checkout, are not read from a path added this way).
    borrowed = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    (purelib / "zz_borrowed.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    installed = sh(
        sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
        "--no-index", wheel, cwd=tmp_path,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr

    where = sh(
        python, "-c", "import bot, bot.config as c; print(bot.__file__); print(c.shipped('flows'))",
        cwd=tmp_path,
    )  # fmt: skip
    module, flows = where.stdout.split()
    assert module.startswith(str(purelib)) and flows == str(purelib / "bot" / "_data" / "flows")

    relais = venv / "bin" / "relais"
    check = sh(relais, "check", "--max-age", "100000", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    flows_shipped = len(list((ROOT / "flows").glob("*.yaml")))
    assert check.stdout.startswith(f"OK: {flows_shipped} flow(s)")
    # menu: 1 = me; danger: 2 = no; what: 3 = images; where: 1 = Instagram; since: 2
    walk = sh(relais, "console", cwd=tmp_path, stdin="1\n2\n3\n1\n2\n")
    assert walk.returncode == 0, walk.stderr
    assert "3018" in walk.stdout and "help.instagram.com" in walk.stdout
    assert sh(relais, "--version", cwd=tmp_path).stdout == "relais 0.1.0\n"
