"""The helpdesk is built on its first visit: a service whose helpdesk is never opened never imports Gradio."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.settings import REPO_ROOT
from tests.fixtures.doubles import build_small_index

# In a fresh interpreter: the tests around this one have imported Gradio already
SCRIPT = """
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from tests.fixtures.factories import e5_index_settings, make_service
from ui.app import create_app

root = Path(sys.argv[1])
settings = e5_index_settings(root, root / "index")
app = create_app(make_service(settings), settings)
print("gradio" in sys.modules)
with TestClient(app) as client:
    page = client.get("/helpdesk/")
    print(page.status_code, "<gradio-app" in page.text and "Espace conseillers" in page.text, "gradio" in sys.modules)
"""


def test_gradio_is_imported_by_the_first_visit_to_the_helpdesk(tmp_path: Path) -> None:
    build_small_index(tmp_path)
    command = [sys.executable, "-c", SCRIPT, str(tmp_path)]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    imported_with_the_app, first_visit = run.stdout.strip().splitlines()
    assert imported_with_the_app == "False"
    assert first_visit == "200 True True"
