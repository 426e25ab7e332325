"""Plant each mistake of the corpus (tests/parity/grade/planted.py) in a fresh copy of the
reference solutions, grade it, and print the docs' table: the mistake and the grader's first
line about the function, as printed.

    python scripts/planted_mistakes.py
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from parity.grade import grade  # noqa: E402
from tests.parity.grade.planted import PLANTED  # noqa: E402
from tests.parity.grade.test_mistakes import first_line  # noqa: E402

with tempfile.TemporaryDirectory() as tmp:
    ref = Path(tmp) / "ref"
    subprocess.run([sys.executable, "-m", "scratchrnn", "exercises", "init", str(ref),
                    "--solutions"], check=True, capture_output=True, cwd=ROOT)
    print("| planted mistake | function | the grader's first line |")
    print("| --- | --- | --- |")
    for k, (what, file, name, old, new, _) in enumerate(PLANTED):
        student = Path(shutil.copytree(ref, Path(tmp) / f"s{k}"))
        path = student / file
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
        print(f"| {what} | `{name}` | {first_line(grade(str(student), only=name), name)} |")
