"""What CI can check of docker/ without a Docker engine, beyond the Compose schema and hadolint:
every service restarts and has a health check, every dependency waits for health, and
docker/.env.example names every variable README.md documents and every one the compose file
interpolates. Run with the venv that has check-jsonschema (it brings ruamel.yaml)."""

import re
import sys
from pathlib import Path

from ruamel.yaml import YAML

root = Path(__file__).resolve().parents[2]
compose_text = (root / "docker/docker-compose.yml").read_text()
compose = YAML(typ="safe").load(compose_text)
env_example = (root / "docker/.env.example").read_text()
readme = (root / "README.md").read_text()

problems = []
for name, service in compose["services"].items():
    if "restart" not in service:
        problems.append(f"service {name} has no restart policy")
    if "healthcheck" not in service:
        problems.append(f"service {name} has no healthcheck")
    for dependency, how in (service.get("depends_on") or {}).items():
        if how.get("condition") != "service_healthy":
            problems.append(f"service {name} starts before {dependency} is healthy")
        if "healthcheck" not in compose["services"].get(dependency, {}):
            problems.append(f"service {name} waits for {dependency}, which has no healthcheck")

# The configuration table: its rows start with `NAME` (several names may share a row).
config = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
documented = set()
for row in config.splitlines():
    if row.startswith("| `"):
        first_cell = row.split("|")[1]
        documented.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", env_example, re.MULTILINE))
for variable in sorted(documented - named):
    problems.append(f"docker/.env.example does not name {variable} (README.md, Configuration)")
required = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", env_example, re.MULTILINE))
for variable in sorted(set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", compose_text)) - required):
    problems.append(f"docker-compose.yml uses ${{{variable}}}, which docker/.env.example does not set")

if len(documented) < 40:
    problems.append(f"read only {len(documented)} variables from README.md: has its table changed shape?")
for problem in problems:
    print(problem)
print(f"{len(compose['services'])} services, {len(documented)} documented variables: "
      + ("ok" if not problems else f"{len(problems)} problems"))
sys.exit(1 if problems else 0)
