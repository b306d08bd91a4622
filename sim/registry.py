"""The extension points of the simulator, each a registry of names: the only list of them.

Built-in entries register themselves where they are defined; a plug-in registers from a
notebook (``sim.register_dispatch("zoned", ZonedMatcher)``) or from an installed package
through an entry point in the registry's group (``taxisim.dispatch`` and so on), loaded the
first time the registry is read, or from the modules named in ``$TAXISIM_PLUGINS``. An
entry may bring its own pydantic settings model (its ``Settings`` attribute): scenario
validation reads names and settings from here.
"""

from __future__ import annotations

import difflib
import importlib
import os
from collections.abc import Callable, Iterable
from importlib import metadata
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from sim.errors import RegistryError

T = TypeVar("T")


class Registry(Generic[T]):
    """Names of one extension point, each with its object and optional settings model."""

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind  # "dispatch policy": what an entry is, for messages
        self.group = group  # the entry-point group plug-in packages declare
        self._entries: dict[str, T] = {}
        self._settings: dict[str, type[BaseModel]] = {}
        self._plugins_loaded = False

    def register(
        self,
        name: str,
        obj: T,
        *,
        settings: type[BaseModel] | None = None,
        replace: bool = False,
    ) -> T:
        """Add ``obj`` under ``name``, with its settings model (default: its ``Settings``
        attribute, if any); returns ``obj``."""
        if not name.isidentifier() or not name.islower():
            raise RegistryError(f"{self.kind} name {name!r}: use lower_case letters and digits")
        if name in self._entries and not replace and self._entries[name] is not obj:
            raise RegistryError(
                f"{self.kind} {name!r} is already registered; pass replace=True to replace it"
            )
        self._entries[name] = obj
        model = settings if settings is not None else getattr(obj, "Settings", None)
        if isinstance(model, type) and issubclass(model, BaseModel):
            self._settings[name] = model
        else:
            self._settings.pop(name, None)
        return obj

    def unregister(self, name: str) -> None:
        """Remove a plug-in (tests, notebooks trying things out)."""
        self._entries.pop(name, None)
        self._settings.pop(name, None)

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        import_env_plugins()
        for ep in metadata.entry_points(group=self.group):
            try:
                self.register(ep.name, ep.load())
            except Exception as exc:  # a broken plug-in must not hide the built-ins
                raise RegistryError(
                    f"{self.kind} plug-in {ep.name!r} ({ep.value}) failed to load: {exc}"
                ) from exc

    def names(self) -> tuple[str, ...]:
        self._load_plugins()
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def get(self, name: str) -> T:
        if name not in self:
            raise RegistryError(self.unknown(name))
        return self._entries[name]

    def settings(self, name: str) -> type[BaseModel] | None:
        """The entry's own settings model, if it has one."""
        self.get(name)
        return self._settings.get(name)

    def unknown(self, name: str) -> str:
        """One line for an unknown name: the known ones and the nearest, if any is close."""
        return unknown_name(self.kind, name, self.names())


MAX_LISTED = 40  # known names listed in one message; more are counted, not printed


def unknown_name(
    kind: str,
    name: str,
    known: Iterable[str],
    *,
    near: int = 1,
    renamed: str | None = None,
    examples: Iterable[str] | None = None,
) -> str:
    """The one message for a name that is not one of ``known`` (registry entries, scenario
    keys, platforms, rails, policies, tables, metrics): the ``near`` nearest known names, if
    any is close, and the known ones (or ``examples`` of them, for long lists such as
    metrics). ``renamed``: the name's new name, said instead of the nearest.
    ``unknown rail 'alipya' (did you mean 'alipay'?); known: cash, alipay, wechat_pay``."""
    names = list(dict.fromkeys(known))
    if renamed is not None:
        hint = f" (renamed {renamed!r})"
    else:
        close = difflib.get_close_matches(str(name), names, n=near)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    if examples is not None:
        shown = list(dict.fromkeys(examples))
        listed = f"{len(names)} in all, such as {', '.join(shown)}" if shown else "none"
        return f"unknown {kind} {name!r}{hint}; known: {listed}"
    listed = ", ".join(names[:MAX_LISTED]) or "none"
    more = f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
    return f"unknown {kind} {name!r}{hint}; known: {listed}{more}"


PLUGINS_ENV = "TAXISIM_PLUGINS"
_env_imported: set[str] = set()


def import_env_plugins() -> None:
    """Import the modules named in ``$TAXISIM_PLUGINS`` (comma-separated), once each: a
    plug-in that registers itself when imported, for runs whose processes you do not
    start yourself (a sweep's workers inherit the variable)."""
    names = [n.strip() for n in os.environ.get(PLUGINS_ENV, "").split(",") if n.strip()]
    for name in names:
        if name in _env_imported:
            continue
        _env_imported.add(name)
        try:
            importlib.import_module(name)
        except Exception as exc:
            raise RegistryError(
                f"plug-in module {name!r} (from ${PLUGINS_ENV}) failed to import: {exc}"
            ) from exc


DISPATCH: Registry[Any] = Registry("dispatch policy", "taxisim.dispatch")
CITY_KINDS: Registry[Any] = Registry("city kind", "taxisim.city")
SUBSIDY_RULES: Registry[Any] = Registry("subsidy rule", "taxisim.subsidy")
RIDER_MODELS: Registry[Any] = Registry("rider model", "taxisim.rider")
DRIVER_MODELS: Registry[Any] = Registry("driver model", "taxisim.driver")


def _registrar(registry: Registry[Any]) -> Callable[..., Any]:
    def register(
        name: str, obj: Any, *, settings: type[BaseModel] | None = None, replace: bool = False
    ) -> Any:
        return registry.register(name, obj, settings=settings, replace=replace)

    register.__doc__ = f"Register a {registry.kind} under ``name`` (see ``sim.registry``)."
    return register


register_dispatch = _registrar(DISPATCH)
register_city_kind = _registrar(CITY_KINDS)
register_subsidy_rule = _registrar(SUBSIDY_RULES)
register_rider_model = _registrar(RIDER_MODELS)
register_driver_model = _registrar(DRIVER_MODELS)
