"""The README's Python example runs as written."""

import os
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[3]


def test_readme_python_example(capsys):
    text = (ROOT / "README.md").read_text()
    section = text.split("## Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out.split("\n")
    assert out[0] == "True []"
    assert out[1] == "io"
