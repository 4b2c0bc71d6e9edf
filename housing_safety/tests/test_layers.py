"""The project package is the bottom layer: the apps build on it (households ← inspections ← rectification ← reporting)
and it imports none of them, not even inside a function. What it needs from an app, the app registers in its
AppConfig.ready (scope of a profile, personal-data targets) or reaches through a URL include string."""

import ast
from pathlib import Path

import housing_safety

APPS = {"households", "inspections", "rectification", "reporting"}
PACKAGE = Path(housing_safety.__file__).parent


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "tests":
            continue
        yield relative, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


DYNAMIC = {"import_string", "import_module", "__import__"}


def _imported(tree) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):  # every import, at the top of the module or inside a function
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            # import_string("households.selectors.households_for_user") is an import all the same
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in DYNAMIC and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
    return found


def test_the_project_package_imports_no_app():
    upward = [
        f"housing_safety/{relative}:{line} imports {module}"
        for relative, tree in _modules()
        for line, module in _imported(tree)
        if module.split(".")[0] in APPS
    ]
    assert upward == []


def test_the_check_sees_imports_inside_functions_and_by_name():
    source = (
        "def f():\n"
        "    from households.models import Household\n"
        "import inspections.selectors\n"
        "selector = import_string('rectification.selectors.cases_for_user')\n"
    )
    assert sorted(_imported(ast.parse(source))) == [
        (2, "households.models"),
        (3, "inspections.selectors"),
        (4, "rectification.selectors.cases_for_user"),
    ]
