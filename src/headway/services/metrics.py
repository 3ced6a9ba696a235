"""Prometheus metrics for one Headway process, on a registry of its own (no globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "headway_ingest_messages", "Vehicle messages received", ["kind"], registry=r
        )
        self.dead_letters = Counter(
            "headway_dead_letters",
            "Inputs rejected, by where and why",
            ["source", "reason"],
            registry=r,
        )
        self.events_applied = Counter(
            "headway_events_applied", "Events folded into live state", registry=r
        )
        self.events_ignored = Counter(
            "headway_events_ignored",
            "Events that changed nothing (stale or duplicate)",
            registry=r,
        )
        self.publish_to_visible = Histogram(
            "headway_publish_to_visible_seconds",
            "From the vehicle's message timestamp to its live state being readable",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.vehicles = Gauge("headway_vehicles", "Vehicles by status", ["status"], registry=r)
        self.alerts_active = Gauge("headway_alerts_active", "Active alerts", registry=r)
        self.ws_clients = Gauge("headway_ws_clients", "Live feed clients", registry=r)
        self.ws_frames = Counter("headway_ws_frames", "Live feed frames sent", registry=r)
        self.auth_failures = Counter(
            "headway_auth_failures", "Refused logins and tokens", ["reason"], registry=r
        )
        self.commands_submitted = Counter(
            "headway_commands_submitted", "Commands accepted from callers", ["kind"], registry=r
        )
        self.command_sends = Counter(
            "headway_command_sends",
            "Messages sent to vehicles for commands, first sends and retries",
            ["attempt"],
            registry=r,
        )
        self.command_send_failures = Counter(
            "headway_command_send_failures",
            "Sends the MQTT link refused (broker unreachable)",
            registry=r,
        )
        self.commands_ended = Counter(
            "headway_commands_ended", "Commands that reached a final status", ["status"], registry=r
        )
        self.command_ack_seconds = Histogram(
            "headway_command_ack_seconds",
            "From a command being accepted to the vehicle acknowledging (or refusing) it",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.command_breaker_transitions = Counter(
            "headway_command_breaker_transitions",
            "Per-vehicle circuit breakers opening and closing",
            ["to"],
            registry=r,
        )
        self.command_breakers_open = Gauge(
            "headway_command_breakers_open",
            "Vehicles whose circuit breaker is open or half open",
            registry=r,
        )
        self.commands_in_flight = Gauge(
            "headway_commands_in_flight", "Commands held by this commander, not ended", registry=r
        )

        self.rides = Counter(
            "headway_rides", "Ride requests and what became of them", ["event"], registry=r
        )
        self.ride_refusals = Counter(
            "headway_ride_refusals", "Ride requests refused, by reason", ["reason"], registry=r
        )
        self.ride_insertion_seconds = Histogram(
            "headway_ride_insertion_seconds",
            "Time to decide an offer for a ride request (insertion into the plans)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.dispatch_commands = Counter(
            "headway_dispatch_commands",
            "Commands the dispatcher sent to carry plans to vehicles, by outcome",
            ["outcome"],
            registry=r,
        )
        self.traffic_observations = Counter(
            "headway_traffic_observations",
            "Segment speed observations folded into the traffic estimate",
            registry=r,
        )
        self.traffic_edges_slowed = Gauge(
            "headway_traffic_edges_slowed",
            "Road segments whose published travel-time factor is above 1.1",
            registry=r,
        )
        self.traffic_version = Gauge(
            "headway_traffic_version",
            "Version of the traffic last published or applied",
            registry=r,
        )
        self.traffic_failures = Counter(
            "headway_traffic_failures",
            "Traffic publishes or reads the store refused",
            ["op"],
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
