"""A griffe extension: a module that defines ``__all__`` is documented by it alone.

mkdocstrings keeps a module's members by name (``filters``) or by griffe's idea of
public, which takes ``__all__`` into account but also keeps every ``__dunder__`` of every
class. trio-sse's public API is its ``__all__`` lists, so this removes from each module
that has one the members it does not name (``PROVIDER``, a ``logger``), before rendering;
submodules stay, each documented on its own page. The name filter in ``mkdocs.yml`` then
hides the private members of the classes that remain.

``mkdocs.yml`` loads it (``extensions: [tools/griffe_exports.py:ExportsOnly]``);
``tests/test_docs_site.py`` checks the built reference holds no more than ``__all__``.
"""

from __future__ import annotations

from typing import Any

import griffe


def _prune(module: griffe.Module) -> None:
    for member in module.members.values():
        if isinstance(member, griffe.Module):
            _prune(member)
    if module.exports is None:
        return
    exported = {str(name) for name in module.exports}
    for name, member in list(module.members.items()):
        if name not in exported and not isinstance(member, griffe.Module):
            del module.members[name]


class ExportsOnly(griffe.Extension):
    """Prunes every module of a loaded package to its ``__all__``."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _prune(pkg)
