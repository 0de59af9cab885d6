"""The README's operator sections cannot drift from the code: the cost table is what `spapi-elt load-cost`
computes, every `spapi-elt` command they show parses with those flags, every marketplace id sits in its region's
row, and every asset check, sensor and schedule defined in orchestration/defs is named in "Operating it"."""

from __future__ import annotations

import argparse
import ast
import re
import shlex
from pathlib import Path

from dlt_sources.spapi.settings import MARKETPLACE_REGIONS
from spapi_elt.cli import build_parser
from spapi_elt.load_cost import Volume, cost_table

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end > 0 else None]


def test_the_cost_table_is_what_the_command_computes() -> None:
    text = section("Costs and quotas")
    table = text.split("<!-- load-cost table: spapi-elt load-cost (defaults) -->\n")[1].split(
        "\n<!-- /load-cost table -->")[0]
    assert table == cost_table(Volume())


def test_every_spapi_elt_command_shown_parses() -> None:
    shown = []
    for title in ("Your own seller account", "Costs and quotas", "Operating it"):
        for block in re.findall(r"```\n(.*?)```", section(title), re.S):
            joined = re.sub(r"\\\n\s*", " ", block)
            shown += [line.split("#")[0] for line in joined.splitlines() if "bin/spapi-elt " in line]
        shown += re.findall(r"`(spapi-elt [^`]+)`", section(title))
    assert len(shown) >= 8
    for line in shown:
        words = shlex.split(re.sub(r"[\[\]]", " ", line.split("spapi-elt", 1)[1]))  # options shown as [--x N]
        command = subcommand(build_parser(), words)
        for flag in (w.split("=")[0] for w in words if w.startswith("--")):
            assert flag in command._option_string_actions, f"{line!r}: no option {flag}"


def subcommand(parser: argparse.ArgumentParser, words: list[str]) -> argparse.ArgumentParser:
    """The (sub)parser the leading words name; an unknown command fails the test."""
    while words:
        choices = next((a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if not choices:
            return parser
        assert words[0] in choices, f"no command {words[0]!r}"
        parser, words = choices[words[0]], words[1:]
    return parser


def test_every_marketplace_id_is_listed_under_its_region() -> None:
    rows = {line.split("|")[1].strip(): line for line in section("Your own seller account").splitlines()
            if re.match(r"\| (NA|EU|FE) \|", line)}
    assert set(rows) == {"NA", "EU", "FE"}
    for marketplace_id, region in MARKETPLACE_REGIONS.items():
        assert f"`{marketplace_id}`" in rows[region], (marketplace_id, region)
    listed = re.findall(r"`([A-Z0-9]{10,14})`", " ".join(rows.values()))
    assert sorted(listed) == sorted(MARKETPLACE_REGIONS)


def defined_automation() -> set[str]:
    """Names of the asset checks, sensors and schedules orchestration/defs defines (read from the source, so a
    new one fails this test until it is documented)."""
    names: set[str] = set()
    for path in (ROOT / "orchestration" / "defs").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {t.id: n.value.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                     for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    call = decorator.func if isinstance(decorator, ast.Call) else decorator
                    if isinstance(call, ast.Attribute) and call.attr in ("asset_check", "sensor", "schedule"):
                        named = [k.value.value for k in getattr(decorator, "keywords", [])
                                 if k.arg == "name" and isinstance(k.value, ast.Constant)]
                        names.add(named[0] if named else node.name)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
                first = node.args[0]
                if node.func.attr == "AssetCheckSpec":
                    names.add(first.value if isinstance(first, ast.Constant) else constants[first.id])
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Attribute)
                    and node.value.func.attr in ("ScheduleDefinition", "SensorDefinition")):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def test_every_check_sensor_and_schedule_is_documented_in_operating_it() -> None:
    names = defined_automation()
    # What the code defines today; a new one must be added to the README (and here).
    assert {"raw_tables_fresh", "api_throttle_rate", "pii_canary_scan", "every_file_readable",
            "new_settlement_reports_sensor", "seller_accounts_sensor", "settlement_inbox_sensor",
            "daily_lakehouse_schedule", "daily_pii_purge_schedule"} <= names
    text = section("Operating it")
    missing = sorted(n for n in names if f"`{n}`" not in text)
    assert not missing, f"not documented in README 'Operating it': {missing}"
