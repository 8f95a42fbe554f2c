/**
 * TargetGate: one Durable Object per target connection that every step asks before it calls the
 * outside system. It keeps the vendor's rate (a token bucket), a concurrency limit, honours a
 * 429's Retry-After for everyone, lets orders go before bulk work, and opens a circuit after
 * sustained failure: the connection pauses, the tenant is told, and a single probe later decides
 * whether it resumes. Nothing is dropped while paused; steps wait.
 */
import { DurableObject } from "cloudflare:workers";
import { ObjectSql } from "./sql";

export interface GateLimits {
  /** Sustained calls per second the vendor allows. */
  ratePerSecond: number;
  /** Calls that may go at once after a quiet period. */
  burst: number;
  /** Steps running against the target at the same time. */
  concurrency: number;
}

export interface AcquireRequest {
  limits: GateLimits;
  priority: "order" | "bulk";
  /** Calls the step is expected to make. */
  cost: number;
  /** Failures in a row that open the circuit. */
  failureThreshold: number;
  /** First pause after the circuit opens; doubles while probes fail, up to 15 minutes. */
  cooldownMs: number;
}

export type AcquireResult =
  | { granted: true; ticket: string; probe: boolean }
  | { granted: false; retryAfterMs: number; reason: "rate" | "concurrency" | "rate-limited-by-target" | "paused" };

export interface ReleaseRequest {
  ticket: string;
  /** Calls actually made, to correct the bucket. */
  calls: number;
  /** "unused": the step did not run after all (its claim was refused); only the slot is freed. */
  outcome: "ok" | "retryable" | "rate-limited" | "permanent" | "unused";
  retryAfterSeconds?: number;
  failureThreshold: number;
  cooldownMs: number;
}

export interface ReleaseResult {
  /** The circuit opened with this release: tell the tenant. */
  opened: boolean;
  /** The circuit closed with this release (a probe succeeded). */
  closed: boolean;
  pausedUntil: number | null;
  consecutiveFailures: number;
}

const COOLDOWN_MAX_MS = 15 * 60_000;
/** Bulk work may use the bucket only above this share of the burst, so orders always find tokens. */
const BULK_RESERVE = 0.5;
/** A consumer that died never releases: its slot frees itself after this long. */
const TICKET_TTL_MS = 5 * 60_000;

interface CircuitState {
  failures: number;
  openUntil: number | null;
  cooldownMs: number;
  probeTicket: string | null;
}

