"""Reading uv's failures (pure): the requirement each names and why; requirement lines; old-app rules."""
from __future__ import annotations

from hoist.builder import oldapps, reqfile
from hoist.builder.failures import Problem, first_problem, hints


def lines(text: str) -> list[str]:
    return ["Using Python 3.12.1 environment at: /x", "Resolved 3 packages in 10ms", *text.strip("\n").splitlines()]


def test_resolution_failures_name_the_requirement() -> None:
    cases = {
        "  cause: Because there is no version of conda==4.10.1 and you require conda==4.10.1, we can conclude that "
        "your requirements are unsatisfiable.": Problem("conda==4.10.1", "no such version on the package index"),
        "  cause: Because nopkg was not found in the package registry and you require nopkg==1.0, we can conclude "
        "that your requirements are unsatisfiable.": Problem("nopkg==1.0", "no such package on the package index"),
        "  cause: Because only six<=1.17.0 is available and you require six>=999, we can conclude that your "
        "requirements are unsatisfiable.": Problem("six>=999", "only six<=1.17.0 exists on the package index"),
        "  cause: Because torch==1.4.0 has no wheels with a matching Python ABI tag (e.g., `cp312`) and you require "
        "torch==1.4.0, we can conclude that your requirements are unsatisfiable.":
            Problem("torch==1.4.0", "no wheel for Python 3.12.1, and no source to build one from"),
        "  cause: Because the current Python version (3.8.18) does not satisfy Python>=3.10 and django==5.1 depends "
        "on Python>=3.10, we can conclude that django==5.1 cannot be used.\n         And because you require "
        "django==5.1, we can conclude that your requirements are unsatisfiable.":
            Problem("django==5.1", "needs Python>=3.10 (this build uses Python 3.12.1)"),
        "  cause: Because flask==1.0.2 depends on werkzeug>=0.14 and you require flask==1.0.2, we can conclude that "
        "you require werkzeug>=0.14.\n         And because you require werkzeug==0.12, we can conclude that your "
        "requirements are unsatisfiable.":
            Problem("werkzeug==0.12", "flask==1.0.2 depends on werkzeug>=0.14 and you require flask==1.0.2, we can "
                                      "conclude that you require werkzeug>=0.14. And because you require werkzeug==0.12"),
    }
    for cause, problem in cases.items():
        out = lines(f"error: No solution found when resolving dependencies\n{cause}")
        assert first_problem(out, "3.12.1") == problem


def test_a_failed_build_keeps_its_last_lines_with_their_own_indent() -> None:
    out = lines("""   Building psycopg2==2.7.3.2
error: Failed to build `psycopg2==2.7.3.2`
  cause: The build backend returned an error
  cause: Call to `setuptools.build_meta:__legacy__.build_wheel` failed (exit status: 1)

         [stderr]
         psycopg/psycopgmodule.c:989:30: error: lvalue required as left operand of assignment
           989 |     Py_TYPE(&pydatetimeType) = &PyType_Type;
         error: command '/usr/bin/gcc' failed with exit code 1

hint: Build failures usually indicate a problem with the package or the build environment
""")
    problem = first_problem(out, "3.12.1")
    assert problem == Problem("psycopg2==2.7.3.2", "failed to build from source", (
        "psycopg/psycopgmodule.c:989:30: error: lvalue required as left operand of assignment",
        "  989 |     Py_TYPE(&pydatetimeType) = &PyType_Type;",
        "error: command '/usr/bin/gcc' failed with exit code 1"))
    assert problem.name == "psycopg2" and problem.version == "2.7.3.2"
    assert hints(problem, "3.12.1")[0].startswith("psycopg2 2.7.3.2 has no wheel for Python 3.12.1")


def test_output_that_names_no_requirement() -> None:
    assert first_problem(lines("error: Failed to fetch: `https://pypi.org/simple/six/`\n  cause: dns error"),
                         "3.12.1") is None
    assert first_problem(["Resolved 1 package"], "3.12.1") is None


def test_requirement_lines() -> None:
    text = "# top\nsix==1.0  # pinned\nbs4 @ file:///tmp/x\nrequests==2.0 \\\n  --hash=sha256:ab\n-r more.txt\n"
    parsed = reqfile.parse_lines(text)
    assert [(ln.first, ln.last, ln.name, ln.url) for ln in parsed] == [
        (2, 2, "six", None), (3, 3, "bs4", "file:///tmp/x"), (4, 5, "requests", None), (6, 6, None, None)]
    assert reqfile.find(parsed, "file:///tmp/x") == parsed[1]
    assert reqfile.find(parsed, "Requests==2.0") == parsed[2]
    assert reqfile.find(parsed, "flask==1.0") is None
    assert reqfile.without(text, [parsed[2]]).splitlines()[3:5] == ["# requests==2.0 \\", "#   --hash=sha256:ab"]


def test_old_app_rules() -> None:
    assert oldapps.warnings({"flask": "2.3.3", "werkzeug": "3.0.6", "jinja2": "3.1.6"}, True, "requirements.txt") == []
    found = oldapps.warnings({"flask": "2.1.0", "werkzeug": "3.0.6", "gunicorn": "19.9.0"}, False, "requirements.txt")
    assert [w.split(":")[0] for w in found] == [
        "flask 2.1.0 imports werkzeug.urls.url_quote (removed in Werkzeug 3.0), and werkzeug 3.0.6 was installed",
        "gunicorn 19.9.0 imports pkg_resources when it starts, and this virtualenv has none (hoist installs "
        "setuptools for requirements.txt apps on Python 3.12 and older, as Heroku does; setuptools 81 and newer has "
        "no pkg_resources)"]
