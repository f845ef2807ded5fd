"""Personal data as the public sees it."""

from __future__ import annotations

import pytest

from projections.masking import mask_id_number, mask_mobile, mask_name, mask_review, mask_text


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("王建国", "王**"), ("欧阳娜娜", "欧***"), ("", "")]
)
def test_names(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_numbers() -> None:
    assert mask_id_number("110101199003071234") == "110***********1234"
    assert mask_mobile("13812345678") == "138****5678"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("电话13812345678", "电话138****5678"),
        ("身份证11010119900307123X。", "身份证110***********123X。"),
        ("两个：13812345678、15900001111", "两个：138****5678、159****1111"),
        # Not a mobile or ID: longer runs of digits, an amount, a date.
        ("账号6222021234567890123", "账号6222021234567890123"),
        ("金额18600元，2026年7月", "金额18600元，2026年7月"),
        ("12812345678", "12812345678"),
    ],
)
def test_free_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_reviews() -> None:
    assert mask_review("committee 王建国（committee_chair）通过") == (
        "committee 王**（committee_chair）通过"
    )
    assert mask_review("odd 13812345678") == "odd 138****5678"
