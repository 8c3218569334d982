"""deploy/compose.yaml and the files beside it say what the product can do.

Docker is not needed: the file is checked against the Compose specification's JSON schema
(`compose-spec.json` here, as check-jsonschema 0.39.0 ships it, Apache 2.0: see
LICENSE.compose-spec), and each claim it makes of the product (a command, a variable, a port, a
probe) against the product itself.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import click
import jsonschema_rs
import pytest
import yaml

from consult.cli import main
from consult.settings import Settings, declared_fields, variable_name

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
SCHEMA = Path(__file__).with_name("compose-spec.json")
CONSULT_SERVICES = ("migrate", "web", "worker")
SETTINGS = {variable_name(declared) for declared in declared_fields()}
PROBES = ("/healthz", "/readyz")
# What deploy/.env would hold: compose refuses to start without the `:?` ones.
SAMPLE_ENV = {
    "POSTGRES_PASSWORD": "secret",
    "CONSULT_DOMAIN": "consultation.example.gouv.fr",
    "CONSULT_SECRET_KEY": "k" * 40,
    "CONSULT_METRICS_TOKEN": "t" * 40,
}
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<word>[^}]*))?\}")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}`, throughout `value`."""
    if isinstance(value, str):

        def one(match: re.Match[str]) -> str:
            name, op, word = match["name"], match["op"], match["word"]
            if env.get(name):
                return env[name]
            if op == ":?":
                raise LookupError(f"{name}: {word}")
            return word if op == ":-" else ""

        return _VARIABLE.sub(one, value)
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    return value


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any]) -> dict[str, Any]:
    interpolated: dict[str, Any] = interpolate(raw, SAMPLE_ENV)
    return interpolated


def argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def consult_command(arguments: list[str]) -> click.Context:
    """Parse `consult …` as the real command line does (unknown commands, options or values
    of the wrong type raise), without running it."""
    assert arguments[0] == "consult", arguments
    group: click.Command = main
    rest, name = arguments[1:], "consult"
    while isinstance(group, click.Group):
        name, rest = rest[0], rest[1:]
        found = group.get_command(click.Context(group), name)
        assert found is not None, f"`consult` has no command {name!r}"
        group = found
    return group.make_context(name, list(rest))


def test_the_file_follows_the_compose_specification(raw: dict[str, Any]) -> None:
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text(encoding="utf-8")))
    errors = [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(raw)]
    assert errors == []
    # The schema catches what a typing slip would make of it.
    broken = {"services": {"web": {"image": "consult", "ports": "8000", "restart": 3}}}
    assert len(list(validator.iter_errors(broken))) >= 2


