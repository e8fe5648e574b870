"""The admission queue's accounting: places are bounded and always given back."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.api.admission import Admission, QueueFull
from bot.api.app import create_api
from tests.fixtures.doubles import build_small_index
from tests.fixtures.factories import make_service, make_settings


def test_places_are_bounded_and_released_once() -> None:
    admission = Admission(make_settings(admission__slots=1, admission__queue_size=1))
    first, second = admission.admit(), admission.admit()
    with pytest.raises(QueueFull):
        admission.admit()
    first.release()
    first.release()
    assert admission.in_flight == 1
    second.release()
    assert admission.in_flight == 0


def test_every_route_gives_its_place_back(tmp_path: Path) -> None:
    index = build_small_index(tmp_path)
    settings = make_settings(embedding__backend="e5", index_dir=index, feedback_db=tmp_path / "fb.sqlite3")
    app = create_api(make_service(settings), settings)
    question = {"question": "Quand la déchetterie de Dainville est-elle ouverte ?"}
    with TestClient(app) as client:
        for _ in range(settings.admission.slots + settings.admission.queue_size + 1):
            assert client.post("/api/ask", json=question).status_code == 200
            with client.stream("POST", "/api/ask/stream", json=question) as response:
                next(response.iter_lines())  # the client leaves after the first line
        assert app.state.admission.in_flight == 0
