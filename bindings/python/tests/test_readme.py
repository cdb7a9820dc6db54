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


def test_readme_python_store_dlp_disclosure_example(capsys):
    text = (ROOT / "README.md").read_text()
    section = text.split("## Python", 1)[1].split("## Node", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 3
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(blocks[1], "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out.split("\n")
    assert out[:4] == [
        "activated 1.0.1",
        "Mail [REDACTED:EMAIL], card **** **** **** 1111. ['email', 'credit_card']",
        "False absent",
        "True verified",
    ]


def test_readme_python_supplychain_example(capsys):
    text = (ROOT / "README.md").read_text()
    section = text.split("## Python", 1)[1].split("## Node", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert "companyos.supplychain" in blocks[2]
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(blocks[2], "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out.split("\n")
    assert out[:3] == [
        "5 True",
        "shop.cdx.json refs/tags/v1.2.0",
        "False 1",
    ]
