"""On-demand rides: offers, bookings and the dispatcher loop that carries plans to the
vehicles through the command service (docs/rides.md)."""
