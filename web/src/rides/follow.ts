import { ApiError, fetchRide } from "../api/client";
import type { Ride } from "../api/types";
import { isFinal } from "./words";

export interface FollowHandlers {
  ride(r: Ride): void;
  /** A poll failed; `retryInMs` until the next. Null once a poll succeeds again. */
  trouble(message: string | null, retryInMs: number): void;
  unauthorized(): void;
}

const INTERVAL_MS = 1500;
const MAX_DELAY_MS = 15_000;

/**
 * Follows one ride by polling `GET /rides/{id}`: the live WebSocket is for operators, and
 * a passenger needs only their own ride. Polls every 1.5 s while the ride is open, backs
 * off (doubling, capped, jittered) while the server cannot be reached, and stops by
 * itself once the ride is final.
 */
export class RideFollower {
  private timer: number | undefined;
  private stopped = false;
  private failures = 0;
  /** Polls answered since start. */
  polls = 0;

  constructor(
    private readonly token: string,
    readonly rideId: string,
    private readonly on: FollowHandlers,
  ) {}

  start(delayMs = INTERVAL_MS): void {
    this.stopped = false;
    this.schedule(delayMs);
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
  }

  /** Poll now (e.g. right after an action), then carry on at the usual pace. */
  now(): void {
    window.clearTimeout(this.timer);
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = window.setTimeout(() => void this.poll(), ms);
  }

  private async poll(): Promise<void> {
    let ride: Ride;
    try {
      ride = await fetchRide(this.token, this.rideId);
    } catch (e) {
      if (this.stopped) return;
      if (e instanceof ApiError && e.unauthorized) {
        this.stop();
        this.on.unauthorized();
        return;
      }
      this.failures += 1;
      const backoff = Math.min(MAX_DELAY_MS, INTERVAL_MS * 2 ** this.failures);
      const delay = backoff / 2 + Math.random() * (backoff / 2);
      this.on.trouble(e instanceof Error ? e.message : String(e), delay);
      this.schedule(delay);
      return;
    }
    if (this.stopped) return;
    this.polls += 1;
    if (this.failures) this.on.trouble(null, 0);
    this.failures = 0;
    this.on.ride(ride);
    if (!isFinal(ride)) this.schedule(INTERVAL_MS);
  }
}
