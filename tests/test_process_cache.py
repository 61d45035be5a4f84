"""vocsite.process_cache: kept for its seconds, bounded, None never kept, off at 0 seconds;
forgotten by key or by a test, and a load that raced a forgetting not kept."""

from vocsite.process_cache import ProcessCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_values_are_kept_for_their_seconds_and_then_loaded_again():
    clock = Clock()
    cache: ProcessCache[str] = ProcessCache(seconds=lambda: 30, clock=clock)
    loads = []

    def load():
        loads.append(1)
        return f"value {len(loads)}"

    assert cache.get("k", load) == "value 1"
    clock.now += 29.9
    assert cache.get("k", load) == "value 1"
    clock.now += 0.1
    assert cache.recall("k") is None
    assert cache.get("k", load) == "value 2"
    assert len(loads) == 2


def test_nothing_is_kept_when_off_or_when_the_value_is_none():
    seconds = [0]
    cache: ProcessCache[str] = ProcessCache(seconds=lambda: seconds[0])
    cache.keep("k", "v")
    assert cache.recall("k") is None
    seconds[0] = 30
    assert len(cache) == 0
    assert cache.get("missing", lambda: None) is None
    cache.keep("k", None)
    assert len(cache) == 0
    cache.keep("k", "v")
    assert cache.recall("k") == "v"
    seconds[0] = 0  # turned off: what was kept is not used
    assert cache.recall("k") is None


def test_forget_drops_one_key_and_a_full_cache_starts_again():
    clock = Clock()
    cache: ProcessCache[int] = ProcessCache(max_entries=2, seconds=lambda: 30, clock=clock)
    cache.keep("a", 1)
    cache.keep("b", 2)
    cache.forget("a")
    assert (cache.recall("a"), cache.recall("b")) == (None, 2)
    clock.now += 20
    cache.keep("c", 3)
    cache.keep("d", 4)  # full (b, c), none expired: emptied, then d kept
    assert [cache.recall(k) for k in "abcd"] == [None, None, None, 4]
    assert len(cache) == 1
    clock.now += 15
    cache.keep("e", 5)
    clock.now += 15
    cache.keep("f", 6)  # full (d, e), d 30 s old: only d dropped
    assert [cache.recall(k) for k in "def"] == [None, 5, 6]
    assert len(cache) == 2


def test_forget_where_drops_the_entries_it_names():
    cache: ProcessCache[str] = ProcessCache(seconds=lambda: 30)
    for key in [(1, "checkout"), (1, "signup"), (2, "checkout")]:
        cache.keep(key, f"{key[0]} {key[1]}")
    cache.forget_where(lambda key, _value: key[0] == 1)
    assert [cache.recall(k) for k in [(1, "checkout"), (1, "signup"), (2, "checkout")]] == [
        None,
        None,
        "2 checkout",
    ]
    cache.forget_where(lambda _key, value: value.startswith("2"))
    assert len(cache) == 0


def test_a_value_loaded_while_something_was_forgotten_is_returned_but_not_kept():
    cache: ProcessCache[str] = ProcessCache(seconds=lambda: 30)

    def load_while_a_change_commits() -> str:
        cache.forget("k")  # what a service does after commit, while this load is running
        return "read before the change"

    assert cache.get("k", load_while_a_change_commits) == "read before the change"
    assert cache.recall("k") is None
    assert cache.get("k", lambda: "read after the change") == "read after the change"
    assert cache.recall("k") == "read after the change"
