"""The dbt project as Dagster sees it, and a manifest that is never stale when the code location loads.

The manifest is parsed into dbt_project/target (git-ignored) when it is missing or older than any file of
the project; `dbt parse` takes a few seconds, a fresh manifest costs one directory walk. Processes that load the
code location at once (the webserver and the daemon, parallel test workers) parse one at a time, under a file
lock: two parses writing one target folder can leave a manifest another process reads half-written.
"""

import fcntl
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from spapi_elt.dbt_runner import DBT_PROJECT, dbt_executable

PROJECT_INPUTS = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


def _newest_input(project_dir: Path) -> float:
    paths = [project_dir / name for name in PROJECT_INPUTS]
    files = [p for path in paths if path.exists() for p in ([path] if path.is_file() else path.rglob("*"))]
    return max((p.stat().st_mtime for p in files if p.is_file()), default=0.0)


def dbt_cli(project: DbtProject) -> DbtCliResource:
    return DbtCliResource(project_dir=project, dbt_executable=dbt_executable())


def load_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT, profiles_dir=DBT_PROJECT)
    if _stale(project.manifest_path, project.project_dir):
        target = Path(project.project_dir) / project.target_path
        target.mkdir(parents=True, exist_ok=True)
        with open(target / "parse.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if _stale(project.manifest_path, project.project_dir):  # not parsed meanwhile by the lock's holder
                # dbt from this interpreter's environment: the venv's bin need not be on PATH.
                dbt_cli(project).cli(["parse", "--quiet"], target_path=project.target_path).wait()
    return project


def _stale(manifest: Path, project_dir: Path) -> bool:
    return not manifest.exists() or manifest.stat().st_mtime < _newest_input(project_dir)


dbt_project = load_project()
