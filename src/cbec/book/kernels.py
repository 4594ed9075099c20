"""Warm kernels for one run: started once, reused chapter after chapter, each chapter in a fresh namespace.

Each chapter used to start a kernel of its own and import the scientific stack again — two to three seconds
of a two-to-twelve-second chapter. A :class:`KernelPool` starts ``size`` kernels once per run, imports the
run's chapter modules in each, and then executes notebook after notebook on them. Before every notebook the
kernel is put back to the state of a freshly started kernel that has imported the package
(:func:`fresh_namespace`): the user namespace is emptied, open figures are closed, matplotlib's settings,
the warning filters, the working directory and the execution counter are restored, and the study-data cache
is cleared, so a chapter sees none of the names, figures, settings or cached data of the one before.

papermill injects the parameters (its ``parameterize_notebook``, so the executed notebook looks as before);
nbclient executes, because papermill's engine always starts a new kernel. One event loop drives all kernels:
nbclient's clients are not thread-safe, and one loop needs neither threads nor extra processes.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat

__all__ = ["KernelPool", "NotebookFailed", "StartedPool", "execute_all", "fresh_namespace", "warm"]

#: What :func:`warm` saved in a kernel, for :func:`fresh_namespace` to restore.
_BASELINE: dict = {}


class NotebookFailed(RuntimeError):
    """A cell of a notebook raised; the message names the notebook, the cell and the error."""


# --- inside a kernel ---------------------------------------------------------------------------------------


def warm(modules: Iterable[str]) -> None:
    """Import ``modules`` and record the state :func:`fresh_namespace` restores (runs inside a kernel)."""
    import importlib
    import warnings

    import matplotlib as mpl
    import matplotlib.pyplot  # noqa: F401  (the inline backend is set up once, as a first chapter would)

    for name in modules:
        importlib.import_module(name)
    _palette_figures()
    _BASELINE.update(rc=dict(mpl.rcParams), filters=list(warnings.filters), cwd=os.getcwd())


def _palette_figures() -> None:
    """Let every figure leave this kernel as a palette PNG (:func:`cbec.book.png.palette`): the inline backend's
    PNG is made as before and quantised here, in the chapters' parallel kernels, instead of in the book build's
    single process afterwards (0.8 s for the 20 chapter figures of the shipped survey, a seventh of the build)."""
    import base64

    import matplotlib as mpl
    from IPython import get_ipython
    from matplotlib.figure import Figure

    from cbec.book.png import palette

    if mpl.get_backend() == "module://matplotlib_inline.backend_inline":
        # pyplot loads its backend at the first figure, and the inline backend registers its figure formatter
        # then, over anything registered before: load it now, so that the formatter wrapped here stays
        import matplotlib_inline.backend_inline  # noqa: F401
    formatter = get_ipython().display_formatter.formatters["image/png"]
    try:
        inline = formatter.lookup_by_type(Figure)
    except KeyError:  # no PNG for figures (another backend): nothing to store differently
        return

    def png(fig: Figure):
        made = inline(fig)
        if made is None:
            return None
        raw = base64.b64decode(made) if isinstance(made, str) else made
        out = palette(raw)
        return base64.b64encode(out).decode("ascii") if isinstance(made, str) else out

    formatter.for_type(Figure, png)


def fresh_namespace() -> None:
    """Put this kernel back to the state :func:`warm` recorded (runs inside a kernel, before each notebook)."""
    import warnings

    import matplotlib as mpl
    import matplotlib.pyplot as plt
    from IPython import get_ipython

    from cbec.study.chapters.base import _study

    shell = get_ipython()
    # User names, Out and _i history, execution counter back to 1 (a new history session, so that the counter's
    # reuse is no clash); imported modules stay in sys.modules.
    shell.reset(new_session=True)
    plt.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # restoring a deprecated key is not news
        mpl.rcParams.update(_BASELINE["rc"])
    warnings.filters[:] = _BASELINE["filters"]  # type: ignore[index]
    warnings._filters_mutated()  # type: ignore[attr-defined]  # the filters' cache, as warnings.resetwarnings() does
    os.chdir(_BASELINE["cwd"])
    _study.cache_clear()  # a chapter that changed the cached study data in place must not hand it on


# --- driving kernels ---------------------------------------------------------------------------------------


class _Kernel:
    """One kernel on IPC (Unix-socket) transport: it runs on this machine only, so TCP buys nothing, and
    ipykernel 7 prints an encryption warning for every TCP kernel. A socket path of its own per kernel keeps
    kernels that share a working directory from connecting to each other's sockets."""

    def __init__(self, cwd: Path, env: Mapping[str, str]):
        from jupyter_client.manager import AsyncKernelManager

        ip = str(Path(tempfile.gettempdir()) / f"cbec-kernel-{uuid.uuid4().hex[:12]}")
        self.km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=ip)
        self.cwd, self.env = cwd, dict(env)
        self.kc: Any = None  # the kernel client, once started

    async def start(self, modules: Iterable[str]) -> None:
        # No history database: a chapter's input is its notebook, and two kernels need not share one SQLite file.
        await self.km.start_kernel(cwd=str(self.cwd), env=self.env, extra_arguments=["--HistoryManager.enabled=False"])
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=120)
        await self.run(f"__import__('cbec.book.kernels').book.kernels.warm({list(modules)!r})")

    async def run(self, code: str) -> None:
        """Run ``code`` silently (no history, no execution count); raise if it fails."""
        reply = await self.kc.execute_interactive(code, silent=True, store_history=False, timeout=300)
        if reply["content"]["status"] != "ok":
            c = reply["content"]
            raise NotebookFailed(f"kernel set-up failed: {c.get('ename')}: {c.get('evalue')}")

    async def stop(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km.has_kernel:
            await self.km.shutdown_kernel(now=True)


def parameterised(src: Path, parameters: Mapping) -> nbformat.NotebookNode:
    """The notebook at ``src`` with ``parameters`` injected after its parameters cell (papermill's rule)."""
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(str(src))  # papermill's reading: every cell gets the tags list it looks in
    return parameterize_notebook(nb, dict(parameters)) if parameters else nb


def _failed_cell(nb) -> tuple[int, int | None]:
    """Index (1-based, in the executed copy, which holds the injected parameters cell) and execution count
    of the first cell with an error output."""
    for i, cell in enumerate(nb.cells, start=1):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", ())):
            return i, cell.get("execution_count")
    return 0, None


class KernelPool:
    """``size`` warm kernels in ``cwd`` with ``modules`` imported; use as ``async with KernelPool(...)``."""

    def __init__(self, size: int, cwd: Path, modules: Iterable[str] = (), env: Mapping[str, str] | None = None):
        self.kernels = [_Kernel(cwd, os.environ if env is None else env) for _ in range(max(1, size))]
        self.modules = ["cbec.book.chapter", *modules]

    async def __aenter__(self) -> KernelPool:
        try:
            await asyncio.gather(*(k.start(self.modules) for k in self.kernels))
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        await asyncio.gather(*(k.stop() for k in self.kernels), return_exceptions=True)

    async def execute(self, kernel: _Kernel, src: Path, dst: Path, parameters: Mapping) -> float:
        """Execute ``src`` with ``parameters`` on ``kernel`` into ``dst``; seconds taken. A failing cell
        leaves the executed copy (with its traceback) at ``dst`` and raises :class:`NotebookFailed`."""
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError

        t0 = time.perf_counter()
        nb = parameterised(src, parameters)
        await kernel.run("__import__('cbec.book.kernels').book.kernels.fresh_namespace()")
        client = NotebookClient(nb, km=kernel.km, resources={"metadata": {"path": str(kernel.cwd)}})
        client.kc = kernel.kc
        try:
            await client.async_execute()
        except CellExecutionError as exc:
            cell, count = _failed_cell(nb)
            raise NotebookFailed(
                f"notebook {src.name} failed in cell {cell} (execution count {count}): {exc.ename}: {exc.evalue}\n"
                f"  executed copy with the traceback: {dst}"
            ) from None
        finally:
            nbformat.write(nb, str(dst))
        return round(time.perf_counter() - t0, 1)


async def _drain(pool: KernelPool, jobs: Sequence[tuple], done: Callable[[str, float], None]) -> None:
    queue: asyncio.Queue = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)

    async def worker(kernel: _Kernel) -> None:
        while not queue.empty():
            name, src, dst, params = queue.get_nowait()
            done(name, await pool.execute(kernel, src, dst, params))

    try:
        async with asyncio.TaskGroup() as group:  # a failure cancels the other kernels' notebooks
            for k in pool.kernels:
                group.create_task(worker(k))
    except* Exception as group:
        # The failed notebook, not the kernels shut down under the cancelled ones, is what the user must see.
        errors = _leaves(group)
        raise next((e for e in errors if isinstance(e, NotebookFailed)), errors[0]) from None


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    out: list[BaseException] = []
    for e in group.exceptions:
        out.extend(_leaves(e) if isinstance(e, BaseExceptionGroup) else [e])
    return out