def test_it_runs_postgres_redis_migrations_web_workers_and_a_proxy(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "proxy"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["proxy"]["image"].startswith("caddy:")
    # Migrations run once, before any web process or worker starts.
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    # N web processes and M workers, each chosen in deploy/.env.
    web = consult_command(argv(services["web"]["command"]))
    assert web.params["workers"] == 2
    assert int(services["worker"]["deploy"]["replicas"]) == 2
    scaled = interpolate(
        yaml.safe_load(COMPOSE.read_text(encoding="utf-8")),
        SAMPLE_ENV | {"CONSULT_WEB_PROCESSES": "4", "CONSULT_WORKERS": "3"},
    )["services"]
    assert consult_command(argv(scaled["web"]["command"])).params["workers"] == 4
    assert int(scaled["worker"]["deploy"]["replicas"]) == 3


def test_every_command_is_a_real_command_of_the_product(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert consult_command(argv(services["migrate"]["command"])).info_name == "upgrade"
    assert consult_command(argv(services["worker"]["command"])).info_name == "worker"
    web = consult_command(argv(services["web"]["command"]))
    # Every interface of its container: the proxy reaches it over the compose network.
    everywhere = "0.0.0.0"  # noqa: S104
    assert (web.info_name, web.params["host"], web.params["port"]) == ("serve", everywhere, 8000)
    with pytest.raises(click.UsageError):
        consult_command(["consult", "serve", "--wrokers", "2"])  # a slip would be caught
    # The systemd units run real commands too.
    for unit in (DEPLOY / "systemd").glob("*.service"):
        start = next(line for line in unit.read_text().splitlines() if line.startswith("Exec"))
        command = argv(start.split("=", 1)[1].replace("%i", "8001"))
        consult_command(["consult", *command[1:]])
    # And so does the image the services run, built with the clustering compiled ahead.
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    built = [
        argv(step)[1:]
        for line in dockerfile.splitlines()
        if line.startswith("RUN ")
        for step in line.removeprefix("RUN ").split("&&")
        if argv(step) and argv(step)[0].endswith("bin/consult")
    ]
    assert [consult_command(["consult", *step]).info_name for step in built] == ["precompile"]


def test_every_variable_is_a_real_setting(raw: dict[str, Any], compose: dict[str, Any]) -> None:
    named = set(raw["x-consult"]["environment"])
    example = DEPLOY / "consult.env.example"
    for line in example.read_text().splitlines():
        if "=" in line and line.lstrip("# ").startswith("CONSULT_"):
            named.add(line.lstrip("# ").split("=", 1)[0])
    assert named - SETTINGS == set()
    # And the values this file gives them are ones the product accepts.
    for name in ("web", "worker", "migrate"):
        settings = Settings.from_env(compose["services"][name]["environment"])
        assert settings.database_url.startswith("postgresql+asyncpg://consult:")
        assert settings.redis_url == "redis://redis:6379/0"
        assert settings.log_format == "json"
        assert settings.metrics_directory in compose["services"]["web"]["volumes"][0]
    # A setting's name mistyped would be ignored by the product, silently: caught here.
    assert "CONSULT_LOG_FROMAT" not in SETTINGS


def test_the_proxy_sends_everything_to_the_web_service_but_the_metrics(
    compose: dict[str, Any],
) -> None:
    proxy = compose["services"]["proxy"]
    mounted = {volume.split(":")[1]: volume.split(":")[0] for volume in proxy["volumes"]}
    caddyfile = (DEPLOY / mounted["/etc/caddy/Caddyfile"]).resolve()
    assert caddyfile.parent == DEPLOY
    config = caddyfile.read_text()
    port = consult_command(argv(compose["services"]["web"]["command"])).params["port"]
    assert re.search(rf"^\s*reverse_proxy web:{port}\b", config, re.M)
    assert re.search(r"^\s*respond /metrics 404$", config, re.M)
    assert re.search(r"^\s*health_uri /readyz$", config, re.M)
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    # Only the proxy is reachable from outside.
    published = [name for name, service in compose["services"].items() if "ports" in service]
    assert published == ["proxy"]
    nginx = (DEPLOY / "nginx" / "consult.conf").read_text()
    assert re.search(r"location = /metrics \{\s*return 404;", nginx)


def test_healthchecks_ask_the_product_s_probes(compose: dict[str, Any]) -> None:
    web = compose["services"]["web"]
    port = consult_command(argv(web["command"])).params["port"]
    test = " ".join(web["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/readyz" in test
    for name in CONSULT_SERVICES:
        check = compose["services"][name].get("healthcheck")
        if check is not None:
            assert any(probe in " ".join(check["test"]) for probe in PROBES), name
    assert compose["services"]["postgres"]["healthcheck"]["test"][1] == "pg_isready"
    assert compose["services"]["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]


def test_the_image_is_built_from_this_repository(compose: dict[str, Any]) -> None:
    build = compose["x-consult"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == ROOT
    dockerfile = (context / build["dockerfile"]).read_text()
    for copied in re.findall(r"^COPY (.+) \S+$", dockerfile, re.M):
        for path in copied.split():
            assert (context / path).exists(), path
    assert "pip install --no-cache-dir -e ." in dockerfile
    assert "consult.locale_build" in dockerfile
    # The processes, run as the image's user, can write their metrics in the shared volume.
    uid = re.search(r"useradd [^\n]*--uid (\d+)", dockerfile)
    assert uid is not None and re.search(r"^USER consult$", dockerfile, re.M)
    options = compose["volumes"]["metrics"]["driver_opts"]["o"]
    assert f"uid={uid[1]}" in options.split(",")
