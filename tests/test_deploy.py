"""The production layout of deploy/ names only what exists: settings, commands and their options, modules, the model
file, the Chroma version; the compose file parses with its services, and nginx agrees with the API's limits."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import signal
import subprocess
from importlib.metadata import entry_points, version
from pathlib import Path

import pytest
import typer.main
import yaml

from cli.main import app
from core.models import QWEN_CODER_GGUF
from core.settings import Settings, unknown_variables

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
ENV_EXAMPLE = DEPLOY / "cuabot.env.example"
COMPOSE = DEPLOY / "compose.yaml"
NGINX = DEPLOY / "nginx" / "cuabot.conf"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
NO_FILE = Path("/nonexistent/cuabot.env")


def unit_lines(path: Path, key: str) -> list[str]:
    """The values of `key=` in a systemd unit, continuation lines joined."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.split("=", 1)[1].strip() for line in text.splitlines() if line.startswith(f"{key}=")]


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_env_example_names_only_settings_and_loads() -> None:
    assert unknown_variables({}, ENV_EXAMPLE) == []
    settings = Settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
    assert settings.generation.backend == "openai"
    assert settings.security.trusted_proxies == ["127.0.0.1"]


def test_units_environment_names_only_settings() -> None:
    for unit in UNITS:
        names = [pair.split("=", 1)[0] for line in unit_lines(unit, "Environment") for pair in shlex.split(line)]
        assert unknown_variables(dict.fromkeys(names, ""), NO_FILE) == [], unit.name
        assert unit_lines(unit, "EnvironmentFile") in ([], ["/etc/cuabot/cuabot.env"]), unit.name


def test_units_run_existing_commands_with_existing_options() -> None:
    commands = typer.main.get_group(app).commands
    for unit in UNITS:
        (command,) = unit_lines(unit, "ExecStart")
        program, *args = shlex.split(command)
        name = Path(program).name
        if name == "cuabot":
            subcommand = commands[args[0]]
            options = {opt for param in subcommand.params for opt in param.opts}
            assert {a for a in args if a.startswith("--")} <= options, unit.name
        elif name == "python":
            assert args[0] == "-m" and importlib.util.find_spec(args[1]) is not None, unit.name
        else:
            assert entry_points(group="console_scripts", name=name), unit.name


def test_model_server_options_and_model_file() -> None:
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    (command,) = unit_lines(DEPLOY / "systemd" / "cuabot-llama.service", "ExecStart")
    args = shlex.split(command)
    fields = set(ModelSettings.model_fields) | set(ServerSettings.model_fields)
    assert {a.removeprefix("--") for a in args if a.startswith("--")} <= fields
    assert Path(args[args.index("--model") + 1]).name == QWEN_CODER_GGUF.assembled_name
    assert QWEN_CODER_GGUF.assembled_name in compose()["services"]["llama"]["command"][1]


def test_compose_services_and_settings() -> None:
    services = compose()["services"]
    assert set(services) == {"api-1", "api-2", "llama", "chroma", "postgres"}
    for name in ("api-1", "api-2"):
        assert unknown_variables(services[name]["environment"], NO_FILE) == [], name
        assert services[name]["build"]["dockerfile"] == "deploy/Containerfile"
    assert services["chroma"]["image"] == f"chromadb/chroma:{version('chromadb')}"


def test_nginx_agrees_with_the_api() -> None:
    conf = NGINX.read_text(encoding="utf-8")
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    upload = re.search(r"location /api/admin/documents \{[^}]*client_max_body_size (\d+)m;", conf)
    assert upload and int(upload[1]) * 1024 * 1024 >= (
        defaults.api.upload_max_bytes + defaults.security.upload_form_overhead_bytes
    )
    assert re.search(r"location /api/ask/stream \{[^}]*proxy_buffering off;", conf)
    assert re.search(r"location = /metrics \{\s*return 404;", conf)
    published = {port.split(":")[1] for s in ("api-1", "api-2") for port in compose()["services"][s]["ports"]}
    assert published == set(re.findall(r"server 127\.0\.0\.1:(\d+);", conf))


@pytest.mark.skipif(not (shutil.which("nginx") and shutil.which("openssl")), reason="needs nginx and openssl")
def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    """`nginx -t` on the file as shipped, its certificate paths pointed at a throw-away certificate."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    conf = NGINX.read_text(encoding="utf-8")
    conf = conf.replace("/etc/nginx/tls/fullchain.pem", str(cert)).replace("/etc/nginx/tls/privkey.pem", str(key))
    (tmp_path / "cuabot.conf").write_text(conf, encoding="utf-8")
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;\n"
        f"include {tmp_path}/cuabot.conf; }}\n",
        encoding="utf-8",
    )
    check = subprocess.run(["nginx", "-t", "-c", str(main)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


@pytest.mark.skipif(not shutil.which("flock"), reason="needs flock(1)")
def test_a_backup_under_flock_keeps_builds_out(tmp_path: Path) -> None:
    """The backup of docs/operations.md holds the build lock with flock(1): no build may start meanwhile."""
    from ingest.lock import LOCK_FILE, IndexBusy, IndexLock

    holder = subprocess.Popen(
        ["flock", "-n", str(tmp_path / LOCK_FILE), "-c", "echo held; sleep 30"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # flock and its shell, killed together
    )
    try:
        assert holder.stdout and holder.stdout.readline() == "held\n"
        with pytest.raises(IndexBusy):
            IndexLock(tmp_path).acquire()
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