def execute_all(
    jobs: Sequence[tuple[str, Path, Path, Mapping]],
    size: int,
    cwd: Path,
    modules: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    done: Callable[[str, float], None] = lambda _n, _s: None,
) -> None:
    """Execute ``jobs`` — (name, notebook, executed copy, parameters), started in the order given — on a pool
    of ``size`` warm kernels; ``done(name, seconds)`` is called as each finishes. The first failure stops the
    run (the other kernels finish their current notebook's cell and are shut down)."""

    async def main() -> None:
        async with KernelPool(min(size, len(jobs)), cwd, modules, env) as pool:
            await _drain(pool, jobs, done)

    if not jobs:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(main())
        return
    # Called from a running event loop (the API inside a notebook): drive the kernels from a thread of our own.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as ex:
        ex.submit(asyncio.run, main()).result()


async def _cancel_others() -> None:
    """Cancel every other task of this event loop and wait until they have ended."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class StartedPool:
    """A :class:`KernelPool` started at once in a thread of its own and given its notebooks later: the kernels
    boot and import the package while the caller does other work (a cold run validates the survey meanwhile,
    which saved about a second of the run's wall time). Close it (or use it as a context manager) whether or
    not it executed anything: closing shuts the kernels down."""

    def __init__(self, size: int, cwd: Path, modules: Iterable[str] = (), env: Mapping[str, str] | None = None):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="cbec-kernels", daemon=True)
        self._thread.start()
        self.pool = KernelPool(size, cwd, modules, env)
        self._started = asyncio.run_coroutine_threadsafe(self.pool.__aenter__(), self._loop)

    def execute_all(
        self, jobs: Sequence[tuple[str, Path, Path, Mapping]], done: Callable[[str, float], None] = lambda _n, _s: None
    ) -> None:
        """As :func:`execute_all`, on the kernels already started (``done`` is called from the pool's thread)."""
        self._started.result()
        asyncio.run_coroutine_threadsafe(_drain(self.pool, jobs, done), self._loop).result()

    def close(self) -> None:
        try:
            try:
                self._started.result()
            except BaseException:  # noqa: BLE001 - a pool that failed to start has shut its kernels down itself
                return
            # interrupted (Ctrl-C) while notebooks ran: stop them before their kernels are shut down
            asyncio.run_coroutine_threadsafe(_cancel_others(), self._loop).result()
            asyncio.run_coroutine_threadsafe(self.pool.__aexit__(None, None, None), self._loop).result()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def __enter__(self) -> StartedPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
