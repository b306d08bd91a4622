"""The one strict base of every scenario model, and the value types they share.

Models are frozen and forbid unknown keys, so a typo is an error naming the field and a
comment in a YAML file never has to restate a default. Strict: ``true`` is not 1 and "12"
is not 12; an int still fills a float field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PlainValidator,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from sim.registry import Registry, unknown_name

M = TypeVar("M")

STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


def _not_a_number(value: Any) -> Any:
    """A bare number would be read as seconds since 1970: never what a scenario means."""
    if isinstance(value, bool | int | float):
        raise ValueError("must be a date such as 2013-12-01 or 2013-12-01T08:00:00")
    return value


def _naive(value: datetime) -> datetime:
    if value.tzinfo is not None:
        raise ValueError("give the local time without a time zone")
    return value


# Local date and time: a YAML date, datetime or ISO text (dumps and overrides give text).
LocalTime = Annotated[
    datetime, Field(strict=False), BeforeValidator(_not_a_number), AfterValidator(_naive)
]


_NUM = r"(\d+(?:\.\d+)?)"
DURATION_RE = re.compile(rf"^\s*(?:{_NUM}d)?\s*(?:{_NUM}h)?\s*(?:{_NUM}m(?:in)?)?\s*$")
DURATION_FORMS = "'3d', '6h', '1d12h' or '90m'"
MAX_DRIVERS = 500_000
MAX_DAILY_REQUESTS = 20_000_000
MAX_DURATION_S = 400 * 86400
MAX_RIDERS = 50_000_000
# Money: a price of one ride (fare part, tip, subsidy) and a budget. No taxi tariff comes
# near them, and every sum of fen over a season stays an exact integer (far below 2^53).
MAX_PRICE_YUAN = 10_000
MAX_BUDGET_YUAN = 100_000_000_000
MAX_SPEED_KPH = 300
MAX_ROAD_M = 1_000_000  # one road segment, a block, a ring spacing: 1,000 km

Pos = Annotated[float, Field(gt=0)]
NonNeg = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]
Price = Annotated[float, Field(ge=0, le=MAX_PRICE_YUAN)]  # yuan of one ride
Speed = Annotated[float, Field(gt=0, le=MAX_SPEED_KPH)]  # km/h
Road = Annotated[float, Field(gt=0, le=MAX_ROAD_M)]  # metres


UNKNOWN_KEY = "unknown_key"  # the error type of a key no field has, with the known ones


class Frozen(BaseModel):
    """Base of every scenario model: frozen, strict about keys and types, finite numbers.
    An unknown key is an error that lists the model's keys and the nearest one."""

    model_config = STRICT

    @model_validator(mode="wrap")
    @classmethod
    def _unknown_keys(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            errors = exc.errors()
            if not any(e["type"] == "extra_forbidden" and len(e["loc"]) == 1 for e in errors):
                raise
            known = [*cls.model_fields, *cls._section_names()]
            details = _details(exc)
            for d, e in zip(details, errors, strict=True):
                if e["type"] == "extra_forbidden" and len(e["loc"]) == 1:
                    msg = unknown_name("key", str(e["loc"][0]), known)
                    d["type"] = PydanticCustomError(UNKNOWN_KEY, _escape_braces(msg))
            raise ValidationError.from_exception_data(exc.title, details) from None

    @classmethod
    def _section_names(cls) -> tuple[str, ...]:
        registry = getattr(cls, "registry", None)
        return registry.names() if isinstance(registry, Registry) else ()


def parse_duration(text: str) -> float:
    """Seconds in "6h", "3d", "1d12h", "90m" ("90min"). A bare number has no unit: nobody
    means 3 seconds by ``duration: 3``, so it is refused rather than guessed."""
    if not isinstance(text, str):
        if isinstance(text, int | float) and not isinstance(text, bool):
            raise ValueError(f"needs a unit, such as {DURATION_FORMS}")
        raise ValueError(f"must be a duration such as {DURATION_FORMS}")
    m = DURATION_RE.match(text)
    if not m or not any(m.groups()):
        raise ValueError(f"must be a duration such as {DURATION_FORMS}")
    d, h, mi = (float(g) if g else 0.0 for g in m.groups())
    seconds = d * 86400 + h * 3600 + mi * 60
    if not 0 < seconds <= MAX_DURATION_S:
        raise ValueError(f"must be more than 0 and at most {MAX_DURATION_S // 86400} days")
    return seconds


def _escape_braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _details(exc: ValidationError, prefix: tuple[str, ...] = ()) -> list[InitErrorDetails]:
    out: list[InitErrorDetails] = []
    for e in exc.errors():
        kind: Any = e["type"]
        if kind == UNKNOWN_KEY:  # a custom type is rebuilt from its message
            kind = PydanticCustomError(UNKNOWN_KEY, _escape_braces(e["msg"]))
        d: InitErrorDetails = {"type": kind, "loc": (*prefix, *e["loc"]), "input": e["input"]}
        if "ctx" in e and e["type"] != UNKNOWN_KEY:
            d["ctx"] = e["ctx"]
        out.append(d)
    return out


def with_sections(
    data: Any, handler: Callable[[Any], M], registry: Registry[Any], fields: dict[str, Any]
) -> tuple[M, dict[str, BaseModel]]:
    """Validate a model whose input may hold a section per entry of ``registry``.

    Sections named after the registry's entries are validated by each entry's own settings
    model (its defaults when absent); the rest goes to the model's own fields through
    ``handler``. Errors of both are raised together, each located where the user wrote it.
    """
    own = dict(data) if isinstance(data, dict) else data
    sections: dict[str, BaseModel] = {}
    errors: list[InitErrorDetails] = []
    for name in registry.names():
        model = registry.settings(name)
        if name in fields or not isinstance(own, dict):
            continue
        if model is None:
            if name in own:  # a section for an entry that reads none
                errors.append(
                    {
                        "type": "value_error",
                        "loc": (name,),
                        "input": own.pop(name),
                        "ctx": {
                            "error": ValueError(f"the {registry.kind} {name!r} takes no settings")
                        },
                    }
                )
            continue
        try:
            sections[name] = model.model_validate(own.pop(name, {}))
        except ValidationError as exc:
            errors += _details(exc, (name,))
    try:
        result = handler(own)
    except ValidationError as exc:
        raise ValidationError.from_exception_data(exc.title, _details(exc) + errors) from None
    if errors:
        raise ValidationError.from_exception_data("settings", errors)
    return result, sections


def by_kind(registry: Registry[Any], base: type[Frozen], default: str | None = None) -> Any:
    """A validator of a section whose ``kind`` names an entry of ``registry``: the section
    is validated by that entry's settings model (a subclass of ``base``)."""

    def validate(value: Any) -> Frozen:
        if isinstance(value, base):
            return value
        if not isinstance(value, dict):
            raise ValueError(f"must be a mapping with a kind, such as {{kind: {default}}}")
        kind = value.get("kind", default)
        model = registry.settings(kind) if isinstance(kind, str) and kind in registry else None
        if model is None or not issubclass(model, base):
            detail: InitErrorDetails = {
                "type": "value_error",
                "loc": ("kind",),
                "input": kind,
                "ctx": {"error": ValueError(registry.unknown(str(kind)))},
            }
            raise ValidationError.from_exception_data(base.__name__, [detail])
        return model.model_validate(value)

    return PlainValidator(validate)


class Sectioned(Frozen):
    """A model with a section per entry of its ``registry`` (``dispatch.batch``,
    ``riders.logit``): each validated by the entry's own settings model, its defaults when
    absent, dumped back under its own name. ``settings_of(name)`` reads one."""

    registry: ClassVar[Registry[Any]]
    _settings: dict[str, BaseModel] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _sections(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        if isinstance(data, cls):
            return data
        model, sections = with_sections(data, handler, cls.registry, cls.model_fields)
        model._settings = sections
        return model

    @model_serializer(mode="wrap")
    def _dump_sections(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        for name, settings in self._settings.items():
            out[name] = settings.model_dump()
        return out

    def settings_of(self, name: str) -> Any:
        """The validated settings of a registered entry (its defaults when not given);
        None for an entry without a settings model."""
        return self._settings.get(name)
