"""``prefetch(array)``: ask the CPU to start loading a contiguous array's memory into its caches.

The vector env's state does not fit in the caches from a few hundred environments on, so a step
waits for memory at every environment. While one environment steps, the step kernel prefetches
what the next ones read first (``kernels._prefetch_ahead``). A prefetch only moves data into the
cache: results are unchanged. Without compilation (``NUMBA_DISABLE_JIT``) it does nothing.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic, overload
from numba.np.numpy_support import as_dtype

_get_or_insert_function: Any = cgutils.get_or_insert_function  # Numba's extension API has no type hints

CACHE_LINE = 64
"""Bytes per cache line on x86-64 and most ARM cores."""


def prefetch(array: Any) -> None:
    """Start loading ``array`` (C-contiguous) into the caches (compiled; a no-op in Python)."""


def _prefetch_line_typer(typingctx: Any, array: Any, offset: Any) -> Any:
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        byte = ir.IntType(8).as_pointer()
        address = builder.gep(builder.bitcast(data, byte), [args[1]])
        i32 = ir.IntType(32)
        # the intrinsic's name carries the pointer type: "ptr" (LLVM >= 15) or "i8*" (older)
        name = "llvm.prefetch.p0" if str(byte) == "ptr" else "llvm.prefetch.p0i8"
        llvm_prefetch = _get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte, i32, i32, i32]), name
        )
        # a read (0), kept in all cache levels (3), of data (1)
        builder.call(llvm_prefetch, [address, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, types.intp), codegen


_prefetch_line: Any = intrinsic(_prefetch_line_typer)


# Not inline="always": Numba's IR inlining of this overload into the step kernel changed the
# kernel's results (Numba 0.68). LLVM inlines the compiled function anyway.
@overload(prefetch)
def _prefetch_overload(array: Any) -> Any:
    if not isinstance(array, types.Array) or array.layout != "C":
        return None
    itemsize = as_dtype(array.dtype).itemsize

    def lines(array: Any) -> None:
        for offset in range(0, array.size * itemsize, CACHE_LINE):
            _prefetch_line(array, offset)

    return lines
