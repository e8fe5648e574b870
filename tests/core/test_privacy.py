import logging

import pytest

from core.privacy import MaskingFilter, mask_personal_data


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("écrivez-moi à jeanne.durand@example.fr", "jeanne.durand@example.fr"),
        ("mon portable : 06 12 34 56 78", "06 12 34 56 78"),
        ("appelez le +33 6.12.34.56.78", "6.12.34.56.78"),
        ("numéro fiscal 1234567890123", "1234567890123"),
    ],
)
def test_personal_data_is_masked(text: str, secret: str) -> None:
    masked = mask_personal_data(text)
    assert secret not in masked and "[" in masked


def test_ordinary_numbers_are_kept() -> None:
    assert mask_personal_data("450 visiteurs en 2024, 46 communes") == "450 visiteurs en 2024, 46 communes"


def test_log_records_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("cuabot.test")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="cuabot.test"):
        logger.info("question: %s", "mon mail est a.b@c.fr")
    assert "a.b@c.fr" not in caplog.text and "[courriel]" in caplog.text
