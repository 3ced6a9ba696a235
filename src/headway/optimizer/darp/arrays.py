"""The problem as flat arrays for the compiled kernels.

Internal node numbering: request r has pickup node r and drop-off node R + r; vehicle k
starts at node 2R + 2k and ends at 2R + 2k + 1. A rider on board has no pickup to plan:
the vehicle's start node carries their load instead, and the drop-off's window ends
where their ride time would run out.

Time windows are tightened by the bounds that every schedule must meet anyway (a
pickup can be no later than its drop-off's latest time minus the direct trip, and so
on); this removes nothing feasible but lets the insertion filters reject more early.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from headway.optimizer.darp.model import Problem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Arrays(NamedTuple):
    n_req: int
    n_veh: int
    tt: FloatArray  # travel time, node x node
    cost: FloatArray  # arc cost, node x node
    early: FloatArray
    late: FloatArray
    service: FloatArray
    demand: IntArray  # + at a pickup, - at a drop-off, riders on board at a start node
    partner: IntArray  # the other node of the request, -1 if none
    max_ride: FloatArray  # per node, of its request
    req_pick: IntArray  # -1 for a rider already on board
    req_drop: IntArray
    req_vehicle: IntArray  # -1 when any vehicle may serve it
    servable: IntArray  # 0 when no schedule can serve the request at all
    veh_start: IntArray
    veh_end: IntArray
    capacity: IntArray
    max_duration: FloatArray
    veh_type: IntArray  # vehicles of one type are interchangeable while empty
    related: FloatArray  # request x request, lower is more related
    penalty: float  # cost of leaving one request unserved


def build_arrays(problem: Problem) -> Arrays:
    n_req, n_veh = len(problem.requests), len(problem.vehicles)
    n_nodes = 2 * n_req + 2 * n_veh
    location = np.zeros(n_nodes, dtype=np.int64)
    early = np.zeros(n_nodes)
    late = np.full(n_nodes, np.inf)
    service = np.zeros(n_nodes)
    demand = np.zeros(n_nodes, dtype=np.int64)
    partner = np.full(n_nodes, -1, dtype=np.int64)
    max_ride = np.full(n_nodes, np.inf)
    req_pick = np.arange(n_req, dtype=np.int64)
    req_drop = np.arange(n_req, 2 * n_req, dtype=np.int64)
    req_vehicle = np.full(n_req, -1, dtype=np.int64)
    for r, q in enumerate(problem.requests):
        p, d = r, n_req + r
        location[p], location[d] = q.pickup, q.dropoff
        early[p], late[p] = q.pickup_window
        early[d], late[d] = q.dropoff_window
        service[p], service[d] = q.pickup_service, q.dropoff_service
        demand[p], demand[d] = q.load, -q.load
        max_ride[p] = max_ride[d] = q.max_ride_time
        req_vehicle[r] = -1 if q.vehicle is None else q.vehicle
        if q.picked_up_at is None:
            partner[p], partner[d] = d, p
        else:
            req_pick[r] = -1
            late[d] = min(late[d], q.picked_up_at + q.pickup_service + q.max_ride_time)
    veh_start = np.arange(2 * n_req, n_nodes, 2, dtype=np.int64)
    veh_end = veh_start + 1
    for k, v in enumerate(problem.vehicles):
        s, e = veh_start[k], veh_end[k]
        location[s], location[e] = v.start, v.end
        early[s], late[s] = v.start_window
        early[e], late[e] = v.end_window
    for q in problem.requests:
        if q.picked_up_at is not None and q.vehicle is not None:
            demand[veh_start[q.vehicle]] += q.load
    tt = np.ascontiguousarray(problem.travel_time[np.ix_(location, location)], dtype=np.float64)
    cost = np.ascontiguousarray(problem.arc_cost[np.ix_(location, location)], dtype=np.float64)
    capacity = np.array([v.capacity for v in problem.vehicles], dtype=np.int64)
    max_duration = np.array([v.max_duration for v in problem.vehicles], dtype=np.float64)
    _tighten(
        tt, early, late, service, max_ride, req_pick, req_drop, req_vehicle, veh_start, veh_end
    )
    servable = (early <= late + 1e-9)[req_drop].astype(np.int64)
    has_pick = req_pick >= 0
    servable[has_pick] &= (early <= late + 1e-9)[req_pick[has_pick]].astype(np.int64)
    servable[demand[req_drop] + capacity.max() < 0] = 0
    return Arrays(
        n_req=n_req,
        n_veh=n_veh,
        tt=tt,
        cost=cost,
        early=early,
        late=late,
        service=service,
        demand=demand,
        partner=partner,
        max_ride=max_ride,
        req_pick=req_pick,
        req_drop=req_drop,
        req_vehicle=req_vehicle,
        servable=servable,
        veh_start=veh_start,
        veh_end=veh_end,
        capacity=capacity,
        max_duration=max_duration,
        veh_type=_vehicle_types(problem, req_vehicle, n_veh),
        related=_relatedness(tt, early, late, demand, req_pick, req_drop),
        penalty=float(10.0 * max(cost.max(), 1.0) + 100.0),
    )


def _tighten(
    tt: FloatArray,
    early: FloatArray,
    late: FloatArray,
    service: FloatArray,
    max_ride: FloatArray,
    req_pick: IntArray,
    req_drop: IntArray,
    req_vehicle: IntArray,
    veh_start: IntArray,
    veh_end: IntArray,
) -> None:
    """Shrink windows to what any feasible schedule meets (two rounds suffice in practice)."""
    for _ in range(2):
        for r in range(len(req_drop)):
            p, d = req_pick[r], req_drop[r]
            vehicles = np.arange(len(veh_start)) if req_vehicle[r] < 0 else req_vehicle[r : r + 1]
            starts, ends = veh_start[vehicles], veh_end[vehicles]
            first = p if p >= 0 else d
            early[first] = max(
                early[first], np.min(early[starts] + service[starts] + tt[starts, first])
            )
            late[d] = min(late[d], np.max(late[ends] - service[d] - tt[d, ends]))
            if p < 0:
                continue
            early[p] = max(early[p], early[d] - service[p] - max_ride[p])
            late[p] = min(late[p], late[d] - service[p] - tt[p, d])
            early[d] = max(early[d], early[p] + service[p] + tt[p, d])
            late[d] = min(late[d], late[p] + service[p] + max_ride[p])


def _vehicle_types(problem: Problem, req_vehicle: IntArray, n_veh: int) -> IntArray:
    pinned = set(int(k) for k in req_vehicle if k >= 0)
    types: dict[object, int] = {}
    out = np.zeros(n_veh, dtype=np.int64)
    for k, v in enumerate(problem.vehicles):
        key: object = ("own", k) if k in pinned else v
        out[k] = types.setdefault(key, len(types))
    return out


def _relatedness(
    tt: FloatArray,
    early: FloatArray,
    late: FloatArray,
    demand: IntArray,
    req_pick: IntArray,
    req_drop: IntArray,
) -> FloatArray:
    """Shaw's relatedness (Ropke & Pisinger 2006): places, times and loads, each scaled to 1."""
    pick = np.where(req_pick >= 0, req_pick, req_drop)
    drop = req_drop
    place = tt[np.ix_(pick, pick)] + tt[np.ix_(drop, drop)]
    when = _gaps(_middle(early, late, pick)) + _gaps(_middle(early, late, drop))
    load = _gaps(demand[drop].astype(np.float64))
    out: FloatArray = np.ascontiguousarray(
        9.0 * _unit(place) + 3.0 * _unit(when) + 2.0 * _unit(load)
    )
    return out


def _middle(early: FloatArray, late: FloatArray, nodes: IntArray) -> FloatArray:
    out: FloatArray = np.where(
        np.isfinite(late[nodes]), (early[nodes] + late[nodes]) / 2, early[nodes]
    )
    return out


def _gaps(values: FloatArray) -> FloatArray:
    out: FloatArray = np.abs(values[:, None] - values[None, :])
    return out


def _unit(values: FloatArray) -> FloatArray:
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 0 else values
