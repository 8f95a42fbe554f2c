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
  /**
   * Calls that may go at once after a quiet period. Read as a sliding window: at most `burst`
   * calls in any `burst / ratePerSecond` seconds, which is how vendors count ("25 per 5 s").
   */
  burst: number;
  /** Steps running against the target at the same time. */
  concurrency: number;
}

export interface AcquireRequest {
  limits: GateLimits;
  priority: "order" | "bulk";
  /** Failures in a row that open the circuit. */
  failureThreshold: number;
  /** First pause after the circuit opens; doubles while probes fail, up to 15 minutes. */
  cooldownMs: number;
  /**
   * When the step's lease ends (asked before its claim: when it will end). No call of the step
   * outlasts it, so a ticket never released (its consumer died) is given up shortly after, not
   * after TICKET_TTL_MS. Absent from the previous release's consumer.
   */
  leaseUntil?: number;
}

export type AcquireResult =
  | { granted: true; ticket: string; probe: boolean }
  | { granted: false; retryAfterMs: number; reason: "rate" | "concurrency" | "rate-limited-by-target" | "paused" };

/** When a step's next call may leave; every call of a step asks, so calls never bunch up. */
export interface CallSlot {
  waitMs: number;
  /** The slot as the gate keeps it, to name it when the call left late (`sentLate`). */
  slot: number;
}

export interface ReleaseRequest {
  ticket: string;
  /** Calls actually made (for the record; each one already took its slot). */
  calls: number;
  /**
   * "unused": the step's outcome says nothing of the target's health (its claim was refused, or it
   * stopped on our side: a record another step holds, its own lease's time); only the slot (and
   * a probe's turn) is freed. A release that made no call counts as unused, whatever it says.
   */
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
/** A consumer that died never releases: its slot frees itself after this long (at most). */
const TICKET_TTL_MS = 15 * 60_000;
/**
 * A ticket whose step named its lease end lives this long past it: no call of the step outlasts
 * the lease, and this covers the claim that follows the acquire and the release's own trip.
 */
const TICKET_MARGIN_MS = 10_000;
/** A step is not started while the calls already scheduled would keep it waiting longer than this. */
const MAX_BACKLOG_MS = 2000;
/**
 * Calls are spaced a little wider than the vendor's window: a call leaves when its slot comes,
 * but arrives after a network delay that varies, and two arrivals must not fall in one window.
 */
const WINDOW_MARGIN = 0.04;
const WINDOW_MARGIN_MIN_MS = 20;
/** Holds kept before expired ones are swept (a hold lasts a step at most). */
const MAX_HOLDS = 256;
/** How long an order step that was turned away counts as "orders are waiting" for bulk work. */
const ORDER_WAITING_MS = 2000;

interface CircuitState {
  failures: number;
  openUntil: number | null;
  cooldownMs: number;
  probeTicket: string | null;
  /**
   * When the probe is given up if its consumer never releases it (it died, or its claim failed):
   * without it the circuit stayed half-open, every step was turned away as paused, and no step
   * failed or was alerted. A state saved by the release before has none: its probe counts as gone.
   */
  probeUntil?: number | null;
}

export class TargetGate extends DurableObject<Env> {
  private readonly sql: ObjectSql;
  /** When the last `burst` calls were given their slots, oldest first (a sliding window). */
  private readonly slots: number[] = [];
  private blockedUntil = 0;
  private orderWaitingUntil = 0;
  /** Tickets out now and when each expires. */
  private readonly running = new Map<string, number>();
  /** Records held one step at a time (see `hold`). */
  private readonly holds = new Map<string, { holder: string; until: number }>();
  /** How long a ticket (and a probe) lives without a release (fields so tests can shorten them). */
  private ticketTtlMs = TICKET_TTL_MS;
  private ticketMarginMs = TICKET_MARGIN_MS;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new ObjectSql(ctx.storage);
    this.sql.migrate(["CREATE TABLE circuit (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)"]);
  }

