"""Routers queried from worker threads can be dropped anywhere: RoutingKit's query
objects must only be released on the thread that made them."""

from __future__ import annotations

import gc
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from headway.network.cch_router import CCHRouter
from headway.network.city import CityParams, generate_city


def test_a_router_queried_on_other_threads_is_dropped_on_this_one_quietly() -> None:
    network = generate_city(CityParams(seed=2))
    router = CCHRouter(network)
    with ThreadPoolExecutor(max_workers=3) as pool:
        times = list(pool.map(partial(router.travel_time, 0), [10, 20, 30, 40]))
        pool.submit(router.travel_times_one_to_many, 0, [5, 6, 7]).result()
        assert all(t > 0 for t in times)
        # The workers live on (as a server's thread pool does) while the router goes.
        del router
        gc.collect()  # an unraisable error here fails the test (filterwarnings = error)


def test_a_thread_that_ends_leaves_its_queries_behind_quietly() -> None:
    network = generate_city(CityParams(seed=2))
    router = CCHRouter(network)
    worker = threading.Thread(target=lambda: router.travel_time(0, 10))
    worker.start()
    worker.join()
    del worker
    gc.collect()
    assert router.travel_time(0, 10) > 0
