import type { LiveFrame } from "../api/types";

/** Close code the server uses when the token is missing, invalid or expired. */
export const CLOSE_UNAUTHORIZED = 4401;
/** Close code for a valid token whose role may not watch the feed. */
export const CLOSE_FORBIDDEN = 4403;

export type FeedState = "connecting" | "live" | "reconnecting" | "stopped";

export interface FeedHandlers {
  frame(frame: LiveFrame): void;
  state(state: FeedState, detail: { attempt: number; retryInMs: number }): void;
  unauthorized(): void;
  forbidden(reason: string): void;
}

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;
/** A connection that opens but makes no frame within this time is treated as dead. */
const STALL_MS = 10_000;

/**
 * The live WebSocket: reconnects with capped, jittered exponential backoff and counts
 * its attempts. A 4401 close hands control back to the login form and a 4403 close stops
 * the feed: retrying either would only be refused again.
 */
export class LiveFeed {
  private socket: WebSocket | null = null;
  private retryTimer: number | undefined;
  private stallTimer: number | undefined;
  private attempt = 0;
  private stopped = false;
  /** Reconnections made since start, shown in the header. */
  reconnects = 0;

  constructor(
    private readonly url: () => string,
    private readonly on: FeedHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.retryTimer);
    window.clearTimeout(this.stallTimer);
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onclose = s.onmessage = s.onerror = s.onopen = null;
      s.close(1000, "client closed");
    }
    this.on.state("stopped", { attempt: this.attempt, retryInMs: 0 });
  }

  private open(): void {
    this.on.state(this.attempt === 0 ? "connecting" : "reconnecting", {
      attempt: this.attempt,
      retryInMs: 0,
    });
    const s = new WebSocket(this.url());
    this.socket = s;
    this.armStallTimer();
    s.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data !== "string") return;
      let frame: LiveFrame;
      try {
        frame = JSON.parse(ev.data) as LiveFrame;
      } catch {
        console.warn("live feed: ignored a frame that is not JSON");
        return;
      }
      if (frame.type !== "snapshot" && frame.type !== "tick") return;
      if (frame.type === "snapshot") {
        this.attempt = 0;
        this.on.state("live", { attempt: 0, retryInMs: 0 });
      }
      this.armStallTimer();
      this.on.frame(frame);
    };
    s.onclose = (ev: CloseEvent) => {
      if (this.socket !== s) return;
      this.socket = null;
      window.clearTimeout(this.stallTimer);
      if (ev.code === CLOSE_UNAUTHORIZED) {
        this.stopped = true;
        this.on.unauthorized();
        return;
      }
      if (ev.code === CLOSE_FORBIDDEN) {
        this.stopped = true;
        this.on.state("stopped", { attempt: this.attempt, retryInMs: 0 });
        this.on.forbidden(ev.reason || "This account may not watch the live feed.");
        return;
      }
      this.scheduleRetry();
    };
  }

  private armStallTimer(): void {
    window.clearTimeout(this.stallTimer);
    this.stallTimer = window.setTimeout(() => {
      // onclose follows and schedules the retry.
      this.socket?.close(4000, "no frames");
    }, STALL_MS);
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    this.attempt += 1;
    this.reconnects += 1;
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (this.attempt - 1));
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.on.state("reconnecting", { attempt: this.attempt, retryInMs: delay });
    this.retryTimer = window.setTimeout(() => this.open(), delay);
  }
}
