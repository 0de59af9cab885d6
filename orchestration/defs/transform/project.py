"""The dbt project as Dagster sees it, and a manifest that is never stale when the code location loads.

The manifest is parsed into dbt_project/target (git-ignored) when it is missing or older than any file of
the project; `dbt parse` takes a few seconds, a fresh manifest costs one directory walk.
"""

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
    manifest = project.manifest_path
    if not manifest.exists() or manifest.stat().st_mtime < _newest_input(project.project_dir):
        # dbt from this interpreter's environment: the venv's bin need not be on PATH.
        dbt_cli(project).cli(["parse", "--quiet"], target_path=project.target_path).wait()
    return project


dbt_project = load_project()