  /** A step asks to run: the circuit, a 429's hold, concurrency and the call backlog decide. */
  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const now = Date.now();
    const circuit = this.circuit();
    const { limits, priority } = request;
    this.expireTickets(now);
    if (circuit.openUntil !== null) {
      const probing = circuit.probeTicket !== null && (circuit.probeUntil ?? 0) > now;
      if (now < circuit.openUntil || probing) {
        return { granted: false, retryAfterMs: Math.max(1000, (circuit.openUntil ?? now) - now), reason: "paused" };
      }
      // Half-open: exactly one probe goes through.
      const ticket = this.grant(now, request.leaseUntil);
      this.save({ ...circuit, probeTicket: ticket, probeUntil: this.running.get(ticket)! });
      return { granted: true, ticket, probe: true };
    }
    const denied = this.refusal(now, limits, priority);
    if (denied) {
      if (priority === "order") this.orderWaitingUntil = now + ORDER_WAITING_MS;
      return denied;
    }
    return { granted: true, ticket: this.grant(now, request.leaseUntil), probe: false };
  }

  /**
   * The slot of a step's next call: at most `burst` calls in any window of `burst / rate`
   * seconds, and none before a 429's Retry-After has passed. Slots are handed out one call at a
   * time, so steps running side by side interleave their calls instead of each bursting.
   * `leaseUntil`: the step's lease as its claim has it (absent from the previous release).
   */
  async call(ticket: string, limits: GateLimits, leaseUntil?: number): Promise<CallSlot> {
    const now = Date.now();
    if (this.running.has(ticket)) this.running.set(ticket, this.expiry(now, leaseUntil));
    const { size } = slidingWindow(limits);
    const slot = Math.max(now, this.nextSlot(limits));
    this.slots.push(slot);
    if (this.slots.length > size) this.slots.splice(0, this.slots.length - size);
    return { waitMs: slot - now, slot };
  }

  /**
   * A call left later than its slot (its consumer was busy): the window counts it from when it
   * left, so the calls after it keep their distance from the real send. Lateness is measured by
   * the caller on its own clock, so the two clocks never need to agree.
   */
  async sentLate(slot: number, lateMs: number): Promise<void> {
    const at = this.slots.lastIndexOf(slot);
    if (at < 0 || lateMs <= 0) return;
    this.slots[at] = slot + lateMs;
    this.slots.sort((a, b) => a - b);
  }

  /**
   * One step at a time per `key` (a buyer): steps of a connection run side by side, and two
   * that find-or-create the same record would both miss it and both create it. Held in memory
   * until `letGo` or `untilMs`; an object restarted meanwhile forgets it, which only reopens that
   * rare race.
   */
  async hold(key: string, holder: string, untilMs: number): Promise<{ held: true } | { held: false; retryAfterMs: number }> {
    const now = Date.now();
    const current = this.holds.get(key);
    if (current && current.holder !== holder && current.until > now)
      return { held: false, retryAfterMs: Math.min(250, current.until - now) };
    this.holds.set(key, { holder, until: untilMs });
    if (this.holds.size > MAX_HOLDS) for (const [k, h] of this.holds) if (h.until <= now) this.holds.delete(k);
    return { held: true };
  }

  async letGo(key: string, holder: string): Promise<void> {
    if (this.holds.get(key)?.holder === holder) this.holds.delete(key);
  }

  /** A call was answered 429: every step of the connection waits out the Retry-After. */
  async rateLimited(retryAfterSeconds: number | undefined): Promise<void> {
    this.blockedUntil = Math.max(this.blockedUntil, Date.now() + (retryAfterSeconds ?? 1) * 1000);
  }

  async release(request: ReleaseRequest): Promise<ReleaseResult> {
    this.running.delete(request.ticket);
    const circuit = this.circuit();
    // A step that made no call learnt nothing of the target: a probe that failed its own checks,
    // or adopted what it found with no call, neither closes the circuit nor counts as a failure.
    if (request.outcome === "unused" || request.calls === 0) {
      if (circuit.probeTicket === request.ticket) this.save({ ...circuit, probeTicket: null });
      return { opened: false, closed: false, pausedUntil: circuit.openUntil, consecutiveFailures: circuit.failures };
    }
    if (request.outcome === "rate-limited") await this.rateLimited(request.retryAfterSeconds);
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

  private refusal(
    now: number,
    limits: GateLimits,
    priority: "order" | "bulk",
  ): Extract<AcquireResult, { granted: false }> | null {
    if (now < this.blockedUntil)
      return { granted: false, retryAfterMs: this.blockedUntil - now, reason: "rate-limited-by-target" };
    // Bulk work leaves one slot to orders, and waits while orders wait or calls are queued.
    const bulk = priority === "bulk";
    const slotsForPriority = bulk && limits.concurrency > 1 ? limits.concurrency - 1 : limits.concurrency;
    if (this.running.size >= slotsForPriority || (bulk && now < this.orderWaitingUntil))
      return { granted: false, retryAfterMs: 250, reason: "concurrency" };
    const backlogMs = this.backlog(now, limits);
    if (backlogMs > (bulk ? 0 : MAX_BACKLOG_MS))
      return { granted: false, retryAfterMs: Math.max(100, Math.ceil(backlogMs - (bulk ? 0 : MAX_BACKLOG_MS))), reason: "rate" };
    return null;
  }

  /** How long a call asking now would wait for its slot. */
  private backlog(now: number, limits: GateLimits): number {
    return Math.max(0, this.nextSlot(limits) - now);
  }

  /** The earliest time the window and a 429's hold allow the next call. */
  private nextSlot(limits: GateLimits): number {
    const { size, spacedMs } = slidingWindow(limits);
    const oldest = this.slots.length >= size ? this.slots[this.slots.length - size]! + spacedMs : 0;
    return Math.max(oldest, this.blockedUntil);
  }

  private grant(now: number, leaseUntil: number | undefined): string {
    const ticket = crypto.randomUUID();
    this.running.set(ticket, this.expiry(now, leaseUntil));
    return ticket;
  }

  /** When a ticket not released is given up: shortly after its step's lease, never later than the TTL. */
  private expiry(now: number, leaseUntil: number | undefined): number {
    const ttl = now + this.ticketTtlMs;
    return leaseUntil === undefined || !Number.isFinite(leaseUntil) ? ttl : Math.min(ttl, leaseUntil + this.ticketMarginMs);
  }

  private expireTickets(now: number): void {
    for (const [ticket, expires] of this.running) if (expires < now) this.running.delete(ticket);
  }

  private circuit(): CircuitState {
    const row = this.sql.one<{ state: string }>("SELECT state FROM circuit WHERE id = 1");
    return row ? (JSON.parse(row.state) as CircuitState) : { failures: 0, openUntil: null, cooldownMs: 0, probeTicket: null };
  }

  /** A row written is billed even when it is the same: a closed circuit that stays closed is not written. */
  private save(state: CircuitState): void {
    this.sql.run(
      "INSERT INTO circuit (id, state) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET state = excluded.state WHERE state IS NOT ?1",
      JSON.stringify(state),
    );
  }
}

/** `burst` calls per `burst / rate` seconds, spaced a little wider than the vendor counts. */
function slidingWindow(limits: GateLimits): { size: number; spacedMs: number } {
  const size = Math.max(1, Math.floor(limits.burst));
  const windowMs = (size / limits.ratePerSecond) * 1000;
  return { size, spacedMs: windowMs + Math.max(WINDOW_MARGIN_MIN_MS, windowMs * WINDOW_MARGIN) };
}
