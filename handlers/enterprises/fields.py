"""A profile's fields as people write them, read into stored values: each reader returns
the value or raises ProfileError with a reason to show them (in Chinese)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from handlers.enterprises.settings import INDUSTRIES, EnterpriseSettings

__all__ = [
    "LABELS",
    "PROFILE_FIELDS",
    "ProfileError",
    "credit_code_ok",
    "read_fields",
    "read_phone",
]

PROFILE_FIELDS = ("name", "credit_code", "industry", "size", "region", "qualifications")

LABELS = {
    "name": "企业名称",
    "credit_code": "统一社会信用代码",
    "industry": "行业",
    "size": "规模",
    "region": "所在地区",
    "qualifications": "资质",
}


class ProfileError(ValueError):
    """A value a profile cannot take: which field, and why (shown to the person)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    @property
    def text(self) -> str:
        """The reason, with the field's name unless it already says it."""
        label = {**LABELS, "contact_phone": "联系电话"}.get(self.field, self.field)
        return self.reason if label in self.reason else f"{label}：{self.reason}"


# GB 32100-2015: 18 characters of this alphabet, the last a check character
_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_ok(code: str) -> bool:
    """Whether `code` is a unified social credit code whose check character fits."""
    if len(code) != 18 or any(c not in _CODE_CHARS for c in code):
        return False
    total = sum(_CODE_CHARS.index(c) * w for c, w in zip(code, _CODE_WEIGHTS, strict=False))
    return _CODE_CHARS[(31 - total % 31) % 31] == code[17]


def _text(value: object) -> str:
    return re.sub(r"\s+", " ", str(value if value is not None else "")).strip()


def _name(value: object, _: EnterpriseSettings) -> str | None:
    name = _text(value)
    if not name:
        raise ProfileError("name", "企业名称不能为空")
    if len(name) > 100:
        raise ProfileError("name", "企业名称太长了（最多100个字）")
    return name


def _credit_code(value: object, _: EnterpriseSettings) -> str | None:
    code = _text(value).replace(" ", "").upper()
    if not code:
        return None
    if len(code) != 18:
        raise ProfileError("credit_code", f"统一社会信用代码是18位，您填的是{len(code)}位")
    if not credit_code_ok(code):
        raise ProfileError("credit_code", "统一社会信用代码的校验位不对，请核对后再填")
    return code


def _one_of(field: str, choices: Sequence[str], text: str) -> str:
    """`text` as one of `choices`: itself, or the one choice that contains it."""
    if text in choices:
        return text
    found = [c for c in choices if text and text in c]
    if len(found) == 1:
        return found[0]
    label = LABELS[field]
    if found:
        raise ProfileError(field, f"「{text}」可以是{'、'.join(found)}，请写完整")
    raise ProfileError(field, f"没有「{text}」这个{label}，可选：{'、'.join(choices)}")


def _industry(value: object, settings: EnterpriseSettings) -> str | None:
    text = _text(value)
    if not text:
        return None
    letter = text.upper()
    if len(letter) == 1 and "A" <= letter <= "T" and settings.industries == list(INDUSTRIES):
        return INDUSTRIES[ord(letter) - ord("A")]
    return _one_of("industry", settings.industries, text)


def _size(value: object, settings: EnterpriseSettings) -> str | None:
    text = _text(value).removesuffix("企业")
    return _one_of("size", settings.sizes, text) if text else None


def _region(value: object, settings: EnterpriseSettings) -> str | None:
    text = _text(value)
    if not text:
        return None
    if len(text) > 50:
        raise ProfileError("region", "所在地区太长了（最多50个字）")
    return _one_of("region", settings.regions, text) if settings.regions else text


def _qualifications(value: object, settings: EnterpriseSettings) -> tuple[str, ...]:
    if isinstance(value, str):
        parts = [p for p in re.split(r"[、,，;；/\s]+", value) if p]
    else:
        parts = [_text(p) for p in value or ()]  # type: ignore[attr-defined]
    if parts in (["无"], ["没有"]):
        return ()
    chosen = [_one_of("qualifications", settings.qualifications, p) for p in parts if p]
    return tuple(dict.fromkeys(chosen))


def read_phone(value: object) -> str | None:
    """A contact's phone as written (digits, spaces, dashes, +, brackets), or None."""
    phone = _text(value)
    if phone and not re.fullmatch(r"[\d\s+()（）-]{7,20}", phone):
        raise ProfileError("contact_phone", f"「{phone}」不像电话号码")
    return phone or None


_READERS: dict[str, Callable[[object, EnterpriseSettings], object]] = {
    "name": _name,
    "credit_code": _credit_code,
    "industry": _industry,
    "size": _size,
    "region": _region,
    "qualifications": _qualifications,
}


def read_fields(fields: Mapping[str, object], settings: EnterpriseSettings) -> dict[str, object]:
    """The stored values of `fields` (only profile fields); the first bad one raises."""
    out: dict[str, object] = {}
    for field, value in fields.items():
        reader = _READERS.get(field)
        if reader is None:
            raise ProfileError(field, "不是企业资料的项目")
        out[field] = reader(value, settings)
    return out
