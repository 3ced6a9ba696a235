"""The fleet API over in-memory live state: listing, filters, paging, details, errors."""

from __future__ import annotations

from headway.contracts.events import DeadLetter
from headway.domain.alerts import Alert
from headway.domain.vehicles import AlertKind, VehicleStatus
from tests.contract.live_state import vehicle
from tests.unit.api.conftest import Api


async def seed(api: Api, n: int = 25) -> None:
    await api.ctx.live.put_many(
        [
            vehicle(
                f"v{i:03d}",
                lat=48.0 + i * 0.001,
                lon=11.0 + i * 0.001,
                status=VehicleStatus.IDLE if i % 5 == 0 else VehicleStatus.DRIVING,
            )
            for i in range(n)
        ]
    )


async def test_lists_every_vehicle_across_pages(api: Api) -> None:
    await seed(api)
    seen, cursor, pages = [], "", 0
    while True:
        body = (
            await api.client.get(
                "/api/v1/vehicles", params={"limit": 10, "cursor": cursor}, headers=api.auth()
            )
        ).json()
        seen += [v["id"] for v in body["items"]]
        pages += 1
        if body["next_cursor"] is None:
            break
        cursor = body["next_cursor"]
    assert seen == [f"v{i:03d}" for i in range(25)]
    assert pages == 3


async def test_filters_by_status_and_bbox(api: Api) -> None:
    await seed(api)
    idle = (
        await api.client.get("/api/v1/vehicles", params={"status": "idle"}, headers=api.auth())
    ).json()
    assert [v["id"] for v in idle["items"]] == ["v000", "v005", "v010", "v015", "v020"]
    box = (
        await api.client.get(
            "/api/v1/vehicles",
            params={"bbox": "11.0025,48.0025,11.0065,48.0065"},
            headers=api.auth(),
        )
    ).json()
    assert [v["id"] for v in box["items"]] == ["v003", "v004", "v005", "v006"]


async def test_vehicle_view_has_position_battery_status_and_alerts(api: Api) -> None:
    await seed(api, 1)
    body = (await api.client.get("/api/v1/vehicles/v000", headers=api.auth())).json()
    assert body["status"] == "idle"
    assert body["battery_pct"] == 70.0
    assert body["lat"] == 48.0
    assert body["segment"] == 5
    assert body["alerts"] == ["low_battery"]
    assert body["heading_deg"] == 61.4


async def test_unknown_vehicle_is_a_404_problem(api: Api) -> None:
    for path in ("/api/v1/vehicles/ghost", "/api/v1/vehicles/ghost/track"):
        response = await api.client.get(path, headers=api.auth())
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert "ghost" in response.json()["detail"]


async def test_bad_query_parameters_are_422_problems(api: Api) -> None:
    for params in (
        {"status": "flying"},
        {"limit": 0},
        {"limit": 5000},
        {"bbox": "1,2,3"},
        {"bbox": "5,5,1,1"},
    ):
        response = await api.client.get("/api/v1/vehicles", params=params, headers=api.auth())
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"


async def test_track_returns_recent_points_in_time_order(api: Api) -> None:
    await api.ctx.live.put_many([vehicle("v1", ts=1000.0)])
    await api.ctx.records.add_track_points([vehicle("v1", ts=t) for t in (100.0, 900.0, 950.0)])
    body = (
        await api.client.get("/api/v1/vehicles/v1/track", params={"minutes": 5}, headers=api.auth())
    ).json()
    assert [p["ts"] for p in body["points"]] == [900.0, 950.0]


async def test_alerts_active_and_history(api: Api) -> None:
    live = Alert("a1", "v1", AlertKind.ESTOP, "critical", "stop", raised_at=10.0)
    old = Alert("a0", "v2", AlertKind.OFFLINE, "warning", "gone", raised_at=5.0, cleared_at=8.0)
    await api.ctx.live.put_alerts([live])
    await api.ctx.records.add_alerts([live, old])
    active = (await api.client.get("/api/v1/alerts", headers=api.auth())).json()
    assert [a["id"] for a in active["items"]] == ["a1"]
    history = (
        await api.client.get("/api/v1/alerts", params={"active": "false"}, headers=api.auth())
    ).json()
    assert [a["id"] for a in history["items"]] == ["a1", "a0"]


async def test_dead_letters_are_listed_with_counts(api: Api) -> None:
    api.ctx.dead_letters.add(DeadLetter("mqtt", "schema", "bad", 1.0, "t", payload=b"{x"))
    body = (await api.client.get("/api/v1/dead-letters", headers=api.auth())).json()
    assert body["counts"] == {"schema": 1}
    assert body["items"][0]["payload_excerpt"] == "{x"


async def test_admin_registers_a_vehicle(api: Api) -> None:
    from headway.domain.users import Role

    response = await api.client.post(
        "/api/v1/vehicles",
        json={"manufacturer": "acme", "serial_number": "bus-9"},
        headers=api.auth(Role.ADMIN),
    )
    assert response.status_code == 201
    assert api.ctx.registry.is_known("acme", "bus-9")
    bad = await api.client.post(
        "/api/v1/vehicles",
        json={"manufacturer": "a/b", "serial_number": ""},
        headers=api.auth(Role.ADMIN),
    )
    assert bad.status_code == 422


async def test_ops_endpoints(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    assert (await api.client.get("/readyz")).status_code == 200
    api.ctx.ready = lambda: {"broker": False, "processor": True}
    not_ready = await api.client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["broker"] is False
    await api.client.get("/api/v1/vehicles")
    metrics = (await api.client.get("/metrics")).text
    assert 'headway_auth_failures_total{reason="missing"} 1.0' in metrics
    network = await api.client.get("/api/v1/network")
    assert network.headers["content-type"] == "application/geo+json"
    assert network.json()["type"] == "FeatureCollection"
    spec = (await api.client.get("/openapi.json")).json()
    assert spec["paths"]["/api/v1/vehicles"]["get"]["operationId"] == "listVehicles"


async def test_nearby_vehicles_nearest_first(api: Api) -> None:
    await api.ctx.live.put_many(
        [
            vehicle("far", lat=48.3, lon=11.6),
            vehicle("near", lat=48.2, lon=11.6),
            vehicle("mid", lat=48.203, lon=11.6),
        ]
    )
    body = (
        await api.client.get(
            "/api/v1/vehicles/nearby",
            params={"lat": 48.2001, "lon": 11.6, "radius_m": 1000},
            headers=api.auth(),
        )
    ).json()
    assert [(i["vehicle"]["id"], round(i["distance_m"])) for i in body["items"]] == [
        ("near", 11),
        ("mid", 322),
    ]
    bad = await api.client.get(
        "/api/v1/vehicles/nearby", params={"lat": 91, "lon": 0}, headers=api.auth()
    )
    assert bad.status_code == 422