export class TargetGate extends DurableObject<Env> {
  private readonly sql: ObjectSql;
  /** Tokens left in the bucket; null until the first call fills it. */
  private tokens: number | null = null;
  private refilledAt = 0;
  private blockedUntil = 0;
  /** Tickets out now: when each expires and how many calls it reserved. */
  private readonly running = new Map<string, { expires: number; reserved: number }>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new ObjectSql(ctx.storage.sql);
    this.sql.migrate(["CREATE TABLE circuit (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)"]);
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const now = Date.now();
    const circuit = this.circuit();
    const { limits } = request;
    this.expireTickets(now);
    if (circuit.openUntil !== null) {
      if (now < circuit.openUntil || circuit.probeTicket) {
        return { granted: false, retryAfterMs: Math.max(1000, (circuit.openUntil ?? now) - now), reason: "paused" };
      }
      // Half-open: exactly one probe goes through.
      const ticket = this.grant(now, 0);
      this.save({ ...circuit, probeTicket: ticket });
      return { granted: true, ticket, probe: true };
    }
    if (now < this.blockedUntil)
      return { granted: false, retryAfterMs: this.blockedUntil - now, reason: "rate-limited-by-target" };
    if (this.running.size >= limits.concurrency) return { granted: false, retryAfterMs: 250, reason: "concurrency" };
    const tokens = this.refill(now, limits);
    const floor = request.priority === "bulk" ? limits.burst * BULK_RESERVE : 0;
    // Capped so a bulk step can always be granted once the bucket refills above the orders' reserve.
    const cost = Math.min(request.cost, limits.burst - floor);
    if (tokens - cost < floor) {
      const missing = cost + floor - tokens;
      return { granted: false, retryAfterMs: Math.ceil((missing / limits.ratePerSecond) * 1000), reason: "rate" };
    }
    this.tokens = tokens - cost;
    return { granted: true, ticket: this.grant(now, cost), probe: false };
  }

  async release(request: ReleaseRequest): Promise<ReleaseResult> {
    const held = this.running.get(request.ticket);
    this.running.delete(request.ticket);
    // Settle the reservation: charge calls made beyond it, give back what was reserved and not used.
    if (held && this.tokens !== null) this.tokens -= request.calls - held.reserved;
    const circuit = this.circuit();
    if (request.outcome === "unused") {
      if (circuit.probeTicket === request.ticket) this.save({ ...circuit, probeTicket: null });
      return { opened: false, closed: false, pausedUntil: circuit.openUntil, consecutiveFailures: circuit.failures };
    }
    if (request.outcome === "rate-limited") {
      this.blockedUntil = Math.max(this.blockedUntil, Date.now() + (request.retryAfterSeconds ?? 1) * 1000);
      this.tokens = Math.min(this.tokens ?? 0, 0);
    }
    const isProbe = circuit.probeTicket === request.ticket;
    if (request.outcome === "retryable") {
      const failures = circuit.failures + 1;
      if (isProbe || (circuit.openUntil === null && failures >= request.failureThreshold)) {
        const cooldownMs = isProbe ? Math.min(COOLDOWN_MAX_MS, circuit.cooldownMs * 2) : request.cooldownMs;
        const openUntil = Date.now() + cooldownMs;
        this.save({ failures, openUntil, cooldownMs, probeTicket: null });
        return { opened: !isProbe, closed: false, pausedUntil: openUntil, consecutiveFailures: failures };
      }
      this.save({ ...circuit, failures });
      return { opened: false, closed: false, pausedUntil: circuit.openUntil, consecutiveFailures: failures };
    }
    // Success, a permanent error (the target answered sensibly) or a 429 all show the target is up.
    const wasOpen = circuit.openUntil !== null;
    if (request.outcome !== "rate-limited" || isProbe)
      this.save({ failures: 0, openUntil: null, cooldownMs: request.cooldownMs, probeTicket: null });
    return {
      opened: false,
      closed: wasOpen && (isProbe || request.outcome !== "rate-limited"),
      pausedUntil: null,
      consecutiveFailures: 0,
    };
  }

  /** For the API and the dashboard. */
  async status(): Promise<{ paused: boolean; pausedUntil: number | null; consecutiveFailures: number; running: number }> {
    const circuit = this.circuit();
    return {
      paused: circuit.openUntil !== null,
      pausedUntil: circuit.openUntil,
      consecutiveFailures: circuit.failures,
      running: this.running.size,
    };
  }

  private grant(now: number, reserved: number): string {
    const ticket = crypto.randomUUID();
    this.running.set(ticket, { expires: now + TICKET_TTL_MS, reserved });
    return ticket;
  }

  private expireTickets(now: number): void {
    for (const [ticket, held] of this.running) if (held.expires < now) this.running.delete(ticket);
  }

  private refill(now: number, limits: GateLimits): number {
    const elapsed = (now - this.refilledAt) / 1000;
    const tokens = this.tokens === null ? limits.burst : Math.min(limits.burst, this.tokens + elapsed * limits.ratePerSecond);
    this.tokens = tokens;
    this.refilledAt = now;
    return tokens;
  }

  private circuit(): CircuitState {
    const row = this.sql.one<{ state: string }>("SELECT state FROM circuit WHERE id = 1");
    return row ? (JSON.parse(row.state) as CircuitState) : { failures: 0, openUntil: null, cooldownMs: 0, probeTicket: null };
  }

  private save(state: CircuitState): void {
    this.sql.run(
      "INSERT INTO circuit (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state",
      JSON.stringify(state),
    );
  }
}
