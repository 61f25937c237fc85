"""``unmanaged(record)``: a kernel's view of a StructRef record that Numba does not reference-count.

A StructRef is one reference-counted pointer: every time a compiled helper receives or copies
it, Numba updates its count with an atomic instruction, which in the kernels' inner loops cost
about a tenth of a step. The view is the bare pointer to the same fields, read by the same names.
It is only valid while the StructRef it came from is alive: the kernels take it from their
argument at entry and use it for the duration of the call. Without compilation
(``NUMBA_DISABLE_JIT``) the kernels are given the records themselves and this is the identity.
"""

from __future__ import annotations

from typing import Any, TypeVar

from numba.core import cgutils, imputils, types
from numba.core.datamodel import models
from numba.core.typing.templates import AttributeTemplate
from numba.experimental import structref
from numba.extending import infer_getattr, intrinsic, lower_getattr_generic, overload, register_model

R = TypeVar("R")
# Numba's extension API has no type hints.
_struct_proxy: Any = cgutils.create_struct_proxy
_borrowed: Any = imputils.impl_ret_borrowed
_Utils: Any = structref._Utils
_lower_getattr: Any = lower_getattr_generic


def unmanaged(record: R) -> R:
    """``record`` itself (compiled, a view of the StructRef ``record`` that is not reference-counted)."""
    return record


class _View(types.Type):
    def __init__(self, ref: Any) -> None:
        self.ref = ref
        super().__init__(name=f"Unmanaged({ref.name})")


@register_model(_View)
class _ViewModel(models.PrimitiveModel):  # a plain pointer: no meminfo, so nothing to count
    def __init__(self, dmm: Any, fe_type: Any) -> None:
        payload = dmm.lookup(fe_type.ref.get_data_type()).get_value_type()
        super().__init__(dmm, fe_type, payload.as_pointer())  # type: ignore[no-untyped-call]


@infer_getattr
class _ViewAttributes(AttributeTemplate):
    key = _View

    def generic_resolve(self, typ: Any, attr: str) -> Any:  # type: ignore[override]
        return typ.ref.field_dict.get(attr)


def _view_getattr(context: Any, builder: Any, typ: Any, value: Any, attr: str) -> Any:
    payload = _struct_proxy(typ.ref.get_data_type())(context, builder, ref=value)
    return _borrowed(context, builder, typ.ref.field_dict[attr], getattr(payload, attr))


_lower_getattr(_View)(_view_getattr)


def _unmanaged_typer(typingctx: Any, ref: Any) -> Any:
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return _Utils(context, builder, ref).get_data_pointer(args[0])

    return _View(ref)(ref), codegen


_unmanaged: Any = intrinsic(_unmanaged_typer)


@overload(unmanaged)
def _unmanaged_overload(record: Any) -> Any:
    if not isinstance(record, types.StructRef):
        return None

    def view(record: Any) -> Any:
        return _unmanaged(record)

    return view
