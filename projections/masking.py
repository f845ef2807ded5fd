"""Personal data as the public sees it (个人隐私): names as 张*, ID card numbers as
110***********1234, mobile numbers as 138****5678.

Names are masked where the record knows a name is one (an actor, a recipient); in free
text, ID card and mobile numbers are found by their shape and masked wherever they are.
"""

from __future__ import annotations

import re
from typing import Final

# An 18-character resident ID: 6-digit area, birth date 18xx-20xx, 3 digits, a check
# digit or X; not part of a longer run of digits.
_ID_NUMBER: Final = re.compile(r"(?<![0-9])[1-9][0-9]{5}(?:18|19|20)[0-9]{9}[0-9Xx](?![0-9Xx])")
# A mainland mobile number: 1, then 3-9, then 9 digits; not part of a longer number.
_MOBILE: Final = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: the family name's first character and a star for each
    other character."""
    name = name.strip()
    return name[:1] + "*" * (len(name) - 1) if name else name


def mask_id_number(number: str) -> str:
    """110101199003071234 -> 110***********1234."""
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_mobile(number: str) -> str:
    """13812345678 -> 138****5678."""
    return number[:3] + "****" + number[-4:]


def mask_text(text: str) -> str:
    """``text`` with every ID card and mobile number in it masked."""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group()), text)
    return _MOBILE.sub(lambda m: mask_mobile(m.group()), text)


# A board review as projections.board.next_item writes it: "stage 王建国（role）通过".
_REVIEW: Final = re.compile(r"^(\S*) (.*)（([^（）]*)）(通过|不通过)(，监审印章)?$")


def mask_review(review: str) -> str:
    """A board review line with the reviewer's name masked."""
    match = _REVIEW.match(review)
    if match is None:
        return mask_text(review)
    stage, who, role, verdict, sealed = match.groups()
    return f"{stage} {mask_name(who)}（{role}）{verdict}{sealed or ''}"
