"""The batch monitor's rules without a screen: a simulator, a frozen clock moved by hand."""

from __future__ import annotations

from vstui.monitor import (
    DEFAULT_INTERVAL,
    MAX_INTERVAL,
    RESCAN_EVERY,
    Monitor,
    PollResult,
    poll,
)


def run_poll(monitor: Monitor, service, now: float) -> PollResult | None:
    plan = monitor.begin(now)
    if plan is None:
        return None
    return poll(service, plan)


def test_a_batch_is_followed_to_the_end_with_a_rate_and_one_notice(sim, service, clock):
    account = sim.account
    store = account.create_store(name="docs")
    files = [account.add_file(f"f{i}.txt", 1000) for i in range(4)]
    batch = account.new_batch(store, [(f, None, None) for f in files], durations=[10, 20, 30, 40])
    monitor = Monitor()
    tracked, new = monitor.track(store.id, batch.id)
    assert new and monitor.track(store.id, batch.id) == (tracked, False)

    plan = monitor.begin(clock.now())
    assert plan is not None and plan.rescan and plan.batches == [tracked]
    assert monitor.begin(clock.now()) is None  # polls never overlap
    result = poll(service, plan.batches, plan.store_ids, rescan=plan.rescan)
    applied = monitor.apply(result, clock.now())
    assert not applied.notices and tracked.status == "in_progress"
    assert monitor.names[store.id] == "docs" and store.id in monitor.ingesting
    assert monitor.interval >= DEFAULT_INTERVAL and monitor.next_delay() == monitor.interval

    clock.advance(25)
    monitor.apply(run_poll(monitor, service, clock.now()), clock.now())
    assert tracked.done == 2 and tracked.rate_per_minute() == 2 * 60 / 25
    assert tracked.eta_seconds() == 2 / (2 * 60 / 25) * 60

    clock.advance(30)
    applied = monitor.apply(run_poll(monitor, service, clock.now()), clock.now())
    assert tracked.terminal and monitor.running == 0
    titles = sorted(n.title for n in applied.notices)
    assert titles == ["Batch finished", "Store ready"]
    assert [s.id for s in applied.stores_done] == [store.id] and not monitor.ingesting

    clock.advance(5)  # nothing running: the next poll waits for the rescan
    assert monitor.next_delay() == monitor.rescan_every
    plan = monitor.begin(clock.now())
    assert plan is not None and plan.batches == [] and not plan.rescan
    monitor.apply(poll(service, [], [], rescan=False), clock.now())
    applied = monitor.apply(run_poll(monitor, service, clock.now() + 60), clock.now() + 60)
    assert not applied.notices  # a finished batch is announced once


def test_rescans_come_rarer_on_big_accounts(sim, service, clock):
    monitor = Monitor()
    assert monitor.rescan_every == RESCAN_EVERY
    for i in range(100):
        sim.account.create_store(name=f"s{i}")
    monitor.apply(run_poll(monitor, service, clock.now()), clock.now())
    assert len(monitor.names) == 100 and monitor.rescan_every > RESCAN_EVERY
    plan = monitor.begin(clock.now() + RESCAN_EVERY)
    assert plan is not None and not plan.rescan
    monitor.failed()
    plan = monitor.begin(clock.now() + monitor.rescan_every)
    assert plan is not None and plan.rescan


def test_backs_off_on_rate_limits_and_failures_and_recovers(service, clock):
    monitor = Monitor()
    limited = PollResult(batches={}, stores={}, scanned=None, poll_after_ms=None, rate_limited=True)
    for expected in (4.0, 8.0, 16.0):
        monitor.begin(clock.now())
        monitor.apply(limited, clock.now())
        assert monitor.interval == expected
    for _ in range(5):
        monitor.begin(clock.now())
        monitor.failed()
    assert monitor.interval == MAX_INTERVAL
    suggested = PollResult(
        batches={}, stores={}, scanned=None, poll_after_ms=5000, rate_limited=False
    )
    monitor.begin(clock.now())
    monitor.apply(suggested, clock.now())
    assert monitor.interval == 5.0 and not monitor.polling


def test_a_forgotten_batch_is_not_updated(sim, service, clock):
    store = sim.account.create_store(name="x")
    batch = sim.account.new_batch(store, [(sim.account.add_file("a.txt", 10), None, None)])
    monitor = Monitor()
    tracked, _ = monitor.track(store.id, batch.id)
    plan = monitor.begin(clock.now())
    monitor.forget(batch.id)
    monitor.apply(poll(service, plan.batches, plan.store_ids, rescan=False), clock.now())
    assert tracked.batch is None and batch.id not in monitor.tracked


def test_fifty_batches_in_five_stores_cost_at_most_two_requests_a_second(sim, service, clock):
    """Moved clock: the monitor reads one store per poll, spread over the interval, and a
    batch only when its store's counts say it may have moved or finished."""
    account = sim.account
    start = clock.now()
    finish: dict[str, float] = {}
    monitor = Monitor()
    for s in range(5):
        store = account.create_store(name=f"ingest-{s}")
        for b in range(10):
            files = [account.add_file(f"s{s}-b{b}-{k}.txt", 1000) for k in range(4)]
            durations = [30 + 23 * b + 7 * s + 11 * k for k in range(4)]
            batch = account.new_batch(store, [(f, None, None) for f in files], durations=durations)
            finish[batch.id] = start + max(durations)
            monitor.track(store.id, batch.id)
    noticed: dict[str, float] = {}
    requests: list[tuple[float, int]] = []
    delays: list[float] = []
    while monitor.busy and clock.now() - start < 900:
        now = clock.now()
        result = run_poll(monitor, service, now)
        assert result is not None
        requests.append((now, result.requests))
        for notice in monitor.apply(result, now).notices:
            for batch_id in finish:
                if notice.title == "Batch finished" and batch_id in notice.message:
                    noticed[batch_id] = now
        delays.append(monitor.next_delay())
        clock.advance(delays[-1])
    assert set(noticed) == set(finish)  # every finish noticed, once
    # Steady state (after the first read of every batch): at most 2 requests a second.
    first_round = 5
    spent = sum(n for _, n in requests[first_round:])
    elapsed = requests[-1][0] - requests[first_round][0]
    assert spent / elapsed <= 2.0, (spent, elapsed)
    # Each store is read once a round (5 polls); a finish is noticed within one round.
    round_ = max(delays[first_round:-1]) * 5
    late = max(noticed[b] - finish[b] for b in finish)
    assert late <= round_, (late, round_)
    print(f"\n{spent / elapsed:.2f} requests/s; latest notice {late:.1f}s after the finish")
