"""status.within: a status hook's answer, or TimeoutError and its work cancelled, under asyncio and
Twisted. txaio takes one framework per process, so each flavour runs in a child process of its own."""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))


def check_asyncio() -> None:
    import asyncio

    import txaio
    txaio.use_asyncio()
    from sisock.status import within
    cancelled = []

    async def main() -> None:
        assert await within({"a": 1}, 0.5) == {"a": 1}

        async def soon():
            await asyncio.sleep(0.01)
            return {"b": 2}
        assert await within(soon(), 0.5) == {"b": 2}

        async def fails():
            raise ValueError("no figures")
        try:
            await within(fails(), 0.5)
            raise AssertionError("no error")
        except ValueError:
            pass

        reached = asyncio.Event()

        async def hang():
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.append(True)
                reached.set()
                raise
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        try:
            await within(hang(), 0.2)
            raise AssertionError("no timeout")
        except TimeoutError:
            pass
        assert loop.time() - t0 >= 0.19, loop.time() - t0
        await asyncio.wait_for(reached.wait(), 5)  # the cancellation reaches the hook
    asyncio.run(main())
    assert cancelled == [True], cancelled


def check_twisted() -> None:
    import txaio
    txaio.use_twisted()
    from twisted.internet.defer import Deferred, ensureDeferred
    from twisted.internet.task import Clock
    clock = Clock()
    txaio.config.loop = clock
    from sisock.status import within

    d: Deferred = Deferred()
    out = ensureDeferred(within(d, 1.0))
    d.callback({"lost": 0})
    got: list = []
    out.addCallback(got.append)
    assert got == [{"lost": 0}], got
    assert clock.getDelayedCalls() == []  # the timer was cancelled

    cancelled: list = []
    hung: Deferred = Deferred(canceller=lambda _: cancelled.append(True))
    out = ensureDeferred(within(hung, 1.0))
    errors: list = []
    out.addErrback(lambda f: errors.append(f.value))
    clock.advance(0.99)
    assert errors == [], errors
    clock.advance(0.02)
    assert len(errors) == 1 and isinstance(errors[0], TimeoutError), errors
    assert cancelled == [True], cancelled


class WithinTest(unittest.TestCase):
    def run_child(self, flavour: str) -> None:
        r = subprocess.run([sys.executable, os.path.abspath(__file__), flavour], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), f"{flavour} ok")

    def test_asyncio(self) -> None:
        self.run_child("asyncio")

    def test_twisted(self) -> None:
        self.run_child("twisted")

    def test_the_bound_is_under_the_hubs_call_timeout(self) -> None:
        import re
        from sisock.status import STATUS_TIMEOUT
        # the bound is the contract's (contract/status.ts STATUS_TIMEOUT_MS), not a number of its own
        with open(os.path.join(HERE, "..", "..", "..", "contract", "status.ts"), encoding="utf-8") as f:
            m = re.search(r"export const STATUS_TIMEOUT_MS = (\d+);", f.read())
        self.assertIsNotNone(m)
        self.assertEqual(STATUS_TIMEOUT * 1000, int(m.group(1)) if m else None)


if __name__ == "__main__":
    if sys.argv[1:] == ["asyncio"]:
        check_asyncio()
        print("asyncio ok")
    elif sys.argv[1:] == ["twisted"]:
        check_twisted()
        print("twisted ok")
    else:
        unittest.main()
